"""Streaming audio decoding: robot binary frames in, 16 kHz mono PCM out.

A robot sends one Ogg page of Opus audio per binary frame (PROTOCOL.md §4.3); it can also be
configured for FLAC or LINEAR16. Each decoder here takes frames in arrival order and returns
the PCM (signed 16-bit little-endian, mono, :data:`PCM_RATE`) they complete, so recognition
runs while the owner is still talking.

Pages are split and checked by :mod:`protocol.ogg` (CRC, sequence, lacing); Opus and FLAC
are decoded by FFmpeg's decoders through PyAV (its wheels bundle libopus). CPU work: call
these from a worker thread. Bad audio raises :class:`AudioError` with a message for the robot.
"""

from __future__ import annotations

import io
from typing import Protocol

import av
import av.error

from protocol.errors import OggError
from protocol.ogg import OggStreamReader, PacketAssembler

PCM_RATE = 16000


class AudioError(ValueError):
    """The audio cannot be decoded; the message says why (it becomes an ``ASR`` ERROR)."""


class AudioDecoder(Protocol):
    def feed(self, frame: bytes) -> bytes:
        """PCM completed by one binary frame. Raises AudioError."""
        ...

    def finish(self) -> bytes:
        """PCM still buffered at the end of the stream. Raises AudioError."""
        ...


def _frames_to_pcm(frames: list[av.AudioFrame], resampler: av.AudioResampler) -> bytes:
    out = bytearray()
    for frame in frames:
        for chunk in resampler.resample(frame):
            out += bytes(chunk.planes[0])[: chunk.samples * 2]
    return bytes(out)


class OggOpusDecoder:
    """Ogg/Opus, one page per frame: the first page must be ``OpusHead``."""

    def __init__(self) -> None:
        self._reader = OggStreamReader()
        self._packets = PacketAssembler()
        self._codec = av.CodecContext.create("libopus", "r")
        self._codec.sample_rate = PCM_RATE  # libopus decodes at 16 kHz natively
        self._codec.layout = "mono"
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=PCM_RATE)
        self._packet_index = 0
        self.pages = 0

    def feed(self, frame: bytes) -> bytes:
        if not frame:
            return b""
        self._reader.receive_data(frame)
        pcm = bytearray()
        try:
            for page in self._reader.pages():
                self.pages += 1
                for packet in self._packets.receive_page(page):
                    pcm += self._packet(packet)
        except OggError as exc:
            raise AudioError(f"corrupt Ogg audio: {exc}") from None
        if self._reader.buffered:
            # PROTOCOL.md §4.3: one binary frame per Ogg page, so a frame never ends mid-page.
            raise AudioError(
                f"truncated Ogg page: binary frame {self.pages + 1} ended "
                f"{self._reader.buffered} bytes into a page"
            )
        return bytes(pcm)

    def _packet(self, packet: bytes) -> bytes:
        index = self._packet_index
        self._packet_index += 1
        if index == 0:
            if not packet.startswith(b"OpusHead"):
                raise AudioError("the first Ogg page must carry OpusHead (Ogg/Opus audio)")
            return b""
        if index == 1 and packet.startswith(b"OpusTags"):
            return b""
        try:
            frames = self._codec.decode(av.Packet(packet))
        except av.error.FFmpegError as exc:
            raise AudioError(f"undecodable Opus packet {index}: {exc}") from None
        return _frames_to_pcm(frames, self._resampler)

    def finish(self) -> bytes:
        return b""


class Linear16Decoder:
    """Raw signed 16-bit little-endian mono PCM at the LISTEN ``sampleRate``."""

    def __init__(self, sample_rate: int) -> None:
        if not 4000 <= sample_rate <= 96000:
            raise AudioError(f"unsupported LINEAR16 sampleRate {sample_rate}")
        self._rate = sample_rate
        self._carry = b""
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=PCM_RATE)
        self._pts = 0

    def feed(self, frame: bytes) -> bytes:
        data = self._carry + frame
        usable = len(data) // 2 * 2
        self._carry = data[usable:]
        if not usable:
            return b""
        if self._rate == PCM_RATE:
            return data[:usable]
        audio = av.AudioFrame(format="s16", layout="mono", samples=usable // 2)
        audio.planes[0].update(data[:usable])
        audio.sample_rate = self._rate
        audio.pts = self._pts
        self._pts += usable // 2
        return _frames_to_pcm([audio], self._resampler)

    def finish(self) -> bytes:
        return b""


class FlacDecoder:
    """FLAC: the stream so far is re-read on each frame and only new samples are returned.

    FLAC turns are short (seconds), so re-reading is cheap and avoids a hand-made frame parser.
    """

    def __init__(self) -> None:
        self._data = bytearray()
        self._emitted = 0  # bytes of PCM already returned

    def _decode_all(self, *, complete: bool) -> bytes:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=PCM_RATE)
        pcm = bytearray()
        try:
            with av.open(io.BytesIO(bytes(self._data)), "r", format="flac") as container:
                for frame in container.decode(audio=0):
                    pcm += _frames_to_pcm([frame], resampler)
        except (av.error.FFmpegError, ValueError) as exc:
            if complete:  # a partial stream may simply need more bytes
                raise AudioError(f"undecodable FLAC audio: {exc}") from None
        return bytes(pcm)

    def _new(self, *, complete: bool) -> bytes:
        if not self._data.startswith(b"fLaC"[: len(self._data)]):
            raise AudioError("FLAC audio must start with the 'fLaC' marker")
        if len(self._data) < 42:
            return b""
        pcm = self._decode_all(complete=complete)
        fresh = pcm[self._emitted :]
        self._emitted = max(self._emitted, len(pcm))
        return fresh

    def feed(self, frame: bytes) -> bytes:
        self._data += frame
        return self._new(complete=False)

    def finish(self) -> bytes:
        return self._new(complete=True) if self._data else b""


def open_decoder(encoding: str, sample_rate: int) -> AudioDecoder:
    """The decoder for a LISTEN ``asr.encoding``; raises AudioError for an unknown one."""
    kind = encoding.upper()
    if kind in ("OGG_OPUS", "OPUS"):
        return OggOpusDecoder()
    if kind == "LINEAR16":
        return Linear16Decoder(sample_rate)
    if kind == "FLAC":
        return FlacDecoder()
    raise AudioError(f"unsupported audio encoding {encoding!r} (OGG_OPUS, FLAC or LINEAR16)")
