"""Wire shapes of the hub's HTTP services: skills, the parser and history (PROTOCOL.md §5).

The transaction machines (:mod:`protocol.listen`, :mod:`protocol.proactive`) emit these typed
bodies in their service-call outputs; the I/O layer encodes them (``to_json``) at the edge.

Pure: no HTTP client here, only the bodies. The skill and parser bodies are envelopes like the
socket frames (``type``, ``msgID``, ``ts``, ``data``) and go through
:func:`protocol.codec.to_json` / :func:`protocol.codec.from_json`; the history records are plain
JSON objects (``from_json(obj, cls=SkillLaunchRecord)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from protocol._fields import extra_field, wire
from protocol.envelope import AsrResult, HubMessage, NluResult

# --------------------------------------------------------------------------- skill requests


@attrs.frozen(kw_only=True)
class SkillResult:
    """``data.result`` of a skill request: ``{nlu, asr, memo?}`` (§5).

    A listen turn's request has ``nlu`` and ``asr`` and a ``memo`` only when the match has
    one; a ``PROACTIVE_LAUNCH`` has only ``memo``, written even when null
    (:meth:`proactive`).
    """

    nlu: NluResult | None = None
    asr: AsrResult | None = None
    memo: Any = None
    extra: Mapping[str, Any] = extra_field()

    @classmethod
    def proactive(cls, memo: Any) -> SkillResult:
        """``{memo}`` of a ``PROACTIVE_LAUNCH``; an explicit null is kept (as the codec keeps
        a peer's explicit null: in ``extra``)."""
        return cls(memo=memo) if memo is not None else cls(extra={"memo": None})


@attrs.frozen(kw_only=True)
class SkillRequestData:
    """``data`` of ``LISTEN_LAUNCH``/``LISTEN_UPDATE``/``PROACTIVE_LAUNCH`` (§5).

    ``general`` is ``{accountID, robotID, lang, release, remoteAddress}``; ``skill`` is
    ``{id, session?}``; ``runtime`` is the robot's CONTEXT runtime.
    """

    general: Mapping[str, Any]
    runtime: Mapping[str, Any]
    skill: Mapping[str, Any]
    result: SkillResult | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ListenLaunch(HubMessage):
    """The hub launches a cloud skill for a listen turn."""

    type: ClassVar[str] = "LISTEN_LAUNCH"
    data: SkillRequestData


@attrs.frozen(kw_only=True)
class ListenUpdate(HubMessage):
    """The hub gives a turn to the skill already running on the robot (``launch: false``)."""

    type: ClassVar[str] = "LISTEN_UPDATE"
    data: SkillRequestData


@attrs.frozen(kw_only=True)
class ProactiveLaunch(HubMessage):
    """The hub launches a cloud skill chosen for a TRIGGER (§4.6)."""

    type: ClassVar[str] = "PROACTIVE_LAUNCH"
    data: SkillRequestData


# --------------------------------------------------------------------------- parser


@attrs.frozen(kw_only=True)
class ParseRequestData:
    """``POST /v1/parse`` data: ``{text, rules, loop:{users}, external?}`` (§4.4)."""

    text: str
    rules: tuple[str, ...]
    loop: Mapping[str, Any] | None = None
    external: Any = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ParserRequest(HubMessage):
    """The hub's request to the parser (envelope type ``NLU``)."""

    type: ClassVar[str] = "NLU"
    data: ParseRequestData


@attrs.frozen(kw_only=True)
class ParserReply(HubMessage):
    """The parser's answer (envelope type ``NLU``); data is an :class:`NluResult`."""

    type: ClassVar[str] = "NLU"
    data: NluResult


# --------------------------------------------------------------------------- history


@attrs.frozen(kw_only=True)
class SkillLaunchRecord:
    """``POST /v1/skill/launch`` body (§5)."""

    robot_id: str | None = attrs.field(metadata=wire("robotID"))
    session_id: str | None = attrs.field(metadata=wire("sessionID"))
    skill_id: str = attrs.field(metadata=wire("skillID"))
    intent: str | None
    person_ids: tuple[str, ...] = attrs.field(metadata=wire("personIDs"))
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class SpeechRecord:
    """``POST /v1/speech`` body (§5); the nested results are kept as JSON."""

    robot_id: str | None = attrs.field(metadata=wire("robotID"))
    account_id: str | None = attrs.field(metadata=wire("accountID"))
    trans_id: str | None = attrs.field(metadata=wire("transID"))
    timestamp: int
    audio_file_url: str | None = attrs.field(metadata=wire("audioFileURL"))
    asr: Any
    nlu: Any
    match: Any
    skill: Any
    redirect: Any = None
    error: Any = None
    extra: Mapping[str, Any] = extra_field()
