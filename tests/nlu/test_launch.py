"""Launch intents: each on-robot launch of the original reaches the robot's skill,
the robot wins shared words unless configured otherwise, and the labelled launch suite's
tune split parses to its labels."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bench import nlu as bench_nlu
from jibo_cloud.config import CLOUD_SKILL_FAMILIES
from jibo_cloud.hub.manifests import load_skills
from jibo_cloud.nlu.grammar import CLOUD_FORMS, RULES
from jibo_cloud.nlu.parser import EmbeddedParser, parse_text
from protocol.routing import SkillTable
from tests.nlu.launch_cases import NOT_PHRASED, POINT_ONE_SKILLS, ROBOT_LAUNCHES
from tests.support.env import shared_fixtures

LAUNCH = ["launch", "globals/global_commands_launch"]


@pytest.fixture(scope="module")
def table() -> SkillTable:
    return load_skills()


@pytest.mark.parametrize(
    ("text", "intent", "skill", "entities"), ROBOT_LAUNCHES, ids=[c[0] for c in ROBOT_LAUNCHES]
)
def test_each_launch_reaches_the_robots_skill(
    table: SkillTable, text: str, intent: str, skill: str, entities: dict[str, Any]
) -> None:
    nlu = parse_text(text, LAUNCH)
    assert nlu == {"intent": intent, "entities": {"skill": skill, **entities}, "rules": ["launch"]}
    match = table.route(nlu["intent"], nlu["entities"])
    assert match is not None
    assert (match.skill_id, match.launch, match.on_robot) == (skill, True, True)


@pytest.mark.shared
def test_our_manifests_hold_every_launch_of_the_originals_point_one_skills() -> None:
    """The original's ``be-skills`` manifests are the contract: same intents, same entity
    rules (ours may add rules, never lack one)."""
    originals = {}
    for path in shared_fixtures("pegasus-reference", "skills", "be-skills").glob("*.json"):
        manifest = json.loads(path.read_text())
        originals[manifest["id"]] = manifest
    assert set(POINT_ONE_SKILLS) <= set(originals)
    ours = {m.skill_id: m for m in load_skills().skills if m.on_robot}
    phrased = {(skill, intent) for _, intent, skill, _ in ROBOT_LAUNCHES}
    for skill_id in POINT_ONE_SKILLS:
        assert ours[skill_id].on_robot
        have = {
            (rule.name, tuple(sorted((e.name, e.value) for e in rule.entities)))
            for rule in ours[skill_id].intents
        }
        for intent in originals[skill_id]["intents"]:
            rules = tuple(sorted((e["name"], e["value"]) for e in intent["entities"]))
            assert (intent["name"], rules) in have, (skill_id, intent["name"])
            assert (skill_id, intent["name"]) in phrased | NOT_PHRASED, (skill_id, intent["name"])


def test_the_robots_skill_wins_shared_words_unless_ours_is_preferred(table: SkillTable) -> None:
    robot = parse_text("what time is it", LAUNCH)
    ours = parse_text("what time is it", LAUNCH, prefer_cloud=frozenset({"clock"}))
    assert ours == {"intent": "askForTime", "entities": {"domain": "clock"}, "rules": ["launch"]}
    robot_match = table.route(robot["intent"], robot["entities"])
    cloud_match = table.route(ours["intent"], ours["entities"])
    assert robot_match is not None
    assert cloud_match is not None
    assert (robot_match.skill_id, robot_match.on_robot) == ("@be/clock", True)
    assert (cloud_match.skill_id, cloud_match.on_robot) == ("cloud-clock", False)
    # A family changes only its own words: timers stay on the robot.
    timer = parse_text("set a timer", LAUNCH, prefer_cloud=frozenset({"clock", "greetings"}))
    assert timer["entities"]["skill"] == "@be/clock"
    morning = parse_text("good morning", LAUNCH, prefer_cloud=frozenset({"greetings"}))
    assert morning["intent"] == "hello"
    assert morning["entities"] == {"greeting": "morning"}
    match = table.route(morning["intent"], morning["entities"])
    assert match is not None
    assert (match.skill_id, match.on_robot) == ("cloud-smalltalk", False)


def test_every_cloud_form_launches_a_cloud_skill(table: SkillTable) -> None:
    assert set(CLOUD_FORMS) == set(CLOUD_SKILL_FAMILIES)  # config validates these names
    for forms in CLOUD_FORMS.values():
        for intent, entities in forms.values():
            match = table.route(intent, entities)
            assert match is not None, intent
            assert not match.on_robot, intent


async def test_the_embedded_parser_applies_the_preference() -> None:
    request = {"text": "goodbye", "rules": LAUNCH}
    assert (await EmbeddedParser().parse(request))["intent"] == "goodBye"
    cloud = await EmbeddedParser(prefer_cloud=["greetings"]).parse(request)
    assert cloud["intent"] == "goodbye"


def test_every_launch_intent_routes_somewhere(table: SkillTable) -> None:
    """Each intent the launch rule can produce has a skill (on the robot or ours)."""
    unrouted = sorted({p.intent for p in RULES["launch"]} - set(table.by_intent))
    assert unrouted == []


TUNE = [i for i in bench_nlu.launch_suite() if not i.held_out]
#: Tune phrasings that fail for a reason outside this grammar (the other skill's phrases).
KNOWN = {"weather": "cloud_phrases.py asks 'weather' to come with a day"}


@pytest.mark.parametrize("item", TUNE, ids=[i.text for i in TUNE])
def test_tune_split_phrasing_does_what_its_label_says(
    table: SkillTable, item: bench_nlu.Labelled
) -> None:
    if item.text in KNOWN:
        pytest.xfail(KNOWN[item.text])
    assert bench_nlu.mismatch(item, table) is None


def test_tune_split_open_sentences_launch_nothing(table: SkillTable) -> None:
    texts = [t for t in bench_nlu.false_launch_texts() if not bench_nlu.held_out(t)]
    assert len(texts) > 100
    assert [t for t in texts if bench_nlu.is_command(t, table)] == []


def test_the_lists_are_as_big_as_the_issue_asks() -> None:
    suite = bench_nlu.launch_suite()
    assert len(suite) >= 300
    assert len(bench_nlu.false_launch_texts()) >= 200
    held = sum(i.held_out for i in suite)
    assert len(suite) / 4 < held < len(suite) / 2.5
    labelled = {(i.skill, i.intent) for i in suite}
    phrased = {(skill, intent) for _, intent, skill, _ in ROBOT_LAUNCHES}
    # restart and edit were phrased after the suite was written (seen in the original's
    # clock manifest later); adding them now would not be a list written before tuning.
    assert phrased - labelled == {("@be/clock", "restart"), ("@be/clock", "edit")}
