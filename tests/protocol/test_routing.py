"""Routing weights and manifest parsing (PROTOCOL.md §4.4)."""

from __future__ import annotations

import pytest

from protocol.routing import ManifestError, SkillKind, SkillTable, manifest_from_json


def _skill(skill_id: str, entities: list[dict[str, str]], base_url: str | None = None) -> object:
    return manifest_from_json(
        {"id": skill_id, "intents": [{"name": "menu", "entities": entities}]}, base_url=base_url
    )


TABLE = SkillTable.of(
    [
        _skill("plain", [], base_url="http://x"),  # weight 0
        _skill("clock", [{"name": "skill", "value": "@be/clock"}]),  # exact: 1
        _skill("wild", [{"name": "skill", "value": "*"}]),  # wildcard: 0.5
        _skill("both", [{"name": "skill", "value": "@be/clock"}, {"name": "who", "value": "*"}]),
    ]
)


@pytest.mark.parametrize(
    ("entities", "winner", "weight"),
    [
        ({}, "plain", 0.0),
        ({"skill": "@be/other"}, "wild", 0.5),
        ({"skill": "@be/clock"}, "clock", 1.0),
        ({"skill": "@be/clock", "who": "me"}, "both", 1.5),
    ],
)
def test_heaviest_match_wins(entities: dict[str, str], winner: str, weight: float) -> None:
    match = TABLE.route("menu", entities)
    assert match is not None
    assert (match.skill_id, match.weight) == (winner, weight)


def test_ties_go_to_the_earlier_skill() -> None:
    table = SkillTable.of([_skill("first", []), _skill("second", [])])
    match = table.route("menu", {})
    assert match is not None
    assert match.skill_id == "first"


def test_no_intent_no_match() -> None:
    assert TABLE.route(None, {}) is None
    assert TABLE.route("unknown", {}) is None


def test_kinds_from_base_url_and_on_robot_flag() -> None:
    assert manifest_from_json({"id": "a"}).kind is SkillKind.ON_ROBOT
    assert manifest_from_json({"id": "a"}, base_url="http://h").kind is SkillKind.CLOUD
    assert manifest_from_json({"id": "a"}, base_url="inproc:").kind is SkillKind.INPROC
    robot = manifest_from_json({"id": "a", "onRobot": True}, base_url="http://h")
    assert robot.kind is SkillKind.ON_ROBOT


def test_unknown_running_skill_is_taken_as_on_robot() -> None:
    match = TABLE.update_match("@be/somewhere")
    assert (match.launch, match.on_robot) == (False, True)


@pytest.mark.parametrize(
    ("obj", "text"),
    [
        ([], "must be a JSON object"),
        ({"intents": []}, "'id' must be a non-empty string"),
        ({"id": "a", "intents": {}}, "'intents' must be a list"),
        ({"id": "a", "intents": [{"entities": []}]}, "'name' must be a non-empty string"),
    ],
)
def test_malformed_manifests_say_what_is_wrong(obj: object, text: str) -> None:
    with pytest.raises(ManifestError, match=text):
        manifest_from_json(obj)
