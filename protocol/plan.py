"""TurnContext and ResponsePlan: the normalized handoff between the hub and skills (PROTOCOL.md §7).

Every turn is mapped into a :class:`TurnContext`; a skill (or a broker) answers with a
:class:`ResponsePlan`; :func:`plan_to_skill_reply` is the one mapper that turns a plan into the
§5 skill reply (``SKILL_ACTION`` with a JCP behavior, §6). Skills written against these classes
never touch the wire format.

Pure: stdlib and attrs only; no trio, no sockets, no clock reads and no id generation. Time
(``now_ms``) and ids (``msg_id``) come in as arguments.
"""

from __future__ import annotations

import enum
import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from protocol import jcp

SILENT_ESML = jcp.SILENT_ESML
JCP_VERSION = jcp.JCP_VERSION


def _strs(values: Iterable[str]) -> tuple[str, ...]:
    """attrs converter: any iterable of strings → a tuple (frozen all the way down)."""
    return tuple(values)


class InputMode(enum.Enum):
    """How the turn started (§7)."""

    #: The robot heard its hot phrase ("Hey Jibo") and then the command.
    WAKE_WORD = "wake_word"
    #: A LISTEN opened by a skill (no hot phrase): an answer to a question.
    FOLLOW_UP = "follow_up"
    #: Text typed or tapped (CLIENT_ASR / CLIENT_NLU).
    DIRECT_TEXT = "direct_text"
    #: A proactive trigger or an internal event.
    SYSTEM = "system"


