"""The recogniser's per-turn search, built from what the robot expects to hear.

The LISTEN ``rules`` (``launch``, ``shared/yes_no`` …) select phrases of the embedded grammar
(:mod:`jibo_cloud.nlu.grammar`); ``asr.hints`` add words (``$YESNO`` adds the yes/no phrases;
plain words such as word-of-the-day answers fill the grammar's free slots). The result is one
JSGF grammar per distinct (rules, hints), compiled once per decoder and reused.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from jibo_cloud.nlu.grammar import RULES
from jibo_cloud.nlu.template import Slot, slot_alternatives, template_jsgf

#: Rules used when a LISTEN names none we know.
DEFAULT_RULES = ("launch", "globals/global_commands_launch")
#: Words the robot's owners say that the CMU dictionary lacks, with pronunciations.
EXTRA_WORDS = {"jibo": "JH IY B OW", "hiya": "HH AY Y AH"}
FILLER_PREFIX = "[ hey jibo | okay jibo | jibo | please ]"
#: The prefix of a request: "can you" / "could you" go before a verb ("can you tell me the
#: time", "could you turn it down"), never before a question, a greeting or an answer ("can
#: you what's the date"). A search that may put them anywhere has a cheap way to take an
#: open sentence's first words ("who won …" → "can you …") and force the rest onto a phrase.
REQUEST_PREFIX = "[ hey jibo | okay jibo | jibo | please | can you | could you ]"
#: First words that make a phrase a request (the grammar's imperative verbs).
REQUEST_VERBS = frozenset(
    {
        "be", "cancel", "crank", "delete", "download", "give", "go", "help", "introduce",
        "launch", "make", "move", "open", "play", "repeat", "say", "set", "show", "speak",
        "start", "stop", "tell", "turn",
    }
)  # fmt: skip
FILLER_SUFFIX = "[ please | jibo ]"

#: Hints that stand for a rule (PROTOCOL.md §4.3: hints may contain ``$YESNO``).
HINT_RULES = {"$YESNO": "shared/yes_no"}


def effective_rules(rules: Sequence[str], hints: Sequence[str]) -> tuple[str, ...]:
    """The rules to listen for: the known LISTEN rules plus the ones hints stand for."""
    chosen = [r for r in rules if r in RULES]
    chosen += [HINT_RULES[h] for h in hints if h in HINT_RULES and HINT_RULES[h] not in chosen]
    return tuple(chosen) or DEFAULT_RULES


def word_hints(hints: Sequence[str]) -> tuple[str, ...]:
    """Plain-word hints (not ``$``-macros), normalized."""
    return tuple(h.strip().lower() for h in hints if h.strip() and not h.startswith("$"))


def build_jsgf(
    rules: Sequence[str], hints: Sequence[str], known: Callable[[str], bool]
) -> str | None:
    """A JSGF grammar for the turn, or None when nothing can be said with known words.

    Args:
        known: whether the recogniser's dictionary has a word; phrases with unknown words are
            left out (the parser still understands them if the fallback model hears them).
    """
    slot_rules: dict[str, list[str]] = {}
    words = word_hints(hints)

    def slot(s: Slot) -> str | None:
        name = f"slot_{s.kind}"
        if name not in slot_rules:
            options = [a for a in slot_alternatives(s.kind, words) if _all_known(a, known)]
            slot_rules[name] = options
        return f"<{name}>" if slot_rules[name] else None

    options: list[str] = []
    for rule in effective_rules(rules, hints):
        for phrase in RULES[rule]:
            for template in phrase.templates:
                body = template_jsgf(template, slot)
                if body and _all_known(body, known) and body not in options:
                    options.append(body)
    if not options:
        return None
    requests: list[str] = []
    others: list[str] = []
    for option in options:
        (requests if _is_request(option) else others).append(option)
    kinds = [(REQUEST_PREFIX, requests), (FILLER_PREFIX, others)]
    body = " | ".join(f"{prefix} ( {' | '.join(group)} )" for prefix, group in kinds if group)
    lines = ["#JSGF V1.0;", "grammar turn;"]
    lines.append(f"public <turn> = ( {body} ) {FILLER_SUFFIX};")
    for name, alternatives in slot_rules.items():
        if alternatives:
            lines.append(f"<{name}> = ( {' | '.join(alternatives)} );")
    return "\n".join(lines) + "\n"


def _words(expansion: str) -> Iterable[str]:
    for token in expansion.replace("(", " ").replace(")", " ").replace("[", " ").split():
        if token not in {"]", "|"} and not token.startswith("<"):
            yield token


def _all_known(expansion: str, known: Callable[[str], bool]) -> bool:
    return all(known(w) for w in _words(expansion))


# ------------------------------------------------------------------ completing a stopped path

_JSGF_TOKEN = re.compile(r"\(|\)|\[|\]|\||<[A-Za-z0-9_]+>|[^\s()\[\]|;<>]+")

#: A parsed expansion: ("word", w) | ("ref", name) | ("seq", [...]) | ("alt", [...]) | ("opt", x).
Node = tuple[str, Any]


def _parse_expansion(tokens: list[str]) -> Node:
    """Parse the subset of JSGF :func:`build_jsgf` writes (words, ``( | )``, ``[ ]``, ``<ref>``)."""
    at = 0

    def alternatives(closer: str | None) -> Node:
        nonlocal at
        options: list[Node] = []
        items: list[Node] = []
        while at < len(tokens) and tokens[at] != closer:
            piece = tokens[at]
            at += 1
            if piece == "|":
                options.append(("seq", items))
                items = []
            elif piece in ("(", "["):
                inner = alternatives(")" if piece == "(" else "]")
                at += 1  # the closer
                items.append(inner if piece == "(" else ("opt", inner))
            elif piece.startswith("<"):
                items.append(("ref", piece[1:-1]))
            else:
                items.append(("word", piece))
        options.append(("seq", items))
        return options[0] if len(options) == 1 else ("alt", options)

    return alternatives(None)


def first_words(expansion: str) -> set[str]:
    """The words a JSGF expansion (as :func:`build_jsgf` writes them) can begin with.

    A rule reference counts as no word (slots hold values, not verbs).
    """
    found: set[str] = set()

    def walk(items: Sequence[Node]) -> bool:
        """Add the first words of a sequence; True when it can also be empty."""
        for kind, value in items:
            if kind == "word":
                found.add(value)
                return False
            if kind == "ref":
                return False
            if kind == "opt":
                walk([value])
            elif kind == "seq":
                if not walk(value):
                    return False
            else:  # alt: walk every option (each adds its first words)
                can_be_empty = [walk([option]) for option in value]
                if not any(can_be_empty):
                    return False
        return True

    walk([_parse_expansion(_JSGF_TOKEN.findall(expansion))])
    return found


@functools.cache
def _is_request(expansion: str) -> bool:
    """Whether a phrase can start with a request verb (cached: the grammar is rebuilt each
    turn from the same few dozen phrases)."""
    return bool(first_words(expansion) & REQUEST_VERBS)


def parse_jsgf(jsgf: str) -> tuple[Node, dict[str, Node]]:
    """A grammar written by :func:`build_jsgf`: its public rule and its other rules by name."""
    public: Node | None = None
    rules: dict[str, Node] = {}
    for line in jsgf.splitlines():
        head, sep, body = line.partition("=")
        if not sep:
            continue
        node = _parse_expansion(_JSGF_TOKEN.findall(body.rstrip().rstrip(";")))
        name = head.split()[-1].strip("<>")
        if head.startswith("public"):
            public = node
        else:
            rules[name] = node
    if public is None:
        raise ValueError("grammar has no public rule")
    return public, rules


def completions(jsgf: str, words: Sequence[str], limit: int) -> list[str] | None:
    """The sentences of ``jsgf`` that begin with ``words`` and go on after them.

    A grammar search that ran out of audio before its path reached the end of a phrase
    (pocketsphinx then returns the path so far: "what time" for "what time is it") can be
    completed when every way to go on means the same; this lists those ways.

    Returns:
        The continuations as whole sentences, shortest first; None when there are more than
        ``limit`` (a prefix such as "set the volume to" goes on in too many ways to guess).
    """
    public, rules = parse_jsgf(jsgf)
    found: set[str] = set()
    # Depth-first over (pending nodes, words still to match, words emitted): the words of
    # the stopped path are matched first, so only their continuations are expanded.
    stack: list[tuple[tuple[Node, ...], tuple[str, ...], tuple[str, ...]]] = [
        ((public,), tuple(words), ())
    ]
    while stack:
        pending, want, said = stack.pop()
        if not pending:
            if not want and len(said) > len(words):
                found.add(" ".join(said))
                if len(found) > limit:
                    return None
            continue
        (kind, value), rest = pending[0], pending[1:]
        if kind == "word":
            if want and want[0] != value:
                continue
            stack.append((rest, want[1:], (*said, value)))
        elif kind == "ref":
            stack.append(((rules[value], *rest), want, said))
        elif kind == "seq":
            stack.append(((*value, *rest), want, said))
        elif kind == "alt":
            stack.extend(((option, *rest), want, said) for option in value)
        else:  # opt
            stack.append((rest, want, said))
            stack.append(((value, *rest), want, said))
    return sorted(found, key=lambda s: (len(s.split()), s))
