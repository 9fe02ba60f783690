"""What the transaction machines share (PROTOCOL.md §4.4, §4.6): timeouts, outputs, identity,
the one ERROR frame builder and the failed-for-good rule.

The listen and proactive transactions (:mod:`protocol.listen`, :mod:`protocol.proactive`)
return lists of *outputs*: frames to send or forward, timers to start, and service calls to
make, the calls carrying the typed :mod:`protocol.services` bodies (the I/O layer encodes
them). The I/O layer performs the outputs in order and feeds the answers back. Every timeout
of a transaction is here, in milliseconds; the I/O layer converts for its clock.

A machine whose method raised anything but :class:`RemoteProtocolError` is in ``STOP`` for
good (:func:`guarded`, as h11 does): later calls raise :class:`LocalProtocolError`, and the
I/O layer answers the robot with ``ERROR {code: GENERAL}`` (:data:`INTERNAL_ERROR_TEXT`).

Pure: no trio, no clock.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar

import attrs

from protocol.envelope import ContextData, ErrorData, ErrorReply, HubMessage
from protocol.errors import ErrorCode, LocalProtocolError, RemoteProtocolError
from protocol.routing import SkillKind
from protocol.services import (
    ListenLaunch,
    ListenUpdate,
    ParseRequestData,
    ProactiveLaunch,
    SkillLaunchRecord,
    SpeechRecord,
)

#: §4.4 timeouts, in milliseconds (the I/O layer converts for its timers and scopes).
CONTEXT_TIMEOUT_MS = 5_000
TRANSACTION_TIMEOUT_MS = 60_000
ASR_TIMEOUT_MS = 40_000
#: §4.4: each parser, skill, history or recogniser-result call gets 10 s.
CALL_TIMEOUT_MS = 10_000
#: What a call that ran out says (the original hub's HTTP client's text).
CALL_TIMEOUT_TEXT = f"timeout of {CALL_TIMEOUT_MS}ms exceeded"
#: ``ERROR {code: GENERAL}`` text when the machine or the I/O layer failed on our side.
INTERNAL_ERROR_TEXT = "Internal error while handling the transaction"


def error_reply(
    message: str,
    code: ErrorCode | None,
    *,
    msg_id: str,
    ts: int,
    trans_id: str | None,
    total_ms: int | None,
) -> ErrorReply:
    """The one builder of the hub's final ``ERROR {message, code?}`` frame (§4.4).

    ``total_ms`` None leaves ``timings`` out (the socket's writer then fills
    ``timings.total`` with the socket's age).
    """
    return ErrorReply(
        msg_id=msg_id,
        ts=ts,
        trans_id=trans_id,
        data=ErrorData(message=message, code=code.value if code is not None else None),
        final=True,
        timings={"total": total_ms} if total_ms is not None else None,
    )


class Machine:
    """What both transaction machines share: the ``state`` they are in, when they started,
    and the two end states. A subclass (an attrs class) declares ``state`` and ``started_ms``
    as fields and names its ``DONE`` and ``STOP`` members in ``_DONE`` and ``_STOP``;
    :func:`guarded` relies on ``_STOP`` and :meth:`_enter_stop`.
    """

    __slots__ = ()

    #: The machine's failed state (``STOP``), compared by identity on every call.
    _STOP: ClassVar[enum.Enum]
    #: The state after a final frame went out.
    _DONE: ClassVar[enum.Enum]
    state: enum.Enum
    #: When the transaction started (``now_ms``); None until then.
    started_ms: int | None

    @property
    def finished(self) -> bool:
        """A final frame went out (``DONE``) or the machine failed (``STOP``): its timers
        no longer matter."""
        return self.state is self._DONE or self.state is self._STOP

    def _enter_stop(self) -> None:
        # The subclass's attrs fields hold the slot; mypy reads only this class's empty one.
        self.state = self._STOP  # type: ignore[misc]

    def _total_ms(self, now_ms: int) -> int:
        """Milliseconds since the start (0 before it): the frames' ``timings.total``."""
        return now_ms - self.started_ms if self.started_ms is not None else 0


_M = TypeVar("_M", bound=Machine)
_P = ParamSpec("_P")
_R = TypeVar("_R")


def guarded(method: Callable[Concatenate[_M, _P], _R]) -> Callable[Concatenate[_M, _P], _R]:
    """A machine's public input: refused once the machine failed, and failing it for good
    when anything but the robot's own error (:class:`RemoteProtocolError`) escapes."""

    @functools.wraps(method)
    def wrapper(self: _M, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        if self.state is self._STOP:
            raise LocalProtocolError(f"can't call {method.__name__}: the transaction failed (STOP)")
        try:
            return method(self, *args, **kwargs)
        except RemoteProtocolError:
            raise
        except BaseException:
            self._enter_stop()
            raise

    return wrapper


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
    """Parse this (``POST /v1/parse`` data); answer with ``parser_replied`` or
    ``parser_failed``."""

    request: ParseRequestData


@attrs.frozen
class CallSkill:
    """The §5 skill request; answer with ``skill_replied``/``skill_failed``."""

    skill_id: str
    kind: SkillKind
    url: str
    request: ListenLaunch | ListenUpdate | ProactiveLaunch


@attrs.frozen
class RecordLaunch:
    """History ``/v1/skill/launch`` record (§5)."""

    record: SkillLaunchRecord


@attrs.frozen
class RecordSpeech:
    """History ``/v1/speech`` record (§5)."""

    record: SpeechRecord


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
