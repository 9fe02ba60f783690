"""Load skill manifests from disk (the original hub's list-file format).

A list file is ``{"skills": [{"baseURL"?: str, "configPath": str}, …]}``; each ``configPath``
(relative to the list file) is a ``*_manifest.json``. ``baseURL`` present: a cloud skill at
that URL (``inproc:`` = a skill of this process); absent: a skill on the robot. A directory
is loaded through its ``skills.json`` (or ``skills-local.json``) list file when it has one,
else every ``*.json`` in it is taken as a manifest of an on-robot skill.

Precedence (docs/hub.md): the built-in list (``jibo_cloud/skills/manifests/skills.json``,
cloud skills of this server), then this package's on-robot manifests, then
``config.skills_dir``. Routing prefers the heavier match, then the earlier skill.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

from protocol.routing import ManifestError, SkillManifest, SkillTable, manifest_from_json

log = logging.getLogger(__name__)

#: This package's own on-robot manifests.
ON_ROBOT_LIST = Path(__file__).parent / "manifests" / "skills.json"
#: The built-in cloud skills' list (written by the speech issue; optional).
BUILTIN_LIST = Path(__file__).resolve().parents[1] / "skills" / "manifests" / "skills.json"
LIST_NAMES = ("skills.json", "skills-local.json")


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: cannot read JSON: {exc}") from None


def load_list(path: Path) -> list[SkillManifest]:
    """Load every manifest named by one list file.

    Raises:
        ManifestError: the list or a manifest is malformed (the message names the file).
    """
    listing = _read_json(path)
    entries = listing.get("skills") if isinstance(listing, dict) else None
    if not isinstance(entries, list):
        raise ManifestError(f'{path}: expected {{"skills": [...]}}')
    skills = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("configPath"), str):
            raise ManifestError(f"{path}: skills[{i}] needs a 'configPath' string")
        base_url = entry.get("baseURL")
        manifest_path = path.parent / entry["configPath"]
        try:
            skills.append(
                manifest_from_json(
                    _read_json(manifest_path),
                    base_url=base_url if isinstance(base_url, str) else None,
                )
            )
        except ManifestError as exc:
            raise ManifestError(f"{manifest_path}: {exc}") from None
    return skills


def load_dir(directory: Path) -> list[SkillManifest]:
    """A directory's list file, or every ``*.json`` in it as on-robot manifests."""
    for name in LIST_NAMES:
        if (directory / name).is_file():
            return load_list(directory / name)
    skills = []
    for path in sorted(directory.glob("*.json")):
        try:
            skills.append(manifest_from_json(_read_json(path)))
        except ManifestError as exc:
            raise ManifestError(f"{path}: {exc}") from None
    return skills


def load_path(path: Path) -> list[SkillManifest]:
    return load_dir(path) if path.is_dir() else load_list(path)


def load_skills(extra: Iterable[Path | None] = ()) -> SkillTable:
    """The server's skill table: built-in cloud skills, on-robot skills, then ``extra``."""
    skills: list[SkillManifest] = []
    if BUILTIN_LIST.is_file():
        skills += load_list(BUILTIN_LIST)
    skills += load_list(ON_ROBOT_LIST)
    for path in extra:
        if path is not None:
            skills += load_path(path)
    table = SkillTable.of(skills)
    log.info("loaded %d skill manifests", len(table.skills))
    return table
