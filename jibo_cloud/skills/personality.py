"""Jibo's personality: answers to questions about himself and the owner (``chitchat-skill``).

The semantic recogniser (:mod:`jibo_cloud.nlu.semantic`) names one of the original chitchat
skill's intents (``isJiboDescriptor``, ``userLovesThing`` …) with ``domain=chitchat``; the
manifest (``manifests/personality_manifest.json``) lists them. How an answer is chosen:

1. ``seriousTopic*`` intents (and "i hate myself") get a caring answer that points to people
   and professionals, before anything else.
2. A handful of topics said in the utterance (age, being a robot, being alive, "i love you",
   sad, happy, fun facts) get their own answers (:data:`TOPICS`).
3. The intents owners use most have a route (:data:`ROUTES`) to a group of answers that fit
   their meaning, refined by the words said: "you're smart" is a compliment and "you're dumb"
   an insult, "what's your favorite color" names a colour, "do you sleep" is about sleeping.
   Where the sentence has a known shape, the answer names the thing asked about
   (:func:`personality_topics.thing_asked`): "do you like pizza" → "Do I like pizza? …".
4. Every other intent falls back to its family's answers, by the shape of its name
   (:func:`family`).

The texts live in :mod:`personality_answers`, the word tables in :mod:`personality_words`.
One answer is picked with the injected :class:`random.Random`; ``{name}`` is the first loop
member's first name when known.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import attrs

from jibo_cloud.skills import personality_words as words
from jibo_cloud.skills.personality_answers import (
    CRISIS,
    CRISIS_INTENTS,
    FAMILIES,
    FAVORITES,
    FUN_FACTS,
    GROUPS,
    TOPICS,
    Group,
)
from jibo_cloud.skills.personality_topics import thing_asked
from protocol.plan import ResponsePlan, Speak, TurnContext

__all__ = [
    "FAMILIES",
    "FAVORITES",
    "FUN_FACTS",
    "GROUPS",
    "ROUTES",
    "SKILL_ID",
    "TOPICS",
    "PersonalitySkill",
    "choose",
    "family",
]

SKILL_ID = "chitchat-skill"

_OWNER_FEELING = re.compile(r"^(userIs|isUser|userIsNot|userFeels)")
_OWNER_LIKES = re.compile(r"^user(Likes|Loves|Dislikes|LooksForwardTo|Misses)")
#: Said about oneself in a way that needs the caring answer whatever the intent.
_HURTING = re.compile(r"\b(?:hate myself|hate my life|i'm worthless|i am worthless)\b")
_OWNER_FRIEND = re.compile(r"\b(?:my friend|we friends|you and i|you and me|friends with me|us)\b")
_PROUD_OF_JIBO = re.compile(r"\b(?:proud of you|made (?:us|me) (?:feel )?(?:so |very )?proud)\b")
_MISSES_OWNER = re.compile(r"\bmiss(?:ed)? (?:me|us)\b")
#: Things that mean the owner's household; "do you love our family" is about them.
_THE_OWNERS = frozenset({"you", "our family", "your family", "you all", "you guys"})
_MARRY = re.compile(r"\b(?:marry|married|wedding|date|girlfriend|boyfriend)\b")
#: Owner-side words a thing can be that the named answers can't use ("How was me?").
_NOT_NAMEABLE = frozenset({"you", "me"})


def family(intent: str) -> str:
    """The answer family of one of the chitchat intents (by the shape of its name).

    Also the ``memo`` of each intent in the generated manifest (``bench/nlu.py``), so its
    values stay the same: finer answers come from :data:`ROUTES`, not from new families.
    """
    if intent.startswith("seriousTopic"):
        return "serious"
    if intent.startswith("reference"):
        return "reference"
    if intent.startswith("joke"):
        return "joke"
    if intent in ("requestTellSomething", "requestTellJiboContent", "requestTellSecrets"):
        return "fun_fact"
    if (_OWNER_FEELING.match(intent) and "Descriptor" in intent) or intent == "userIsInState":
        return "owner_feeling"
    if _OWNER_LIKES.match(intent):
        return "owner_likes"
    if re.search(r"Holiday|Event|Celebrat|Gift|Birthday", intent):
        return "events"
    if intent.startswith(("user", "describeUser", "howWasUser", "thankJibo", "tellJibo")):
        return "owner_news"
    if re.search(
        r"Favorite|(Like|Dislike)s?(Thing|Taste)|Opinion|Preference|Best|Worst|Interested|DoesJiboLike",
        intent,
    ):
        return "jibo_likes"
    if intent.startswith(("request", "canJibo", "howCanJibo", "whatCanJibo", "howManyThings")):
        return "abilities"
    if "Jibo" in intent:
        return "jibo_nature"
    return "general"


#: (group, thing to name or None); None for "no fitting group, use the family's".
Route = tuple[str, str | None] | None
#: (normalized utterance, thing found in it) → route.
Resolver = Callable[[str, str | None], Route]


def _named(group: str) -> Resolver:
    """Always ``group``, naming the thing when the sentence had one."""

    def resolve(utterance: str, thing: str | None) -> Route:
        return group, thing

    return resolve


def _plain(group: str) -> Resolver:
    """Always ``group``'s general answers (its meaning doesn't depend on a thing)."""

    def resolve(utterance: str, thing: str | None) -> Route:
        return group, None

    return resolve


def _jibo_about(group: str) -> Resolver:
    """Jibo's likes and opinions: "do you love me" is about the owner; beer, guns or politics
    get a careful answer instead of "I'm a fan!"; anything else names the thing."""

    def resolve(utterance: str, thing: str | None) -> Route:
        if thing in _THE_OWNERS:
            return "loves_owner", None
        if thing == "my family":
            return "jibo_family", None
        careful = words.sensitive(thing or utterance)
        if careful is not None:
            return f"careful_{careful}", None
        return group, thing

    return resolve


def _favorite(utterance: str, thing: str | None) -> Route:
    category = words.favorite_category(utterance)
    return (f"favorite_{category}" if category else "favorite"), None


def _jibo_descriptor(question: bool, not_intent: bool) -> Resolver:
    """Something said about Jibo ("you're smart", "are you sad", "you're not funny").

    A body state is a habit ("are you hungry" → eating), a feeling gets a feeling's answer,
    then the descriptor's tone decides: thanks, a good-natured shrug, or a curious reply.
    Said negatively, the tone flips and the thing isn't named ("you're not smart" must not
    get "You think I'm smart? Thanks!").
    """

    def resolve(utterance: str, thing: str | None) -> Route:
        phrase = thing or utterance
        if "friend" in phrase:
            return "friends_owner", None
        body = words.jibo_body_state(phrase)
        if body is not None:
            return f"jibo_{body}", None
        negative = not_intent or words.negated(utterance)
        if negative and not question and words.feeling(phrase) < 0:
            # "you're not jealous": agree it isn't so; "I sure am!" would read as jealous.
            return "you_are_not", thing
        sign = -1 if negative else 1
        feeling = words.feeling(phrase) * sign
        tone = words.tone(phrase) * sign
        if question and tone < 0 and re.search(r"\bfeel", utterance):
            feeling = -1  # "do you feel worthless": reassurance, not a shrug at an insult
        if feeling:
            return ("jibo_feels_good" if feeling > 0 else "jibo_feels_down"), None
        named = None if negative else thing
        if tone < 0:
            return "insult", named
        if tone > 0:
            return ("are_you_good" if question else "compliment"), named
        if question:
            return "are_you", thing
        return ("you_are_not" if negative else "you_are"), thing

    return resolve


def _why_is_jibo(utterance: str, thing: str | None) -> Route:
    return ("insult", None) if words.tone(utterance) < 0 else None


def _should_be(not_intent: bool) -> Resolver:
    """Advice to Jibo ("be nice", "don't be sad"): agree with the good, decline the bad."""

    def resolve(utterance: str, thing: str | None) -> Route:
        tone = words.tone(thing or utterance)
        if not_intent or words.negated(utterance):
            return ("dont_be_good" if tone > 0 else "dont_be_bad"), thing
        if tone:
            return ("should_be_good" if tone > 0 else "should_be_bad"), thing
        return "should_be", thing

    return resolve


def _by_tone(good: str, bad: str, neutral: str, name_bad: bool = True) -> Resolver:
    """A descriptor of the owner or of "that": its tone picks the group."""

    def resolve(utterance: str, thing: str | None) -> Route:
        tone = words.tone(thing or utterance)
        if tone > 0:
            return good, thing
        if tone < 0:
            return bad, thing if name_bad else None
        return neutral, thing

    return resolve


def _owner_state(by_tone: bool) -> Resolver:
    """How the owner is: a state's own answers (tired, bored, hungry …), else by tone."""
    fallback = _by_tone("owner_is_good", "owner_is_hard", "owner_is", name_bad=False)

    def resolve(utterance: str, thing: str | None) -> Route:
        state = words.owner_state(utterance)
        if state is not None:
            return f"owner_{state}", None
        return fallback(utterance, thing) if by_tone else None

    return resolve


