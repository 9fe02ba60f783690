"""The embedded recogniser: pocketsphinx with a per-turn grammar and a general fallback.

Each spoken turn gets a session: robot frames are decoded and speech is detected by the
front end (:mod:`jibo_cloud.speech.front`; the hub sends SOS/EOS), and the speech is streamed
into a pocketsphinx decoder searching the grammar of what the robot expects
(:mod:`jibo_cloud.speech.engine`). At the end the grammar's answer is used when it is a
whole phrase of the grammar that leaves no stretch of speech unexplained; otherwise the general
English model decides (with a second look through the grammar; see the engine's docs).

Where decoding runs:

- :class:`PocketsphinxRecognizer` (this module, ``JIBO_ASR_PROCESSES=0``): in worker threads
  of the server, behind one :class:`trio.CapacityLimiter` — one core at most, because
  pocketsphinx's binding holds the GIL while it decodes;
- :class:`jibo_cloud.speech.processes.ProcessRecognizer` (the default): in decoder worker
  processes, one per core.

Both start each turn from the speaker's own cepstral mean
(:class:`jibo_cloud.speech.speakers.SpeakerStates`, keyed by :attr:`AsrRequest.robot_id`).
"""

from __future__ import annotations

import attrs
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.services import AsrEvent, AsrRequest, AsrResult
from jibo_cloud.speech.decode import AudioError, open_decoder
from jibo_cloud.speech.engine import (
    FALLBACK_CONFIDENCE,
    GRAMMAR_CONFIDENCE,
    DecoderPool,
    Engine,
    Utterance,
    general_decoder,
    grammar_decoder,
)
from jibo_cloud.speech.front import SpeechFront
from jibo_cloud.speech.policy import DEFAULT_POLICY, DecodePolicy
from jibo_cloud.speech.session import StreamingSession
from jibo_cloud.speech.speakers import SpeakerStates

__all__ = [
    "FALLBACK_CONFIDENCE",
    "GRAMMAR_CONFIDENCE",
    "DecoderPool",
    "PocketsphinxRecognizer",
    "SphinxSession",
    "general_decoder",
    "grammar_decoder",
]


@attrs.define
class PocketsphinxRecognizer:
    """The embedded :class:`jibo_cloud.services.Recognizer`, decoding in worker threads.

    One worker thread at a time: pocketsphinx's Python binding holds the GIL while it decodes,
    so a second thread only adds contention (measured: 16 concurrent turns p95 EOS → LISTEN
    2.8 s with two threads, 1.3 s with one). Using both cores needs worker processes
    (:mod:`jibo_cloud.speech.processes`).
    """

    limiter: trio.CapacityLimiter = attrs.field(factory=lambda: trio.CapacityLimiter(1))
    grammars: DecoderPool = attrs.field(factory=lambda: DecoderPool(grammar_decoder))
    general: DecoderPool = attrs.field(factory=lambda: DecoderPool(general_decoder, keep=2))
    speakers: SpeakerStates = attrs.field(factory=SpeakerStates)
    policy: DecodePolicy = DEFAULT_POLICY
    engine: Engine = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.engine = Engine(grammars=self.grammars, general=self.general, policy=self.policy)

    async def open_session(self, request: AsrRequest) -> SphinxSession:
        try:
            audio = open_decoder(request.encoding, request.sample_rate)
        except AudioError as exc:
            raise UpstreamError("asr", str(exc)) from None
        start = self.speakers.start(request.robot_id)
        utterance = await trio.to_thread.run_sync(
            Utterance, self.engine, request.rules, request.hints, start, limiter=self.limiter
        )
        return SphinxSession(self, request, SpeechFront(audio), utterance)

    async def warm_up(self) -> None:
        """Build one decoder of each kind now, so the first turn does not pay for it."""
        await trio.to_thread.run_sync(self.engine.warm_up)

    async def aclose(self) -> None:
        """Nothing to stop (decoders are garbage-collected); here for symmetry."""


class SphinxSession(StreamingSession):
    """One turn's recognition (see :class:`jibo_cloud.services.AsrSession`)."""

    def __init__(
        self,
        engine: PocketsphinxRecognizer,
        request: AsrRequest,
        front: SpeechFront,
        utterance: Utterance,
    ) -> None:
        self._engine = engine
        self._request = request
        self._front = front
        self._utterance: Utterance | None = utterance
        self._done = False

    # ----------------------------------------------------------------- worker-thread parts

    def _feed_sync(self, frame: bytes) -> list[AsrEvent]:
        events, pcm = self._front.feed(frame)
        if pcm and self._utterance is not None:
            self._utterance.process(pcm)
        return events

    def _finish_sync(self) -> AsrResult:
        pcm = self._front.finish()
        utterance = self._utterance
        if utterance is None or not self._front.heard_speech:
            return AsrResult(text="", confidence=0.0)
        utterance.process(pcm)
        decision = utterance.finish()
        if decision.speaker is not None:
            self._engine.speakers.accepted(self._request.robot_id, decision.speaker)
        return decision.result

    def _release_sync(self) -> None:
        utterance, self._utterance = self._utterance, None
        if utterance is not None:
            utterance.release()

    # ----------------------------------------------------------------- the AsrSession API

    def _limiter(self) -> trio.CapacityLimiter:
        return self._engine.limiter

    async def finish(self) -> AsrResult:
        self._begin_finish()
        try:
            return await trio.to_thread.run_sync(self._finish_sync, limiter=self._engine.limiter)
        except AudioError as exc:
            raise UpstreamError("asr", str(exc)) from None

    async def aclose(self) -> None:
        self._done = True
        if self._utterance is not None:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self._release_sync, limiter=self._engine.limiter)
