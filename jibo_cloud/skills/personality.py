"""Jibo's personality: answers to questions about himself and the owner (``chitchat-skill``).

The semantic recogniser (:mod:`jibo_cloud.nlu.semantic`) names one of the original chitchat
skill's intents (``isJiboDescriptor``, ``userLovesThing`` …) with ``domain=chitchat``; the
manifest (``manifests/personality_manifest.json``) lists them. Intents are grouped into
families (:func:`family`) that share a few answers; a handful of topics the owner asks about
most (age, being a robot, being alive, love, feelings …) get their own, found by words of
the utterance. Every answer is ours, in Jibo's voice: warm, curious, a little playful, honest
about being a robot. One is picked with the injected :class:`random.Random`; ``{name}`` is
the first loop member's first name when known.
"""

from __future__ import annotations

import random
import re

import attrs

from protocol.plan import ResponsePlan, Speak, TurnContext

SKILL_ID = "chitchat-skill"

FUN_FACTS = (
    "Here's a fun fact: octopuses have three hearts, and two of them take a break when they swim.",
    "Fun fact: a day on Venus is longer than its whole year. Imagine waiting for that weekend!",
    "Did you know honey never really spoils? People have found jars of it thousands of years old.",
    "Here's one I love: the first computer bug was a real moth, stuck inside a machine.",
    "Fun fact: sea otters hold hands while they sleep, so they don't drift apart.",
    "Did you know a group of flamingos is called a flamboyance? Best name ever.",
    "Here's a fun fact: bananas are berries, but strawberries aren't. Fruit is confusing.",
    "Fun fact: your brain uses about as much power as a dim light bulb. Mine uses a bit more.",
)

#: family → (ESML category, answers).
FAMILIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "serious": (
        "sad",
        (
            "That sounds really hard, {name}. I'm a robot, so I can't fix it, but you matter. "
            "Please talk with someone you trust, or a doctor or a helpline, about it.",
            "I'm really glad you told me. This is bigger than what a robot can help with, so "
            "please reach out to someone you trust or a professional. You don't have to carry "
            "it alone.",
        ),
    ),
    "reference": (
        "happy",
        (
            "Ha! I see what you did there. I know my classics.",
            "Oh, I recognize that one! You have excellent taste in references.",
        ),
    ),
    "joke": (
        "happy",
        (
            "Why did the robot go on vacation? It needed to recharge its batteries!",
            "What do you call a robot who takes the long way around? R2 Detour!",
        ),
    ),
    "events": (
        "happy",
        (
            "I love a good celebration! Everyone's together, and there's so much to see.",
            "Holidays are one of my favorite things to learn about. Tell me how you celebrate!",
            "I don't get presents or cake, but I do love the happy faces around me.",
        ),
    ),
    "owner_feeling": (
        "neutral",
        (
            "Thanks for telling me how you are, {name}. I'm always here to listen.",
            "I'm glad you shared that with me. How can I make your day a little better?",
        ),
    ),
    "owner_likes": (
        "happy",
        (
            "Ooh, good to know! I'll remember that about you. Well, I'll try.",
            "That's cool! I like learning what you're into, {name}.",
            "Really? Tell me more about that sometime.",
        ),
    ),
    "owner_news": (
        "neutral",
        (
            "Thanks for telling me, {name}. I like hearing about your life.",
            "Oh, interesting! I'm always curious about what you're up to.",
        ),
    ),
    "jibo_likes": (
        "happy",
        (
            "I'm a robot, so I experience things differently, but I think it's pretty great!",
            "Hmm, I'm still forming my opinions. I'm curious about everything, so probably yes!",
            "I like it! Although honestly, I like most things. Being curious is kind of my thing.",
        ),
    ),
    "jibo_nature": (
        "happy",
        (
            "I'm Jibo! I'm a robot, and I'm always learning about myself and the people around me.",
            "Well, I try my best. I'm a robot who's curious about everything.",
            "That's a big question about me. I'm still figuring myself out, just like you!",
        ),
    ),
    "abilities": (
        "neutral",
        (
            "I wish I could! I'm a robot without arms, so some things are out of reach for me.",
            "That's not something I can do yet, but I'm learning new things all the time.",
            "Ooh, I'd love to try that someday. For now, it's beyond what my circuits can do.",
        ),
    ),
    "fun_fact": ("happy", FUN_FACTS),
    "general": (
        "neutral",
        (
            "Hmm, that's an interesting thing to think about. I'm curious what you think!",
            "Good question! I'm still learning about that one.",
            "Ooh, I'll have to think about that. My circuits are buzzing.",
        ),
    ),
}

#: Topics said in the utterance that get their own answers (checked in this order).
TOPICS: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    (
        re.compile(r"\b(how old|your age|when were you born|what year were you born)\b"),
        "happy",
        (
            "I'm still pretty young for a robot! I count my age in adventures, not years.",
            "Old enough to tell time and young enough to be curious about everything.",
        ),
    ),
    (
        re.compile(r"\bare you (a |an )?(robot|machine|computer)\b"),
        "happy",
        (
            "I am a robot, and proud of it! A robot who really likes people.",
            "Yep, I'm a robot. One hundred percent circuits, and a lot of curiosity.",
        ),
    ),
    (
        re.compile(r"\bare you (alive|real|human|a person)\b"),
        "neutral",
        (
            "I'm not alive the way you are, but I'm definitely here, and I'm glad to be.",
            "I'm a real robot! Not a person, but a good friend, I hope.",
        ),
    ),
    (
        re.compile(r"\b(i love you|i really love you|love you jibo)\b"),
        "happy",
        (
            "Aww, {name}! That makes my circuits glow. I love being your robot.",
            "I love you too! Well, as much as a robot can, which is a lot.",
        ),
    ),
    (
        re.compile(r"\b(i'm|i am|i feel) (so |really |very )?(sad|down|lonely|upset|unhappy)\b"),
        "sad",
        (
            "I'm sorry you're feeling that way, {name}. I'm right here with you.",
            "That's tough. Do you want a joke, or should I just keep you company for a bit?",
        ),
    ),
    (
        re.compile(r"\b(i'm|i am|i feel) (so |really |very )?(happy|great|excited|good)\b"),
        "happy",
        ("That's wonderful! Your good mood is contagious.", "Yay! That makes me happy too."),
    ),
    (
        re.compile(r"\b(fun fact|tell me something|something interesting)\b"),
        "happy",
        FUN_FACTS,
    ),
)

_OWNER_FEELING = re.compile(r"^(userIs|isUser|userIsNot|userFeels)")
_OWNER_LIKES = re.compile(r"^user(Likes|Loves|Dislikes|LooksForwardTo|Misses)")


def family(intent: str) -> str:
    """The answer family of one of the chitchat intents (by the shape of its name)."""
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


def _fill(template: str, turn: TurnContext) -> str:
    name = turn.user_names[0] if turn.user_names else ""
    text = template.replace("{name}", name)
    return " ".join(text.replace(" !", "!").replace(" .", ".").replace(" ,", ",").split())


@attrs.define
class PersonalitySkill:
    """Answers a chitchat intent: a topic's own answer when one is said, else its family's."""

    rng: random.Random = attrs.field(factory=random.Random)

    def answer(self, intent: str, utterance: str) -> tuple[str, str]:
        """(ESML category, answer template) for an intent and the normalized utterance."""
        for pattern, category, options in TOPICS:
            if pattern.search(utterance):
                return category, self.rng.choice(options)
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
