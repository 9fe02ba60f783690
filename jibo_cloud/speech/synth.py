"""Make robot-shaped test audio locally: espeak-ng speaks, and we send it the way a robot does.

A robot streams 16 kHz mono Opus in Ogg pages, one page per binary frame: the first page holds
only ``OpusHead``, the second ``OpusTags`` plus the first audio packets, then pages of about
25 packets of 20 ms (~0.5 s, ~4.2 KB) each (PROTOCOL.md §4.3, ``shared/fixtures/ws``).
Used by tests and benchmarks; needs the ``espeak-ng`` program (Debian package ``espeak-ng``),
or ``flite`` for :func:`flite_pcm`.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from collections.abc import Sequence

import av

from protocol.ogg import build_page, opus_head_packet, opus_tags_packet

SAMPLE_RATE = 16000
#: 20 ms Opus frames, as the robot's encoder uses.
OPUS_FRAME_SAMPLES = 320
#: 48 kHz granule ticks per 20 ms packet (Ogg Opus granules always count at 48 kHz).
GRANULE_PER_PACKET = 960
PACKETS_PER_PAGE = 25
OPUS_PRE_SKIP = 312


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def speak_pcm(text: str, *, voice: str = "en-us", speed: int = 160, pitch: int = 50) -> bytes:
    """``text`` spoken by espeak-ng, as 16 kHz mono signed 16-bit little-endian PCM.

    Raises:
        FileNotFoundError: espeak-ng is not installed.
        subprocess.CalledProcessError: espeak-ng rejected the voice or options.
    """
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed (apt-get install espeak-ng)")
    wav = subprocess.run(  # noqa: S603 - a fixed program; text is one argv item, no shell
        [exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", text],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    return wav_to_pcm(wav)


def flite_available() -> bool:
    return shutil.which("flite") is not None


def flite_pcm(text: str, *, voice: str = "slt") -> bytes:
    """``text`` spoken by flite's ``voice`` (``flite -lv`` lists them), 16 kHz s16le PCM.

    Another synthesizer family than espeak-ng, for tests and benchmarks: a recogniser tuned
    on one synthesizer's voices must not be judged on them alone.

    Raises:
        FileNotFoundError: flite is not installed.
    """
    exe = shutil.which("flite")
    if exe is None:
        raise FileNotFoundError("flite is not installed (apt-get install flite)")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        subprocess.run(  # noqa: S603 - a fixed program; text is one argv item, no shell
            [exe, "-voice", voice, "-t", text, "-o", str(out)],
            capture_output=True,
            check=True,
            timeout=30,
        )
        return wav_to_pcm(out.read_bytes())


def wav_to_pcm(wav: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """Any audio file PyAV reads → mono s16le PCM at ``rate``."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    out = bytearray()
    with av.open(io.BytesIO(wav), "r") as container:
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                out += bytes(chunk.planes[0])[: chunk.samples * 2]
    for chunk in resampler.resample(None):
        out += bytes(chunk.planes[0])[: chunk.samples * 2]
    return bytes(out)


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(seconds * SAMPLE_RATE)


def noise(seconds: float, *, amplitude: int = 6000, seed: int = 1) -> bytes:
    """White noise (loud enough to trip a voice detector, with no words in it)."""
    rng = random.Random(seed)
    samples = (rng.randint(-amplitude, amplitude) for _ in range(int(seconds * SAMPLE_RATE)))
    return b"".join(s.to_bytes(2, "little", signed=True) for s in samples)


def opus_packets(pcm: bytes, *, bit_rate: int = 64000) -> list[bytes]:
    """Encode 16 kHz mono PCM into 20 ms Opus packets (libopus, as bundled with PyAV)."""
    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate = SAMPLE_RATE
    encoder.layout = "mono"
    encoder.format = "s16"
    encoder.bit_rate = bit_rate
    encoder.open()
    frame = av.AudioFrame(format="s16", layout="mono", samples=len(pcm) // 2)
    frame.planes[0].update(pcm[: len(pcm) // 2 * 2])
    frame.sample_rate = SAMPLE_RATE
    frame.pts = 0
    packets = [bytes(p) for p in encoder.encode(frame)]
    packets += [bytes(p) for p in encoder.encode(None)]
    return packets


def ogg_opus_pages(
    pcm: bytes, *, serial: int = 744568034, packets_per_page: int = PACKETS_PER_PAGE
) -> list[bytes]:
    """Robot-shaped binary frames for ``pcm``: OpusHead page, tags+audio page, audio pages."""
    packets = opus_packets(pcm)
    head = opus_head_packet(pre_skip=OPUS_PRE_SKIP, input_sample_rate=SAMPLE_RATE)
    pages = [build_page([head], serial=serial, sequence=0, bos=True)]
    tags = opus_tags_packet("libopus 1.1.2", ["jibo=dev-test"])
    first = packets[: packets_per_page - 1]
    granule = len(first) * GRANULE_PER_PACKET
    pages.append(build_page([tags, *first], serial=serial, sequence=1, granule_position=granule))
    rest = packets[len(first) :]
    for index in range(0, len(rest), packets_per_page):
        chunk = rest[index : index + packets_per_page]
        granule += len(chunk) * GRANULE_PER_PACKET
        last = index + packets_per_page >= len(rest)
        pages.append(
            build_page(
                chunk, serial=serial, sequence=len(pages), granule_position=granule, eos=last
            )
        )
    return pages


def spoken_pages(
    text: str,
    *,
    voice: str = "en-us",
    speed: int = 160,
    lead: float = 0.4,
    tail: float = 1.0,
) -> list[bytes]:
    """``text`` as a robot would send it, with silence before (``lead``) and after (``tail``)."""
    pcm = silence(lead) + speak_pcm(text, voice=voice, speed=speed) + silence(tail)
    return ogg_opus_pages(pcm)


def concat(parts: Sequence[bytes]) -> bytes:
    return b"".join(parts)
