"""The services the hub calls, as interfaces (PROTOCOL.md §5).

The hub talks to a recogniser, a parser, skills and a history store. Each has a remote HTTP
implementation (exactly as §5 describes, for operators who run their own) and an in-process
default, so a fresh server answers a turn on its own. The hub depends only on these
protocols; which implementation runs is decided once, in :mod:`jibo_cloud.runtime`.

Payloads are plain JSON-shaped mappings on purpose: the remote implementations send them as
they are, and a researcher can read the same shapes on the wire.

Every method may raise :class:`jibo_cloud.errors.UpstreamError`; the hub maps it to the
matching ERROR code (``ASR``, ``PARSER``, ``TIMEOUT_SKILL`` …). Timeouts are the hub's job
(``trio.fail_after`` around each call), not the implementation's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

import attrs

from jibo_cloud.errors import UpstreamError

# The recogniser's answer is the LISTEN reply's ``asr`` (§4.4): one class for both.
from protocol.envelope import AsrResult as AsrResult

JSON = Any
JSONObject = Mapping[str, Any]


# --------------------------------------------------------------------------- speech (ASR)


@attrs.frozen
class AsrRequest:
    """What the robot's LISTEN says about the audio and what it expects to hear (§4.3)."""

    #: ``OGG_OPUS`` (what robots send), ``FLAC`` or ``LINEAR16``.
    encoding: str = "OGG_OPUS"
    sample_rate: int = 16000
    lang: str = "en-US"
    #: The LISTEN ``rules`` (``launch``, ``shared/yes_no`` …): the recogniser may bias to them.
    rules: tuple[str, ...] = ()
    #: The LISTEN ``asr.hints`` (``$YESNO`` …).
    hints: tuple[str, ...] = ()
    #: The robot's id (the hub token's ``friendlyId``); "" when unknown. Never a person's
    #: name. A recogniser may keep per-robot state under it: the embedded one starts each turn
    #: from this robot's own speaker state (a household's voices, not the last robot's), see
    #: docs/speech.md.
    robot_id: str = ""


@attrs.frozen
class AsrEvent:
    """One thing the recogniser noticed.

    ``speech_start`` → the hub sends SOS; ``speech_end`` → EOS, then the hub asks for the
    final result; ``partial`` carries the best text so far (kept for MAX_SPEECH_TIMEOUT).
    """

    kind: Literal["speech_start", "speech_end", "partial"]
    text: str = ""
    confidence: float = 0.0


class AsrSession(Protocol):
    """One turn's streaming recognition. The hub feeds every binary frame in arrival order."""

    async def feed(self, chunk: bytes) -> Sequence[AsrEvent]:
        """Take one binary frame (an Ogg page for OGG_OPUS). Raises UpstreamError('asr')
        for undecodable audio."""
        ...

    async def finish(self) -> AsrResult:
        """End of speech (or the hub's max-speech timer): return the final result."""
        ...

    async def aclose(self) -> None:
        """Release the decoder and recogniser; idempotent; called on every path."""
        ...


class Recognizer(Protocol):
    async def open_session(self, request: AsrRequest) -> AsrSession: ...

    async def aclose(self) -> None:
        """Stop what the recogniser started (decoder processes); called once at shutdown."""
        ...


class NoRecognizer:
    """The recogniser used when none is configured: every spoken turn fails with ``ASR``.

    A robot waiting for an answer that never comes looks broken; a clear ERROR lets it move
    on (PROTOCOL.md §4.4: ``ASR`` is the code for any ASR failure).
    """

    async def open_session(self, request: AsrRequest) -> AsrSession:
        raise UpstreamError("asr", "no speech recogniser is configured on this server")

    async def aclose(self) -> None:
        """Nothing to stop."""


# --------------------------------------------------------------------------- parser (NLU)


class Parser(Protocol):
    async def parse(self, request: JSONObject) -> JSONObject:
        """``{text, rules, loop:{users}, external?}`` → ``{intent, entities, rules}`` (§4.4, §5).

        The empty answer is ``{intent: None, entities: None, rules: []}``.
        """
        ...


# --------------------------------------------------------------------------- skills


class SkillHandler(Protocol):
    """A skill that runs in this process. Same JSON contract as a remote skill (§5):
    ``LISTEN_LAUNCH`` / ``LISTEN_UPDATE`` / ``PROACTIVE_LAUNCH`` in, ``SKILL_ACTION`` /
    ``SKILL_REDIRECT`` / ``ERROR`` message out (``{type, msgID, ts, data}``)."""

    async def __call__(self, request: JSONObject) -> JSONObject: ...


# --------------------------------------------------------------------------- history


class History(Protocol):
    """Interaction history (§5): what the hub records, and what proactive rules read (§4.6)."""

    async def skill_launched(self, record: JSONObject) -> None:
        """``{robotID, sessionID, skillID, intent, personIDs}``."""
        ...

    async def speech(self, record: JSONObject) -> None:
        """``{robotID, accountID, transID, timestamp, audioFileURL, asr, nlu, match, skill, …}``."""
        ...

    async def launches(self, robot_id: str) -> Sequence[JSONObject]:
        """Past skill launches of one robot, oldest first, each with a ``timestamp`` (epoch ms)."""
        ...
