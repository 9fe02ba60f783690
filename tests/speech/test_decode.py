"""Streaming decoders: Ogg/Opus pages as robots send them, FLAC and LINEAR16."""

from __future__ import annotations

import io

import av
import pytest

from jibo_cloud.speech.decode import (
    AudioError,
    FlacDecoder,
    Linear16Decoder,
    OggOpusDecoder,
    open_decoder,
)
from jibo_cloud.speech.synth import noise, ogg_opus_pages, silence
from protocol.ogg import parse_page

PCM = silence(0.2) + noise(0.8, amplitude=3000) + silence(0.2)


def seconds(pcm: bytes) -> float:
    return len(pcm) / 32000


def test_ogg_opus_pages_are_shaped_like_the_robot_s() -> None:
    pages = ogg_opus_pages(PCM)
    first, second = parse_page(pages[0]), parse_page(pages[1])
    assert len(pages[0]) == 47  # shared/fixtures/ws INDEX: first_frame_length 47
    assert first.is_opus_head
    assert first.bos
    assert second.is_opus_tags
    assert parse_page(pages[-1]).eos


def test_opus_pages_decode_incrementally_to_16k_pcm() -> None:
    decoder = OggOpusDecoder()
    outputs = [decoder.feed(page) for page in ogg_opus_pages(PCM)]
    assert outputs[0] == b""  # OpusHead only
    assert sum(1 for out in outputs if out) >= 2  # PCM arrives while pages stream in
    assert seconds(b"".join(outputs)) == pytest.approx(seconds(PCM), abs=0.05)


def test_truncated_page_is_a_clear_error() -> None:
    pages = ogg_opus_pages(PCM)
    decoder = OggOpusDecoder()
    decoder.feed(pages[0])
    with pytest.raises(AudioError, match="truncated Ogg page"):
        decoder.feed(pages[1][:-10])


def test_corrupt_page_is_a_clear_error() -> None:
    pages = ogg_opus_pages(PCM)
    decoder = OggOpusDecoder()
    decoder.feed(pages[0])
    bad = bytearray(pages[1])
    bad[60] ^= 0xFF
    with pytest.raises(AudioError, match="CRC"):
        decoder.feed(bytes(bad))
    with pytest.raises(AudioError, match="corrupt"):
        OggOpusDecoder().feed(b"this is not ogg at all, just text.........")


def test_audio_must_start_with_opus_head() -> None:
    pages = ogg_opus_pages(PCM)
    with pytest.raises(AudioError, match="OpusHead"):
        OggOpusDecoder().feed(pages[2])


def test_linear16_passes_through_and_resamples() -> None:
    decoder = Linear16Decoder(16000)
    assert decoder.feed(PCM[:101]) + decoder.feed(PCM[101:]) == PCM  # odd split carried over
    slow = Linear16Decoder(8000)
    out = b"".join(slow.feed(PCM[i : i + 3200]) for i in range(0, len(PCM), 3200))
    assert seconds(out) == pytest.approx(2 * seconds(PCM), rel=0.05)


def _flac(pcm: bytes) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=16000, layout="mono")
        frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
        frame.planes[0].update(pcm)
        frame.sample_rate = 16000
        frame.pts = 0
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def test_flac_decodes_from_chunks() -> None:
    data = _flac(PCM)
    decoder = FlacDecoder()
    out = b"".join(decoder.feed(data[i : i + 2000]) for i in range(0, len(data), 2000))
    out += decoder.finish()
    assert out == PCM  # FLAC is lossless
    with pytest.raises(AudioError, match="fLaC"):
        FlacDecoder().feed(b"RIFF....")


def test_unknown_encoding_is_named() -> None:
    assert isinstance(open_decoder("OGG_OPUS", 16000), OggOpusDecoder)
    with pytest.raises(AudioError, match="MP3"):
        open_decoder("MP3", 16000)
    with pytest.raises(AudioError, match="sampleRate"):
        open_decoder("LINEAR16", 1)
