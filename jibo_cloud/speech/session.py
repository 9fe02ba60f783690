"""What every recogniser session shares: the §4.4 rules on the audio stream.

Both the embedded (:mod:`.sphinx`) and the remote (:mod:`.remote`) session decode the
robot's frames in a worker thread behind their engine's limiter, drop audio that arrives
after recognition stopped, and turn undecodable audio into the hub's ``ASR`` failure.
Subclasses provide ``_feed_sync`` (runs in the worker thread) and ``_limiter``, and set
``_done = False``.
"""

from __future__ import annotations

from collections.abc import Sequence

import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.services import AsrEvent
from jibo_cloud.speech.decode import AudioError


class StreamingSession:
    """Base of the recogniser sessions (:class:`jibo_cloud.services.AsrSession`)."""

    _done: bool

    def _feed_sync(self, frame: bytes) -> list[AsrEvent]:
        raise NotImplementedError

    def _limiter(self) -> trio.CapacityLimiter:
        """The engine's limiter: how many of its decodes may run in threads at once."""
        raise NotImplementedError

    async def feed(self, chunk: bytes) -> Sequence[AsrEvent]:
        """Decode one binary frame; frames after :meth:`finish` are dropped (§4.4).

        Raises:
            UpstreamError: ``asr``, when the audio cannot be decoded (corrupt, truncated);
                the session is finished after that.
        """
        if self._done:
            return []
        try:
            return await trio.to_thread.run_sync(self._feed_sync, chunk, limiter=self._limiter())
        except AudioError as exc:
            self._done = True
            raise UpstreamError("asr", str(exc)) from None

    def _begin_finish(self) -> None:
        """Mark the session finished; a second ``finish()`` is the caller's error."""
        if self._done:
            raise UpstreamError("asr", "recognition already finished for this turn")
        self._done = True
