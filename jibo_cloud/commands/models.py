"""``jibo-cloud models [--load]``: the speech engines and models this server would use.

One line per engine, in the order the server picks them (docs/speech.md)::

    ok    pocketsphinx 5.0.4: grammar and general English model (bundled)
    ok    whisper: base (shipped, sha256 verified) at /…/models/whisper-base (145.2 MB)
    info  remote recogniser: off (JIBO_ASR_URL)

Verifying the shipped Whisper model joins its two halves into the data folder the first time
(as the server does on its first spoken turn) and checks the sha256 recorded in the code;
``JIBO_WHISPER_MODEL=DIR`` is checked for the files CTranslate2 needs, and ``--load`` also
loads the model and transcribes one second of silence (catches a folder that is not a
Whisper model). Exit status 1 when a configured engine is missing or broken: the server
would then fall back (Whisper → pocketsphinx alone).
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata

from jibo_cloud.config import load_config

HELP = "list the speech engines and models found, and verify them"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("models", help=HELP)
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data directory (default: $JIBO_DATA_DIR or the user's data folder)",
    )
    p.add_argument("--load", action="store_true", help="also load the Whisper model once")
    p.set_defaults(func=run)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def run(args: argparse.Namespace) -> int:
    config = load_config(data_dir=args.data_dir)
    lines: list[tuple[str, str]] = []
    failed = False
    sphinx = _version("pocketsphinx")
    if sphinx:
        lines.append(("ok", f"pocketsphinx {sphinx}: grammar and general English model (bundled)"))
    else:
        lines.append(("FAIL", "pocketsphinx: not installed (spoken turns answer ASR errors)"))
        failed = True
    whisper_ok, whisper_lines = _whisper(config.data_dir, dict(os.environ), load=args.load)
    lines += whisper_lines
    failed = failed or not whisper_ok
    if config.asr_processes == 0:
        lines.append(("info", "JIBO_ASR_PROCESSES=0: decoding in threads, pocketsphinx alone"))
    remote = "on (used instead of the embedded engines)" if config.asr_url else "off"
    lines.append(("info", f"remote recogniser: {remote} (JIBO_ASR_URL)"))
    for level, text in lines:
        print(f"{level:<5} {text}")
    return 1 if failed else 0


def _whisper(
    data_dir: os.PathLike[str] | str, env: dict[str, str], *, load: bool
) -> tuple[bool, list[tuple[str, str]]]:
    from pathlib import Path

    from jibo_cloud.speech.whisper_model import ModelError, prepare_model

    version = _version("faster-whisper")
    if version is None:
        return False, [("FAIL", "whisper: faster-whisper is not installed")]
    try:
        info = prepare_model(Path(data_dir), env)
    except (ModelError, OSError) as exc:
        return False, [("FAIL", f"{exc} (the server uses pocketsphinx alone)")]
    if info is None:
        return True, [("info", "whisper: off (JIBO_WHISPER_MODEL)")]
    size = (info.path / "model.bin").stat().st_size / 1e6
    line = f"whisper (faster-whisper {version}): {info.source} at {info.path} ({size:.1f} MB)"
    if load:
        try:
            from jibo_cloud.speech.whisper import WhisperEngine

            WhisperEngine(info.path).transcribe(b"\x00\x00" * 16000)
        except Exception as exc:
            print(f"whisper: {info.path} does not load: {exc}", file=sys.stderr)
            return False, [("FAIL", f"whisper: {info.path} does not load: {type(exc).__name__}")]
        line += ", loads"
    return True, [("ok", line)]
