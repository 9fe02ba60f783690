"""Proactive candidate filtering (PROTOCOL.md §4.6): context, history and settings rules.

A skill manifest's ``proactives`` entries each carry up to three rule lists; a candidate is
offered only when every rule holds:

- ``contextRules``: ``{field, matchRule, value}`` over facts of the moment: ``PART_OF_DAY``
  (``{basic, detail}``), ``DAY_OF_WEEK`` (0 = Sunday, as JavaScript's ``getDay``),
  ``TRIGGER_SOURCE``, ``FOCUSED_PERSON`` (the speaker's id, ``UNKNOWN`` when none),
  ``NUMBER_OF_PEOPLE`` and ``PERSON_IDS`` (ids in ``peoplePresent``).
- ``IHRules``: ``{query, matchRule, value}``; ``query`` names an entry of the manifest's
  ``IHQueries`` (``type: Count`` of launches matching ``queryRules`` between two offsets from
  now, or ``type: Last``: milliseconds since the last such launch, ``-1`` for never).
- ``settingsRules``: ``{skill, key, matchRule, value}`` against the robot's skill settings.

Match rules: ``EXACT``, ``NOT``, ``CONTAINED_IN``, ``NOT_CONTAINED_IN``, ``LESS_THAN``,
``GREATER_THAN``, ``AT_LEAST``, ``AT_MOST``. An unknown field or rule makes the candidate
fail (an offer we cannot check is not made) and is reported in :attr:`Verdict.reasons`.

Pure: time comes in as ``now_ms``; the robot's local time from CONTEXT
``runtime.location.iso`` is parsed, never read from a clock.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

_UNIT_MS = {
    "ms": 1,
    "seconds": 1000,
    "minutes": 60_000,
    "hours": 3_600_000,
    "days": 86_400_000,
    "weeks": 7 * 86_400_000,
}


@attrs.frozen
class Facts:
    """What the context rules are checked against, taken from TRIGGER and CONTEXT."""

    trigger_source: str
    part_of_day: Mapping[str, str]
    day_of_week: int
    focused_person: str
    person_ids: tuple[str, ...] = ()

    def get(self, field: str) -> Any:
        return {
            "TRIGGER_SOURCE": self.trigger_source,
            "PART_OF_DAY": dict(self.part_of_day),
            "DAY_OF_WEEK": self.day_of_week,
            "FOCUSED_PERSON": self.focused_person,
            "NUMBER_OF_PEOPLE": len(self.person_ids),
            "PERSON_IDS": list(self.person_ids),
        }.get(field, _MISSING)


_MISSING = object()


def part_of_day(hour: int) -> dict[str, str]:
    """``{basic, detail}`` for a local hour: MORNING 5-11, AFTERNOON 12-16, EVENING 17-20,
    NIGHT 21-4; ``detail`` is EARLY/MID/LATE by thirds of each span."""
    spans = (("MORNING", 5, 12), ("AFTERNOON", 12, 17), ("EVENING", 17, 21), ("NIGHT", 21, 29))
    h = hour if hour >= 5 else hour + 24
    for basic, start, end in spans:
        if start <= h < end:
            third = (h - start) * 3 // (end - start)
            return {"basic": basic, "detail": ("EARLY", "MID", "LATE")[third]}
    raise AssertionError(f"hour {hour} outside 0..23")


def local_time(iso: object, now_ms: int) -> datetime.datetime:
    """The robot's local time: CONTEXT ``location.iso`` when it parses, else UTC ``now_ms``."""
    if isinstance(iso, str) and iso:
        try:
            parsed = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    return datetime.datetime.fromtimestamp(now_ms / 1000, tz=datetime.UTC)


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def speaker_id(speaker: object) -> str:
    """CONTEXT ``perception.speaker`` is null, an id string or an object with ``id``."""
    if isinstance(speaker, str) and speaker:
        return speaker
    if isinstance(speaker, Mapping) and isinstance(speaker.get("id"), str):
        return str(speaker["id"])
    return "UNKNOWN"


def facts_from(trigger_source: str, runtime: Mapping[str, Any], *, now_ms: int) -> Facts:
    """Facts from TRIGGER's source and CONTEXT ``runtime`` (with the looperID applied)."""
    perception = _obj(runtime.get("perception"))
    people = perception.get("peoplePresent")
    ids = tuple(
        str(p.get("id"))
        for p in (people if isinstance(people, list) else [])
        if isinstance(p, Mapping) and p.get("id") is not None
    )
    when = local_time(_obj(runtime.get("location")).get("iso"), now_ms)
    return Facts(
        trigger_source=trigger_source,
        part_of_day=part_of_day(when.hour),
        day_of_week=(when.weekday() + 1) % 7,
        focused_person=speaker_id(perception.get("speaker")),
        person_ids=ids,
    )


