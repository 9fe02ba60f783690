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

from jibo_cloud.speech.agree import spoken_form

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

    def best(
        self, texts: Sequence[str], logprobs: Sequence[float], weight: float
    ) -> tuple[str, float]:
        """The text whose Whisper mean log-probability plus ``weight`` times :meth:`per_word` is
        highest, and that sum (``texts`` and ``logprobs`` in the same order, not empty)."""
        scored = [
            (lp + weight * self.per_word(t), t) for t, lp in zip(texts, logprobs, strict=True)
        ]
        value, text = max(scored, key=lambda pair: pair[0])
        return text, value
