"""What the server and a decoder worker process say to each other over their pipe.

One small frozen class per message kind, pickled by :mod:`multiprocessing` (so every field is a
plain value or another picklable frozen class). The server sends :class:`Open`, :class:`Pcm`,
:class:`Finish` and :class:`Close` (:mod:`jibo_cloud.speech.processes`); the worker
(:mod:`jibo_cloud.speech.worker`) answers with :class:`Ready` once, then :class:`Result` or
:class:`Error` per finished or failed turn. ``sid`` is the server's number for a turn.
"""

from __future__ import annotations

import attrs

from jibo_cloud.speech.speakers import SpeakerState


@attrs.frozen
class Open:
    """A turn begins: its grammar and the speaker state its decoder starts from."""

    sid: int
    rules: tuple[str, ...]
    hints: tuple[str, ...]
    #: None: the model's defaults (nothing accepted yet).
    speaker: SpeakerState | None


@attrs.frozen
class Pcm:
    """Speech PCM of a turn (16 kHz s16le), in order."""

    sid: int
    pcm: bytes


@attrs.frozen
class Finish:
    """Decide the turn and reply; ``whisper``: the turn may use Whisper; ``quick``: decide
    with the least CPU (the worker is behind): no second grammar opinion on Whisper's words,
    and Whisper's words rather than pocketsphinx's slow paths when Whisper is unsure."""

    sid: int
    whisper: bool
    quick: bool = False


@attrs.frozen
class Close:
    """The turn ended without :class:`Finish`: drop it."""

    sid: int


#: What the server sends a worker.
ToWorker = Open | Pcm | Finish | Close


@attrs.frozen
class Ready:
    """The worker built its decoders (sent once, first)."""

    #: None when Whisper loaded (or none was asked for), else why it did not.
    whisper_error: str | None


@attrs.frozen
class Result:
    """A finished turn's answer."""

    sid: int
    text: str
    confidence: float
    annotation: str | None
    #: The speaker state when the grammar accepted the utterance, else None.
    speaker: SpeakerState | None
    #: Whether Whisper was consulted.
    whispered: bool


@attrs.frozen
class Error:
    """This turn failed (the worker and its other turns go on)."""

    sid: int
    detail: str


#: What a worker sends the server.
FromWorker = Ready | Result | Error
