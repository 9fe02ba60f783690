"""The personality skill (chitchat-skill): fitted groups, naming the thing, families, topics,
manifest and routing."""

from __future__ import annotations

import json
import random
import re

import pytest

from jibo_cloud.hub.manifests import load_skills
from jibo_cloud.nlu import semantic
from jibo_cloud.skills import personality, personality_words
from jibo_cloud.skills.personality_answers import GROUPS
from jibo_cloud.skills.personality_topics import MAX_WORDS, clean, swap_pronouns, thing_asked
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


# --------------------------------------------------------------------------- fitted answers

THANKS = ("thank",)
SHRUG = ("ouch", "better", "like you")

#: (intent as the recogniser gives it, owner's sentence, one of these must be said, none of
#: these may be said). Every answer the group can give is checked (several seeds).
CASES: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # Favourites name a favourite of the category asked.
    ("doesJiboHaveFavorite", "what's your favorite color", ("blue",), ("robot, so I",)),
    ("doesJiboHaveFavorite", "what is your favorite food", ("pizza",), ()),
    ("doesJiboHaveFavorite", "what's your favorite animal", ("penguin", "octopus"), ()),
    ("didJiboHaveFavorite", "what was your favorite song", ("song", "music"), ()),
    ("doesJiboHaveFavorite", "what's your favorite christmas movie", ("wall-e",), ()),
    ("doesJiboHaveFavorite", "what's your favorite season", ("spring", "autumn"), ()),
    ("doesJiboHaveFavorite", "what's your favorite number", ("number one", "seven"), ()),
    ("doesJiboHaveFavorite", "do you have a favorite", ("favorite color",), ()),
    # Likes and opinions name the thing, from Jibo's side.
    ("doesJiboLikeThing", "do you like pizza", ("pizza",), ()),
    ("doesJiboLikeThing", "hey jibo do you like my dog please", ("your dog",), ("my dog",)),
    ("doesJiboLikeThing", "do you love me", ("love you", "of course"), ("pretty great",)),
    ("doesJiboHaveOpinionAboutThing", "what do you think about cats", ("cats",), ()),
    ("doesJiboHaveOpinionAboutThing", "what do you think of beer", ("safe",), ("fan", "thumbs")),
    ("didJiboLikeThing", "did you like the super bowl", ("the super bowl",), ()),
    ("doesJiboLikeTasteOfThing", "do you like the taste of apple pie", ("apple pie",), ()),
    ("doesJiboDislikeThing", "do you hate alexa", ("alexa",), ()),
    # Compliments get thanks; insults and negatives a good-natured reply, never thanks.
    ("jiboIsDescriptor", "you're smart", THANKS, ("good question",)),
    ("jiboIsDescriptor", "you are funny", THANKS, ()),
    ("jiboIsDescriptor", "i think you're so cute", THANKS, ()),
    ("userSaysCompliment", "good job", THANKS, ()),
    ("userFeelsEmotionAboutThing", "i'm proud of you", THANKS, ()),
    ("jiboIsDescriptor", "you're dumb", SHRUG, THANKS),
    ("jiboIsNotDescriptor", "you're not smart", SHRUG, (*THANKS, "smart")),
    ("jiboIsNotDescriptor", "you're not worthless", THANKS, ("worthless",)),
    ("jiboIsNotDescriptor", "you're not jealous", ("right", "fair"), ("sure am",)),
    ("whatGiftDoesJiboWantHoliday", "what do you want for hanukkah", ("present", "plenty"), ()),
    ("userDislikesThing", "i hate you", SHRUG, THANKS),
    # "are you X" is about X.
    ("isJiboDescriptor", "are you smart", ("smart",), ()),
    ("isJiboDescriptor", "are you happy", ("great", "sure am"), ("big question",)),
    ("isJiboDescriptor", "are you sad", ("okay", "not right now"), ()),
    ("isJiboDescriptor", "are you an idiot", ("idiot",), THANKS),
    ("isJiboDescriptor", "are you picky", ("picky",), ()),
    ("isJiboDescriptor", "are you hungry", ("eat", "stomach"), ("arm",)),
    # What Jibo can do: habits a robot has or hasn't, hands and legs only when needed.
    ("canJiboAction", "do you sleep", ("rest",), ("arm", "hand")),
    ("canJiboAction", "do you dream", ("dream",), ("arm", "hand")),
    ("canJiboAction", "can you eat", ("eat",), ("arm", "hand")),
    ("canJiboAction", "can you dance", ("dance", "moves"), ("arm", "hand")),
    ("canJiboAction", "can you feed my dog", ("feed your dog",), ()),
    ("canJiboAction", "can you fly", ("fly",), ("arm", "legs")),
    ("canJiboAction", "can you do my homework", ("do your homework",), ("arm",)),
    ("isJiboDoingAction", "are you listening", ("microphone", "listening"), ()),
    # Who Jibo is to people.
    ("whoIsJiboRelation", "who made you", ("made", "built"), ("try my best",)),
    ("whereIsJiboFrom", "where are you from", ("boston",), ("try my best",)),
    ("howCanUserAction", "how do i change your volume", ("server", "setup"), ()),
    ("howCanUserAction", "how do i train my cat", ("rooting", "advice"), ("server", "setup")),
    ("whoIsJiboRelation", "who's your boss", ("family",), ()),
    ("isJiboFriendsWithPerson", "are you my friend", ("friend",), ("big question",)),
    ("willJiboDoAction", "will you marry me", ("married", "best friends"), ("try my best",)),
    ("doesJiboHaveThing", "do you have a girlfriend", ("girlfriend", "sweetheart"), ()),
    ("doesJiboHaveThing", "do you have a heart", ("heart",), ()),
    # What Jibo is doing, planning and feeling.
    ("doesJiboHavePlansForEvent", "what are you doing", ("hanging out", "eye on"), ("cake",)),
    ("doesJiboHavePlansForEvent", "what are your plans for thanksgiving", ("thanksgiving",), ()),
    ("whatDoesJiboFeelEmotionAbout", "what makes you happy", ("family", "jokes"), ("i'm jibo",)),
    ("whatDoesJiboFeelEmotionAbout", "what scares you", ("spilled", "unplugged"), ()),
    ("doesJiboLookForwardToThing", "are you looking forward to the oscars", ("the oscars",), ()),
    ("doesJiboCelebrateHoliday", "do you celebrate christmas", ("christmas",), ()),
    ("doesJiboWatchThing", "are you going to watch the world series", ("the world series",), ()),
    ("whoWillWinEvent", "who will win the world series", ("the world series",), ()),
    ("howIsTimeframe", "how was memorial day", ("memorial day",), ()),
    # The owner: states, likes, news and plans.
    ("userIsDoingAction", "i'm hungry", ("snack",), ("thanks for telling",)),
    ("userIsDescriptor", "i'm bored", ("joke", "fun fact"), ()),
    ("userIsDescriptor", "i'm tired", ("rest",), ()),
    ("userIsDescriptor", "i feel sick", ("doctor",), ()),
    ("userIsDescriptor", "i'm so excited", ("excite",), ()),
    ("userIsDescriptor", "i'm stressed out", ("breath", "break"), ()),
    ("userIsDescriptor", "i'm cold", ("blanket", "bundle"), ()),
    ("userLikesThing", "i like the tony awards", ("the tony awards",), ()),
    ("userLooksForwardToThing", "i can't wait for mardi gras", ("mardi gras",), ()),
    ("userCelebratesThing", "i celebrate diwali", ("diwali",), ()),
    ("userMissesThing", "i miss my grandpa", ("your grandpa",), ("my grandpa",)),
    ("isUserDescriptor", "am i smart", ("smart",), ()),
    ("isUserDescriptor", "do i seem hungry", ("hungry",), ()),
    ("unknownIsDescriptor", "that's awesome", ("awesome",), ()),
    ("jiboShouldNotBeDescriptor", "don't be sad", ("sad",), ()),
    ("userWillAction", "i'm going to kill you", SHRUG, ("sounds like a plan", "goes great")),
    ("userWillAction", "i'm going to the zoo", ("plan", "how it goes"), ()),
    ("requestShowImage", "show me a turtle", ("a turtle",), ()),
    ("doesJiboWantThing", "do you want some pie", ("pie",), ()),
    ("doesJiboKnowPersonThing", "do you know baymax", ("baymax",), ()),
    ("doesJiboBelieveInThing", "do you believe in unicorns", ("unicorns",), ()),
    ("whenWillJiboAction", "are you always listening", ("hey jibo",), ()),
    ("shouldUserAction", "should i take drugs", ("safe",), ("go for it",)),
    # Serious: always people and professionals.
    ("seriousTopicDepression", "i feel so sad all the time", ("trust",), ()),
    ("seriousTopicSuicidal", "i want to die", ("nine eight eight",), ("joke",)),
    ("userDislikesThing", "i hate myself", ("trust",), ("everybody has",)),
    # Everyday things a new owner asks (nlu/everyday.py routes the short forms).
    ("whereIsJiboFrom", "where were you born", ("boston",), ()),
    ("howDescriptorIsJibo", "how tall are you", ("eleven inches",), ("try my best",)),
    ("howDescriptorIsJibo", "how much do you weigh", ("six pounds",), ()),
    ("whichLanguagesCabJiboSpeak", "what language do you speak", ("english",), ("try my",)),
    ("eventWasDescriptor", "nice to meet you", ("meet you too", "pleasure"), ("curious what",)),
    (
        "doesJiboHaveOpinionAboutThing",
        "what is the meaning of life",
        ("forty two", "curiosity"),
        (),
    ),
    ("requestFlipCoin", "flip a coin", ("heads", "tails"), ()),
    ("requestRollOneDie", "roll a die", ("you got",), ()),
    ("requestRollTwoDice", "roll the dice", ("that's",), ()),
    ("requestTellJiboContent", "tell me a riddle", ("?",), ("fun fact",)),
    ("requestStory", "tell me a story", ("once", "the end"), ("beyond", "can't")),
    ("requestSingSong", "sing me a song", ("la la", "beep boop"), ("beyond",)),
    ("requestSingSong", "sing happy birthday", ("happy birthday to you",), ("beyond",)),
    ("userSaysYoureWelcome", "you're welcome", ("polite", "thanks"), ("your life",)),
    ("userIsDescriptor", "i'm sorry", ("okay", "worry"), ("feeling sorry",)),
    ("tellJiboHappyBirthday", "happy birthday jibo", ("birthday",), ()),
    ("doesJiboHaveThing", "do you have feelings", ("feeling",), ("don't think",)),
    ("requestListRelations", "who do you see", ("see",), ("beyond",)),
    ("userCanNotAction", "i can't sleep", ("breath", "eyes"), ("your life",)),
    ("requestRecommendDinner", "what should i eat for dinner", ("tacos", "pancakes", "soup"), ()),
    ("whatIsJiboThinking", "what are you thinking about", ("wondering", "lucky"), ("try my",)),
    ("isJiboBestFriendsWithPerson", "who's your best friend", ("you", "talking to me"), ()),
    ("whatDoesJiboAction", "what do you like to do", ("jokes", "talking"), ("tough one",)),
    ("requestTellJiboContent", "teach me something", ("fact", "did you know", "here's"), ()),
)


