"""The joke skill: our own small collection, told with a happy voice.

Jokes are picked by a seedable :class:`random.Random` (injected), never repeating the last one.
"""

from __future__ import annotations

import html
import random

import attrs

from protocol.plan import ResponsePlan, Speak, TurnContext

SKILL_ID = "cloud-jokes"

#: (setup, punch line). Written for this project.
JOKES: tuple[tuple[str, str], ...] = (
    ("Why did the robot go on vacation?", "It needed to recharge its batteries."),
    ("What do you call a robot that takes the long way around?", "R2 detour."),
    ("Why was the computer cold?", "It left its Windows open."),
    ("What is a robot's favorite snack?", "Computer chips."),
    ("Why did the robot cross the road?", "Because it was programmed by the chicken."),
    ("What do robots do at lunch?", "They have a byte."),
    ("Why don't robots ever get scared?", "They have nerves of steel."),
    ("What did the calculator say to the pencil?", "You can count on me."),
    ("Why was the math book sad?", "It had too many problems."),
    ("How does a robot shave?", "With a laser blade."),
    ("What kind of music do robots like?", "Heavy metal."),
    ("Why did the smartphone need glasses?", "It lost all its contacts."),
    ("What do you call a pirate robot?", "Arrr two D two."),
    ("Why are spiders great web developers?", "They know all about webs."),
    ("What did one wall say to the other wall?", "I'll meet you at the corner."),
    ("Why can't a bicycle stand up on its own?", "It's two tired."),
)


def joke_esml(setup: str, punch: str) -> str:
    """Setup, a pause for effect, then the punch line (§6 ESML)."""
    setup, punch = html.escape(setup, quote=False), html.escape(punch, quote=False)
    pause = "<break time='800ms'/>"
    return f"<speak><es cat='happy'>{setup}</es>{pause}<es cat='happy'>{punch}</es></speak>"


@attrs.define
class JokeSkill:
    rng: random.Random = attrs.field(factory=random.Random)
    last: int = -1

    async def __call__(self, turn: TurnContext) -> ResponsePlan:
        return self.plan_now(turn)

    def plan_now(self, turn: TurnContext) -> ResponsePlan:
        """The answer, without waiting for anything (:class:`PlanSkill` calls it inline)."""
        choices = [i for i in range(len(JOKES)) if i != self.last]
        self.last = self.rng.choice(choices)
        setup, punch = JOKES[self.last]
        return ResponsePlan(
            intent=turn.intent,
            topic="joke",
            actions=(Speak(esml=joke_esml(setup, punch), mim_id="runtime-joke"),),
        )