def compare(actual: Any, rule: str, expected: Any) -> bool | None:
    """Apply one match rule; None when the rule name is unknown."""
    try:
        if rule == "EXACT":
            return bool(actual == expected)
        if rule == "NOT":
            return bool(actual != expected)
        if rule in ("CONTAINED_IN", "NOT_CONTAINED_IN"):
            inside = isinstance(expected, list) and (
                any(actual == e for e in expected)
                or (isinstance(actual, list) and any(a in expected for a in actual))
            )
            return inside if rule == "CONTAINED_IN" else not inside
        if rule == "LESS_THAN":
            return bool(actual < expected)
        if rule == "GREATER_THAN":
            return bool(actual > expected)
        if rule == "AT_LEAST":
            return bool(actual >= expected)
        if rule == "AT_MOST":
            return bool(actual <= expected)
    except TypeError:
        return False
    return None


@attrs.frozen
class Verdict:
    ok: bool
    reasons: tuple[str, ...] = ()


def _offset_ms(value: object) -> int | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int | float)
        and value[1] in _UNIT_MS
    ):
        return int(value[0] * _UNIT_MS[value[1]])
    return None


def _launch_matches(launch: Mapping[str, Any], query_rules: object) -> bool:
    for rule in query_rules if isinstance(query_rules, list) else []:
        rule = _obj(rule)
        verdict = compare(
            launch.get(str(rule.get("field"))), str(rule.get("match", "EXACT")), rule.get("value")
        )
        if not verdict:
            return False
    return True


def history_value(
    query: Mapping[str, Any], launches: Sequence[Mapping[str, Any]], *, now_ms: int
) -> int | None:
    """Evaluate one ``IHQueries`` entry over past launches (each with ``timestamp`` epoch ms)."""
    start = _offset_ms(query.get("startTimeOffset", [-100_000, "days"]))
    end = _offset_ms(query.get("endTimeOffset", [0, "hours"]))
    if start is None or end is None:
        return None
    picked = [
        launch
        for launch in launches
        if isinstance(launch.get("timestamp"), int | float)
        and now_ms + start <= launch["timestamp"] <= now_ms + end
        and _launch_matches(launch, query.get("queryRules"))
    ]
    kind = query.get("type", "Count")
    if kind == "Count":
        return len(picked)
    if kind == "Last":
        return int(now_ms - max(x["timestamp"] for x in picked)) if picked else -1
    return None


def check_candidate(
    proactive: Mapping[str, Any],
    *,
    facts: Facts,
    ih_queries: Mapping[str, Any],
    launches: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Mapping[str, Any]],
    now_ms: int,
) -> Verdict:
    """Whether one ``proactives`` entry may be offered now; reasons name the failing rules."""
    reasons: list[str] = []
    for rule in proactive.get("contextRules") or []:
        rule = _obj(rule)
        field = str(rule.get("field"))
        actual = facts.get(field)
        verdict = (
            None
            if actual is _MISSING
            else compare(actual, str(rule.get("matchRule")), rule.get("value"))
        )
        if not verdict:
            reasons.append(f"context {field} {rule.get('matchRule')} {rule.get('value')!r}")
    for rule in proactive.get("IHRules") or []:
        rule = _obj(rule)
        name = str(rule.get("query"))
        query = ih_queries.get(name)
        value = (
            history_value(query, launches, now_ms=now_ms) if isinstance(query, Mapping) else None
        )
        if value is None or not compare(value, str(rule.get("matchRule")), rule.get("value")):
            reasons.append(f"history {name}={value} {rule.get('matchRule')} {rule.get('value')!r}")
    for rule in proactive.get("settingsRules") or []:
        rule = _obj(rule)
        skill, key = str(rule.get("skill")), str(rule.get("key"))
        actual = _obj(settings.get(skill)).get(key, _MISSING)
        ok = actual is not _MISSING and compare(
            actual, str(rule.get("matchRule")), rule.get("value")
        )
        if not ok:
            reasons.append(f"setting {skill}.{key} {rule.get('matchRule')} {rule.get('value')!r}")
    return Verdict(ok=not reasons, reasons=tuple(reasons))
