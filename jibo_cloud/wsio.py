"""A thin, explicit wrapper around Quart's websocket object.

Route functions read Quart's ``websocket`` global once and wrap it here; everything below the
route takes a :class:`QuartSocket` argument (STYLE.md). It also fixes a quart-trio quirk:
an empty binary frame arrives as ``None``; :meth:`receive` turns it back into ``b""``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs


@attrs.define
class QuartSocket:
    """One accepted-or-pending websocket, as the hub and notification handlers see it."""

    ws: Any
    path: str
    host: str
    headers: Mapping[str, str]
    peer: str | None

    @classmethod
    def wrap(cls, ws: Any, path: str) -> QuartSocket:
        headers = {k.lower(): v for k, v in ws.headers.items()}
        remote = getattr(ws, "remote_addr", None)
        return cls(ws=ws, path=path, host=headers.get("host", ""), headers=headers, peer=remote)

    async def accept(self) -> None:
        await self.ws.accept()

    async def receive(self) -> str | bytes:
        """Next frame: ``str`` for text, ``bytes`` for binary (never ``None``)."""
        frame = await self.ws.receive()
        if frame is None:  # quart-trio turns an empty binary frame into None
            return b""
        return frame  # type: ignore[no-any-return]

    async def send(self, frame: str | bytes) -> None:
        await self.ws.send(frame)

    async def close(self, code: int, reason: str = "") -> None:
        await self.ws.close(code, reason)
