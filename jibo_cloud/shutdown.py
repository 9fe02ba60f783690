"""The server's graceful shutdown as one object: ``set``, ``is_set`` and ``wait`` like a
``trio.Event``, plus callbacks run when it is set.

Hub sockets register a callback while they are open instead of each keeping a task that
waits for the event: a task per socket was about a tenth of a hub turn's trio bookkeeping
(docs/hub.md). The callbacks run synchronously in the task that sets the event (the
server's signal handler); they only move deadlines, so nothing waits there.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import trio


@attrs.define(eq=False)
class Shutdown:
    """Set once when a graceful shutdown starts (:func:`jibo_cloud.server.serve`)."""

    _event: trio.Event = attrs.field(factory=trio.Event)
    _callbacks: set[Callable[[], None]] = attrs.field(factory=set)

    def set(self) -> None:
        """Start the shutdown: wake every waiter and run every registered callback once."""
        if self._event.is_set():
            return
        self._event.set()
        callbacks, self._callbacks = self._callbacks, set()
        for callback in callbacks:
            callback()

    def is_set(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()

    def call_on_set(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when the shutdown starts, or now if it has (:meth:`forget` it
        when it no longer matters)."""
        if self._event.is_set():
            callback()
        else:
            self._callbacks.add(callback)

    def forget(self, callback: Callable[[], None]) -> None:
        self._callbacks.discard(callback)
