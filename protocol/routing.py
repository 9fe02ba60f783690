"""Skill manifests and intent routing (PROTOCOL.md §4.4 ROUTE, §4.6 candidates).

A skill manifest says which intents (and entity values) launch a skill, whether the skill runs
on the robot or in the cloud, and which proactive offers it makes. This module holds the
manifest model, built from the JSON format of the original hub's ``*_manifest.json`` files, and
the routing rule the listen transaction applies.

Routing rule (§4.4): a skill is chosen only when the NLU names an intent. Every manifest intent
with that name is a candidate; each of its entity rules must hold against the NLU entities:
an exact value weighs 1, a wildcard (``"*"``, any value present) weighs 0.5, and a rule that
does not hold disqualifies the candidate. The heaviest candidate wins; on a tie the skill listed
first wins (list order is load order: built-in, on-robot, then ``config.skills_dir``).

Pure: no I/O. The loader in :mod:`jibo_cloud.hub.manifests` reads the files.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

#: An entity rule whose value is this matches any value that is present.
WILDCARD = "*"
EXACT_WEIGHT = 1.0
WILDCARD_WEIGHT = 0.5
#: ``baseURL`` prefix naming an in-process skill (``runtime.skill_handlers[skill_id]``).
INPROC_SCHEME = "inproc:"


class SkillKind(enum.Enum):
    #: Runs on the robot: the hub answers with ``onRobot: true`` and a final LISTEN.
    ON_ROBOT = "on_robot"
    #: Runs behind an HTTP URL (§5).
    CLOUD = "cloud"
    #: Runs inside this server, called as ``runtime.skill_handlers[skill_id](request)``.
    INPROC = "inproc"


class ManifestError(ValueError):
    """A manifest is malformed; the message names the file's skill and the field."""


@attrs.frozen
class EntityRule:
    name: str
    value: str
    #: ``EXACT`` (the only rule the original manifests use); kept for tools.
    match_rule: str = "EXACT"

    def weight(self, entities: Mapping[str, Any]) -> float | None:
        """The weight this rule adds for ``entities``, or None when it does not hold."""
        if self.name not in entities or entities[self.name] is None:
            return None
        if self.value == WILDCARD:
            return WILDCARD_WEIGHT
        return EXACT_WEIGHT if str(entities[self.name]) == self.value else None


@attrs.frozen
class IntentRule:
    name: str
    entities: tuple[EntityRule, ...] = ()
    #: Passed to the skill as ``result.memo`` (any JSON value).
    memo: Any = None

    def weight(self, entities: Mapping[str, Any]) -> float | None:
        total = 0.0
        for rule in self.entities:
            w = rule.weight(entities)
            if w is None:
                return None
            total += w
        return total


@attrs.frozen
class SkillManifest:
    skill_id: str
    kind: SkillKind
    intents: tuple[IntentRule, ...] = ()
    #: The skill URL for a cloud skill (``POST`` target, §5); "" otherwise.
    url: str = ""
    #: The raw ``proactives`` entries (§4.6), filtered by :mod:`protocol.proactive`.
    proactives: tuple[Mapping[str, Any], ...] = ()
    #: The raw ``IHQueries`` table the proactive history rules refer to.
    ih_queries: Mapping[str, Any] = attrs.field(factory=dict)

    @property
    def on_robot(self) -> bool:
        return self.kind is SkillKind.ON_ROBOT


@attrs.frozen
class SkillMatch:
    """The routing decision, as the LISTEN reply's ``match`` says it (§4.4)."""

    skill_id: str
    launch: bool
    on_robot: bool
    memo: Any = None
    weight: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"skillID": self.skill_id, "launch": self.launch, "onRobot": self.on_robot}


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ManifestError(f"{where}: '{key}' must be a non-empty string, got {value!r}")
    return value