class PlanStatus(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ESCALATED = "escalated"
    NO_MATCH = "no_match"


@attrs.frozen
class TurnContext:
    """One turn, normalized: what was said or meant, by whom, where, and what the robot expects."""

    turn_id: str
    session_id: str = ""
    timestamp_ms: int = 0
    input_mode: InputMode = InputMode.WAKE_WORD
    #: ``robot`` / ``simulator`` / ``test`` / ``api``.
    source: str = "robot"
    raw_transcript: str = ""
    normalized_transcript: str = ""
    device_id: str = ""
    account_id: str = ""
    request_id: str = ""
    #: The §5 request type this turn came from (``LISTEN_LAUNCH`` …).
    operation: str = ""
    firmware_version: str = ""
    locale: str = "en-US"
    #: An IANA zone name (``America/New_York``) or a fixed offset (``-04:00``); "" when unknown.
    time_zone: str = ""
    follow_up_eligible: bool = False
    intent: str | None = None
    entities: Mapping[str, Any] = attrs.field(factory=dict)
    rules: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    skill_id: str = ""
    #: True for a launch (LISTEN_LAUNCH / PROACTIVE_LAUNCH), False for an update of a running skill.
    launch: bool = True
    #: The robot's local time as it reported it (CONTEXT ``runtime.location.iso``), if any.
    local_iso: str = ""
    #: The first names of the loop's people, for greetings.
    user_names: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    #: The skill's session state from CONTEXT (``skill.session``), for multi-turn skills.
    skill_session: Mapping[str, Any] = attrs.field(factory=dict)
    #: Everything else worth keeping (trans id, hints, audio stats, client intent, memo …).
    attributes: Mapping[str, Any] = attrs.field(factory=dict)


# --------------------------------------------------------------------------- actions


@attrs.frozen
class Speak:
    """Say something. ``text`` is plain text (escaped for ESML); ``esml`` wins when given."""

    text: str = ""
    esml: str = ""
    #: The ESML ``es`` category (``happy``, ``neutral``, ``question`` …); "" for none.
    category: str = "neutral"
    prompt_id: str = "RUNTIME_PROMPT"
    #: §6 ``meta.prompt_sub_category``: ``AN`` (announcement), ``Q`` (question) …
    prompt_sub_category: str = "AN"
    mim_id: str = "runtime"
    mim_type: str = "announcement"


@attrs.frozen
class OpenMic:
    """Open the mic after speaking, for these rules (the robot's own grammar names)."""

    rules: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    hints: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    timeout_ms: int = 6000


@attrs.frozen
class ShowVisual:
    """Put something on the robot's screen: an image URL or a named view."""

    name: str
    url: str = ""


@attrs.frozen
class Animate:
    """Play a named animation (or an emotion impact when ``emotion`` is set)."""

    name: str = ""
    emotion: str = ""


@attrs.frozen
class InvokeNativeSkill:
    """Hand the turn to a skill on the robot (becomes a ``SKILL_REDIRECT``)."""

    skill_id: str
    intent: str | None = None
    entities: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class SetContext:
    """Remember values in the skill session (sent back in the next CONTEXT's ``skill.session``)."""

    values: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class EmitEvent:
    """Something for logs/analytics; never sent to the robot as behavior."""

    name: str
    data: Mapping[str, Any] = attrs.field(factory=dict)


Action = Speak | OpenMic | ShowVisual | Animate | InvokeNativeSkill | SetContext | EmitEvent


def _actions(values: Iterable[Action]) -> tuple[Action, ...]:
    return tuple(values)


@attrs.frozen
class FollowUp:
    """Keep the conversation going after the plan's actions."""

    keep_mic_open: bool = False
    timeout_ms: int = 6000
    expected_topic: str = ""
    hints: tuple[str, ...] = attrs.field(default=(), converter=_strs)
    rules: tuple[str, ...] = attrs.field(default=(), converter=_strs)


@attrs.frozen
class ResponsePlan:
    """What a skill wants the robot to do for one turn (§7)."""

    plan_id: str = ""
    session_id: str = ""
    status: PlanStatus = PlanStatus.SUCCEEDED
    intent: str | None = None
    topic: str = ""
    actions: tuple[Action, ...] = attrs.field(default=(), converter=_actions)
    follow_up: FollowUp = attrs.field(factory=FollowUp)
    context_updates: Mapping[str, Any] = attrs.field(factory=dict)
    diagnostics: Mapping[str, Any] = attrs.field(factory=dict)
    #: §6 ``data.fireAndForget``: the robot does not report completion back.
    fire_and_forget: bool = False


def say(text: str, *, category: str = "neutral", **plan: Any) -> ResponsePlan:
    """The most common plan: say one sentence and finish."""
    return ResponsePlan(actions=(Speak(text=text, category=category),), **plan)


# --------------------------------------------------------------------------- ESML


def to_esml(speak: Speak) -> str:
    """The ``<speak>`` document for one Speak action (§6)."""
    if speak.esml:
        return speak.esml
    body = html.escape(speak.text.strip(), quote=True).replace("&#x27;", "&apos;")
    if not body:
        return SILENT_ESML
    if speak.category:
        body = f"<es cat='{speak.category}'>{body}</es>"
    return f"<speak>{body}</speak>"


def _slim(speak: Speak) -> jcp.Slim:
    return jcp.slim(
        to_esml(speak),
        prompt_id=speak.prompt_id,
        prompt_sub_category=speak.prompt_sub_category,
        mim_id=speak.mim_id,
        mim_type=speak.mim_type,
    )


def _behavior(action: Action) -> jcp.Behavior | None:
    if isinstance(action, Speak):
        return _slim(action)
    if isinstance(action, Animate) and action.emotion:
        return jcp.impact_emotion(action.emotion)
    if isinstance(action, Animate):
        name = html.escape(action.name, quote=True)
        return jcp.slim(f"<speak><anim name='{name}' nonBlocking='true'/></speak>")
    # Our extensions (not seen in robot traffic): the robot ignores unknown behaviours.
    if isinstance(action, ShowVisual):
        return jcp.OtherBehavior(
            type="SHOW", fields={"config": {"name": action.name, "url": action.url}}
        )
    if isinstance(action, OpenMic):
        config = {
            "rules": list(action.rules),
            "hints": list(action.hints),
            "timeout": action.timeout_ms,
        }
        return jcp.OtherBehavior(type="LISTEN", fields={"config": config})
    return None  # SetContext / EmitEvent / InvokeNativeSkill are not behaviours


def plan_behavior(plan: ResponsePlan) -> dict[str, Any]:
    """The JCP behaviour JSON for a plan: one behaviour, or a ``SEQUENCE`` of them (§6)."""
    behaviors = [b for b in map(_behavior, plan.actions) if b is not None]
    if plan.follow_up.keep_mic_open and not any(isinstance(a, OpenMic) for a in plan.actions):
        follow = plan.follow_up
        listen = _behavior(
            OpenMic(rules=follow.rules, hints=follow.hints, timeout_ms=follow.timeout_ms)
        )
        behaviors.append(listen or jcp.slim(SILENT_ESML))
    if not behaviors:
        return jcp.behavior_to_json(jcp.slim(SILENT_ESML))
    if len(behaviors) == 1:
        return jcp.behavior_to_json(behaviors[0])
    return jcp.behavior_to_json(jcp.sequence(*behaviors))


def session_values(plan: ResponsePlan) -> dict[str, Any]:
    """What the plan asks to remember: ``context_updates`` plus every SetContext action."""
    values = dict(plan.context_updates)
    for action in plan.actions:
        if isinstance(action, SetContext):
            values.update(action.values)
    return values


def plan_to_skill_reply(
    plan: ResponsePlan,
    *,
    skill_id: str,
    msg_id: str,
    now_ms: int,
    turn: TurnContext | None = None,
) -> dict[str, Any]:
    """Map a plan to the §5 skill reply message (``{type, msgID, ts, data}``).

    An :class:`InvokeNativeSkill` action makes a ``SKILL_REDIRECT`` to that skill (carrying the
    turn's asr/nlu when ``turn`` is given); otherwise a ``SKILL_ACTION`` with a JCP behavior.
    ``data.final`` is False when the plan keeps the mic open, so the robot expects more turns.
    """
    redirect = next((a for a in plan.actions if isinstance(a, InvokeNativeSkill)), None)
    if redirect is not None:
        return {
            "type": "SKILL_REDIRECT",
            "msgID": msg_id,
            "ts": now_ms,
            "data": {
                "match": {"skillID": redirect.skill_id, "launch": True, "onRobot": True},
                "nlu": {
                    "intent": redirect.intent,
                    "entities": dict(redirect.entities),
                    "rules": list(turn.rules) if turn else [],
                },
                "asr": {"text": turn.raw_transcript if turn else "", "confidence": 1},
                "memo": {"fromSkill": skill_id},
            },
        }
    keep_open = plan.follow_up.keep_mic_open or any(isinstance(a, OpenMic) for a in plan.actions)
    skill: dict[str, Any] = {"id": skill_id}
    values = session_values(plan)
    if values or plan.session_id:
        skill["session"] = {"id": plan.session_id, **values} if plan.session_id else values
    return {
        "type": "SKILL_ACTION",
        "msgID": msg_id,
        "ts": now_ms,
        "data": {
            "skill": skill,
            "action": {
                "type": "JCP",
                "config": {"version": JCP_VERSION, "jcp": plan_behavior(plan)},
            },
            "analytics": {},
            "final": not keep_open,
            "fireAndForget": plan.fire_and_forget,
        },
    }


# --------------------------------------------------------------------------- request → TurnContext


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _input_mode(request_type: str, data: Mapping[str, Any]) -> InputMode:
    if request_type == "PROACTIVE_LAUNCH":
        return InputMode.SYSTEM
    if request_type == "LISTEN_UPDATE":
        return InputMode.FOLLOW_UP
    asr = _obj(_obj(data.get("result")).get("asr"))
    if asr.get("confidence") == 1 and not asr.get("text"):
        return InputMode.DIRECT_TEXT  # CLIENT_NLU: no words, intent from a tap
    return InputMode.WAKE_WORD


def normalize_transcript(text: str) -> str:
    """Lower case, punctuation to spaces, single spaces: what grammars match against."""
    kept = "".join(c if c.isalnum() or c in "'" else " " for c in text.lower())
    return " ".join(kept.split())


def turn_from_skill_request(
    request: Mapping[str, Any], *, default_time_zone: str = ""
) -> TurnContext:
    """Map a §5 skill request (``LISTEN_LAUNCH`` / ``LISTEN_UPDATE`` / ``PROACTIVE_LAUNCH``).

    Missing or oddly typed fields become empty values: a skill must answer even a sparse request.
    The time zone is the offset of CONTEXT ``runtime.location.iso`` when present, else
    ``default_time_zone``.
    """
    data = _obj(request.get("data"))
    general = _obj(data.get("general"))
    runtime = _obj(data.get("runtime"))
    location = _obj(runtime.get("location"))
    loop = _obj(runtime.get("loop"))
    skill = _obj(data.get("skill"))
    result = _obj(data.get("result"))
    asr = _obj(result.get("asr"))
    nlu = _obj(result.get("nlu"))
    request_type = str(request.get("type") or "")
    text = str(asr.get("text") or "")
    iso = str(location.get("iso") or "")
    raw_users = loop.get("users")
    users: list[Any] = raw_users if isinstance(raw_users, list) else []
    names = tuple(
        str(u.get("firstName")) for u in users if isinstance(u, Mapping) and u.get("firstName")
    )
    raw_rules = nlu.get("rules")
    rules: list[Any] = raw_rules if isinstance(raw_rules, list) else []
    ts = request.get("ts")
    return TurnContext(
        turn_id=str(request.get("msgID") or ""),
        session_id=str(_obj(skill.get("session")).get("id") or ""),
        timestamp_ms=ts if isinstance(ts, int) and not isinstance(ts, bool) else 0,
        input_mode=_input_mode(request_type, data),
        raw_transcript=text,
        normalized_transcript=normalize_transcript(text),
        device_id=str(general.get("robotID") or ""),
        account_id=str(general.get("accountID") or ""),
        request_id=str(request.get("msgID") or ""),
        operation=request_type,
        firmware_version=str(general.get("release") or ""),
        locale=str(general.get("lang") or "en-US"),
        time_zone=_iso_offset(iso) or default_time_zone,
        follow_up_eligible=request_type != "PROACTIVE_LAUNCH",
        intent=nlu.get("intent") if isinstance(nlu.get("intent"), str) else None,
        entities=dict(_obj(nlu.get("entities"))),
        rules=tuple(str(r) for r in rules),
        skill_id=str(skill.get("id") or ""),
        launch=request_type != "LISTEN_UPDATE",
        local_iso=iso,
        user_names=names,
        skill_session=dict(_obj(skill.get("session"))),
        attributes={"memo": result.get("memo"), "location": dict(location)},
    )


def _iso_offset(iso: str) -> str:
    """``2026-04-27T08:57:22.855-04:00`` → ``-04:00``; ``…Z`` → ``+00:00``; else ""."""
    if iso.endswith("Z"):
        return "+00:00"
    tail = iso[-6:]
    if len(iso) > 19 and tail[0] in "+-" and tail[3] == ":":
        return tail
    return ""


def error_reply(message: str, *, msg_id: str, now_ms: int) -> dict[str, Any]:
    """A §5 skill ``ERROR`` reply."""
    return {"type": "ERROR", "msgID": msg_id, "ts": now_ms, "data": {"message": message}}


__all__: Sequence[str] = (
    "SILENT_ESML",
    "Action",
    "Animate",
    "EmitEvent",
    "FollowUp",
    "InputMode",
    "InvokeNativeSkill",
    "OpenMic",
    "PlanStatus",
    "ResponsePlan",
    "SetContext",
    "ShowVisual",
    "Speak",
    "TurnContext",
    "error_reply",
    "normalize_transcript",
    "plan_behavior",
    "plan_to_skill_reply",
    "say",
    "to_esml",
    "turn_from_skill_request",
)
