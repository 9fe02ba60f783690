"""The embedded recogniser: pocketsphinx with a per-turn grammar and a general fallback.

Each spoken turn gets a session: robot frames are decoded (:mod:`jibo_cloud.speech.decode`),
the voice detector (:mod:`jibo_cloud.speech.vad`) reports speech start and end (the hub sends
SOS/EOS), and speech is streamed into a pocketsphinx decoder searching the grammar of what the
robot expects (:mod:`jibo_cloud.speech.search`). At the end the grammar's answer is used when
the whole utterance is a phrase of the grammar; otherwise the speech is decoded again with
pocketsphinx's general English model (the "fallback"), and GARBAGE is reported when that hears
no words either.

CPU work runs in worker threads behind one :class:`trio.CapacityLimiter`; decoders are pooled
(building one costs ~0.2 s, the general-model one ~0.5 s) and each caches its grammars.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import attrs
import trio
from pocketsphinx import Decoder

from jibo_cloud.errors import UpstreamError
from jibo_cloud.nlu.parser import grammar_accepts
from jibo_cloud.services import AsrEvent, AsrRequest, AsrResult
from jibo_cloud.speech.decode import PCM_RATE, AudioDecoder, AudioError, open_decoder
from jibo_cloud.speech.search import EXTRA_WORDS, build_jsgf, effective_rules
from jibo_cloud.speech.session import StreamingSession
from jibo_cloud.speech.vad import VoiceDetector

log = logging.getLogger(__name__)

#: Confidence reported for an utterance the grammar accepts / the fallback model heard.
GRAMMAR_CONFIDENCE = 0.9
FALLBACK_CONFIDENCE = 0.5
#: Audio kept before speech starts and after it ends, for the decoder (seconds).
PAD_SECONDS = 0.25
#: The general model hears at most this much of an utterance (it is the slow path).
FALLBACK_MAX_SECONDS = 8.0
#: Idle decoders kept per kind.
POOL_SIZE = 24
#: Grammar passes re-run over a rejected utterance, each starting from the cepstral mean the
#: previous pass adapted to this speaker (see :meth:`SphinxSession._repass_sync`).
REPASSES = 2


class DecoderPool:
    """Reusable pocketsphinx decoders of one kind; thread-safe; create on demand."""

    def __init__(self, factory: Callable[[], Decoder], keep: int = POOL_SIZE) -> None:
        self._factory = factory
        self._keep = keep
        self._idle: list[Decoder] = []
        self._lock = threading.Lock()
        self._cmn: dict[str, str] = {}

    def take(self) -> Decoder:
        """An idle decoder with its cepstral mean set to the last good one, or a new one.

        Live cepstral mean normalisation adapts to what a decoder hears. Starting from the
        mean of the last utterance the grammar accepted helps the next owner's first words;
        a noisy turn never becomes the starting point (see :meth:`remember_cmn`).
        """
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
            cmn = self._cmn.get("good") or self._cmn.get("initial")
        if decoder is None:
            decoder = self._factory()
            with self._lock:
                self._cmn.setdefault("initial", decoder.get_cmn(False))
        elif cmn is not None:
            decoder.set_cmn(cmn)
        return decoder

    def remember_cmn(self, decoder: Decoder) -> None:
        """Keep ``decoder``'s cepstral mean: it just decoded speech the grammar accepted."""
        cmn = decoder.get_cmn(False)
        with self._lock:
            self._cmn["good"] = cmn

    def give(self, decoder: Decoder) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(decoder)


def _quiet_config(**kwargs: Any) -> Decoder:
    decoder = Decoder(samprate=PCM_RATE, loglevel="ERROR", **kwargs)
    for word, phones in EXTRA_WORDS.items():
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, phones, True)
    return decoder


def grammar_decoder() -> Decoder:
    """A decoder without the general model (cheap); grammars are added per turn.

    Beams narrower than the defaults: ~20 % less CPU with no loss on the bench set (a grammar
    leaves few paths worth keeping).
    """
    return _quiet_config(lm=None, beam=1e-40, pbeam=1e-40, wbeam=1e-25, maxhmmpf=2000)


