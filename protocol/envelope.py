"""The hub socket's messages as frozen attrs classes (PROTOCOL.md §4.2-§4.6, §8).

Pure: no trio, no sockets, no JSON. Fields are snake_case; wire names (``msgID``, ``transID``,
``earlyEOS`` …) live in field metadata and are applied by :mod:`protocol.codec`. Every class
keeps the keys it does not model in ``extra`` and the codec writes them back, so re-encoding a
decoded real frame gives the same JSON object. See :mod:`protocol._fields` for how optional
keys, explicit ``null`` and ``extra`` behave.

Robot → hub: :class:`Listen`, :class:`Context`, :class:`ClientAsr`, :class:`ClientNlu`,
:class:`Trigger`, :class:`CmdResult`. Hub → robot: :class:`Sos`, :class:`Eos`,
:class:`ListenReply`, :class:`SkillAction`, :class:`SkillRedirect`, :class:`Proactive`,
:class:`ErrorReply`, and :class:`Forwarded` (a skill reply of a type we do not model, which
the hub forwards verbatim, §4.4). Hub ↔ skill and parser bodies are in :mod:`protocol.services`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

import attrs

from protocol._fields import ALWAYS, extra_field, wire
from protocol.errors import ErrorCode

#: ``LISTEN.data.mode`` values (§4.3); absent or ``""`` means server ASR.
MODE_SERVER_ASR = ""
MODE_CLIENT_ASR = "CLIENT_ASR"
MODE_CLIENT_NLU = "CLIENT_NLU"

#: ``LISTEN.data.asr`` may be this literal string instead of an object [orig].
FAKE_ASR = "FAKE"


# --------------------------------------------------------------------------- envelope bases


@attrs.frozen(kw_only=True)
class _Frame:
    """Envelope keys every message may carry besides ``type``, ``msgID``, ``ts`` and ``data``."""

    type: ClassVar[str] = ""
    trans_id: str | None = attrs.field(default=None, metadata=wire("transID"))
    final: bool | None = None
    timings: Mapping[str, float] | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class RobotMessage(_Frame):
    """A frame a robot sends: ``msgID`` and ``ts`` are always there (§4.2) [robot]."""

    msg_id: str = attrs.field(metadata=wire("msgID"))
    ts: int


@attrs.frozen(kw_only=True)
class HubMessage(_Frame):
    """A frame the hub sends (or forwards from a skill or parser, which may omit ids)."""

    msg_id: str | None = attrs.field(default=None, metadata=wire("msgID"))
    ts: int | None = None


# --------------------------------------------------------------------------- robot payloads


@attrs.frozen(kw_only=True)
class AsrConfig:
    """``LISTEN.data.asr``: how the robot records (§4.3)."""

    hints: tuple[str, ...] | None = None
    early_eos: tuple[str, ...] | None = attrs.field(default=None, metadata=wire("earlyEOS"))
    encoding: str | None = None
    sample_rate: int | None = attrs.field(default=None, metadata=wire("sampleRate"))
    sos_timeout: int | None = attrs.field(default=None, metadata=wire("sosTimeout"))
    max_speech_timeout: int | None = attrs.field(default=None, metadata=wire("maxSpeechTimeout"))
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ListenData:
    """``LISTEN.data`` from the robot (§4.3). ``mode`` None means the key was absent."""

    rules: tuple[str, ...]
    lang: str | None = None
    hotphrase: bool | None = None
    mode: str | None = None
    asr: AsrConfig | Literal["FAKE"] | None = None
    agents: Any = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def effective_mode(self) -> str:
        """``mode`` with absent read as ``""`` (server ASR), as the original hub does (§4.4)."""
        return self.mode if self.mode is not None else MODE_SERVER_ASR


def _get(obj: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


@attrs.frozen(kw_only=True)
class ContextData:
    """``CONTEXT.data`` (§4.3): big and varied, so typed but permissive.

    ``general``, ``runtime`` and ``skill`` are kept as JSON objects; the properties read the
    values the hub needs and return None when a robot did not send them.
    """

    general: Mapping[str, Any] | None = None
    runtime: Mapping[str, Any] | None = None
    skill: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def account_id(self) -> str | None:
        """``general.accountID`` (real robots do not send it; the token has it, §4.3)."""
        value = _get(self.general, "accountID")
        return value if isinstance(value, str) else None

    @property
    def robot_id(self) -> str | None:
        """``general.robotID``."""
        value = _get(self.general, "robotID")
        return value if isinstance(value, str) else None

    @property
    def release(self) -> str | None:
        """``general.release`` (``"1.9.2"`` on real robots)."""
        value = _get(self.general, "release")
        return value if isinstance(value, str) else None

    @property
    def skill_id(self) -> str | None:
        """``skill.id``: the skill running on the robot, or None."""
        value = _get(self.skill, "id")
        return value if isinstance(value, str) else None

    @property
    def skill_session(self) -> Mapping[str, Any] | None:
        """``skill.session``, when the running skill has one."""
        value = _get(self.skill, "session")
        return value if isinstance(value, Mapping) else None

    @property
    def loop_id(self) -> str | None:
        """``runtime.loop.loopId``."""
        value = _get(self.runtime, "loop", "loopId")
        return value if isinstance(value, str) else None

    @property
    def users(self) -> tuple[Mapping[str, Any], ...]:
        """``runtime.loop.users`` (what the parser gets as ``loop.users``, §4.4)."""
        value = _get(self.runtime, "loop", "users")
        if not isinstance(value, list):
            return ()
        return tuple(u for u in value if isinstance(u, Mapping))

    @property
    def speaker(self) -> Any:
        """``runtime.perception.speaker`` (None when nobody is recognised)."""
        return _get(self.runtime, "perception", "speaker")


@attrs.frozen(kw_only=True)
class ClientAsrData:
    """``CLIENT_ASR.data``: text the robot recognised itself (§4.3)."""

    text: str
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ClientNluData:
    """``CLIENT_NLU.data``: an NLU result from a screen tap or menu (§4.3)."""

    intent: str | None
    entities: Mapping[str, Any] | None
    rules: tuple[str, ...]
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class TriggerData:
    """``TRIGGER.data`` on the proactive socket (§4.3, §4.6)."""

    trigger_source: str = attrs.field(metadata=wire("triggerSource"))
    trigger_data: Mapping[str, Any] = attrs.field(metadata=wire("triggerData"))
    extra: Mapping[str, Any] = extra_field()

    @property
    def looper_id(self) -> str | None:
        """``triggerData.looperID``: sets ``runtime.perception.speaker`` (§4.6)."""
        value = self.trigger_data.get("looperID")
        return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- robot messages


@attrs.frozen(kw_only=True)
class Listen(RobotMessage):
    type: ClassVar[str] = "LISTEN"
    data: ListenData


@attrs.frozen(kw_only=True)
class Context(RobotMessage):
    type: ClassVar[str] = "CONTEXT"
    data: ContextData


@attrs.frozen(kw_only=True)
class ClientAsr(RobotMessage):
    type: ClassVar[str] = "CLIENT_ASR"
    data: ClientAsrData


@attrs.frozen(kw_only=True)
class ClientNlu(RobotMessage):
    type: ClassVar[str] = "CLIENT_NLU"
    data: ClientNluData


@attrs.frozen(kw_only=True)
class Trigger(RobotMessage):
    type: ClassVar[str] = "TRIGGER"
    data: TriggerData


@attrs.frozen(kw_only=True)
class CmdResult(RobotMessage):
    """Declared by the original hub but never handled (§4.2); ``data`` is kept as sent."""

    type: ClassVar[str] = "CMD_RESULT"
    data: Any = None


# --------------------------------------------------------------------------- hub payloads


@attrs.frozen(kw_only=True)
class AsrResult:
    """``asr`` of a LISTEN reply or skill request: ``{text, confidence, annotation?}`` (§4.4)."""

    text: str
    confidence: float
    annotation: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class NluResult:
    """``nlu``: ``{intent, entities, rules}``; the parser's empty answer has nulls (§4.4)."""

    intent: str | None
    entities: Mapping[str, Any] | None
    rules: tuple[str, ...]
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Match:
    """``match``: which skill takes the turn (§4.4, §4.6)."""

    skill_id: str = attrs.field(metadata=wire("skillID"))
    launch: bool
    on_robot: bool = attrs.field(metadata=wire("onRobot"))
    is_proactive: bool | None = attrs.field(default=None, metadata=wire("isProactive"))
    skip_surprises: bool | None = attrs.field(default=None, metadata=wire("skipSurprises"))
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ListenResult:
    """``LISTEN`` reply data: ``{asr, nlu, match}``; ``match`` is ``null`` when nothing matched."""

    asr: AsrResult
    nlu: NluResult
    match: Match | None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class SkillActionData:
    """``SKILL_ACTION.data`` (§6). ``action`` is kept as the skill sent it (the hub forwards
    replies verbatim); :func:`protocol.jcp.behavior_of` reads its JCP behaviour.
    ``final``/``fire_and_forget`` are the skill's flags, not the envelope's ``final``.
    """

    action: Any
    skill: Mapping[str, Any] | None = None
    analytics: Mapping[str, Any] | None = None
    final: bool | None = None
    fire_and_forget: bool | None = attrs.field(default=None, metadata=wire("fireAndForget"))
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class RedirectData:
    """``SKILL_REDIRECT.data``: ``{match, nlu, asr, memo}`` (§4.4)."""

    match: Match
    nlu: NluResult | None = None
    asr: AsrResult | None = None
    memo: Any = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ProactiveData:
    """``PROACTIVE.data``: ``{match}`` or ``{}`` when no candidate (§4.6)."""

    match: Match | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ErrorData:
    """``ERROR.data``: ``{message, code?}`` (§4.4). ``code`` is kept as a string."""

    message: str
    code: str | None = None
    extra: Mapping[str, Any] = extra_field()

    @property
    def error_code(self) -> ErrorCode | None:
        """``code`` as an :class:`ErrorCode`, or None when absent or not a spec code."""
        try:
            return ErrorCode(self.code) if self.code is not None else None
        except ValueError:
            return None


