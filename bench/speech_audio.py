"""Spoken test audio from three synthesizer families, clean or in a simulated living room.

Families (Debian packages, all local): espeak-ng (the voices earlier rounds tuned on), flite
(``kal16``, ``awb``, ``rms``, ``slt``) and festival (``voice_cmu_us_slt_arctic_hts``).
Conditions: ``clean``, and ``room``: sox's reverb (a mid-sized room), the speech 12 dB quieter
(the owner across the room), and pink noise 20 dB below the speech (a fridge, a fan, a street)
over the whole clip, silences included, so the voice detector hears it too.

Synthesised clips are cached under ``bench-results/speech-audio`` (festival takes ~1 s per
sentence to start); the room is applied on every run (deterministic: a fixed noise seed, and
sox in repeatable mode, ``-R``; until 2026-12-07 00:05 sox dithered its output with a fresh
seed each run, so room figures moved by a few utterances between runs of the same code).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from jibo_cloud.speech.synth import silence, wav_to_pcm

CACHE = Path("bench-results") / "speech-audio"
#: family → voices. espeak-ng voices carry their speed ("voice/wpm").
FAMILIES: dict[str, tuple[str, ...]] = {
    "espeak-ng": ("en-us+f2/150", "en-us+m3/150", "en-us+f4/155"),
    "flite": ("kal16", "awb", "rms", "slt"),
    "festival": ("voice_cmu_us_slt_arctic_hts",),
}
CONDITIONS = ("clean", "room")
#: The living room: level drop (dB), noise below the speech (dB), sox reverb settings
#: (reverberance %, HF damping %, room scale %).
ROOM_DROP_DB = 12.0
ROOM_SNR_DB = 20.0
ROOM_REVERB = ("50", "50", "70")
LEAD, TAIL = 0.4, 0.8


def available(family: str) -> bool:
    program = {"espeak-ng": "espeak-ng", "flite": "flite", "festival": "text2wave"}[family]
    return shutil.which(program) is not None and shutil.which("sox") is not None


def _synth_wav(family: str, voice: str, text: str, out: Path) -> None:
    if family == "espeak-ng":
        name, _, wpm = voice.partition("/")
        cmd = ["espeak-ng", "-v", name, "-s", wpm or "150", "-w", str(out), text]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    elif family == "flite":
        cmd = ["flite", "-voice", voice, "-t", text, "-o", str(out)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    else:
        cmd = ["text2wave", "-eval", f"({voice})", "-o", str(out)]
        subprocess.run(cmd, input=text.encode(), check=True, capture_output=True, timeout=60)


def speech_pcm(family: str, voice: str, text: str) -> bytes:
    """``text`` in ``voice``, 16 kHz mono s16le, without added silence (cached on disk)."""
    key = hashlib.sha1(f"{family}|{voice}|{text}".encode(), usedforsecurity=False).hexdigest()
    path = CACHE / f"{key[:20]}.pcm"
    if path.is_file():
        return path.read_bytes()
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        _synth_wav(family, voice, text, wav)
        pcm = wav_to_pcm(wav.read_bytes())
    part = path.with_suffix(f".{os.getpid()}.tmp")  # whole files only: runs share the cache
    part.write_bytes(pcm)
    os.replace(part, path)
    return pcm


def pink_noise(samples: int, seed: int) -> np.ndarray:
    """Unit-RMS pink (1/f power) noise: white noise shaped in the frequency domain."""
    rng = np.random.default_rng(seed)
    spectrum = np.fft.rfft(rng.standard_normal(samples))
    freqs = np.fft.rfftfreq(samples, 1 / 16000)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))
    noise = np.fft.irfft(spectrum, n=samples)
    return noise / (np.sqrt(np.mean(noise**2)) or 1.0)


def living_room(pcm: bytes, seed: int) -> bytes:
    """Reverb and a level drop (sox), then pink noise ``ROOM_SNR_DB`` below the speech."""
    with tempfile.TemporaryDirectory() as tmp:
        raw_in, raw_out = Path(tmp) / "in.raw", Path(tmp) / "out.raw"
        raw_in.write_bytes(pcm)
        fmt = ["-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "1"]
        # -R: repeatable. Without it sox dithers the 16-bit output with a fresh random seed
        # each run, so the same phrase in the room differed from run to run (seen: Whisper
        # alone heard 82.9 % then 90.2 % of festival's held-out room commands).
        cmd = ["sox", "-R", *fmt, str(raw_in), *fmt, str(raw_out), "reverb", *ROOM_REVERB]
        cmd += ["gain", f"-{ROOM_DROP_DB:g}"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        wet = np.frombuffer(raw_out.read_bytes(), dtype=np.int16).astype(np.float64)
    lead = int(LEAD * 16000)
    speech = wet[lead : len(wet) - int(TAIL * 16000)]
    level = np.sqrt(np.mean(speech**2)) if len(speech) else 1.0
    noisy = wet + pink_noise(len(wet), seed) * level * 10 ** (-ROOM_SNR_DB / 20)
    return np.clip(noisy, -32768, 32767).astype(np.int16).tobytes()


def utterance(family: str, voice: str, text: str, condition: str) -> bytes:
    """The clip a robot would send: silence, the speech, silence; in ``condition``."""
    pcm = silence(LEAD) + speech_pcm(family, voice, text) + silence(TAIL)
    if condition == "clean":
        return pcm
    seed = int(hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:8], 16)
    return living_room(pcm, seed)
