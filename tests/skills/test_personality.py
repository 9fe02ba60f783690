"""The personality skill (chitchat-skill): families, topics, manifest and routing."""

from __future__ import annotations

import json
import random

from jibo_cloud.hub.manifests import load_skills
from jibo_cloud.nlu import semantic
from jibo_cloud.skills import personality
from jibo_cloud.skills.registry import MANIFEST_DIR, builtin_handlers
from protocol.plan import Speak, TurnContext
from tests.support.env import shared_fixtures

MANIFEST = json.loads((MANIFEST_DIR / "personality_manifest.json").read_text())


def _turn(intent: str, utterance: str, names: tuple[str, ...] = ()) -> TurnContext:
    return TurnContext(
        turn_id="t",
        intent=intent,
        entities={"domain": "chitchat", "utterance": utterance},
        normalized_transcript=utterance,
        user_names=names,
    )


async def _said(intent: str, utterance: str, names: tuple[str, ...] = ()) -> str:
    plan = await personality.PersonalitySkill(random.Random(1))(_turn(intent, utterance, names))
    (action,) = plan.actions
    assert isinstance(action, Speak)
    return action.text


def test_every_intent_of_the_original_list_is_known_and_has_a_family() -> None:
    tests = json.loads(shared_fixtures("pegasus-reference", "test-manifest.json").read_text())
    intents = {t["intent"] for t in tests["tests"]}
    index = semantic.Index.load()
    assert set(index.chitchat_intents) == intents
    answered = {i["name"] for i in MANIFEST["intents"]}
    assert answered == intents - semantic.KNOWLEDGE_INTENTS
    assert {personality.family(i) for i in intents} <= set(personality.FAMILIES)


def test_every_family_has_a_few_answers() -> None:
    for name, (_, answers) in personality.FAMILIES.items():
        assert len(answers) >= 2, name
    assert len(personality.FUN_FACTS) >= 5


def test_families_follow_the_intent_names() -> None:
    assert personality.family("seriousTopicDepression") == "serious"
    assert personality.family("doesJiboLikeThing") == "jibo_likes"
    assert personality.family("userLovesThing") == "owner_likes"
    assert personality.family("userIsDescriptor") == "owner_feeling"
    assert personality.family("doesJiboCelebrateHoliday") == "events"
    assert personality.family("canJiboAction") == "abilities"
    assert personality.family("isJiboDescriptor") == "jibo_nature"
    assert personality.family("areThereOthersLikeJibo") == "jibo_nature"
    assert personality.family("referenceStarWars") == "reference"


async def test_topics_said_get_their_own_answers() -> None:
    age = set(personality.TOPICS[0][2])
    assert await _said("howDescriptorIsJibo", "how old are you") in age
    assert "robot" in (await _said("isJiboDescriptor", "are you a robot")).lower()
    love = await _said("userLovesThing", "i love you", names=("Alex",))
    assert "{name}" not in love
    sad = await _said("userIsDescriptor", "i'm so sad")
    assert sad in {personality._fill(t, _turn("", "")) for t in personality.TOPICS[4][2]}


async def test_the_owners_name_fills_in_and_nothing_is_left_over() -> None:
    for seed in range(6):
        plan = await personality.PersonalitySkill(random.Random(seed))(
            _turn("seriousTopicGrievingDeath", "my grandmother died", ("Sam",))
        )
        (action,) = plan.actions
        assert isinstance(action, Speak)
        assert "{" not in action.text
        assert "  " not in action.text


def test_routing_sends_chitchat_parses_to_the_personality_skill_only() -> None:
    table = load_skills()
    match = table.route("isJiboDescriptor", {"domain": "chitchat"})
    assert match is not None
    assert (match.skill_id, match.on_robot) == ("chitchat-skill", False)
    # A robot launch with the same words keeps its skill; a chitchat parse never launches one.
    match = table.route("whatsUp", {"skill": "@be/greetings"})
    assert match is not None
    assert match.skill_id == "@be/greetings"
    match = table.route("whatsUp", {"domain": "chitchat"})
    assert match is not None
    assert match.skill_id == "chitchat-skill"
    enrollment = table.route("enrollment", {"domain": "chitchat"})
    assert enrollment is None or enrollment.skill_id != "chitchat-skill"


def test_the_registry_builds_the_skill() -> None:
    handlers = builtin_handlers(now_ms=lambda: 0)
    assert personality.SKILL_ID in handlers


async def test_bad_input_still_gets_a_spoken_answer() -> None:
    for intent, utterance in (
        ("", ""),
        ("noSuchIntent", "🤖🎉"),
        ("userIsDescriptor", "x" * 10_000),
        ("isJiboDescriptor", "¿eres un robot?"),
    ):
        text = await _said(intent, utterance)
        assert text
        assert "{" not in text
