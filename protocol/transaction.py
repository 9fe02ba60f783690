"""What the transaction machines share (PROTOCOL.md §4.4, §4.6): timeouts, outputs, identity.

The listen and proactive transactions (:mod:`protocol.listen`, :mod:`protocol.proactive`)
return lists of *outputs*: frames to send or forward, timers to start, and service calls to
make. The I/O layer performs them and feeds the answers back. Pure: no trio, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from protocol.envelope import ContextData, HubMessage
from protocol.routing import SkillKind

#: §4.4 timeouts, in milliseconds (the I/O layer converts for its timers).
CONTEXT_TIMEOUT_MS = 5_000
TRANSACTION_TIMEOUT_MS = 60_000
ASR_TIMEOUT_MS = 40_000
PARSER_TIMEOUT_MS = 10_000
SKILL_TIMEOUT_MS = 10_000


# --------------------------------------------------------------------------- outputs


@attrs.frozen
class Send:
    """Write this frame. ``final`` frames end the transaction (§4.5)."""

    message: HubMessage


@attrs.frozen
class Forward:
    """Write a skill's reply verbatim with the hub's envelope ``final`` and ``timings`` (§4.4)."""

    reply: Mapping[str, Any]
    final: bool
    timings: Mapping[str, float]


@attrs.frozen
class StartTimer:
    """Call :meth:`ListenTransaction.timer_fired` with ``name`` after ``ms`` (stale ones are
    ignored by the machine, so the I/O layer never has to cancel a timer)."""

    name: str
    ms: int


@attrs.frozen
class StartAsr:
    """Open a recogniser session for this LISTEN (server ASR)."""

    encoding: str
    sample_rate: int
    lang: str
    rules: tuple[str, ...]
    hints: tuple[str, ...]


@attrs.frozen
class FeedAsr:
    chunk: bytes


@attrs.frozen
class FinishAsr:
    """Ask the recogniser for its final result; answer with ``asr_result``."""


@attrs.frozen
class StopAsr:
    """Close the recogniser without a result (client text arrived, or SOS timeout)."""


@attrs.frozen
class CallParser:
    """``{text, rules, loop:{users}, external?}``; answer with ``parser_replied`` or
    ``parser_failed``."""

    request: Mapping[str, Any]


@attrs.frozen
class CallSkill:
    """The §5 skill request; answer with ``skill_replied``/``skill_failed``."""

    skill_id: str
    kind: SkillKind
    url: str
    request: Mapping[str, Any]


@attrs.frozen
class RecordLaunch:
    """History ``/v1/skill/launch`` record (§5)."""

    record: Mapping[str, Any]


@attrs.frozen
class RecordSpeech:
    """History ``/v1/speech`` record (§5)."""

    record: Mapping[str, Any]


Output = (
    Send
    | Forward
    | StartTimer
    | StartAsr
    | FeedAsr
    | FinishAsr
    | StopAsr
    | CallParser
    | CallSkill
    | RecordLaunch
    | RecordSpeech
)

TIMER_CONTEXT = "context"
TIMER_SOS = "sos"
TIMER_MAX_SPEECH = "max_speech"
TIMER_ASR = "asr"
TIMER_TRANSACTION = "transaction"


@attrs.frozen
class Identity:
    """Who the socket belongs to (§4.1).

    ``account_id``/``robot_id`` come from a verified token and are checked against CONTEXT;
    None means "not known from a token" and is not checked. With auth disabled the socket's
    ids fall back to CONTEXT's, then to the ``anonymous_*`` defaults.
    """

    account_id: str | None = None
    robot_id: str | None = None
    remote_address: str = ""
    anonymous_account_id: str | None = None
    anonymous_robot_id: str | None = None

    def account(self, context: ContextData | None) -> str | None:
        ctx = context.account_id if context is not None else None
        return self.account_id or ctx or self.anonymous_account_id

    def robot(self, context: ContextData | None) -> str | None:
        ctx = context.robot_id if context is not None else None
        return self.robot_id or ctx or self.anonymous_robot_id


def speaker_id(speaker: object) -> str:
    """CONTEXT ``perception.speaker`` is null, an id string or an object with ``id``."""
    if isinstance(speaker, str) and speaker:
        return speaker
    if isinstance(speaker, Mapping) and isinstance(speaker.get("id"), str):
        return str(speaker["id"])
    return "UNKNOWN"


def frames_of(outputs: Sequence[Output]) -> list[HubMessage | Forward]:
    """The frames among ``outputs``, in order (for tests and tools)."""
    return [
        o.message if isinstance(o, Send) else o for o in outputs if isinstance(o, Send | Forward)
    ]