def general_decoder() -> Decoder:
    """A decoder with pocketsphinx's bundled general English model.

    Beams are narrower than pocketsphinx's defaults: about 4x faster (real-time factor ~0.25
    instead of ~1 on a 2-core box) for a small loss on words the grammar did not cover anyway.
    """
    return _quiet_config(maxhmmpf=3000, maxwpf=5, beam=1e-40, wbeam=1e-30, pbeam=1e-40)


@attrs.define
class PocketsphinxRecognizer:
    """The default :class:`jibo_cloud.services.Recognizer` when pocketsphinx is installed.

    One worker thread at a time: pocketsphinx's Python binding holds the GIL while it decodes,
    so a second thread only adds contention (measured: 16 concurrent turns p95 EOS → LISTEN
    2.8 s with two threads, 1.3 s with one). Using both cores needs worker processes.
    """

    limiter: trio.CapacityLimiter = attrs.field(factory=lambda: trio.CapacityLimiter(1))
    grammars: DecoderPool = attrs.field(factory=lambda: DecoderPool(grammar_decoder))
    general: DecoderPool = attrs.field(factory=lambda: DecoderPool(general_decoder, keep=2))

    async def open_session(self, request: AsrRequest) -> SphinxSession:
        try:
            audio = open_decoder(request.encoding, request.sample_rate)
        except AudioError as exc:
            raise UpstreamError("asr", str(exc)) from None
        decoder = await trio.to_thread.run_sync(self.grammars.take, limiter=self.limiter)
        session = SphinxSession(self, request, audio, decoder)
        try:
            await trio.to_thread.run_sync(session.select_search, limiter=self.limiter)
        except BaseException:
            self.grammars.give(decoder)
            raise
        return session

    async def warm_up(self) -> None:
        """Build one decoder of each kind now, so the first turn does not pay for it."""
        self.grammars.give(await trio.to_thread.run_sync(self.grammars.take))
        self.general.give(await trio.to_thread.run_sync(self.general.take))


def _offset(seconds: float) -> int:
    """Byte offset of a time in 16 kHz s16 PCM (negative times clamp to 0)."""
    return int(max(0.0, seconds) * PCM_RATE) * 2


def _search_name(jsgf: str) -> str:
    return "g" + hashlib.sha1(jsgf.encode(), usedforsecurity=False).hexdigest()[:16]


