"""Which of Whisper's beam hypotheses reads most like English.

Whisper base's best guess for an open sentence is often one sound off ("what is the capital
and friends") while a hypothesis further down its beam has the right words ("what is the
capital of France"): on the tuning phrases the best of the beam's five had about half the word
errors of the first. A language model tells them apart by the words alone. The one used here
is the general English 3-gram model that the ``pocketsphinx`` package ships (``en-us.lm.bin``,
the same file its decoders load; nothing is downloaded), read with pocketsphinx's own
``NGramModel``. Synchronous and cheap (a few lookups per word); loaded once per decoder worker,
on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.speech.agree import free_text_intents, spoken_form

#: pocketsphinx's log base (its LogMath default): a score of ``s`` is ``s * ln(1.0001)`` nats.
_LOG_BASE = math.log(1.0001)


def default_path() -> str:
    """The general English model's path inside the installed ``pocketsphinx`` package."""
    from pocketsphinx import Config

    return str(Config()["lm"])


class WordModel:
    """A 3-gram model's view of a transcript (see the module docs).

    Raises (from the constructor): ValueError/OSError when the model file does not load.
    """

    def __init__(self, path: str | None = None, *, floor: float = -12.0) -> None:
        from pocketsphinx import NGramModel

        self._model = NGramModel.readfile(path or default_path())
        #: A word's log-probability is never counted below this (nats): a word the model does
        #: not know ("Jibo") costs this much, not pocketsphinx's -5,000-odd for unknown words.
        self.floor = floor

    def per_word(self, text: str) -> float:
        """Mean log-probability (nats) per word of ``text`` as said (lower case, digits as
        words), the end of the sentence included."""
        words = ["<s>", *spoken_form(text).split(), "</s>"]
        total = 0.0
        for i in range(1, len(words)):
            history = words[max(0, i - 2) : i][::-1]  # most recent first, as pocketsphinx wants
            total += max(self.floor, self._model.prob([words[i], *history]) * _LOG_BASE)
        return total / (len(words) - 1)

    def best(self, texts: Sequence[str], logprobs: Sequence[float], weight: float) -> str:
        """The text whose Whisper mean log-probability plus ``weight`` times :meth:`per_word`
        is highest (``texts`` and ``logprobs`` in the same order, not empty)."""
        scored = [
            (lp + weight * self.per_word(t), t) for t, lp in zip(texts, logprobs, strict=True)
        ]
        return max(scored, key=lambda pair: pair[0])[1]


def reword(
    text: str,
    logprob: float,
    alternatives: Sequence[str],
    logprobs: Sequence[float],
    rules: Sequence[str],
    model: WordModel,
    weight: float,
) -> str:
    """An open sentence's words: of Whisper's best ``text`` and its beam's other hypotheses
    (``alternatives``, with their mean log-probabilities), the one :meth:`WordModel.best`
    prefers, when the parser gives it the same intent as ``text``. Only for words that land
    on a catch-all or free-text intent: a command's words are never changed, and no open
    sentence becomes a command. Without alternatives, or without their log-probabilities
    (a stand-in), ``text`` as it is. The server's choice (``Utterance``) and the bench's
    offline rules (``bench/speech_rules.py``) both decide here."""
    if not alternatives or len(logprobs) != len(alternatives):
        return text
    intent = parse_text(text, rules)["intent"]
    if intent not in free_text_intents(tuple(rules)):
        return text
    best = model.best([text, *alternatives], [logprob, *logprobs], weight)
    if best != text and parse_text(best, rules)["intent"] == intent:
        return best
    return text
