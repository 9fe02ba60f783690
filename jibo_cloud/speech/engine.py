"""The embedded recogniser's decoding side: pocketsphinx decoders, their pools, one utterance.

Synchronous and free of trio, so the same code runs in a worker thread of the server
(:mod:`jibo_cloud.speech.sphinx`) and in a decoder worker process
(:mod:`jibo_cloud.speech.worker`). It hears only speech: 16 kHz s16le PCM from a little before
speech started to a little after it ended. Decoding the robot's audio and detecting speech are
the server's job (:mod:`jibo_cloud.speech.front`), so SOS/EOS timing never depends on where
decoding runs.

An :class:`Utterance` streams the speech through a per-turn grammar while the owner talks
(:mod:`jibo_cloud.speech.search`); :meth:`Utterance.finish` then decides: the grammar's answer
when it is a whole phrase that explains the speech (:func:`unexplained_speech`: a phrase that
leaves seconds of speech to "silence" is an out-of-grammar sentence forced onto the grammar),
else pocketsphinx's general English model (the "fallback") and, when that heard words, the
grammar again from better starting means and other frequency warps, or the completion of a
path that stopped one or two words short (:meth:`Utterance._complete`); GARBAGE when no words
were heard at all.

What a robot's turns start from (its :class:`~jibo_cloud.speech.speakers.SpeakerState`: a
frequency warp and a cepstral mean) is written here when the grammar accepts an utterance and
read back by the next turn; the server keeps one per robot (:mod:`jibo_cloud.speech.speakers`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import attrs
from pocketsphinx import Decoder, Vad

from jibo_cloud.nlu.parser import grammar_accepts, parse_text
from jibo_cloud.services import AsrResult
from jibo_cloud.speech.agree import command_alternative, grammar_wins, needs_grammar, understood
from jibo_cloud.speech.decode import PCM_RATE
from jibo_cloud.speech.policy import DEFAULT_POLICY, NO_WARP, DecodePolicy
from jibo_cloud.speech.search import (
    DEFAULT_RULES,
    EXTRA_WORDS,
    build_jsgf,
    completions,
    effective_rules,
    word_hints,
)
from jibo_cloud.speech.speakers import SpeakerState
from jibo_cloud.speech.whisper import Heard
from jibo_cloud.speech.wording import WordModel, reword

#: Whisper over one utterance's speech PCM and the turn's plain-word hints (see
#: :meth:`Utterance.finish`).
Listen = Callable[[bytes, Sequence[str]], Heard | None]

log = logging.getLogger(__name__)

#: Confidence reported for an utterance the grammar accepts / the fallback model heard.
GRAMMAR_CONFIDENCE = 0.9
FALLBACK_CONFIDENCE = 0.5
#: Confidence reported for Whisper's words (sure, and not the grammar's phrase).
WHISPER_CONFIDENCE = 0.8
#: Idle decoders kept per kind.
POOL_SIZE = 24
#: Turn grammars (JSGF texts) an :class:`Engine` keeps built.
JSGF_CACHE = 64
#: pocketsphinx's frame shift (its default ``-frate`` of 100 per second).
FRAME_SECONDS = 0.01


def read_speaker_state(
    state: SpeakerState | None, warps: Sequence[str] = DEFAULT_POLICY.warps
) -> tuple[str, str | None]:
    """(warp, cepstral mean) a turn starts from; None → the defaults.

    A warp not in ``warps`` (a state from a server with another policy) falls back to
    :data:`NO_WARP`; its mean is still a better start than none.
    """
    if state is None:
        return NO_WARP, None
    return (state.warp if state.warp in warps else NO_WARP), state.mean


def offset(seconds: float) -> int:
    """Byte offset of a time in 16 kHz s16 PCM (negative times clamp to 0)."""
    return int(max(0.0, seconds) * PCM_RATE) * 2


class DecoderPool:
    """Reusable pocketsphinx decoders of one kind; thread-safe; create on demand."""

    def __init__(self, factory: Callable[[], Decoder], keep: int = POOL_SIZE) -> None:
        self._factory = factory
        self._keep = keep
        self._idle: list[Decoder] = []
        self._lock = threading.Lock()
        self._initial: str | None = None

    def take(self, cmn: str | None = None) -> Decoder:
        """An idle decoder (or a new one) whose live cepstral mean starts at ``cmn``.

        Args:
            cmn: the mean to start from (see :class:`jibo_cloud.speech.speakers.SpeakerState`);
                None → the model's initial mean, so a decoder never carries the last owner's.
        """
        with self._lock:
            decoder = self._idle.pop() if self._idle else None
        if decoder is None:
            decoder = self._factory()
            with self._lock:
                if self._initial is None:
                    self._initial = decoder.get_cmn(False)
        start = cmn if cmn is not None else self._initial
        if start is not None:
            decoder.set_cmn(start)
        return decoder

    def give(self, decoder: Decoder) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(decoder)


def _quiet_config(**kwargs: Any) -> Decoder:
    """A decoder that prints nothing.

    At ``ERROR`` pocketsphinx prints "Final result does not match the grammar" to stderr for
    every grammar path that stopped short of a phrase's end, an outcome :class:`Utterance`
    expects and handles (see :meth:`Utterance._complete`): one line per such turn in the
    server's log, and more with re-passes. Real failures (a grammar that does not compile, a
    missing model) raise from the binding whatever the level.
    """
    decoder = Decoder(samprate=PCM_RATE, loglevel="FATAL", **kwargs)
    for word, phones in EXTRA_WORDS.items():
        if decoder.lookup_word(word) is None:
            decoder.add_word(word, phones, True)
    return decoder


def grammar_decoder(warp: str = NO_WARP, *, lattice: bool = True) -> Decoder:
    """A decoder without the general model (cheap); grammars are added per turn.

    Beams narrower than the defaults: ~20 % less CPU with no loss on the bench set (a grammar
    leaves few paths worth keeping).

    Args:
        warp: the frequency warp of its front end (one of :attr:`DecodePolicy.warps`);
            pocketsphinx sets it when the decoder is made, so each warp has its own decoders.
        lattice: end each pass with pocketsphinx's lattice best-path search (its ``bestpath``
            option; set when the decoder is made). On the launch grammar that search costs
            more than the pass itself (see :attr:`DecodePolicy.open_lattice`); without it the
            answer is the Viterbi search's own best path.
    """
    warping = {} if warp == NO_WARP else {"warp_type": "inverse_linear", "warp_params": warp}
    return _quiet_config(
        lm=None,
        beam=1e-40,
        pbeam=1e-40,
        wbeam=1e-25,
        maxhmmpf=2000,
        bestpath=lattice,
        **warping,
    )


def general_decoder() -> Decoder:
    """A decoder with pocketsphinx's bundled general English model.

    Beams are narrower than pocketsphinx's defaults: about 4x faster (real-time factor ~0.25
    instead of ~1 on a 2-core box) for a small loss on words the grammar did not cover anyway.
    """
    return _quiet_config(maxhmmpf=3000, maxwpf=5, beam=1e-40, wbeam=1e-30, pbeam=1e-40)


def unexplained_speech(decoder: Decoder, speech: bytes) -> float:
    """Seconds of speech the decoder's best path calls silence.

    A grammar forces an out-of-grammar sentence onto its nearest phrase by stretching words
    and by taking the rest for silence ("hello darkness my old friend" → "hello" and a long
    pause). A voice detector that knows nothing of the grammar (pocketsphinx's WebRTC-style
    :class:`~pocketsphinx.Vad`, 10 ms frames, the decoder's frame rate) says which of those
    "silent" frames hold speech. A fresh detector each time: it adapts to what it hears, and
    one utterance must not change the next one's answer.
    """
    vad = Vad(Vad.LOOSE, PCM_RATE, FRAME_SECONDS)
    size = vad.frame_bytes
    frames = 0
    for seg in decoder.seg() or ():
        if not seg.word.startswith(("<", "[", "+")) or seg.word in ("<s>", "</s>"):
            continue  # words, and the zero-length start/end marks
        for frame in range(seg.start_frame, seg.end_frame + 1):
            chunk = speech[frame * size : (frame + 1) * size]  # past the buffer: not counted
            if len(chunk) == size and vad.is_speech(chunk):
                frames += 1
    return frames * FRAME_SECONDS


@attrs.define
class Engine:
    """The decoder pools one process (server or worker) decodes with, and how it decides."""

    grammars: DecoderPool = attrs.field(factory=lambda: DecoderPool(grammar_decoder))
    general: DecoderPool = attrs.field(factory=lambda: DecoderPool(general_decoder, keep=2))
    policy: DecodePolicy = DEFAULT_POLICY
    #: Grammar decoders of the policy's other warps, made when first needed.
    warped: dict[str, DecoderPool] = attrs.field(
        default=attrs.Factory(
            lambda self: {
                w: DecoderPool(functools.partial(grammar_decoder, w)) for w in self.policy.warps[1:]
            },
            takes_self=True,
        )
    )
    #: Grammar decoders without the lattice best-path search, per warp (open turns decided
    #: with Whisper, unless :attr:`DecodePolicy.open_lattice`), made when first needed.
    lean: dict[str, DecoderPool] = attrs.field(
        default=attrs.Factory(
            lambda self: {
                w: DecoderPool(functools.partial(grammar_decoder, w, lattice=False))
                for w in self.policy.warps
            },
            takes_self=True,
        )
    )

    #: Each turn's JSGF text by (rules, hints), built once (:meth:`jsgf`).
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False, repr=False)
    _grammars: dict[tuple[tuple[str, ...], tuple[str, ...]], str | None] = attrs.field(
        factory=dict, init=False, repr=False
    )

    #: The language model that rewords open sentences (:meth:`word_model`), and whether it
    #: failed to load (then it is not tried again).
    _words: WordModel | None = attrs.field(default=None, init=False, repr=False)
    _words_failed: bool = attrs.field(default=False, init=False, repr=False)

    def word_model(self) -> WordModel | None:
        """pocketsphinx's general English 3-gram model (:mod:`jibo_cloud.speech.wording`),
        loaded on first use; None (one warning line, then silence) when it does not load."""
        with self._lock:
            if self._words is None and not self._words_failed:
                try:
                    self._words = WordModel(floor=self.policy.whisper_lm_floor)
                except (ValueError, OSError) as exc:
                    log.warning("speech: no language model, Whisper's words as heard: %s", exc)
                    self._words_failed = True
            return self._words

    def jsgf(self, rules: Sequence[str], hints: Sequence[str], decoder: Decoder) -> str | None:
        """The turn's grammar (:func:`build_jsgf`), built once per distinct (rules, hints).

        Building the launch grammar's text from the parser's templates costs ~25 ms, on every
        open turn and command; every grammar decoder has the same dictionary (the model's and
        :data:`EXTRA_WORDS`), so ``decoder`` only says which words are known. At most
        :data:`JSGF_CACHE` grammars are kept (hints make turns' grammars differ: word-of-the-day
        guesses); past that the oldest is dropped.
        """
        key = (tuple(rules), tuple(hints))
        try:
            return self._grammars[key]
        except KeyError:
            pass
        jsgf = build_jsgf(rules, hints, lambda w: decoder.lookup_word(w) is not None)
        with self._lock:
            if len(self._grammars) >= JSGF_CACHE:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[key] = jsgf
        return jsgf

    def pool(self, warp: str, *, lattice: bool = True) -> DecoderPool:
        """The grammar decoders of ``warp``, with or without the lattice search."""
        if not lattice:
            return self.lean[warp]
        return self.grammars if warp == NO_WARP else self.warped[warp]

    def warm_up(self, *, lean: bool = False) -> None:
        """Build one decoder of each kind now, with the launch grammar compiled, so the first
        turn does not pay for it (the launch grammar takes ~0.3-0.7 s to compile).

        Args:
            lean: also one lattice-free grammar decoder (what open turns decided with Whisper
                use; a worker with Whisper asks for it).
        """
        kinds = [True, False] if lean and not self.policy.open_lattice else [True]
        for lattice in kinds:
            pool = self.pool(NO_WARP, lattice=lattice)
            decoder = pool.take()
            jsgf = self.jsgf(DEFAULT_RULES, (), decoder)
            if jsgf is not None:
                _activate(decoder, jsgf)
            pool.give(decoder)
        self.general.give(self.general.take())


@attrs.frozen
class Decision:
    """What :meth:`Utterance.finish` concluded."""

    result: AsrResult
    #: The speaker state (warp and cepstral mean) when the grammar accepted the utterance
    #: (worth remembering for this robot), else None.
    speaker: SpeakerState | None = None


@attrs.frozen
class GrammarPass:
    """One grammar pass's answer."""

    text: str
    #: Whether ``text`` is a whole phrase of the turn's rules (else the path stopped early).
    whole: bool
    #: Seconds of speech the path took for silence (:func:`unexplained_speech`).
    unexplained: float
    #: Most unexplained speech this pass may leave and be accepted.
    limit: float = DEFAULT_POLICY.max_unexplained_seconds

    @property
    def acceptable(self) -> bool:
        """A whole phrase that leaves no more than a short stretch of speech unexplained."""
        return self.whole and self.unexplained <= self.limit


def _search_name(jsgf: str) -> str:
    return "g" + hashlib.sha1(jsgf.encode(), usedforsecurity=False).hexdigest()[:16]


def _activate(decoder: Decoder, jsgf: str) -> None:
    """Search ``jsgf`` next; compiled once per decoder, then found by its content hash."""
    name = _search_name(jsgf)
    try:
        decoder.activate_search(name)
    except KeyError:
        decoder.add_jsgf_string(name, jsgf)
        decoder.activate_search(name)


def _guarded(
    score: Callable[[Sequence[str]], list[float]] | None,
) -> Callable[[Sequence[str]], list[float] | None] | None:
    """Whisper's forced score that answers None instead of raising (the similarity rule then
    decides): a turn is never lost to the check of a second opinion."""
    if score is None:
        return None

    def guarded(texts: Sequence[str]) -> list[float] | None:
        try:
            return score(texts)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError
            log.warning("speech: Whisper's score of the grammar's phrase failed: %s", exc)
            return None

    return guarded


class Utterance:
    """One turn's decoding. Call :meth:`release` on every path (it returns the decoder)."""

    def __init__(
        self,
        engine: Engine,
        rules: Sequence[str],
        hints: Sequence[str],
        speaker: SpeakerState | None = None,
        *,
        whisper: bool = False,
    ) -> None:
        """Args:
        speaker: the speaker state to start from, None for the defaults.
        whisper: Whisper is expected to decide (a worker with a model). An open turn is then
            not streamed through the grammar: the grammar runs only if it has to (see
            :meth:`finish`), and the launch grammar's pass (RTF ~0.1-0.25) is not paid on
            every turn. A constrained turn is streamed either way.
        """
        self._engine = engine
        self._policy = engine.policy
        self._rules = effective_rules(rules, hints)
        self._hints = word_hints(hints)
        self._stream = not whisper or self.constrained
        #: Grammar passes end with the lattice search (see :attr:`DecodePolicy.open_lattice`).
        self._lattice = self._stream or self._policy.open_lattice
        self._warp, mean = read_speaker_state(speaker, self._policy.warps)
        self._decoder: Decoder | None = self._pool(self._warp).take(mean)
        self._speech = bytearray()
        self._in_utterance = False
        self._has_search = False
        self._jsgf: str | None = None
        try:
            self._select_search(rules, hints)
        except BaseException:
            self.release()
            raise

    def _pool(self, warp: str) -> DecoderPool:
        return self._engine.pool(warp, lattice=self._lattice)

    def _select_search(self, rules: Sequence[str], hints: Sequence[str]) -> None:
        decoder = self._decoder
        assert decoder is not None
        jsgf = self._engine.jsgf(rules, hints, decoder)
        if jsgf is None:
            return
        self._jsgf = jsgf
        _activate(decoder, jsgf)
        self._has_search = True

    def process(self, pcm: bytes) -> None:
        """Stream more speech into the grammar search (the first call starts the utterance).

        Decoding while the owner speaks leaves little work for :meth:`finish`, so EOS →
        LISTEN stays short.
        """
        if not pcm:
            return
        keep = offset(self._policy.speech_max_seconds)
        if len(self._speech) < keep:
            self._speech += pcm[: keep - len(self._speech)]
        decoder = self._decoder
        if decoder is None or not self._has_search or not self._stream:
            return
        if not self._in_utterance:
            decoder.start_utt()
            self._in_utterance = True
        decoder.process_raw(pcm)

    @property
    def heard(self) -> bool:
        """Whether any speech arrived."""
        return bool(self._speech)

    @property
    def constrained(self) -> bool:
        """A turn that expects one of a few phrases (yes/no, a menu, a time), not open speech:
        none of its rules is ``launch``."""
        return "launch" not in self._rules

    def finish(self, listen: Listen | None = None, *, quick: bool = False) -> Decision:
        """End the utterance and decide (see the module docs and :func:`decide_open`).

        Args:
            listen: Whisper for this utterance (None: pocketsphinx alone, e.g. when the
                Whisper queue is full or no model loaded). Called only when needed: a
                constrained turn whose grammar pass is accepted never waits for it. It gets
                the turn's plain-word hints (its previous-text prompt).
            quick: the worker is behind: with Whisper, no grammar pass after it (the second
                opinion on catch-all words; when Whisper is unsure but heard speech, its words
                instead of pocketsphinx's slow paths). A launch grammar pass costs more CPU
                than Whisper's decode (docs/speech.md, "Load").
        """
        if not self._speech:
            return Decision(AsrResult(text="", confidence=0.0))
        first = self._streamed_pass() if self._stream else None
        if first is not None and first.acceptable and (listen is None or self.constrained):
            return self._accepted(first.text)
        whisper = listen(bytes(self._speech), self._hints) if listen is not None else None
        if quick and whisper is not None and whisper.speech:
            if whisper.sure:
                return Decision(
                    AsrResult(text=self._whisper_words(whisper), confidence=WHISPER_CONFIDENCE)
                )
            return Decision(AsrResult(text=self._reworded(whisper), confidence=FALLBACK_CONFIDENCE))
        if whisper is not None and whisper.sure:
            if first is None and needs_grammar(whisper.text, self._rules):
                other = self._command_alternative(whisper)
                if other is not None:  # the beam's next guess is a request: no grammar pass
                    return Decision(AsrResult(text=other, confidence=WHISPER_CONFIDENCE))
                first = self._buffered_pass()
            if (
                first is not None
                and first.acceptable
                and grammar_wins(
                    first.text,
                    whisper.text,
                    self._rules,
                    self._policy.snap_similarity,
                    alternatives=whisper.alternatives,
                    very_sure=whisper.very_sure,
                    score=_guarded(whisper.score),
                    score_margin=self._policy.grammar_score_margin,
                )
            ):
                return self._accepted(first.text)  # the grammar's exact words
            words = self._menu_words(whisper) if self.constrained else self._reworded(whisper)
            return Decision(AsrResult(text=words, confidence=WHISPER_CONFIDENCE))
        if first is None:  # not streamed: the grammar's first pass now, over the speech
            first = self._buffered_pass()
        if first.acceptable:
            return self._accepted(first.text)
        decision = self._sphinx_rest(first)
        general = decision.result.annotation is None and decision.speaker is None
        if whisper is not None and whisper.speech and general:
            # Whisper unsure still hears open speech better than the general model.
            return Decision(AsrResult(text=self._reworded(whisper), confidence=FALLBACK_CONFIDENCE))
        return decision

    def _command_alternative(self, whisper: Heard) -> str | None:
        """One of Whisper's other beam hypotheses that is a request, when its best words
        land on a catch-all (:func:`~jibo_cloud.speech.agree.command_alternative`)."""
        return command_alternative(
            whisper.alternatives,
            whisper.alternative_logprobs,
            whisper.avg_logprob,
            self._rules,
            self._policy.whisper_alternative_margin,
        )

    def _whisper_words(self, whisper: Heard) -> str:
        """Whisper's words for a turn decided without the grammar: its best, or the beam's
        next guess that is a request when the best lands on a catch-all (or, in a
        constrained turn, on nothing the turn expects: :meth:`_menu_words`)."""
        if self.constrained:
            return self._menu_words(whisper)
        if not needs_grammar(whisper.text, self._rules):
            return whisper.text
        return self._command_alternative(whisper) or self._reworded(whisper)

    def _menu_words(self, whisper: Heard) -> str:
        """Whisper's words for a constrained turn the grammar did not accept: its best when
        the parser understands them, else the beam's next guess it understands within
        :attr:`DecodePolicy.whisper_alternative_margin` ("You had?" in a yes/no turn, "Yeah."
        next in the beam: 5 more of 1,328 tuning commands right, docs/speech.md)."""
        if understood(whisper.text, self._rules):
            return whisper.text
        return self._command_alternative(whisper) or whisper.text

    def _reworded(self, whisper: Heard) -> str:
        """Whisper's words for an open sentence: of its beam's hypotheses, the one whose
        mean log-probability plus :attr:`DecodePolicy.whisper_lm_weight` times the language
        model's mean log-probability per word is highest, when the parser gives it the same
        intent as Whisper's best (:func:`jibo_cloud.speech.wording.reword`)."""
        weight = self._policy.whisper_lm_weight
        if weight is None or self.constrained or not whisper.alternatives:
            return whisper.text
        model = self._engine.word_model()
        if model is None:
            return whisper.text
        return reword(
            whisper.text,
            whisper.avg_logprob,
            whisper.alternatives,
            whisper.alternative_logprobs,
            self._rules,
            model,
            weight,
        )

    def _sphinx_rest(self, first: GrammarPass) -> Decision:
        """pocketsphinx's decision after a rejected first pass (general model, re-passes)."""
        heard = self._fallback()
        if heard:
            # Words, so not noise: worth a second look through the grammar (noise would be
            # forced onto some phrase once the mean adapted to it, hence only after this).
            last = self._repass()
            if last.acceptable:
                return self._accepted(last.text)
            completed = self._complete(last) or self._complete(first)
            if completed:
                return self._accepted(completed)
            return Decision(AsrResult(text=heard, confidence=FALLBACK_CONFIDENCE))
        completed = self._complete(first)
        if completed:
            return self._accepted(completed)
        return Decision(AsrResult(text=first.text, confidence=0.1, annotation="GARBAGE"))

    def _accepted(self, text: str) -> Decision:
        decoder = self._decoder
        state = SpeakerState(self._warp, decoder.get_cmn(False)) if decoder is not None else None
        return Decision(AsrResult(text=text, confidence=GRAMMAR_CONFIDENCE), state)

    def _result(self, limit: float) -> GrammarPass:
        """What the grammar pass that just ended found (read from the decoder).

        Args:
            limit: the most unexplained speech it may leave and be accepted.
        """
        decoder = self._decoder
        assert decoder is not None
        hyp = decoder.hyp()
        text = hyp.hypstr if hyp is not None else ""
        whole = bool(text) and grammar_accepts(text, self._rules)
        unexplained = unexplained_speech(decoder, self._grammar_speech)
        return GrammarPass(text, whole, unexplained, limit)

    def _streamed_pass(self) -> GrammarPass:
        """End the streamed utterance; the grammar's best path."""
        decoder = self._decoder
        if not self._in_utterance or decoder is None:
            return GrammarPass("", whole=False, unexplained=0.0)
        decoder.end_utt()
        self._in_utterance = False
        return self._result(self._policy.max_unexplained_seconds)

    def _repass(self) -> GrammarPass:
        """Decode a rejected utterance through the grammar again; the best pass's answer.

        The streamed pass starts from the cepstral mean of a previous utterance (this robot's
        last, or another voice's for a robot never heard): from a different voice, a deep
        voice after a high one loses its first words ("what time is it" → "well i"). Ending
        the utterance adapts the decoder's live mean to this speaker, so the same audio
        decoded again usually lands on the phrase. Measured on the bench set: held-out voices
        66 % → 89 % intent accuracy; the cost (a grammar pass, RTF ~0.03) is paid only by
        utterances the first pass rejected and the general model heard words in.

        When those :attr:`DecodePolicy.repasses` fail, one pass under each other frequency
        warp (:attr:`DecodePolicy.warps`), from the adapted mean: the small acoustic model fits
        some voices better with their spectrum stretched or squeezed (vocal tract length
        normalisation, chosen by which warp the grammar accepts rather than by a likelihood:
        pocketsphinx's scores are relative to each frame's best senone and did not pick the
        warp that helps). An accepted warped pass makes that warp the robot's own for its next turns
        (:meth:`_accepted`). Every re-pass must leave at most
        :attr:`DecodePolicy.repass_unexplained_seconds` of speech unexplained: each is one
        more try at forcing an utterance the first pass doubted onto a phrase.

        No pass from the model's own initial mean follows: on the bench it won 3 commands of
        336 but forced 13 more open sentences of 112 onto commands, and on the voices kept out
        of all tuning it won none and forced 11 more of 48 (docs/speech.md, "Benchmark").

        Returns:
            The first acceptable pass, else the last pass under the robot's own warp (for
            :meth:`_complete`).
        """
        result = GrammarPass("", whole=False, unexplained=0.0)
        if self._decoder is None or self._jsgf is None:
            return result
        for _ in range(self._policy.repasses):
            result = self._pass()
            if result.acceptable:
                return result
        kept, kept_warp = self._decoder, self._warp
        mean = kept.get_cmn(False)
        for warp in self._policy.warps:
            if warp == kept_warp:
                continue
            self._decoder, self._warp = self._pool(warp).take(mean), warp
            _activate(self._decoder, self._jsgf)
            attempt = self._pass()
            if attempt.acceptable:
                self._pool(kept_warp).give(kept)
                return attempt
            self._pool(warp).give(self._decoder)
            self._decoder, self._warp = kept, kept_warp
        return result

    def _pass(self, limit: float | None = None) -> GrammarPass:
        """One more grammar pass over the buffered utterance (a re-pass, unless ``limit``)."""
        decoder = self._decoder
        assert decoder is not None
        decoder.start_utt()
        decoder.process_raw(self._grammar_speech)
        decoder.end_utt()
        return self._result(self._policy.repass_unexplained_seconds if limit is None else limit)

    def _buffered_pass(self) -> GrammarPass:
        """The first grammar pass of a turn that was not streamed (same limit as streamed)."""
        if self._decoder is None or not self._has_search:
            return GrammarPass("", whole=False, unexplained=0.0)
        return self._pass(self._policy.max_unexplained_seconds)

    @property
    def _grammar_speech(self) -> bytes:
        """The speech the grammar passes and the general model hear (the first 8 s)."""
        return bytes(self._speech[: offset(self._policy.fallback_max_seconds)])

    def _complete(self, stopped: GrammarPass) -> str:
        """The phrase a stopped grammar path was heading for, when that is unambiguous.

        pocketsphinx ends a grammar search that never reached the end of a phrase with the
        path so far ("what time" for "what time is it": the last words were taken for
        silence). When that "silence" holds little speech (at most
        :attr:`DecodePolicy.completion_unexplained_seconds`: room for the missing words, not for a
        sentence the grammar lacks) and every way the grammar goes on from the path means
        the same to the parser (one intent, the same entities), that phrase is the answer;
        "what is your" (name? volume?) is not guessed.
        """
        if not stopped.text or stopped.whole or self._jsgf is None:
            return ""
        policy = self._policy
        if stopped.unexplained > policy.completion_unexplained_seconds:
            return ""
        words = stopped.text.split()
        options = completions(self._jsgf, words, policy.completion_limit)
        if not options or len(options[0].split()) - len(words) > policy.completion_max_words:
            return ""
        meanings = set()
        for option in options:
            parsed = parse_text(option, self._rules)
            meanings.add((parsed["intent"], repr(sorted((parsed["entities"] or {}).items()))))
        return options[0] if len(meanings) == 1 else ""

    def _fallback(self) -> str:
        decoder = self._engine.general.take()
        try:
            decoder.start_utt()
            decoder.process_raw(self._grammar_speech, full_utt=True)
            decoder.end_utt()
            hyp = decoder.hyp()
        finally:
            self._engine.general.give(decoder)
        words = [
            w for w in (hyp.hypstr.split() if hyp is not None else []) if not w.startswith("<")
        ]
        return " ".join(words)

    def release(self) -> None:
        """Give the decoder back to the pool; idempotent."""
        decoder, self._decoder = self._decoder, None
        if decoder is None:
            return
        if self._in_utterance:
            decoder.end_utt()
            self._in_utterance = False
        self._pool(self._warp).give(decoder)
