"""A tiny phrase-template language shared by the parser and the recogniser.

One template such as ``(what's | what is) the time [right now]`` is compiled two ways:

- to a regular expression the embedded parser matches against normalized text, with named
  groups for slots (``{hour:number}`` captures a spoken number as ``hour``);
- to a JSGF rule body the pocketsphinx recogniser uses as its per-turn grammar, so what the
  robot can hear and what the parser can understand never drift apart.

Syntax: words; ``( a | b )`` alternatives; ``[ x ]`` optional; ``{name:kind}`` or ``{kind}`` a
slot, where ``kind`` is a :data:`SLOT_KINDS` key or ``free`` (any words; in JSGF it becomes the
turn's hints, or is dropped when there are none). A :data:`TYPED_ONLY` kind is matched by the
parser but drops its template from the JSGF.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs

from jibo_cloud.nlu.places import place_names

_TOKEN = re.compile(r"\(|\)|\[|\]|\||\{[a-z_:]+\}|[a-z0-9']+")

ONES = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
    *("seventeen", "eighteen", "nineteen"),
]
TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip


def number_words(limit: int = 59) -> list[str]:
    """Spoken forms of 0…``limit`` (``twenty five``), the way recognisers write them."""
    out = list(ONES[: min(limit, 19) + 1])
    for word, base in TENS.items():
        for unit in range(10):
            if base + unit > limit:
                break
            out.append(word if unit == 0 else f"{word} {ONES[unit]}")
    return out


def words_to_number(text: str) -> int | None:
    """``twenty five`` → 25, ``7`` → 7, ``oh five`` → 5; None when it is not a number."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    total, seen = 0, False
    for word in text.split():
        if word == "oh" and not seen:
            seen = True
        elif word in TENS:
            total += TENS[word]
            seen = True
        elif word in ONES:
            total += ONES.index(word)
            seen = True
        else:
            return None
    return total if seen else None


#: Closed slot vocabularies: spoken alternatives (for JSGF and regex).
SLOT_KINDS: dict[str, list[str]] = {
    "number": number_words(59) + [str(n) for n in range(60)],
    #: Typed only: durations past 59 ("90 seconds", "ninety minutes"; Whisper writes digits).
    "count": number_words(99)[60:] + [str(n) for n in range(60, 1000)],
    "volume": number_words(10) + [str(n) for n in range(11)],
    "hour": number_words(12)[1:] + [str(n) for n in range(1, 13)],
    "minute": [f"oh {w}" for w in ONES[1:10]]
    + number_words(59)[10:]
    + ["o'clock"]
    + [f"{n:02d}" for n in range(10)]
    + [str(n) for n in range(10, 60)],
    "ampm": [
        "a m",
        "p m",
        "am",
        "pm",
        "in the morning",
        "in the evening",
        "at night",
        "in the afternoon",
        "tonight",
        "tomorrow morning",
        "this morning",
        "tomorrow afternoon",
        "this afternoon",
        "tomorrow evening",
        "this evening",
        "tomorrow night",
    ],
    "day": ["today", "tomorrow", "tonight", "this weekend"],
    #: Holidays the robot's clock skill answers "when is …" for.
    "holiday": [
        *("christmas", "christmas eve", "thanksgiving", "halloween", "easter"),
        *("new year's day", "new year's eve", "new year's", "new years", "valentine's day"),
        *("mother's day", "father's day", "independence day", "the fourth of july"),
        *("fourth of july", "labor day", "memorial day", "hanukkah", "kwanzaa"),
        *("saint patrick's day", "st patrick's day", "martin luther king day"),
        *("presidents day", "veterans day", "columbus day", "earth day", "groundhog day"),
    ],
    #: Typed only (:data:`TYPED_ONLY`): the recogniser hears "delete …" for "tell me the time".
    "delete": ["delete", "erase"],
    #: Typed only: "what time is my alarm" would make "what time …" ambiguous to complete.
    "whattime": ["what time"],
    #: Radio genres an owner asks the robot's radio skill for.
    "genre": [
        *("jazz", "rock", "pop", "country", "classical", "blues", "hip hop", "rap"),
        *("oldies", "reggae", "folk", "dance", "electronic", "soul", "r and b", "latin"),
        *("metal", "alternative", "indie", "funk", "gospel", "disco", "christmas"),
        *("kids", "top forty", "eighties", "nineties", "seventies", "sixties", "classic rock"),
    ],
    #: Typed only: the units "what is {quantity} in {unit}" converts to; without this list
    #: "what is the biggest animal in the ocean" was a conversion to "the ocean".
    "unit": [
        *("feet", "foot", "inches", "inch", "yards", "yard", "miles", "mile", "meters", "meter"),
        *("metres", "metre", "centimeters", "centimetres", "millimeters", "millimetres"),
        *("kilometers", "kilometres", "kilometer", "kilometre", "pounds", "pound", "ounces"),
        *("ounce", "grams", "gram", "kilograms", "kilogram", "kilos", "tons", "tonnes", "stone"),
        *("cups", "cup", "liters", "litres", "liter", "litre", "milliliters", "millilitres"),
        *("gallons", "gallon", "quarts", "quart", "pints", "pint", "tablespoons", "teaspoons"),
        *("fluid ounces", "celsius", "fahrenheit", "kelvin", "degrees celsius"),
        *("degrees fahrenheit", "seconds", "minutes", "hours", "days", "weeks", "months"),
        *("years", "acres", "hectares", "square feet", "square meters", "square miles"),
        *("square kilometers", "miles per hour", "kilometers per hour", "knots", "mph"),
    ],
}


