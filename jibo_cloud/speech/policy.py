"""How the embedded recogniser decides: the tuned limits of one decoding, as one value.

Every figure here was tuned on the speech bench (docs/speech.md, "Benchmark"); the defaults
are what ships. A :class:`DecodePolicy` is held by the :class:`jibo_cloud.speech.engine.Engine`
that decodes (server thread or worker process) and by
:class:`jibo_cloud.speech.processes.ProcessRecognizer`, which sends it to its workers; tests
and the bench pass another one instead of patching module globals.
"""

from __future__ import annotations

import attrs

#: pocketsphinx's frequency warp factor for "no warp" (the model's own spectrum).
NO_WARP = "1.0"


def _warps_start_unwarped(
    _: object, attribute: attrs.Attribute[tuple[str, ...]], value: object
) -> None:
    if not isinstance(value, tuple) or not value or value[0] != NO_WARP:
        raise ValueError(f"{attribute.name} must start with {NO_WARP!r}, got {value!r}")


@attrs.frozen
class DecodePolicy:
    """The tuned limits of the embedded recogniser's decisions (see :class:`Utterance`).

    :class:`jibo_cloud.speech.engine.Utterance` explains where each one acts.
    """

    #: The general model and the grammar re-passes hear at most this much of an utterance
    #: (they are the slow paths).
    fallback_max_seconds: float = 8.0
    #: Speech kept per utterance for Whisper (its window is 30 s).
    speech_max_seconds: float = 30.0
    #: Grammar passes re-run over a rejected utterance, each starting from the cepstral mean
    #: the previous pass adapted to this speaker.
    repasses: int = 2
    #: Frequency warps (pocketsphinx's inverse-linear factors: 0.9 stretches a voice's
    #: spectrum up, like a shorter vocal tract; 1.1 squeezes it down) the grammar decodes with.
    #: The first is :data:`NO_WARP`; a rejected utterance gets one pass under each other warp,
    #: and the warp that was accepted becomes the robot's own.
    warps: tuple[str, ...] = attrs.field(
        default=(NO_WARP, "0.9", "1.1"), validator=_warps_start_unwarped
    )
    #: Most speech (seconds) a grammar path may call silence and still be accepted
    #: (:func:`jibo_cloud.speech.engine.unexplained_speech`): more means words the grammar has
    #: no place for.
    max_unexplained_seconds: float = 0.5
    #: The same for a re-pass: the first pass already doubted the utterance, and each re-pass
    #: is one more try at forcing it onto a phrase, so a re-pass must explain more of the speech.
    repass_unexplained_seconds: float = 0.3
    #: The same for a stopped path that is completed: its missing words are among that
    #: "silence", so it may hold more, but not a whole sentence.
    completion_unexplained_seconds: float = 0.8
    #: A stopped path with more continuations than this is not completed.
    completion_limit: int = 64
    #: Most words a completion may add: a path one or two words short, not a guess at a
    #: phrase from its first word ("i" → "i want to hear a joke").
    completion_max_words: int = 2
    #: Whisper decodes that may wait per worker process (the one running included); more →
    #: the grammar path decides. Each is ~0.3-0.5 s of a core, so the last in line waits
    #: ~1.5 s at most.
    whisper_queue: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    #: Least similarity (difflib ratio, 0-1, of the spoken forms) for the grammar's phrase to
    #: replace Whisper's words (:func:`jibo_cloud.speech.agree.grammar_wins`) when Whisper is
    #: not very sure of them (below :attr:`whisper_keep_logprob`). 0.75 until 2026-12-06 05:00;
    #: 0.7 with the keep rule below and the beam's alternatives won more commands on the tuning
    #: phrases and forced fewer open sentences (docs/speech.md, round of 2026-12-06 05:00).
    snap_similarity: float = 0.7
    #: How much less likely (natural log, summed over the words and the end) Whisper may find
    #: the grammar's phrase than its own words, both written as said (lower case, digits as
    #: words), for the phrase to replace them (:func:`jibo_cloud.speech.agree.grammar_wins`;
    #: Whisper's forced score, :attr:`Heard.score`). Since 2026-12-06 23:00 this replaces
    #: :attr:`snap_similarity` and :attr:`whisper_keep_logprob`, which now decide only when
    #: no score is at hand. On the tuning phrases 4 / 6 / 8 / 10 / 15 won +6 / +22 / +34 /
    #: +38 / +44 commands of 1,328 over the similarity rule and forced 5 / 6 / 6 / 8 / 13 of
    #: 400 open sentences (6 before); accepting every grammar phrase forced 164
    #: (docs/speech.md, round of 2026-12-06 22:50).
    grammar_score_margin: float = 8.0
    #: Whisper's words with at least this mean log-probability are not replaced by a grammar
    #: phrase that only sounds like them (the same meaning, or one of Whisper's other beam
    #: hypotheses meaning the grammar's phrase, still wins): clear open sentences close in
    #: sound to a command ("what day of the week was i born" / "… is it jibo") stay open.
    whisper_keep_logprob: float = -0.2
    #: Grammar passes of an open turn that Whisper decides (its second opinion and, when
    #: Whisper is unsure, pocketsphinx's slow paths) end with pocketsphinx's lattice best-path
    #: search when True. On the launch grammar that search cost 0.6-1.8 s of a core per pass
    #: (more than the pass's own search, ~0.27 s per second of speech), and it was what a
    #: worker's queue waited on; without it the pass's answer is the Viterbi search's own
    #: path. False since 2026-12-06 16:00 (docs/speech.md, round of 2026-12-06 16:00); turns
    #: decided by the grammar alone (constrained turns, workers without Whisper) keep it.
    open_lattice: bool = False
    #: Whisper: silence after the speech the encoder sees (mel frames of 10 ms), and the
    #: fewest frames it gets: less context than this and the base model starts to mishear
    #: ("capital of France" → "capital and friends" at 3 s). 6 s (was 10 s) costs a third less
    #: CPU per decode for the same accuracy on the tuning phrases (docs/speech.md, round of
    #: 2026-12-06 03:00).
    whisper_margin_frames: int = 200
    whisper_min_frames: int = 600
    #: Whisper: longest transcript (tokens) for one turn, and per second of speech: a bound on
    #: the repetition loops Whisper falls into on short clips ("yes please yes please …").
    whisper_max_tokens: int = 96
    whisper_tokens_per_second: int = 6
    whisper_min_tokens: int = 12
    #: Whisper: beam width of the decoder. 5 (was 1, greedy, until 2026-12-06 05:00) heard
    #: +4 points of commands on the tuning phrases alone, for ~10-20 % more CPU at the 6 s
    #: window (the encoder dominates).
    whisper_beam_size: int = 5
    #: Whisper: other hypotheses of the beam kept beside the best (:attr:`Heard.alternatives`):
    #: one that means the grammar's phrase confirms it
    #: (:func:`jibo_cloud.speech.agree.grammar_wins`). At most ``whisper_beam_size - 1``.
    whisper_alternatives: int = 4
    #: Whisper: when its best words land on a catch-all intent (chat, a free-text question),
    #: the first of the beam's other hypotheses (:attr:`Heard.alternatives`, best first)
    #: whose mean log-probability is at most this much below the best's and that the parser
    #: makes a request of is the turn's words ("Restart the time." → "Restart the timer.",
    #: "When in Christmas." → "When is Christmas?"), with no grammar pass
    #: (:func:`jibo_cloud.speech.agree.command_alternative`). None: never. On the tuning
    #: phrases 0.1 / 0.3 / 0.4-∞ won +9 / +18 / +21 commands of 1,328 and forced no more open
    #: sentences; 0.5 since 2026-12-06 23:00 (docs/speech.md, round of 2026-12-06 22:50).
    whisper_alternative_margin: float | None = 0.5
    #: Whisper: an open sentence's words (ones the parser gives a catch-all or free-text
    #: intent) are the beam hypothesis with the highest mean log-probability plus this
    #: weight times pocketsphinx's English 3-gram model's mean log-probability per word, when
    #: the parser gives it the same intent (:mod:`jibo_cloud.speech.wording`). None: Whisper's
    #: best as it is. On the tuning phrases 0.3 / 0.5 / 0.7 cut the open sentences' WER on
    #: espeak-ng clean 14.1 → 10.7 / 9.8 / 9.2 %, flite's room 14.4 → 12.7 / 11.7 / 11.1 %,
    #: and changed no command; 0.5 since 2026-12-06 23:55 (docs/speech.md, round of
    #: 2026-12-06 22:50). Per-word floor: :attr:`whisper_lm_floor`.
    whisper_lm_weight: float | None = 0.5
    #: The least log-probability (nats) the language model counts for one word (a word it
    #: does not know, like "Jibo", costs this; pocketsphinx itself gives -5,000-odd).
    whisper_lm_floor: float = -12.0
    #: Whisper: no three tokens twice (owners do not repeat themselves within one command, and
    #: the base model loops on short clips).
    whisper_no_repeat_ngram: int = 3
    #: Whisper's own rule for "no speech": both a no-speech probability above the first and an
    #: average log-probability of the words below the second (faster-whisper's defaults); the
    #: second is also the least log-probability of words sure enough to act on.
    whisper_no_speech_prob: float = 0.6
    whisper_low_logprob: float = -1.0
    #: Whisper: text given as what was said before (its ``initial_prompt``), ahead of the
    #: turn's plain-word hints; "" for none. "Hey Jibo." (what owners say to the robot) lifted
    #: Whisper's commands on every family and condition of the tuning phrases (+0 to +8
    #: points) and lowered open sentences' WER on five of six.
    whisper_prompt: str = "Hey Jibo."


#: What ships.
DEFAULT_POLICY = DecodePolicy()
