"""JCP behaviours (what the robot executes) and the builders of a ``SKILL_ACTION`` (PROTOCOL.md §6).

Pure. The behaviours are frozen attrs classes: :class:`Slim` (speak/show ESML),
:class:`Sequence`, :class:`Parallel`, :class:`SetPresentPerson` and :class:`ImpactEmotion`;
anything else a skill sends is kept as :class:`OtherBehavior`. Wire shapes follow the original
``jibo-command-requester`` as recorded by Phoenix: ``{"type": "SEQUENCE", "id", "children"}``,
``{"type": "PARALLEL", "id", "succeedOnFirst", "children"}``, ``{"type": "IMPACT_EMOTION",
"id", "emotion"}``, ``{"type": "SET_PRESENT_PERSON", "id", "looperId", "source",
"confidence"}`` and ``{"type": "SLIM", "id", "config": {"play": {"esml", "meta"}}}``.
Behaviour ids are optional here: the caller passes one (no ``uuid4()`` inside ``protocol``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeAlias

import attrs

from protocol.envelope import SkillActionData
from protocol.errors import DecodeError

__all__ = [
    "JCP_VERSION",
    "SILENT_ESML",
    "Behavior",
    "ImpactEmotion",
    "OtherBehavior",
    "Parallel",
    "Sequence",
    "SetPresentPerson",
    "Slim",
    "behavior_from_json",
    "behavior_of",
    "behavior_to_json",
    "impact_emotion",
    "parallel",
    "sequence",
    "set_present_person",
    "skill_action",
    "slim",
]

#: ``action.config.version`` of a JCP action (§6).
JCP_VERSION = "1.0.0"
#: A silent completion (§6).
SILENT_ESML = "<speak><break time='1ms'/></speak>"


@attrs.frozen(kw_only=True)
class Slim:
    """Speak and show: ``config.play.esml`` with ``meta`` (``prompt_id``, ``mim_id`` …)."""

    esml: str
    meta: Mapping[str, Any] | None = None
    id: str | None = None


@attrs.frozen(kw_only=True)
class Sequence:
    """Children one after the other."""

    children: tuple[Behavior, ...]
    id: str | None = None


@attrs.frozen(kw_only=True)
class Parallel:
    """Children at the same time; ``succeed_on_first`` ends it with the first child."""

    children: tuple[Behavior, ...]
    succeed_on_first: bool = False
    id: str | None = None


@attrs.frozen(kw_only=True)
class SetPresentPerson:
    """Tell the robot who it is talking to (``looperId``), e.g. after a user override."""

    looper_id: str | None
    source: str = "USER_OVERRIDE"
    confidence: float = 100
    id: str | None = None


@attrs.frozen(kw_only=True)
class ImpactEmotion:
    """Nudge the robot's emotion (``CALM``, ``HAPPY`` …)."""

    emotion: str
    id: str | None = None


@attrs.frozen(kw_only=True)
class OtherBehavior:
    """A behaviour this package does not model, kept as sent."""

    type: str
    fields: Mapping[str, Any]


Behavior: TypeAlias = Slim | Sequence | Parallel | SetPresentPerson | ImpactEmotion | OtherBehavior


# --------------------------------------------------------------------------- builders


def slim(
    esml: str,
    *,
    prompt_id: str = "RUNTIME_PROMPT",
    prompt_sub_category: str = "AN",
    mim_id: str = "runtime",
    mim_type: str = "announcement",
    id: str | None = None,
) -> Slim:
    """A SLIM behaviour speaking ``esml`` (``<speak>…</speak>``) with its ``meta``."""
    meta = {
        "prompt_id": prompt_id,
        "prompt_sub_category": prompt_sub_category,
        "mim_id": mim_id,
        "mim_type": mim_type,
    }
    return Slim(esml=esml, meta=meta, id=id)


def sequence(*children: Behavior, id: str | None = None) -> Sequence:
    """A Sequence of ``children``."""
    return Sequence(children=children, id=id)


def parallel(
    *children: Behavior,
    succeed_on_first: bool = False,
    id: str | None = None,
) -> Parallel:
    """A Parallel of ``children``."""
    return Parallel(children=children, succeed_on_first=succeed_on_first, id=id)


def set_present_person(
    looper_id: str | None,
    *,
    source: str = "USER_OVERRIDE",
    confidence: float = 100,
    id: str | None = None,
) -> SetPresentPerson:
    """A SetPresentPerson behaviour."""
    return SetPresentPerson(looper_id=looper_id, source=source, confidence=confidence, id=id)


def impact_emotion(emotion: str, *, id: str | None = None) -> ImpactEmotion:
    """An ImpactEmotion behaviour."""
    return ImpactEmotion(emotion=emotion, id=id)


def skill_action(
    skill_id: str,
    jcp: Behavior,
    *,
    final: bool,
    fire_and_forget: bool,
    analytics: Mapping[str, Any] | None = None,
) -> SkillActionData:
    """``SKILL_ACTION.data`` in the §6 shape: ``{skill:{id}, action:{type:"JCP",
    config:{version:"1.0.0", jcp}}, analytics:{}, final, fireAndForget}``."""
    action = {"type": "JCP", "config": {"version": JCP_VERSION, "jcp": behavior_to_json(jcp)}}
    return SkillActionData(
        skill={"id": skill_id},
        action=action,
        analytics=dict(analytics) if analytics is not None else {},
        final=final,
        fire_and_forget=fire_and_forget,
    )