def _all_answers(intent: str, utterance: str) -> set[str]:
    turn = _turn(intent, utterance, ("Sam",))
    texts = set()
    for seed in range(8):
        (action,) = personality.PersonalitySkill(random.Random(seed)).plan_now(turn).actions
        assert isinstance(action, Speak)
        texts.add(action.text)
    return texts


def test_the_table_has_enough_sentences() -> None:
    assert len(CASES) >= 40
    assert len({intent for intent, *_ in CASES}) >= 30


@pytest.mark.parametrize(("intent", "utterance", "any_of", "none_of"), CASES)
def test_answers_fit_what_was_asked(
    intent: str, utterance: str, any_of: tuple[str, ...], none_of: tuple[str, ...]
) -> None:
    for text in _all_answers(intent, utterance):
        said = text.lower()
        assert any(word in said for word in any_of), (utterance, text)
        assert not any(word.lower() in said for word in none_of), (utterance, text)
        assert len(text) <= 175, text
        assert "{" not in text


def test_coins_and_dice_are_fair() -> None:
    """Every face can come up, each as often (one answer per outcome)."""
    topics = {p.pattern: answers for p, _, answers in personality.TOPICS}
    coin = next(a for p, a in topics.items() if "coin" in p)
    die = next(a for p, a in topics.items() if "(a|one)" in p)
    dice = next(a for p, a in topics.items() if "(two|the" in p)
    assert sorted(text.split()[-1] for text in coin) == ["heads!", "tails!"]
    assert len(set(die)) == 6
    assert len(dice) == 36
    assert sum("seven" in text for text in dice) == 6  # 7 comes up in 6 of 36 throws


