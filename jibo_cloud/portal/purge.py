"""The portal's background purge: voice turns past their household's retention, the audio of
households that stopped keeping it, expired sessions and spent invites.

One task per server process, started when the app starts serving and cancelled when it stops
(:func:`jibo_cloud.portal.register`). With ``--workers N`` every worker purges; the deletes
are idempotent, so that costs a few empty transactions an hour and needs no coordination.
"""

from __future__ import annotations

import logging

import attrs
import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.portal.auth import IDLE_MS
from jibo_cloud.runtime import Runtime

log = logging.getLogger(__name__)

#: How often the purge runs (the first run is at start-up).
PURGE_EVERY_SECONDS = 3600.0


@attrs.define
class Purger:
    runtime: Runtime
    #: Read when the purger is built (tests shorten the module's value).
    interval: float = attrs.field(factory=lambda: PURGE_EVERY_SECONDS)
    _scope: trio.CancelScope | None = None

    async def purge_once(self) -> int:
        """One pass; returns the number of audio blobs deleted."""
        now = self.runtime.now_ms()
        storage = self.runtime.storage
        keys = await storage.purge_voice_turns(now=now)
        if keys:
            await self.runtime.blobs.delete_many(keys)
        await storage.purge_portal_sessions(now=now, idle_ms=IDLE_MS)
        return len(keys)

    async def run(self) -> None:
        """Purge now, then every :attr:`interval` seconds until :meth:`stop` (or a cancel)."""
        with trio.CancelScope() as self._scope:
            while True:
                try:
                    await self.purge_once()
                except StorageUnavailable as exc:
                    log.warning("portal purge skipped: storage unavailable: %s", exc)
                await trio.sleep(self.interval)

    def stop(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