# --------------------------------------------------------------------------- wire


def _with_id(out: dict[str, Any], id_: str | None) -> dict[str, Any]:
    if id_ is not None:
        out["id"] = id_
    return out


def behavior_to_json(behavior: Behavior) -> dict[str, Any]:
    """A behaviour → its JCP JSON object."""
    if isinstance(behavior, Slim):
        play: dict[str, Any] = {"esml": behavior.esml}
        if behavior.meta is not None:
            play["meta"] = dict(behavior.meta)
        return _with_id({"type": "SLIM"}, behavior.id) | {"config": {"play": play}}
    if isinstance(behavior, Sequence):
        children = [behavior_to_json(c) for c in behavior.children]
        return _with_id({"type": "SEQUENCE"}, behavior.id) | {"children": children}
    if isinstance(behavior, Parallel):
        out = _with_id({"type": "PARALLEL"}, behavior.id)
        out["succeedOnFirst"] = behavior.succeed_on_first
        out["children"] = [behavior_to_json(c) for c in behavior.children]
        return out
    if isinstance(behavior, SetPresentPerson):
        out = _with_id({"type": "SET_PRESENT_PERSON"}, behavior.id)
        out.update(
            looperId=behavior.looper_id, source=behavior.source, confidence=behavior.confidence
        )
        return out
    if isinstance(behavior, ImpactEmotion):
        return _with_id({"type": "IMPACT_EMOTION"}, behavior.id) | {"emotion": behavior.emotion}
    return {"type": behavior.type, **behavior.fields}


def _fail(path: str, problem: str) -> DecodeError:
    detail = f"{path}: {problem}"
    return DecodeError(f"Invalid JCP behaviour: {detail}", path=path, detail=detail)


def behavior_from_json(obj: Any, path: str = "$") -> Behavior:
    """A JCP JSON object → a behaviour; unknown types become :class:`OtherBehavior`.

    Raises:
        DecodeError: a known behaviour with fields of the wrong shape (the path is named).
    """
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise _fail(path, "expected an object with a str 'type'")
    kind, id_ = obj["type"], obj.get("id")
    if id_ is not None and not isinstance(id_, str):
        raise _fail(f"{path}.id", "expected str")
    if kind == "SLIM":
        play = obj.get("config", {}).get("play") if isinstance(obj.get("config"), dict) else None
        if not isinstance(play, dict) or not isinstance(play.get("esml"), str):
            raise _fail(f"{path}.config.play.esml", "expected str")
        meta = play.get("meta")
        if meta is not None and not isinstance(meta, dict):
            raise _fail(f"{path}.config.play.meta", "expected object")
        return Slim(esml=play["esml"], meta=meta, id=id_)
    if kind in ("SEQUENCE", "PARALLEL"):
        children = obj.get("children")
        if not isinstance(children, list):
            raise _fail(f"{path}.children", "expected list of behaviours")
        parsed = tuple(
            behavior_from_json(c, f"{path}.children[{i}]") for i, c in enumerate(children)
        )
        if kind == "SEQUENCE":
            return Sequence(children=parsed, id=id_)
        first = obj.get("succeedOnFirst", False)
        if not isinstance(first, bool):
            raise _fail(f"{path}.succeedOnFirst", "expected bool")
        return Parallel(children=parsed, succeed_on_first=first, id=id_)
    if kind == "IMPACT_EMOTION":
        if not isinstance(obj.get("emotion"), str):
            raise _fail(f"{path}.emotion", "expected str")
        return ImpactEmotion(emotion=obj["emotion"], id=id_)
    if kind == "SET_PRESENT_PERSON":
        looper, source, confidence = obj.get("looperId"), obj.get("source"), obj.get("confidence")
        if looper is not None and not isinstance(looper, str):
            raise _fail(f"{path}.looperId", "expected str or null")
        if not isinstance(source, str):
            raise _fail(f"{path}.source", "expected str")
        if isinstance(confidence, bool) or not isinstance(confidence, int | float):
            raise _fail(f"{path}.confidence", "expected number")
        return SetPresentPerson(looper_id=looper, source=source, confidence=confidence, id=id_)
    return OtherBehavior(type=kind, fields={k: v for k, v in obj.items() if k != "type"})


def behavior_of(data: SkillActionData) -> Behavior | None:
    """The JCP behaviour of a ``SKILL_ACTION``, or None when the action is not JCP.

    Raises:
        DecodeError: the action claims to be JCP but its behaviour is malformed.
    """
    action = data.action
    if not isinstance(action, dict) or action.get("type") != "JCP":
        return None
    config = action.get("config")
    if not isinstance(config, dict) or "jcp" not in config:
        raise _fail("$.data.action.config.jcp", "required key is missing")
    return behavior_from_json(config["jcp"], "$.data.action.config.jcp")