#: Typed only: places for the time there (:mod:`jibo_cloud.nlu.places`, 558 names; closed,
#: so ``askForTime`` never becomes a free-text intent for the speech decision).
SLOT_KINDS["place"] = place_names()

#: Slot kinds the parser matches but the recogniser's grammar leaves out (their templates drop
#: from the JSGF): words a grammar search picks for other phrases, or too many of them.
TYPED_ONLY = frozenset({"delete", "whattime", "unit", "place", "count"})


@attrs.frozen
class Word:
    text: str


@attrs.frozen
class Slot:
    name: str
    kind: str


@attrs.frozen
class Alt:
    options: tuple[Seq, ...]
    optional: bool = False


@attrs.frozen
class Seq:
    items: tuple[Word | Slot | Alt, ...]


class TemplateError(ValueError):
    """A grammar template is malformed; the message quotes it."""


def parse_template(template: str) -> Seq:
    """Parse a template into a tree; raises :class:`TemplateError` naming the template."""
    tokens = _TOKEN.findall(template.lower())
    pos = 0

    def seq(closers: str) -> Alt:
        nonlocal pos
        options: list[Seq] = []
        items: list[Word | Slot | Alt] = []
        while pos < len(tokens) and tokens[pos] not in closers:
            tok = tokens[pos]
            pos += 1
            if tok in ")]":
                raise TemplateError(f"unexpected {tok!r} in template {template!r}")
            if tok == "|":
                options.append(Seq(tuple(items)))
                items = []
            elif tok in "([":
                inner = seq(")" if tok == "(" else "]")
                if pos >= len(tokens):
                    raise TemplateError(f"unclosed {tok!r} in template {template!r}")
                pos += 1
                items.append(Alt(inner.options, optional=tok == "["))
            elif tok.startswith("{"):
                name, _, kind = tok[1:-1].partition(":")
                kind = kind or name
                if kind != "free" and kind not in SLOT_KINDS:
                    raise TemplateError(f"unknown slot kind {kind!r} in template {template!r}")
                items.append(Slot(name, kind))
            else:
                items.append(Word(tok))
        options.append(Seq(tuple(items)))
        return Alt(tuple(options))

    top = seq("")
    if pos != len(tokens):
        raise TemplateError(f"unbalanced brackets in template {template!r}")
    return Seq((top,)) if len(top.options) > 1 else top.options[0]


# --------------------------------------------------------------------------- regex