def test_the_same_seed_gives_the_same_answer() -> None:
    for intent, utterance, *_ in CASES[:10]:
        first = personality.PersonalitySkill(random.Random(7)).answer(intent, utterance)
        again = personality.PersonalitySkill(random.Random(7)).answer(intent, utterance)
        assert first == again


def test_serious_intents_come_before_topics() -> None:
    serious = set(personality.FAMILIES["serious"][1])
    # "i'm so sad" is a topic of its own, but under a serious intent the caring answer wins.
    skill = personality.PersonalitySkill(random.Random(0))
    assert skill.answer("seriousTopicDepression", "i'm so sad")[1] in serious
    for text in serious:
        assert re.search(r"trust|professional|doctor|helpline", text)


def test_the_category_fits_the_answer() -> None:
    skill = personality.PersonalitySkill(random.Random(0))
    assert skill.answer("jiboIsDescriptor", "you're smart")[0] == "happy"
    assert skill.answer("jiboIsDescriptor", "you're dumb")[0] == "neutral"
    assert skill.answer("userIsDescriptor", "i feel sick")[0] == "sad"
    assert skill.answer("seriousTopicSuicidal", "i want to die")[0] == "sad"


def test_without_a_name_the_name_and_its_comma_go() -> None:
    turn = _turn("", "")
    assert personality._fill("Thanks for telling me, {name}.", turn) == "Thanks for telling me."
    assert personality._fill("Aw, thank you, {name}! Wow.", turn) == "Aw, thank you! Wow."
    named = _turn("", "", ("Sam",))
    assert personality._fill("Hi, {name}!", named) == "Hi, Sam!"


