"""A timed record of one socket: every frame both ways, the close, and how it ended.

The simulator and the capture proxy print and store these; replay compares them.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from jibo_cloud.tools.output import short_json

ROBOT = "robot"
HUB = "hub"


@attrs.define
class FrameRecord:
    """One event on a socket, ``t_ms`` after the socket was opened."""

    t_ms: float
    sender: str  #: ``robot`` or ``hub`` (``hub`` also for the server's close).
    kind: str  #: ``text``, ``binary``, ``close``, ``rejected``.
    obj: Any = None  #: The parsed JSON of a text frame (None when it is not JSON).
    raw: str | None = None  #: Text that was not JSON, or the close reason.
    size: int = 0
    code: int | None = None  #: Close code, or the HTTP status of a refused upgrade.
    #: A binary frame's bytes, kept only where a tool needs them (capture with keep_audio).
    raw_bytes: bytes | None = attrs.field(default=None, repr=False)

    @property
    def type(self) -> str | None:
        if isinstance(self.obj, dict) and isinstance(self.obj.get("type"), str):
            return str(self.obj["type"])
        return None

    @property
    def final(self) -> bool:
        return isinstance(self.obj, dict) and self.obj.get("final") is True

    @classmethod
    def text(cls, t_ms: float, sender: str, text: str) -> FrameRecord:
        try:
            obj = json.loads(text)
        except ValueError:
            return cls(t_ms, sender, "text", raw=text, size=len(text.encode()))
        return cls(t_ms, sender, "text", obj=obj, size=len(text.encode()))

    def describe(self) -> str:
        """One human line: time, direction, type, and a short payload."""
        arrow = "robot → hub " if self.sender == ROBOT else "robot ← hub "
        if self.kind == "binary":
            body = f"[binary {self.size} bytes]"
        elif self.kind == "close":
            body = f"[closed by {self.sender}: code {self.code} {self.raw or ''}]".rstrip()
        elif self.kind == "rejected":
            body = f"[upgrade refused: HTTP {self.code} {self.raw!r}]"
        elif self.obj is None:
            body = f"[not JSON] {(self.raw or '')[:120]!r}"
        else:
            fin = " final" if self.final else ""
            data = self.obj.get("data") if isinstance(self.obj, dict) else self.obj
            body = f"{self.type or '?'}{fin} {short_json(data, 120)}"
        return f"{self.t_ms:9.1f} ms  {arrow} {body}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"t_ms": round(self.t_ms, 3), "from": self.sender, "kind": self.kind}
        if self.obj is not None:
            out["json"] = self.obj
        if self.raw is not None:
            out["raw"] = self.raw
        if self.kind == "binary":
            out["size"] = self.size
        if self.code is not None:
            out["code"] = self.code
        return out
