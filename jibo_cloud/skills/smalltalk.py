"""Greetings, small talk and help: short spoken answers (the weather is the report skill's).

Each intent maps to a few answers; one is picked with the injected :class:`random.Random`.
``{name}`` in an answer is replaced by the first loop member's first name when known.
"""

from __future__ import annotations

import random

import attrs

from protocol.plan import PlanStatus, ResponsePlan, Speak, TurnContext

SKILL_ID = "cloud-smalltalk"

HELP = (
    "You can ask me what time it is, what today's date is, or to tell you a joke. "
    "You can say hello, ask who I am, or ask me to turn my volume up or down."
)

#: intent → (ESML category, answers).
ANSWERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "hello": ("happy", ("Hi {name}!", "Hello {name}! It's good to see you.", "Hey there {name}!")),
    "goodbye": ("happy", ("Bye {name}! See you soon.", "Goodbye! Come back soon.")),
    "howAreYou": (
        "happy",
        ("I'm doing great, thanks for asking!", "All my circuits are happy today. How are you?"),
    ),
    "whoAreYou": (
        "happy",
        (
            "I'm Jibo, a social robot. I'm here to keep you company.",
            "My name is Jibo. I'm a robot!",
        ),
    ),
    "whatCanYouDo": ("neutral", (HELP,)),
    "thanks": ("happy", ("You're welcome!", "Any time, {name}.", "Happy to help.")),
}
GREETING_TIME = {
    "morning": "Good morning {name}!",
    "afternoon": "Good afternoon {name}!",
    "evening": "Good evening {name}!",
}


def _fill(template: str, turn: TurnContext) -> str:
    name = turn.user_names[0] if turn.user_names else ""
    text = template.replace("{name}", name)
    return " ".join(text.replace(" !", "!").replace(" .", ".").replace(" ,", ",").split())


@attrs.define
class SmallTalkSkill:
    rng: random.Random = attrs.field(factory=random.Random)

    async def __call__(self, turn: TurnContext) -> ResponsePlan:
        return self.plan_now(turn)

    def plan_now(self, turn: TurnContext) -> ResponsePlan:
        """The answer, without waiting for anything (:class:`PlanSkill` calls it inline)."""
        intent = turn.intent or ""
        greeting = str(turn.entities.get("greeting") or "")
        if intent == "hello" and greeting in GREETING_TIME:
            text, category = GREETING_TIME[greeting], "happy"
        elif intent in ANSWERS:
            category, options = ANSWERS[intent]
            text = self.rng.choice(options)
        else:
            return ResponsePlan(
                intent=intent,
                status=PlanStatus.NO_MATCH,
                actions=(
                    Speak(text="Hmm, I'm not sure what to say to that.", category="confused"),
                ),
            )
        return ResponsePlan(
            intent=intent,
            topic="smalltalk",
            actions=(Speak(text=_fill(text, turn), category=category),),
        )