def _owner_is_not(utterance: str, thing: str | None) -> Route:
    if words.owner_state(utterance) == "sick":
        return "owner_sick", None
    tone = words.tone(thing or utterance)
    return ("owner_is_not_good" if tone > 0 else "owner_is_not"), thing


def _owner_likes(group: str, about_jibo: str) -> Resolver:
    """The owner's likes: "i like you" is about Jibo, anything else names the thing."""

    def resolve(utterance: str, thing: str | None) -> Route:
        return (about_jibo, None) if thing == "me" else (group, thing)

    return resolve


def _owner_plans(utterance: str, thing: str | None) -> Route:
    return ("insult", None) if words.harmful(utterance) else ("owner_plans", None)


def _owner_feels(utterance: str, thing: str | None) -> Route:
    if _PROUD_OF_JIBO.search(utterance):
        return "compliment", None
    return _owner_state(by_tone=False)(utterance, thing)


def _jibo_action(fallback: str | None) -> Resolver:
    """What Jibo can do: hands and legs he hasn't got, habits a robot has or hasn't (sleeping
    is resting his circuits; no eating), else ``fallback`` naming the action."""

    def resolve(utterance: str, thing: str | None) -> Route:
        if words.violent(utterance):
            return "no_harm", None
        if _MISSES_OWNER.search(utterance):
            return "missed_owner", None
        action = words.jibo_action(utterance)
        if action in ("hands", "legs"):
            return f"jibo_{action}", thing
        if action is not None:
            return f"jibo_{action}", None
        return (fallback, thing) if fallback else None

    return resolve