def _slot_regex(kind: str) -> str:
    if kind == "free":
        return r"(?:[a-z0-9']+ )+?"
    words = sorted(SLOT_KINDS[kind], key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) + " " for w in words) + ")"


def _regex(node: Seq | Alt | Word | Slot) -> str:
    if isinstance(node, Word):
        return re.escape(node.text) + " "
    if isinstance(node, Slot):
        return f"(?P<{node.name}>{_slot_regex(node.kind)})"
    if isinstance(node, Seq):
        return "".join(_regex(i) for i in node.items)
    body = "(?:" + "|".join(_regex(o) for o in node.options) + ")"
    return body + "?" if node.optional else body


def first_words(template: str) -> frozenset[str] | None:
    """The words a match of ``template`` can begin with; None when it can begin with any
    word (a free slot first) or match nothing at all. The parser's index: a template whose
    first words the utterance cannot begin with is not tried."""
    found = _firsts(parse_template(template))
    return None if found is None or "" in found else frozenset(found)


def _firsts(node: Seq | Alt | Word | Slot) -> set[str] | None:
    """First words of ``node``'s matches, "" among them when it can match nothing; None:
    any word."""
    if isinstance(node, Word):
        return {node.text}
    if isinstance(node, Slot):
        if node.kind == "free":
            return None
        return {w.split()[0] for w in SLOT_KINDS[node.kind]}
    if isinstance(node, Alt):
        out: set[str] = {""} if node.optional else set()
        for option in node.options:
            inner = _firsts(option)
            if inner is None:
                return None
            out |= inner
        return out
    result: set[str] = set()
    for item in node.items:
        inner = _firsts(item)
        if inner is None:
            return None
        result |= inner - {""}
        if "" not in inner:
            return result
    return result | {""}


def template_regex(template: str, *, prefix: str = "", suffix: str = "") -> re.Pattern[str]:
    """Compile a template; matched text must be normalized and end with one space."""
    return re.compile(prefix + _regex(parse_template(template)) + suffix)


# --------------------------------------------------------------------------- JSGF


def _jsgf(node: Seq | Alt | Word | Slot, slot: Callable[[Slot], str | None]) -> str | None:
    if isinstance(node, Word):
        return node.text
    if isinstance(node, Slot):
        return slot(node)
    if isinstance(node, Seq):
        parts = [_jsgf(i, slot) for i in node.items]
        if any(p is None for p in parts):
            return None
        return " ".join(p for p in parts if p)
    options = [o for o in (_jsgf(opt, slot) for opt in node.options) if o is not None]
    if not options:
        return None
    inner = " | ".join(options)
    return f"[ {inner} ]" if node.optional else f"( {inner} )"


def template_jsgf(template: str, slot: Callable[[Slot], str | None]) -> str | None:
    """A JSGF expansion for a template; ``slot`` names the rule for a slot (None drops it)."""
    return _jsgf(parse_template(template), slot)


def template_words(templates: Iterable[str]) -> set[str]:
    """Every literal word in the templates (to check a dictionary covers them)."""
    found: set[str] = set()

    def walk(node: Seq | Alt | Word | Slot) -> None:
        if isinstance(node, Word):
            found.add(node.text)
        elif isinstance(node, Seq):
            for item in node.items:
                walk(item)
        elif isinstance(node, Alt):
            for option in node.options:
                walk(option)

    for template in templates:
        walk(parse_template(template))
    return found


def slot_alternatives(kind: str, hints: Sequence[str] = ()) -> list[str]:
    """The spoken alternatives of a slot kind (``free`` → the turn's hints; none for a
    :data:`TYPED_ONLY` kind, so its templates stay out of the recogniser's grammar)."""
    if kind == "free":
        return [h for h in hints if h]
    if kind in TYPED_ONLY:
        return []
    return list(SLOT_KINDS[kind])


def group_values(match: re.Match[str]) -> Mapping[str, str]:
    """The captured slots of a match, stripped."""
    return {k: v.strip() for k, v in match.groupdict().items() if v}