def manifest_from_json(obj: object, *, base_url: str | None = None) -> SkillManifest:
    """Build a manifest from a ``*_manifest.json`` object and its list entry's ``baseURL``.

    ``baseURL`` present: a cloud skill at that URL (``inproc:`` makes it in-process); absent,
    or ``onRobot: true`` in the manifest: an on-robot skill.

    Raises:
        ManifestError: the object is not a manifest; the message says what is wrong.
    """
    if not isinstance(obj, Mapping):
        raise ManifestError(f"a skill manifest must be a JSON object, got {type(obj).__name__}")
    skill_id = _str(obj, "id", "manifest")
    where = f"manifest {skill_id!r}"
    raw_intents = obj.get("intents", [])
    if not isinstance(raw_intents, list):
        raise ManifestError(f"{where}: 'intents' must be a list")
    intents = tuple(_intent(item, f"{where} intents[{i}]") for i, item in enumerate(raw_intents))
    if obj.get("onRobot") is True or not base_url:
        kind, url = SkillKind.ON_ROBOT, ""
    elif base_url.startswith(INPROC_SCHEME):
        kind, url = SkillKind.INPROC, base_url
    else:
        kind, url = SkillKind.CLOUD, base_url
    proactives = obj.get("proactives", [])
    queries = obj.get("IHQueries", {})
    if not isinstance(proactives, list) or not all(isinstance(p, Mapping) for p in proactives):
        raise ManifestError(f"{where}: 'proactives' must be a list of objects")
    if not isinstance(queries, Mapping):
        raise ManifestError(f"{where}: 'IHQueries' must be an object")
    return SkillManifest(
        skill_id=skill_id,
        kind=kind,
        intents=intents,
        url=url,
        proactives=tuple(proactives),
        ih_queries=dict(queries),
    )


def _intent(item: object, where: str) -> IntentRule:
    if not isinstance(item, Mapping):
        raise ManifestError(f"{where}: must be an object")
    raw = item.get("entities") or []
    if not isinstance(raw, list):
        raise ManifestError(f"{where}: 'entities' must be a list")
    entities = []
    for j, ent in enumerate(raw):
        if not isinstance(ent, Mapping):
            raise ManifestError(f"{where} entities[{j}]: must be an object")
        value = ent.get("value")
        entities.append(
            EntityRule(
                name=_str(ent, "name", f"{where} entities[{j}]"),
                value=value if isinstance(value, str) else str(value),
                match_rule=str(ent.get("matchRule", "EXACT")),
            )
        )
    return IntentRule(
        name=_str(item, "name", where), entities=tuple(entities), memo=item.get("memo")
    )


@attrs.frozen
class SkillTable:
    """The loaded manifests in precedence order, indexed by skill id and by intent name."""

    skills: tuple[SkillManifest, ...] = ()
    by_id: Mapping[str, SkillManifest] = attrs.field(init=False)
    by_intent: Mapping[str, tuple[tuple[int, SkillManifest, IntentRule], ...]] = attrs.field(
        init=False
    )

    def __attrs_post_init__(self) -> None:
        by_id: dict[str, SkillManifest] = {}
        by_intent: dict[str, list[tuple[int, SkillManifest, IntentRule]]] = {}
        for order, skill in enumerate(self.skills):
            by_id.setdefault(skill.skill_id, skill)  # the first definition of an id wins
            for rule in skill.intents:
                by_intent.setdefault(rule.name, []).append((order, skill, rule))
        object.__setattr__(self, "by_id", by_id)
        object.__setattr__(self, "by_intent", {k: tuple(v) for k, v in by_intent.items()})

    @classmethod
    def of(cls, skills: Iterable[SkillManifest]) -> SkillTable:
        return cls(skills=tuple(skills))

    def get(self, skill_id: str) -> SkillManifest | None:
        return self.by_id.get(skill_id)

    def route(self, intent: str | None, entities: Mapping[str, Any] | None) -> SkillMatch | None:
        """The launch match for an NLU result, or None (§4.4; weights in the module doc)."""
        if not intent:
            return None
        ents = entities or {}
        best: tuple[float, int, SkillManifest, IntentRule] | None = None
        for order, skill, rule in self.by_intent.get(intent, ()):
            w = rule.weight(ents)
            if w is None:
                continue
            if best is None or w > best[0] or (w == best[0] and order < best[1]):
                best = (w, order, skill, rule)
        if best is None:
            return None
        weight, _, skill, rule = best
        return SkillMatch(
            skill_id=skill.skill_id,
            launch=True,
            on_robot=skill.on_robot,
            memo=rule.memo,
            weight=weight,
        )

    def update_match(self, running_skill_id: str) -> SkillMatch:
        """§4.4: the running skill gets the turn as an update (``launch: false``).

        A skill the manifests do not know is taken to be on the robot: the robot reported it
        as running, and only the robot can run skills we have no URL for.
        """
        skill = self.by_id.get(running_skill_id)
        on_robot = True if skill is None else skill.on_robot
        return SkillMatch(skill_id=running_skill_id, launch=False, on_robot=on_robot)


def merged(tables: Sequence[SkillTable]) -> SkillTable:
    """One table holding every skill of ``tables``, earlier tables first (precedence)."""
    return SkillTable.of(skill for table in tables for skill in table.skills)