def _will_jibo(utterance: str, thing: str | None) -> Route:
    if words.violent(utterance):
        return "no_harm", None
    if _MARRY.search(utterance):
        return "marry", None
    if _MISSES_OWNER.search(utterance):
        return "missed_owner", None
    if words.sensitive(utterance):
        return "careful_divisive", None
    return _jibo_action("will_jibo")(utterance, thing)


def _jibo_has(utterance: str, thing: str | None) -> Route:
    relation = words.relation(utterance)
    if relation == "body":
        return "jibo_body", thing
    if relation == "parts":
        return "jibo_parts", None
    if relation == "maker":
        return "jibo_maker", None
    if relation in ("romance", "family"):
        return ("romance" if relation == "romance" else "jibo_family"), None
    return "jibo_has", thing


def _who_is_related(utterance: str, thing: str | None) -> Route:
    relation = words.relation(utterance)
    if relation == "maker":
        return "jibo_maker", None
    return ("romance" if relation == "romance" else "jibo_family"), None


def _friends(utterance: str, thing: str | None) -> Route:
    return ("friends_owner" if _OWNER_FRIEND.search(utterance) else "friends_other"), None


def _feeling_cause(utterance: str, thing: str | None) -> Route:
    cause = words.feeling_cause(utterance)
    groups = {"fears": "jibo_fears", "sad": "jibo_sad_things", "angry": "jibo_angry_things"}
    return groups.get(cause or "", "jibo_happy_things"), None


def _knows(utterance: str, thing: str | None) -> Route:
    if thing == "you":
        return "friends_owner", None
    if "introduce" in utterance:
        return "friends_other", None
    return "jibo_knows", thing


def _believes(utterance: str, thing: str | None) -> Route:
    careful = words.sensitive(thing or utterance)
    return (f"careful_{careful}", None) if careful else ("jibo_believes", thing)


def _how_was(utterance: str, thing: str | None) -> Route:
    # "how was your easter" is about Jibo's: no "Ooh, my easter!".
    return "how_was", None if thing and thing.startswith("my ") else thing


def _should(utterance: str, thing: str | None) -> Route:
    careful = words.sensitive(utterance) == "danger"
    return ("careful_danger" if careful else "owner_should"), None


def _what_does_jibo(utterance: str, thing: str | None) -> Route:
    if re.search(r"\b(?:like|love|favou?rite|best)\b", utterance):
        return _favorite(utterance, thing)
    return _jibo_action(None)(utterance, thing)


def _how_can_i(utterance: str, thing: str | None) -> Route:
    """ "How do I change your volume" is about Jibo's setup (whoever runs his server knows);
    "how do I train my cat" is the owner's own question, answered with encouragement."""
    about_jibo = re.search(r"\b(?:you|your|yours|jibo)\b", utterance)
    return ("owner_how" if about_jibo else "owner_how_general"), None


def _plans(utterance: str, thing: str | None) -> Route:
    return ("jibo_plans", thing) if thing else ("jibo_doing", None)