# --------------------------------------------------------------------------- hub messages


@attrs.frozen(kw_only=True)
class Sos(HubMessage):
    """Start of speech; ``data`` is ``null`` (§8). Client modes send ``timings.total: -1``."""

    type: ClassVar[str] = "SOS"
    data: None = attrs.field(default=None, metadata={ALWAYS: True})


@attrs.frozen(kw_only=True)
class Eos(HubMessage):
    """End of speech; ``data`` is ``null`` (§8)."""

    type: ClassVar[str] = "EOS"
    data: None = attrs.field(default=None, metadata={ALWAYS: True})


@attrs.frozen(kw_only=True)
class ListenReply(HubMessage):
    type: ClassVar[str] = "LISTEN"
    data: ListenResult


@attrs.frozen(kw_only=True)
class SkillAction(HubMessage):
    type: ClassVar[str] = "SKILL_ACTION"
    data: SkillActionData


@attrs.frozen(kw_only=True)
class SkillRedirect(HubMessage):
    type: ClassVar[str] = "SKILL_REDIRECT"
    data: RedirectData


@attrs.frozen(kw_only=True)
class Proactive(HubMessage):
    type: ClassVar[str] = "PROACTIVE"
    data: ProactiveData


@attrs.frozen(kw_only=True)
class ErrorReply(HubMessage):
    """``ERROR {message, code?}`` with ``final: true`` (§4.4)."""

    type: ClassVar[str] = "ERROR"
    data: ErrorData


@attrs.frozen(kw_only=True)
class Forwarded(HubMessage):
    """A skill reply of a type we do not model, forwarded verbatim (§4.4; the Pegasus
    reference skill answers ``DONE``). Only decoded from hub or skill frames."""

    type: str  # type: ignore[misc]
    data: Any = None
