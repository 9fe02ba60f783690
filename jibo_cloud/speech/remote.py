"""A remote recogniser: an OpenAI-compatible ``/v1/audio/transcriptions`` endpoint.

For operators with a GPU box running whisper.cpp's server, a faster-whisper server or LocalAI.
Speech start and end are still detected here (the hub needs SOS/EOS while audio streams);
at the end the utterance is sent once as a 16 kHz WAV file. The service's own deadline
(:data:`ASR_TIMEOUT_SECONDS`, below the hub's 40 s ASR limit) and any failure become
``UpstreamError("asr", …)``, which the hub answers with ERROR code ``ASR`` (§4.4).

``asr_url`` may be a base URL, end in ``/v1``, or be the full endpoint; ``#model=NAME`` picks
the model (default ``whisper-1``, which whisper.cpp and most servers accept or ignore).
"""

from __future__ import annotations

import io
import wave

import attrs
import httpx
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.http_clients import new_service_client
from jibo_cloud.services import AsrEvent, AsrRequest, AsrResult
from jibo_cloud.skills.chat import endpoint
from jibo_cloud.speech.decode import PCM_RATE, AudioDecoder, AudioError, open_decoder
from jibo_cloud.speech.session import StreamingSession
from jibo_cloud.speech.vad import VoiceDetector

ASR_TIMEOUT_SECONDS = 15.0
PAD_SECONDS = 0.25
REMOTE_CONFIDENCE = 0.9


def wav_bytes(pcm: bytes, rate: int = PCM_RATE) -> bytes:
    """16-bit mono PCM wrapped in a WAV header."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm)
    return out.getvalue()


@attrs.define
class RemoteRecognizer:
    asr_url: str
    timeout: float = ASR_TIMEOUT_SECONDS
    limiter: trio.CapacityLimiter = attrs.field(factory=lambda: trio.CapacityLimiter(2))
    #: The ASR service's long-lived client (the runtime's, which closes it); None: this
    #: recogniser builds one on first use and closes it in :meth:`aclose`.
    http: httpx.AsyncClient | None = None
    _owned: httpx.AsyncClient | None = attrs.field(default=None, init=False)

    def _client(self) -> httpx.AsyncClient:
        if self.http is not None:
            return self.http
        if self._owned is None:
            self._owned = new_service_client()
        return self._owned

    async def open_session(self, request: AsrRequest) -> RemoteSession:
        try:
            audio = open_decoder(request.encoding, request.sample_rate)
        except AudioError as exc:
            raise UpstreamError("asr", str(exc)) from None
        return RemoteSession(self, request, audio)

    async def aclose(self) -> None:
        """Close the client this recogniser built itself (a shared one is the runtime's)."""
        owned, self._owned = self._owned, None
        if owned is not None:
            await owned.aclose()

    async def transcribe(self, pcm: bytes, lang: str) -> str:
        """POST the audio; returns the text. Raises UpstreamError('asr')."""
        url, model = endpoint(self.asr_url, "/audio/transcriptions")
        if "#" not in self.asr_url:
            model = "whisper-1"
        files = {"file": ("speech.wav", wav_bytes(pcm), "audio/wav")}
        data = {"model": model, "response_format": "json", "language": lang.split("-")[0]}
        response: httpx.Response | None = None
        with trio.move_on_after(self.timeout) as scope:
            try:
                # The deadline is the trio cancel scope above, not httpx's own timer.
                response = await self._client().post(url, files=files, data=data)
            except httpx.HTTPError as exc:
                raise UpstreamError("asr", f"transcription request failed: {exc}") from None
        if scope.cancelled_caught or response is None:
            raise UpstreamError(
                "asr", f"transcription timed out after {self.timeout:g} s", timed_out=True
            )
        if response.status_code >= 400:
            raise UpstreamError("asr", f"Request failed with status code {response.status_code}")
        try:
            text = response.json()["text"]
        except (ValueError, KeyError, TypeError):
            raise UpstreamError("asr", "transcription answer has no 'text'") from None
        return " ".join(str(text).split())


class RemoteSession(StreamingSession):
    """Detects speech locally; transcribes remotely at the end (see module docs)."""

    def __init__(self, engine: RemoteRecognizer, request: AsrRequest, audio: AudioDecoder) -> None:
        self._engine = engine
        self._request = request
        self._audio = audio
        self._vad = VoiceDetector()
        self._all = bytearray()
        self._start: int | None = None
        self._end: int | None = None
        self._done = False

    def _pcm(self, pcm: bytes) -> list[AsrEvent]:
        self._all += pcm
        step = self._vad.process(pcm)
        events: list[AsrEvent] = []
        if step.started and self._start is None:
            self._start = _offset((self._vad.speech_start or 0) - PAD_SECONDS)
            events.append(AsrEvent("speech_start"))
        if step.ended and self._start is not None and self._end is None:
            self._end = _offset((self._vad.speech_end or 0) + PAD_SECONDS)
            events.append(AsrEvent("speech_end"))
        return events

    def _feed_sync(self, frame: bytes) -> list[AsrEvent]:
        return self._pcm(self._audio.feed(frame))

    def _limiter(self) -> trio.CapacityLimiter:
        return self._engine.limiter

    async def finish(self) -> AsrResult:
        self._begin_finish()
        try:
            self._pcm(self._audio.finish())
        except AudioError as exc:
            raise UpstreamError("asr", str(exc)) from None
        if self._start is None:
            return AsrResult(text="", confidence=0.0)
        speech = bytes(self._all[self._start : self._end])
        text = await self._engine.transcribe(speech, self._request.lang)
        if not text:
            return AsrResult(text="", confidence=0.1, annotation="GARBAGE")
        return AsrResult(text=text, confidence=REMOTE_CONFIDENCE)

    async def aclose(self) -> None:
        self._done = True


def _offset(seconds: float) -> int:
    return int(max(0.0, seconds) * PCM_RATE) * 2