def _looks_forward(utterance: str, thing: str | None) -> Route:
    if words.feeling(utterance) < 0:
        return "jibo_feels_down", None
    return "jibo_looks_forward", thing


#: The intents with answers of their own (the list's ~60 most used, and what owners ask most
#: about Jibo); every other intent uses its family's.
ROUTES: dict[str, Resolver] = {
    # Jibo's likes, opinions, favourites.
    "doesJiboLikeThing": _jibo_about("jibo_likes"),
    "jiboLikesThing": _jibo_about("jibo_likes"),
    "didJiboLikeThing": _jibo_about("jibo_liked"),
    "doesJiboLikeTasteOfThing": _jibo_about("jibo_taste"),
    "doesJiboDislikeThing": _jibo_about("jibo_dislikes"),
    "doesJiboHaveOpinionAboutThing": _jibo_about("jibo_opinion"),
    "doesJiboHaveFavorite": _favorite,
    "didJiboHaveFavorite": _favorite,
    "doesJiboHaveLeastFavorite": _plain("least_favorite"),
    # What owners say about Jibo, and advice to him.
    "jiboIsDescriptor": _jibo_descriptor(question=False, not_intent=False),
    "jiboIsNotDescriptor": _jibo_descriptor(question=False, not_intent=True),
    "isJiboDescriptor": _jibo_descriptor(question=True, not_intent=False),
    "whyIsJiboDescriptor": _why_is_jibo,
    "jiboShouldBeDescriptor": _should_be(not_intent=False),
    "jiboShouldNotBeDescriptor": _should_be(not_intent=True),
    "userSaysCompliment": _plain("compliment"),
    "userFeelsEmotionAboutThing": _owner_feels,
    # The owner: how they are, what they like, their plans.
    "isUserDescriptor": _by_tone("am_i_good", "am_i_bad", "am_i"),
    "userIsDescriptor": _owner_state(by_tone=True),
    "userIsInState": _owner_state(by_tone=False),
    "userIsDoingAction": _owner_state(by_tone=False),
    "userIsNotDescriptor": _owner_is_not,
    "unknownIsDescriptor": _by_tone("that_good", "that_bad", "that_is", name_bad=False),
    "userLikesThing": _owner_likes("owner_likes", "likes_jibo"),
    "userLovesThing": _owner_likes("owner_likes", "likes_jibo"),
    "userDislikesThing": _owner_likes("owner_dislikes", "insult"),
    "userMissesThing": _owner_likes("owner_misses", "missed_owner"),
    "userLooksForwardToThing": _named("owner_looks_forward"),
    "userCelebratesThing": _named("owner_celebrates"),
    "userSupportsSomeoneForEvent": _plain("owner_roots_for"),
    "userWillAction": _owner_plans,
    "userWantsToAction": _owner_plans,
    "shouldUserAction": _should,
    "whatShouldPersonDoInSituation": _should,
    "howCanUserAction": _how_can_i,
    # Events and holidays.
    "doesJiboHavePlansForEvent": _plans,
    "whatDidJiboAction": _plain("jibo_did"),
    "howIsTimeframe": _how_was,
    "whatShouldUserDoForEvent": _named("owner_event_ideas"),
    "doesJiboFeelEmotionAboutThing": _looks_forward,
    "doesJiboLookForwardToThing": _looks_forward,
    "doesJiboWatchThing": _named("jibo_watches"),
    "doesJiboCareAboutEvent": _named("jibo_watches"),
    "didJiboWatchThing": _named("jibo_watched"),
    "doesJiboCelebrateHoliday": _named("jibo_celebrates"),
    "whoWillWinEvent": _named("who_wins"),
    "whoDoesJiboSupportForEvent": _named("jibo_roots_for"),
    # What Jibo can do, wants, has, knows, believes.
    "canJiboAction": _jibo_action("can_jibo"),
    "whatDoesJiboAction": _what_does_jibo,
    "howCanJiboAction": _jibo_action(None),
    "isJiboDoingAction": _jibo_action(None),
    "whatIsJiboDescriptor": _jibo_action(None),
    "doesJiboWantToAction": _jibo_action("jibo_wants_to"),
    "willJiboDoAction": _will_jibo,
    "requestShowImage": _named("show_image"),
    "doesJiboWantThing": _named("jibo_wants"),
    "whatGiftDoesJiboWantHoliday": _plain("jibo_gift"),
    "doesJiboHaveThing": _jibo_has,
    "doesJiboKnowPersonThing": _knows,
    "hasJiboMetPerson": _knows,
    "doesJiboBelieveInThing": _believes,
    "whenWillJiboAction": _plain("listening"),
    # Who Jibo's people are, and how he feels.
    "whoIsJiboRelation": _who_is_related,
    "whereIsJiboFrom": _plain("jibo_from"),
    "isJiboRelatedToPerson": _plain("jibo_family"),
    "isJiboFriendsWithPerson": _friends,
    "whatDoesJiboFeelEmotionAbout": _feeling_cause,
}