class SphinxSession(StreamingSession):
    """One turn's recognition (see :class:`jibo_cloud.services.AsrSession`)."""

    def __init__(
        self,
        engine: PocketsphinxRecognizer,
        request: AsrRequest,
        audio: AudioDecoder,
        decoder: Decoder,
    ) -> None:
        self._engine = engine
        self._request = request
        self._audio = audio
        self._decoder: Decoder | None = decoder
        self._vad = VoiceDetector()
        self._rules = effective_rules(request.rules, request.hints)
        self._all = bytearray()
        self._start: int | None = None
        self._end: int | None = None
        self._fed = 0
        self._in_utterance = False

        self._has_search = False
        self._done = False
        self.stats: dict[str, float] = {"audio_seconds": 0.0}

    # ----------------------------------------------------------------- worker-thread parts

    def select_search(self) -> None:
        decoder = self._decoder
        assert decoder is not None
        jsgf = build_jsgf(
            self._request.rules, self._request.hints, lambda w: decoder.lookup_word(w) is not None
        )
        if jsgf is None:
            return
        name = _search_name(jsgf)
        try:
            decoder.activate_search(name)
        except KeyError:
            decoder.add_jsgf_string(name, jsgf)
            decoder.activate_search(name)
        self._has_search = True

    def _feed_sync(self, frame: bytes) -> list[AsrEvent]:
        pcm = self._audio.feed(frame)
        return self._pcm(pcm)

    def _pcm(self, pcm: bytes) -> list[AsrEvent]:
        """Run the voice detector on new PCM and stream the utterance into the decoder.

        The decoder hears the raw audio from a little before speech started to a little after
        it ended (the detector's own speech output is delayed and clipped at the edges, which
        loses short final words such as "it"). Decoding while the owner speaks leaves little
        work for :meth:`finish`, so EOS → LISTEN stays short.
        """
        self.stats["audio_seconds"] += len(pcm) / (2 * PCM_RATE)
        self._all += pcm
        step = self._vad.process(pcm)
        events: list[AsrEvent] = []
        if step.started and self._start is None:
            events.append(AsrEvent("speech_start"))
            self._start = self._fed = _offset((self._vad.speech_start or 0) - PAD_SECONDS)
            if self._has_search and self._decoder is not None:
                self._decoder.start_utt()
                self._in_utterance = True
        if self._start is None or self._end is not None:
            return events
        limit = len(self._all)
        if step.ended:
            self._end = limit = min(limit, _offset((self._vad.speech_end or 0) + PAD_SECONDS))
            events.append(AsrEvent("speech_end"))
        self._decode_upto(limit)
        return events

    def _decode_upto(self, limit: int) -> None:
        if limit > self._fed and self._in_utterance and self._decoder is not None:
            self._decoder.process_raw(bytes(self._all[self._fed : limit]))
        self._fed = max(self._fed, limit)

    @property
    def _speech(self) -> bytes:
        if self._start is None:
            return b""
        return bytes(
            self._all[self._start : self._end if self._end is not None else len(self._all)]
        )

    def _grammar_sync(self) -> str:
        """End the streamed utterance and return the grammar's best path."""
        decoder = self._decoder
        if not self._in_utterance or decoder is None:
            return ""
        self._decode_upto(self._end if self._end is not None else len(self._all))
        decoder.end_utt()
        self._in_utterance = False
        hyp = decoder.hyp()
        return hyp.hypstr if hyp is not None else ""

    def _finish_sync(self) -> AsrResult:
        self._pcm(self._audio.finish())
        speech = self._speech
        if not speech:
            return AsrResult(text="", confidence=0.0)
        text = self._grammar_sync()
        if text and grammar_accepts(text, self._rules):
            return self._accepted(text)
        heard = self._fallback_sync(speech)
        if heard:
            # Words, so not noise: worth a second look through the grammar (noise would be
            # forced onto some phrase once the mean adapted to it, hence only after this).
            again = self._repass_sync(speech)
            if again and grammar_accepts(again, self._rules):
                return self._accepted(again)
            return AsrResult(text=heard, confidence=FALLBACK_CONFIDENCE)
        return AsrResult(text=text, confidence=0.1, annotation="GARBAGE")

    def _accepted(self, text: str) -> AsrResult:
        if self._decoder is not None:
            self._engine.grammars.remember_cmn(self._decoder)
        return AsrResult(text=text, confidence=GRAMMAR_CONFIDENCE)

    def _repass_sync(self, speech: bytes) -> str:
        """Decode a rejected utterance through the grammar again; the last pass's answer.

        The streamed pass starts from the cepstral mean of whoever the pool last understood,
        often another voice: a deep voice after a high one loses its first words ("what time
        is it" → "well i"). Ending the utterance adapts the decoder's live mean to this
        speaker, so the same audio decoded again usually lands on the phrase. Measured on the
        bench set: held-out voices 66 % → 89 % intent accuracy; the cost (a grammar pass,
        RTF ~0.03) is paid only by utterances the first pass rejected and the general model heard
        words in.
        """
        decoder = self._decoder
        if decoder is None or not self._has_search:
            return ""
        speech = speech[: _offset(FALLBACK_MAX_SECONDS)]
        text = ""
        for _ in range(REPASSES):
            decoder.start_utt()
            decoder.process_raw(speech)
            decoder.end_utt()
            hyp = decoder.hyp()
            text = hyp.hypstr if hyp is not None else ""
            if text and grammar_accepts(text, self._rules):
                break
        return text

    def _fallback_sync(self, speech: bytes) -> str:
        speech = speech[: _offset(FALLBACK_MAX_SECONDS)]
        decoder = self._engine.general.take()
        try:
            decoder.start_utt()
            decoder.process_raw(speech, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
        finally:
            self._engine.general.give(decoder)
        words = [
            w for w in (hyp.hypstr.split() if hyp is not None else []) if not w.startswith("<")
        ]
        return " ".join(words)

    def _release_sync(self) -> None:
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return
        if self._in_utterance:
            decoder.end_utt()
            self._in_utterance = False
        self._engine.grammars.give(decoder)

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
        if self._decoder is not None:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(self._release_sync, limiter=self._engine.limiter)
