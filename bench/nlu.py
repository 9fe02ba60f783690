"""NLU benchmark: does a typed or recognised sentence make the robot do what its owner meant?

Data (our own, written before the grammar was tuned; ``fixtures/nlu/``):

- ``launch_suite.json``: phrasings labelled with what the robot does next: the intent, the
  entities its skill reads, and the skill that launches (an on-robot ``@be/…`` skill, or
  ``cloud`` for a skill of this server). Split deterministically: a text whose
  ``sha256`` is ``0 mod 3`` is held out (about a third). Tune on the rest; held-out results
  are reported, never inspected while tuning (``--tune-failures`` prints tune failures only).
- ``false_launch.json``: open sentences and questions that are not commands. A false launch is
  a parse that launches an on-robot skill or a cloud command (anything outside
  :data:`NON_COMMAND`). The same hash split holds a third of it out too.

Scoring goes through the real pieces: :func:`jibo_cloud.nlu.parser.parse_text` under the
robot's launch rules, then :meth:`protocol.routing.SkillTable.route` over the server's own
manifests (:func:`jibo_cloud.hub.manifests.load_skills`).

Reported: accuracy on tune and held-out, the false-launch rate (all, and held-out alone),
and the parse CPU time per utterance (median over every sentence, ``time.thread_time_ns``
around one call, after a warm-up pass that compiles the patterns).

Run: ``python -m bench nlu`` (or ``python -m bench.nlu --tune-failures`` while tuning).
"""

from __future__ import annotations

import hashlib
import json
import statistics
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from jibo_cloud.hub.manifests import load_skills
from jibo_cloud.nlu.parser import parse_text
from protocol.routing import SkillTable

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "nlu"
LAUNCH_RULES = ("launch", "globals/global_commands_launch")
#: Outcomes that are not commands: conversation, knowledge questions, small talk.
NON_COMMAND = frozenset(
    {
        "chat",
        "generalWhoQuestions",
        "generalWhatQuestions",
        "generalWhereQuestions",
        "generalWhenQuestions",
        "generalHowQuestions",
        "generalWhyQuestions",
        "generalQuestions",
        "requestTellAboutThing",
        "howAreYou",
        "whoAreYou",
        "thanks",
    }
)


@attrs.frozen
class Labelled:
    text: str
    intent: str
    #: ``@be/…`` (this on-robot skill launches) or ``cloud`` (a skill of this server).
    skill: str
    entities: Mapping[str, Any]

    @property
    def held_out(self) -> bool:
        return held_out(self.text)


def held_out(text: str) -> bool:
    """The deterministic split: a third of the texts, chosen by hash, never tuned on."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % 3 == 0


def launch_suite() -> list[Labelled]:
    data = json.loads((DATA / "launch_suite.json").read_text(encoding="utf-8"))
    items = []
    for group in data["groups"]:
        for entry in group["texts"]:
            text, extra = (entry, {}) if isinstance(entry, str) else (entry[0], entry[1])
            items.append(
                Labelled(
                    text=text,
                    intent=group["intent"],
                    skill=group["skill"],
                    entities={**group["entities"], **extra},
                )
            )
    return items


def false_launch_texts() -> list[str]:
    data = json.loads((DATA / "false_launch.json").read_text(encoding="utf-8"))
    return list(data["texts"])


def outcome(text: str, table: SkillTable) -> tuple[dict[str, Any], str | None, bool]:
    """(parse, launched skill id or None, on robot?) for one sentence at launch."""
    nlu = parse_text(text, LAUNCH_RULES)
    match = table.route(nlu["intent"], nlu["entities"]) if "launch" in nlu["rules"] else None
    if match is None:
        return nlu, None, False
    return nlu, match.skill_id, match.on_robot


def mismatch(item: Labelled, table: SkillTable) -> str | None:
    """Why the robot would not do what ``item`` says, or None when it would."""
    nlu, skill_id, on_robot = outcome(item.text, table)
    entities = nlu["entities"] or {}
    if nlu["intent"] != item.intent:
        return f"intent {nlu['intent']!r} {entities}"
    wrong = {k: entities.get(k) for k, v in item.entities.items() if entities.get(k) != v}
    if wrong:
        return f"entities {wrong} (want {dict(item.entities)})"
    if item.skill == "cloud":
        if skill_id is None or on_robot:
            return f"launches {skill_id!r} (want a cloud skill)"
    elif (skill_id, on_robot) != (item.skill, True):
        return f"launches {skill_id!r} on_robot={on_robot} (want {item.skill})"
    return None


def is_command(text: str, table: SkillTable) -> bool:
    nlu, _, on_robot = outcome(text, table)
    if on_robot:
        return True
    return nlu["intent"] is not None and nlu["intent"] not in NON_COMMAND


def _cpu_ns(texts: list[str]) -> Iterator[int]:
    for text in texts:
        start = time.thread_time_ns()
        parse_text(text, LAUNCH_RULES)
        yield time.thread_time_ns() - start


def run(report: Any) -> None:
    table = load_skills()
    suite = launch_suite()
    tune = [i for i in suite if not i.held_out]
    held = [i for i in suite if i.held_out]
    false_texts = false_launch_texts()
    for name, items in (("tune", tune), ("held-out", held)):
        right = sum(mismatch(i, table) is None for i in items)
        report.add(
            f"nlu launch suite accuracy, {name}",
            100.0 * right / len(items),
            "%",
            f"{right}/{len(items)} phrasings",
        )
    for name, texts in (
        ("all", false_texts),
        ("held-out", [t for t in false_texts if held_out(t)]),
    ):
        launched = sum(is_command(t, table) for t in texts)
        report.add(
            f"nlu false launches (open sentences), {name}",
            100.0 * launched / len(texts),
            "%",
            f"{launched}/{len(texts)} launched a command",
        )
    texts = [i.text for i in suite] + false_texts
    list(_cpu_ns(texts))  # warm-up: compile every phrase's patterns
    samples = [ns for _ in range(3) for ns in _cpu_ns(texts)]
    report.add(
        "nlu parse CPU per utterance, p50",
        statistics.median(samples) / 1e6,
        "ms",
        f"{len(texts)} sentences x 3",
    )
    report.add(
        "nlu parse CPU per utterance, p95",
        statistics.quantiles(samples, n=20)[-1] / 1e6,
        "ms",
        "",
    )


def _tune_failures() -> int:
    """Print the tune split's failures and the false launches (never the held-out third)."""
    table = load_skills()
    tune = [i for i in launch_suite() if not i.held_out]
    bad = [(i, why) for i in tune if (why := mismatch(i, table)) is not None]
    for item, why in bad:
        print(f"TUNE  {item.text!r} -> {why}  [want {item.intent} @ {item.skill}]")
    falses = [t for t in false_launch_texts() if not held_out(t) and is_command(t, table)]
    for text in falses:
        nlu, skill_id, _ = outcome(text, table)
        print(f"FALSE {text!r} -> {nlu['intent']} {nlu['entities']} @ {skill_id}")
    print(f"{len(bad)}/{len(tune)} tune failures, {len(falses)} false launches")
    return 0


if __name__ == "__main__":
    if "--tune-failures" in sys.argv:
        sys.exit(_tune_failures())
    print("usage: python -m bench nlu | python -m bench.nlu --tune-failures")
