"""Slot filling for a semantic match: times, durations, holidays, genres and days.

A semantic match names a phrase but matched none of its templates, so its slots are looked
for anywhere in the utterance with the grammar's own slot vocabularies
(:data:`jibo_cloud.nlu.template.SLOT_KINDS`: spoken numbers, hours and minutes, am/pm words,
holidays, genres, days) and handed to the phrase's own entity builder, exactly as a template
match would. "could you count down ten minutes" → ``minutes=10``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from jibo_cloud.nlu.grammar import Phrase
from jibo_cloud.nlu.template import Slot, group_values, parse_template, template_regex

#: Fragments searched for in the utterance; a fragment is used when the phrase's templates
#: have every slot it names.
_FRAGMENTS = (
    "{hours:number} (hour | hours) [and] [{minutes:number} (minute | minutes)]",
    "{minutes:number} (minute | minutes) [and] [{seconds:number} (second | seconds)]",
    "{seconds:number} (second | seconds)",
    "(at | for) {hour} [{minute}] [{ampm}]",
    "{hour} [{minute}] {ampm}",
    "{holiday}",
    "{genre}",
    "{day}",
)


def _slot_names(template: str) -> set[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Slot):
            names.add(node.name)
        for child in getattr(node, "items", ()) or getattr(node, "options", ()):
            walk(child)

    walk(parse_template(template))
    return names


@functools.cache
def _patterns(phrase: Phrase) -> tuple[re.Pattern[str], ...]:
    wanted = set().union(*(_slot_names(t) for t in phrase.templates))
    return tuple(
        template_regex(f, prefix=r"(?:^| )") for f in _FRAGMENTS if _slot_names(f) <= wanted
    )


def fill(phrase: Phrase, normalized: str) -> dict[str, Any]:
    """The phrase's entities for an utterance it matched by meaning (normalized text)."""
    entities = dict(phrase.entities)
    if phrase.build is None:
        return entities
    groups: dict[str, str] = {}
    padded = normalized + " "
    for pattern in _patterns(phrase):
        match = pattern.search(padded)
        if match:
            for key, value in group_values(match).items():
                groups.setdefault(key, value)
    entities.update(phrase.build(groups))
    return entities
