"""Praise said to Jibo on its own: "good job", "well done", "that was funny".

Owners praise a social robot all the time, usually in two or three words with no "you" in
them, so the personality classifier (which answers only sentences about Jibo or the owner,
:mod:`jibo_cloud.nlu.semantic`) leaves them to chat, whose fallback answers "I'm not sure how
to help with that yet". These whole-utterance patterns, written by hand, name the original
chitchat skill's intent instead: ``userSaysCompliment`` for praise of Jibo ("good job"),
``unknownIsDescriptor`` for "that was X" (the original files "that was great" there), so the
personality skill thanks the owner or enjoys it with them. Like the serious-topic net
(:mod:`jibo_cloud.nlu.serious`) they are checked only where the templates found no command.
Pure: no state, no I/O.
"""

from __future__ import annotations

import re

_GOOD = r"(?:good|nice|great|awesome|excellent|amazing|fantastic|super|wonderful|cool)"
_LEAD = r"^(?:(?:hey|oh|wow|aw|aww) )?(?:jibo )?"
_TAIL = r"(?: (?:jibo|buddy|pal|again|today|there))*$"
_COMPLIMENT = re.compile(
    _LEAD + r"(?:(?:what a |such a |really |very |so )?"
    rf"{_GOOD} (?:job|work|robot|boy|girl|one|answer|try|going|stuff)"
    r"|well done|way to go|nicely done|bravo|you did (?:it|great|good|well|awesome)"
    r"|you rock|you rule|you're a star|you are a star)" + _TAIL
)
_THAT_WAS = re.compile(
    _LEAD + r"(?:that was|that's|that is) (?:so |really |very |pretty )?"
    r"(?:funny|hilarious|awesome|great|amazing|cool|fun|sweet|cute|impressive)" + _TAIL
)


def praise_intent(normalized: str) -> str | None:
    """The chitchat intent of a normalized utterance that is, as a whole, praise, or None."""
    if _COMPLIMENT.match(normalized):
        return "userSaysCompliment"
    if _THAT_WAS.match(normalized):
        return "unknownIsDescriptor"
    return None