def choose(intent: str, utterance: str) -> Route:
    """The fitted group for an intent and the normalized utterance, and the thing to name.

    None when the intent has no route, or its route finds nothing that fits (the caller
    uses the family's answers then).
    """
    resolver = ROUTES.get(intent)
    if resolver is None:
        return None
    route = resolver(utterance, thing_asked(utterance))
    if route is None:
        return None
    group, thing = route
    if thing is None or thing in _NOT_NAMEABLE or " or " in f" {thing} ":
        return group, None
    # Never echo what a family robot shouldn't say back ("you seem sexually active").
    return group, (None if words.sensitive(thing) else thing)


def _pick(rng: random.Random, group: Group, thing: str | None) -> str:
    if thing and group.named:
        text = rng.choice(group.named).replace("{thing}", thing)
    else:
        text = rng.choice(group.general)
    return text[:1].upper() + text[1:]


def _fill(template: str, turn: TurnContext) -> str:
    """``{name}`` → the owner's first name; without one, the name and its comma go."""
    name = turn.user_names[0] if turn.user_names else ""
    text = template.replace("{name}", name) if name else re.sub(r",? *\{name\}", "", template)
    return " ".join(text.replace(" !", "!").replace(" .", ".").replace(" ,", ",").split())


#: Groups whose answers stay right when the sentence has a rude word in it: caring answers
#: to how the owner is, a reply to an insult, Jibo's own favourites and facts. None of them
#: names the thing.
_FINE_WHEN_RUDE = frozenset(
    {"insult", "careful_danger", "careful_divisive", "no_harm", "jibo_feels_down",
     "jibo_feels_good", "jibo_maker", "jibo_from", "listening", "least_favorite",
     "owner_angry", "owner_bored", "owner_busy", "owner_calm", "owner_cold", "owner_confused",
     "owner_hot", "owner_hungry", "owner_meal", "owner_sad", "owner_scared", "owner_sick",
     "owner_stressed", "owner_thirsty", "owner_tired", "owner_home", "owner_is_hard"}
)  # fmt: skip


def _without_rudeness(group: str) -> Route:
    """A rude word is never said back, nor liked, agreed with or offered ("do you like
    [a slur]" must not get "Ooh, [a slur]! I'm a fan."): a fitting caring or factual group
    keeps its general answers, anything else changes the subject."""
    if group in _FINE_WHEN_RUDE or group.startswith("favorite"):
        return group, None
    return "keep_it_kind", None


@attrs.define
class PersonalitySkill:
    """Answers a chitchat intent: serious, a topic's own, the fitted group's, or the family's."""

    rng: random.Random = attrs.field(factory=random.Random)

    def answer(self, intent: str, utterance: str) -> tuple[str, str]:
        """(ESML category, answer with ``{name}`` still in it) for an intent and utterance."""
        if intent in CRISIS_INTENTS:
            return "sad", self.rng.choice(CRISIS)
        if family(intent) == "serious" or _HURTING.search(utterance):
            category, options = FAMILIES["serious"]
            return category, self.rng.choice(options)
        for pattern, category, options in TOPICS:
            if pattern.search(utterance):
                return category, self.rng.choice(options)
        route = choose(intent, utterance)
        if route is not None and words.rude(utterance):
            route = _without_rudeness(route[0])
        if route is not None:
            group = GROUPS[route[0]]
            return group.category, _pick(self.rng, group, route[1])
        category, options = FAMILIES[family(intent)]
        return category, self.rng.choice(options)

    async def __call__(self, turn: TurnContext) -> ResponsePlan:
        return self.plan_now(turn)

    def plan_now(self, turn: TurnContext) -> ResponsePlan:
        """The answer, without waiting for anything (:class:`PlanSkill` calls it inline)."""
        intent = turn.intent or ""
        utterance = str(turn.entities.get("utterance") or turn.normalized_transcript or "")
        category, text = self.answer(intent, utterance.lower())
        return ResponsePlan(
            intent=intent,
            topic="personality",
            actions=(Speak(text=_fill(text, turn), category=category),),
        )
