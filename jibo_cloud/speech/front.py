"""The recogniser's front end: robot frames in, speech events and speech PCM out.

Decodes each binary frame (:mod:`jibo_cloud.speech.decode`), runs the voice detector
(:mod:`jibo_cloud.speech.vad`) and says which PCM the decoder must hear: from
:data:`PAD_SECONDS` before speech started to :data:`PAD_SECONDS` after it ended (the
detector's own speech output is delayed and clipped at the edges, which loses short final
words such as "it"). It always runs in the server process, wherever decoding happens, so the
hub's SOS/EOS timing is the same on every path. Synchronous; CPU work, so call it from a
worker thread. Bad audio raises :class:`jibo_cloud.speech.decode.AudioError`.
"""

from __future__ import annotations

from jibo_cloud.services import AsrEvent
from jibo_cloud.speech.decode import PCM_RATE, AudioDecoder
from jibo_cloud.speech.engine import offset
from jibo_cloud.speech.vad import VoiceDetector

#: Audio kept before speech starts and after it ends, for the decoder (seconds).
PAD_SECONDS = 0.25


class SpeechFront:
    """One turn's audio decoding and speech detection."""

    def __init__(self, audio: AudioDecoder) -> None:
        self._audio = audio
        self._vad = VoiceDetector()
        self._all = bytearray()
        self._start: int | None = None
        self._end: int | None = None
        self._fed = 0
        self.audio_seconds = 0.0

    @property
    def heard_speech(self) -> bool:
        return self._start is not None

    def feed(self, frame: bytes) -> tuple[list[AsrEvent], bytes]:
        """Decode one frame: the speech events it completes and the PCM for the decoder."""
        return self._pcm(self._audio.feed(frame))

    def finish(self) -> bytes:
        """The end of the stream: the PCM the decoder has not heard yet.

        Speech still going on (the hub's maxSpeechTimeout) is cut here: the decoder gets
        everything so far.
        """
        _, pcm = self._pcm(self._audio.finish())
        return pcm

    def _pcm(self, pcm: bytes) -> tuple[list[AsrEvent], bytes]:
        self.audio_seconds += len(pcm) / (2 * PCM_RATE)
        self._all += pcm
        step = self._vad.process(pcm)
        events: list[AsrEvent] = []
        if step.started and self._start is None:
            events.append(AsrEvent("speech_start"))
            self._start = self._fed = offset((self._vad.speech_start or 0) - PAD_SECONDS)
        if self._start is None or self._end is not None:
            return events, b""
        limit = len(self._all)
        if step.ended:
            self._end = limit = min(limit, offset((self._vad.speech_end or 0) + PAD_SECONDS))
            events.append(AsrEvent("speech_end"))
        out = bytes(self._all[self._fed : limit]) if limit > self._fed else b""
        self._fed = max(self._fed, limit)
        return events, out
