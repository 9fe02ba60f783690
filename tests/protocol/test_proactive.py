"""Proactive rules and the proactive machine (PROTOCOL.md §4.6). No trio."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from protocol.codec import from_json, to_json
from protocol.proactive import (
    LoadHistory,
    ProactiveState,
    ProactiveTransaction,
    check_candidate,
    facts_from,
    history_value,
    part_of_day,
)
from protocol.routing import SkillTable, manifest_from_json
from protocol.transaction import CallSkill, Forward, RecordLaunch, Send, StartTimer
from tests.support import hub_client as hc

HOUR = 3_600_000
NOW = 1_776_000_000_000


@pytest.mark.parametrize(
    ("hour", "expected"),
    [
        (5, {"basic": "MORNING", "detail": "EARLY"}),
        (11, {"basic": "MORNING", "detail": "LATE"}),
        (12, {"basic": "AFTERNOON", "detail": "EARLY"}),
        (20, {"basic": "EVENING", "detail": "LATE"}),
        (2, {"basic": "NIGHT", "detail": "MID"}),
    ],
)
def test_part_of_day(hour: int, expected: dict[str, str]) -> None:
    assert part_of_day(hour) == expected


def test_facts_use_the_robots_local_time_and_people() -> None:
    runtime = {
        "location": {"iso": "2026-04-19T08:52:29.169-04:00"},  # a Sunday morning
        "perception": {"speaker": {"id": "p1"}, "peoplePresent": [{"id": "p1"}, {"id": "p2"}]},
    }
    facts = facts_from("SURPRISE", runtime, now_ms=NOW)
    assert facts.part_of_day == {"basic": "MORNING", "detail": "MID"}
    assert facts.day_of_week == 0
    assert facts.focused_person == "p1"
    assert facts.get("NUMBER_OF_PEOPLE") == 2


def test_history_count_respects_the_window_and_query() -> None:
    query = {
        "type": "Count",
        "queryRules": [{"field": "skillID", "match": "EXACT", "value": "g"}],
        "startTimeOffset": [-2, "hours"],
        "endTimeOffset": [0, "hours"],
    }
    launches = [
        {"skillID": "g", "timestamp": NOW - 3 * HOUR},  # too old
        {"skillID": "g", "timestamp": NOW - HOUR},
        {"skillID": "other", "timestamp": NOW - HOUR},
    ]
    assert history_value(query, launches, now_ms=NOW) == 1
    assert history_value({**query, "type": "Last"}, launches, now_ms=NOW) == HOUR


def test_every_rule_kind_must_hold() -> None:
    proactive = {
        "contextRules": [{"field": "TRIGGER_SOURCE", "matchRule": "EXACT", "value": "SURPRISE"}],
        "settingsRules": [
            {"skill": "r", "key": "offer", "matchRule": "EXACT", "value": {"value": True}}
        ],
    }
    facts = facts_from("SURPRISE", {}, now_ms=NOW)
    kw: dict[str, Any] = {"facts": facts, "ih_queries": {}, "launches": [], "now_ms": NOW}
    assert not check_candidate(proactive, settings={}, **kw).ok
    assert check_candidate(proactive, settings={"r": {"offer": {"value": True}}}, **kw).ok
    other = facts_from("NEW_ARRIVAL", {}, now_ms=NOW)
    verdict = check_candidate(
        proactive, settings={"r": {"offer": {"value": True}}}, **{**kw, "facts": other}
    )
    assert verdict.reasons == ("context TRIGGER_SOURCE EXACT 'SURPRISE'",)


def test_unknown_fields_fail_the_candidate() -> None:
    proactive = {"contextRules": [{"field": "MOON_PHASE", "matchRule": "EXACT", "value": "FULL"}]}
    facts = facts_from("SURPRISE", {}, now_ms=NOW)
    verdict = check_candidate(
        proactive, facts=facts, ih_queries={}, launches=[], settings={}, now_ms=NOW
    )
    assert not verdict.ok


SKILLS = SkillTable.of(
    [
        manifest_from_json({"id": "robot-a", "onRobot": True, "proactives": [{"memo": "a"}]}),
        manifest_from_json({"id": "robot-b", "onRobot": True, "proactives": [{"memo": "b"}]}),
        manifest_from_json(
            {
                "id": "cloud-c",
                "proactives": [
                    {
                        "memo": "c",
                        "contextRules": [
                            {"field": "TRIGGER_SOURCE", "matchRule": "EXACT", "value": "CLOUD"}
                        ],
                    }
                ],
            },
            base_url="http://c",
        ),
    ]
)


def _txn(seed: int = 0) -> ProactiveTransaction:
    ids = itertools.count()
    return ProactiveTransaction(
        skills=SKILLS, rng=random.Random(seed), new_id=lambda: f"id-{next(ids)}"
    )


def _frames(outputs: list[Any]) -> list[Any]:
    return [o for o in outputs if isinstance(o, Send | Forward)]


def test_trigger_then_context_loads_history_then_picks_reproducibly() -> None:
    picks = set()
    for seed in range(20):
        t = _txn(seed)
        out = t.receive(from_json(hc.trigger("NEW_ARRIVAL", looper="u7")), now_ms=0)
        assert StartTimer("context", 5000) in out
        out = t.receive(from_json(hc.context()), now_ms=1)
        assert out == [LoadHistory("unknown")]
        out = t.history_loaded([], {}, now_ms=2)
        (send,) = _frames(out)
        assert send.message.final is True
        picks.add(send.message.data.match.skill_id)
        (record,) = [o for o in out if isinstance(o, RecordLaunch)]
        assert to_json(record.record)["personIDs"] == ["u7"]
        assert to_json(record.record)["intent"] == "proactive"
        again = _txn(seed)
        again.receive(from_json(hc.context()), now_ms=0)
        again.receive(from_json(hc.trigger("NEW_ARRIVAL", looper="u7")), now_ms=0)
        (same,) = _frames(again.history_loaded([], {}, now_ms=2))
        assert same.message.data.match.skill_id == send.message.data.match.skill_id
    assert picks == {"robot-a", "robot-b"}  # both eligible ones get picked, the cloud one never


def test_cloud_candidate_gets_proactive_launch_and_forwarded_reply() -> None:
    t = _txn()
    t.receive(from_json(hc.trigger("CLOUD")), now_ms=0)
    t.receive(from_json(hc.context()), now_ms=0)
    t.skills = SkillTable.of([SKILLS.skills[2]])
    out = t.history_loaded([], {}, now_ms=3)
    (send,) = _frames(out)
    assert send.message.final is False
    assert send.message.data.match.skip_surprises is False
    (call,) = [o for o in out if isinstance(o, CallSkill)]
    assert to_json(call.request)["type"] == "PROACTIVE_LAUNCH"
    out = t.skill_replied({"type": "SKILL_ACTION", "data": {}}, now_ms=9)
    (fwd,) = _frames(out)
    assert fwd.final is True
    assert t.state is ProactiveState.DONE


def test_no_candidate_is_an_empty_final_proactive() -> None:
    t = ProactiveTransaction(skills=SkillTable(), rng=random.Random(0), new_id=lambda: "id")
    t.receive(from_json(hc.trigger("SURPRISE")), now_ms=0)
    t.receive(from_json(hc.context()), now_ms=0)
    (send,) = _frames(t.history_loaded([], {}, now_ms=0))
    assert send.message.data.match is None
    assert send.message.final is True


def test_context_timeout() -> None:
    t = _txn()
    t.receive(from_json(hc.trigger()), now_ms=0)
    (send,) = _frames(t.timer_fired("context", now_ms=5000))
    assert send.message.data.code == "TIMEOUT_CONTEXT"


def test_without_history_only_rules_free_of_history_can_win() -> None:
    history_bound = manifest_from_json(
        {
            "id": "greet",
            "onRobot": True,
            "proactives": [{"IHRules": [{"query": "q", "matchRule": "LESS_THAN", "value": 1}]}],
            "IHQueries": {"q": {"type": "Count", "queryRules": []}},
        }
    )
    t = ProactiveTransaction(
        skills=SkillTable.of([history_bound]), rng=random.Random(0), new_id=lambda: "id"
    )
    t.receive(from_json(hc.trigger("NEW_ARRIVAL")), now_ms=0)
    t.receive(from_json(hc.context()), now_ms=0)
    (send,) = _frames(t.history_failed("history service down", now_ms=0))
    assert send.message.data.match is None
    assert t.rejected == {"greet#0": ("history unavailable",)}