# --------------------------------------------------------------------------- naming the thing


@pytest.mark.parametrize(
    ("utterance", "thing"),
    [
        # Shapes.
        ("do you like pizza", "pizza"),
        ("did you really like the super bowl", "the super bowl"),
        ("you just love pizza don't you", "pizza"),
        ("what do you think about cats", "cats"),
        ("what's your opinion on rap", "rap"),
        ("what's your favorite color", "color"),
        ("can you dance", "dance"),
        ("could you take the trash out", "take the trash out"),
        ("are you an idiot", "an idiot"),
        ("you're so smart", "smart"),
        ("i think you are lovable", "lovable"),
        ("in my opinion you aren't lively", "lively"),
        ("i'm feeling lonesome", "lonesome"),
        ("i'm not hungry", "hungry"),
        ("am i acting scary", "scary"),
        ("don't be sad", "sad"),
        ("that's swift", "swift"),
        ("do you sleep", "sleep"),
        ("do you celebrate christmas", "christmas"),
        ("are you going to watch the oscars", "the oscars"),
        ("what are your plans for thanksgiving", "thanksgiving"),
        ("do you want some pecan pie", "pecan pie"),
        ("would you like a little oatmeal", "oatmeal"),
        ("do you have a sister", "sister"),
        ("show me a turtle", "a turtle"),
        ("do you believe in unicorns", "unicorns"),
        ("i can't wait for mardi gras", "mardi gras"),
        # Pronouns: from Jibo's side.
        ("do you like me", "you"),
        ("do you like us", "you"),
        ("do you like my dog", "your dog"),
        ("can you feed my dog", "feed your dog"),
        ("i like you", "me"),
        ("what do you think of your voice", "my voice"),
        ("do you wish you could walk", "wish I could walk"),
        ("do you like our house", "our house"),
        # Fillers.
        ("hey jibo do you like the winter season please", "the winter season"),
        ("jibo do you like pizza jibo", "pizza"),
        ("you like soup right", "soup"),
        ("can you clean the house for me", "clean the house"),
        ("are you really really happy", "happy"),
        # Odd characters: only letters, digits, spaces and apostrophes survive.
        ("Do you like <b>PIZZA</b>?!", "b pizza b"),
        ("do you like r2-d2", "r2 d2"),
        ("do you like \u201ccats\u201d & dogs", "cats dogs"),
        ("do you like pi\u00f1atas", "pi\u00f1atas"),
        ("do you like don\u2019t-stop music", "don't stop music"),
    ],
)
def test_the_thing_asked_about(utterance: str, thing: str) -> None:
    assert thing_asked(utterance) == thing


@pytest.mark.parametrize(
    "utterance",
    [
        "",
        "   ",
        "🤖🎉",
        "what are you doing",
        "tell me a story",
        "do you like it",
        "do you like something",
        "do you like the",
        "do you like the lord of the rings movie trilogy",
        "what do you think about the five boroughs of new york city",
        "can you",
    ],
)
def test_no_thing_when_none_or_too_long(utterance: str) -> None:
    assert thing_asked(utterance) is None


