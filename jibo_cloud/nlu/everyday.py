"""Everyday things owners say to Jibo that the templates file under the wrong skill.

Tried as a new owner would (docs/skills.md, "Everyday chitchat"), these short sentences went
astray: "where were you born" and "how tall are you" were world questions for Wikipedia (the
templates' catch-all ``where …`` / ``how …``), "flip a coin" and "nice to meet you" went to
chat's "I'm not sure how to help", and "what is the meaning of life" was looked up in the
dictionary. The original routed each to its chitchat skill under the intents named here
(``requestFlipCoin``, ``requestStory`` …, from its manifest), so these whole-utterance
patterns, written by hand, name those intents, and the personality skill answers them. Where
the original's intent is a world question here (:data:`semantic.KNOWLEDGE_INTENTS`: its
``whereWasEvent`` for "where were you born", ``whatDoesThingMean`` for the meaning of life),
the nearest intent the personality skill answers is named instead. Like
the serious-topic net (:mod:`jibo_cloud.nlu.serious`) and praise (:mod:`jibo_cloud.nlu.praise`)
they are checked only where the templates found no command (and, for the meaning of life,
over the dictionary's ``defineWord``). Pure: no state, no I/O.
"""

from __future__ import annotations

import re

_LEAD = r"^(?:(?:hey |ok |okay |so |um )?jibo )?(?:(?:can|could|will|would) you )?(?:please )?"
_TAIL = r"(?: (?:jibo|please|for me|for us))*$"

#: (intent, what is said). The intents are the original chitchat skill's.
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (intent, re.compile(_LEAD + f"(?:{said})" + _TAIL))
    for intent, said in (
        (
            "whereIsJiboFrom",
            r"where (?:were you (?:born|made|built)|are you from|do you come from)",
        ),
        (
            "howDescriptorIsJibo",
            r"how (?:tall|big|small|heavy) are you|how much do you weigh"
            r"|what(?: is|'s) your (?:height|weight|size)",
        ),
        (
            "whichLanguagesCabJiboSpeak",
            r"what (?:languages?|language) (?:do|can) you speak|how many languages do you speak",
        ),
        ("eventWasDescriptor", r"(?:it's |it is )?(?:nice|good|pleased|great) to meet you"),
        # The original's whatDoesThingMean is a world question here (semantic.KNOWLEDGE_INTENTS,
        # the answers skill's); Jibo's opinion is the personality skill's.
        ("doesJiboHaveOpinionAboutThing", r"what(?: is|'s) the meaning of life"),
        ("requestFlipCoin", r"(?:flip|toss) a coin|heads or tails"),
        ("requestRollOneDie", r"roll (?:a|one) (?:die|dice)"),
        ("requestRollTwoDice", r"roll (?:two|the|some|a pair of) dice|roll dice"),
        ("requestTellJiboContent", r"(?:tell me|give me|tell us|do you know) (?:a|any) riddles?"),
        ("requestStory", r"(?:tell|read) (?:me |us )?a story"),
        ("requestSingSong", r"sing (?:me |us )?(?:a song|something)|sing"),
        ("userSaysYoureWelcome", r"you're welcome|you are welcome|no problem|any time|anytime"),
        ("tellJiboHappyBirthday", r"happy birthday"),
        ("requestTellJiboContent", r"teach me something(?: new| cool| interesting)?"),
        ("doesJiboHaveThing", r"do you have (?:feelings|emotions)"),
    )
)


def everyday_intent(normalized: str) -> str | None:
    """The chitchat intent of a normalized utterance that is, as a whole, one of these, or
    None."""
    for intent, pattern in _PATTERNS:
        if pattern.match(normalized):
            return intent
    return None