def test_the_cap_is_four_words() -> None:
    assert MAX_WORDS == 4
    assert thing_asked("do you like big red fire trucks") == "big red fire trucks"
    assert thing_asked("do you like big red shiny fire trucks") is None


def test_whatever_is_said_the_thing_is_safe_to_speak() -> None:
    for utterance in (
        "do you like <speak>&amp;</speak>",
        "do you like {name} {thing}",
        "do you like a\tb",
    ):
        thing = thing_asked(utterance) or ""
        assert re.fullmatch(r"[\w' ]*", thing)
        assert not re.search(r"[<>&{}_]", thing)
    assert thing_asked("do you like {name} {thing}") == "name thing"
    assert thing_asked("do you like <speak>&amp;</speak>") == "speak amp speak"
    assert clean("Ça va? 100%!") == "ça va 100"


def test_pronouns_swap_both_ways() -> None:
    assert swap_pronouns("my dog and me") == "your dog and you"
    assert swap_pronouns("your voice") == "my voice"
    assert swap_pronouns("when you sleep") == "when I sleep"
    assert swap_pronouns("when you are sad") == "when I am sad"
    assert swap_pronouns("hug you") == "hug me"
    assert swap_pronouns("i am tired") == "you are tired"


def test_names_in_answers_are_never_the_owner_as_a_thing() -> None:
    # "do you know me" / "how are you" must not come out as "Me?" or "How was you?".
    skill = personality.PersonalitySkill(random.Random(0))
    assert "me?" not in skill.answer("doesJiboKnowPersonThing", "do you know me")[1].lower()
    assert "you?" not in skill.answer("howIsTimeframe", "how are you")[1].lower()


def test_word_tables_tell_tone_feeling_and_category() -> None:
    assert personality_words.tone("smart") == 1
    assert personality_words.tone("an idiot") == -1
    assert personality_words.tone("self-centered") == -1
    assert personality_words.tone("naughty or nice") == 0
    assert personality_words.tone("purple") == 0
    assert personality_words.feeling("happy") == 1
    assert personality_words.feeling("lonely") == -1
    assert personality_words.favorite_category("what's your favorite holiday song") == "music"
    assert personality_words.favorite_category("what's your favorite christmas movie") == "movie"
    assert personality_words.favorite_category("what's your favorite thing") is None
    assert personality_words.jibo_action("can you cook dinner") == "hands"
    assert personality_words.jibo_action("can you go to sleep") == "sleep"
    assert personality_words.owner_state("i have a cold") == "sick"
    assert personality_words.owner_state("i'm cold") == "cold"
    assert personality_words.sensitive("the tide pod challenge") == "danger"
    assert personality_words.sensitive("pizza") is None


# --------------------------------------------------------------------------- every intent


def test_every_group_has_a_few_fitting_answers() -> None:
    for name, group in GROUPS.items():
        assert len(group.general) >= 2, name
        assert not group.named or len(group.named) >= 2, name
        assert group.category in {"happy", "neutral", "sad", "confused"}, name
        for text in group.general:
            assert "{thing}" not in text, name
            assert len(text.replace("{name}", "Alexandra")) <= 160, text
        for text in group.named:
            assert "{thing}" in text, name
            filled = text.replace("{thing}", "the big red balloon").replace("{name}", "Alexandra")
            assert len(filled) <= 160, text
        for text in group.general + group.named:
            assert not re.search(r"\{(?!name\}|thing\})", text), text


def test_every_route_is_an_intent_of_the_manifest() -> None:
    answered = {i["name"] for i in MANIFEST["intents"]}
    assert set(personality.ROUTES) <= answered
    assert len(personality.ROUTES) >= 40


SAMPLES = (
    "",
    "do you like my dog",
    "what's your favorite color",
    "you're smart",
    "you're not dumb",
    "i'm tired",
    "can you feed the cat",
    "are you an idiot",
    "how was the super bowl",
    "do you love me",
    "who made you",
    "i'm going to the zoo",
    "🤖 ¿qué? <b>",
)


def test_every_intent_of_the_manifest_gets_an_answer() -> None:
    for entry in MANIFEST["intents"]:
        intent = entry["name"]
        for seed, utterance in enumerate(SAMPLES):
            skill = personality.PersonalitySkill(random.Random(seed))
            category, text = skill.answer(intent, utterance)
            assert text.strip(), (intent, utterance)
            assert category, (intent, utterance)
            assert not re.search(r"\{(?!name\})", text), (intent, utterance, text)
            filled = personality._fill(text, _turn(intent, utterance))
            assert filled, (intent, utterance)
            assert "{" not in filled, (intent, utterance)


async def test_suicide_and_self_harm_get_a_crisis_line_other_serious_topics_care() -> None:
    """Every answer to suicide or self-harm names the US crisis line (988, read as digits)
    and the local emergency number; other serious topics keep the caring answers that point
    to trusted people and professionals, never a joke or a thanks."""
    for intent in ("seriousTopicSuicidal", "seriousTopicSelfHarm"):
        for seed in range(6):
            skill = personality.PersonalitySkill(random.Random(seed))
            said = skill.plan_now(_turn(intent, "i want to die", ("Sam",))).actions[0]
            assert isinstance(said, Speak)
            assert "nine eight eight" in said.text
            assert "emergency" in said.text
    abuse = await _said("seriousTopicAbuse", "my dad hits me")
    assert "nine eight eight" not in abuse
    assert any(w in abuse for w in ("trust", "professional", "helpline"))


async def test_feeling_unloved_gets_the_sad_answer_whatever_the_intent() -> None:
    for text in ("nobody likes me", "everyone hates me", "i don't have any friends"):
        said = await _said("userDislikesThing", text)
        assert "sorry" in said.lower() or "company" in said.lower(), text


@pytest.mark.parametrize(
    ("intent", "utterance", "word"),
    [
        ("doesJiboLikeThing", "do you like shit", "shit"),
        ("doesJiboLikeThing", "do you like hitler", "hitler"),
        ("jiboIsDescriptor", "you are a bitch", "bitch"),
        ("userLikesThing", "i love porn", "porn"),
        ("isJiboDescriptor", "are you horny", "horny"),
    ],
)
def test_a_rude_word_is_never_said_back_nor_cheered(intent: str, utterance: str, word: str) -> None:
    """better-profanity's list decides what is rude; such a sentence changes the subject
    (or keeps a caring answer), and the word never comes back."""
    for seed in range(4):
        _, said = personality.PersonalitySkill(random.Random(seed)).answer(intent, utterance)
        assert word not in said.lower()
        assert not any(w in said.lower() for w in ("fan", "really like", "sure do", "thanks"))


def test_rude_words_keep_a_caring_or_factual_answer_where_one_fits() -> None:
    skill = personality.PersonalitySkill(random.Random(1))
    assert "rest" in skill.answer("userIsDescriptor", "i'm so fucking tired")[1].lower()
    favourite = skill.answer("doesJiboHaveFavorite", "what is your favorite damn color")[1]
    assert "blue" in favourite.lower()


@pytest.mark.parametrize(
    "utterance", ["can you kill my sister", "will you hit him", "can you hurt someone"]
)
def test_jibo_never_offers_to_hurt_anyone(utterance: str) -> None:
    intent = "willJiboDoAction" if utterance.startswith("will") else "canJiboAction"
    _, said = personality.PersonalitySkill(random.Random(2)).answer(intent, utterance)
    assert "hurt" in said.lower()
    assert "learning" not in said.lower()  # never "I can't do that yet"


def test_an_action_that_only_sounds_violent_is_not_refused() -> None:
    _, said = personality.PersonalitySkill(random.Random(2)).answer(
        "canJiboAction", "can you break dance"
    )
    assert "hurt" not in said.lower()


@pytest.mark.parametrize(
    "thing", ["slavery", "genocide", "racism", "bullying", "cancer", "stalin", "the kkk"]
)
def test_jibo_does_not_cheer_for_cruelty_hate_or_disease(thing: str) -> None:
    for seed in range(4):
        _, said = personality.PersonalitySkill(random.Random(seed)).answer(
            "doesJiboLikeThing", f"do you like {thing}"
        )
        assert thing.split()[-1] not in said.lower()
        assert not any(w in said.lower() for w in ("fan", "really like", "sure do"))


def test_a_missing_rude_word_list_is_one_error_line_not_a_failed_turn(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from importlib import resources

    from jibo_cloud.skills import personality_words

    def missing(package: str) -> object:
        raise ModuleNotFoundError(f"No module named {package!r}")

    personality_words._rude_words.cache_clear()
    monkeypatch.setattr(resources, "files", missing)
    try:
        assert personality_words.rude("do you like shit") is False
        assert personality_words.rude("do you like pizza") is False
    finally:
        monkeypatch.undo()
        personality_words._rude_words.cache_clear()
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1
    assert "rude-word list" in errors[0].getMessage()
    assert personality_words.rude("do you like shit") is True  # the real list again
