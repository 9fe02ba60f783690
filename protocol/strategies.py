"""Hypothesis strategies for the wire protocol (STYLE.md "Fixtures and Hypothesis").

They live in the package, not in ``tests/``, because researchers use them too: the installed
``jibo-cloud fuzz`` draws its turns from here. This is the one ``protocol`` module that needs
a third-party library beyond attrs and cattrs (hypothesis, a pure library: no I/O); nothing
else in ``protocol`` imports it, so ``import protocol`` never loads hypothesis.

``messages_of(cls)`` derives a strategy for any protocol class from its attrs fields and type
hints, so every message class (and every payload) has one without hand-written duplicates; the
named strategies below are the ones tests use: :func:`robot_messages`, :func:`hub_messages`,
:func:`envelopes`, :func:`listen_payloads`, :func:`json_values`, :func:`robot_turns`.
"""

from __future__ import annotations

import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, get_args, get_origin

import attrs
from hypothesis import strategies as st

import protocol
from protocol import codec, envelope, jcp, services
from protocol._fields import EXTRA, WIRE

# --------------------------------------------------------------------------- JSON


def json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=12),
    )


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value (what ``json.loads`` can return)."""
    return st.recursive(
        json_scalars(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(max_size=8), inner, max_size=4),
        ),
        max_leaves=max_leaves,
    )


def json_objects() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(max_size=8), json_values(6), max_size=4)


def _numbers() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-(2**53), max_value=2**53),
        st.floats(allow_nan=False, allow_infinity=False),
    )


# --------------------------------------------------------------------------- derived


def wire_keys(cls: type[Any]) -> frozenset[str]:
    """The keys a class models (and ``type`` for envelopes): never used for ``extra``."""
    keys = {f.metadata.get(WIRE, f.name) for f in attrs.fields(cls) if not f.metadata.get(EXTRA)}
    if issubclass(cls, envelope._Frame):
        keys.add("type")
    return frozenset(keys)


def extras(cls: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Unknown keys a peer may add to ``cls``: written back unchanged by the codec."""
    reserved = wire_keys(cls)
    return st.dictionaries(
        st.text(max_size=10).filter(lambda k: k not in reserved), json_values(6), max_size=3
    )


def _for_type(tp: Any) -> st.SearchStrategy[Any]:
    if tp is Any:
        return json_values(8)
    if tp is str:
        return st.text(max_size=16)
    if tp is int:
        return st.integers(min_value=-(2**63), max_value=2**63)
    if tp is float:
        return _numbers()
    if tp is bool:
        return st.booleans()
    if tp is type(None):
        return st.none()
    if attrs.has(tp):
        return st.deferred(lambda: messages_of(tp))
    origin, args = get_origin(tp), get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_for_type(a) for a in args))
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (Mapping, dict):
        if args and args[1] is float:
            return st.dictionaries(st.text(max_size=8), _numbers(), max_size=3)
        return json_objects()
    if origin is tuple:
        return st.lists(st.text(max_size=12), max_size=4).map(tuple)
    raise TypeError(f"no strategy for {tp!r}")


_BUILT: dict[type[Any], st.SearchStrategy[Any]] = {}


def messages_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Any valid instance of a protocol class (message, payload or history record)."""
    if cls not in _BUILT:
        _BUILT[cls] = _build_messages_of(cls)
    return _BUILT[cls]


def _build_messages_of(cls: type[Any]) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for f in attrs.fields(cls):
        if f.metadata.get(EXTRA):
            kwargs[f.name] = extras(cls)
        elif cls is envelope.Forwarded and f.name == "type":
            kwargs[f.name] = st.text(min_size=1, max_size=12).filter(
                lambda t: t not in codec.HUB_TYPES
            )
        else:
            kwargs[f.name] = _for_type(hints[f.name])
    return st.builds(cls, **kwargs)


ROBOT_CLASSES: tuple[type[Any], ...] = tuple(codec.ROBOT_TYPES.values())
HUB_CLASSES: tuple[type[Any], ...] = (*codec.HUB_TYPES.values(), envelope.Forwarded)
PARSER_CLASSES: tuple[type[Any], ...] = (services.ParserReply,)
RECORD_CLASSES: tuple[type[Any], ...] = (services.SkillLaunchRecord, services.SpeechRecord)


def sender_of(cls: type[Any]) -> codec.Sender:
    """Which type table decodes ``cls``."""
    if cls in ROBOT_CLASSES:
        return "robot"
    if cls in PARSER_CLASSES:
        return "parser"
    return "hub"


def robot_messages() -> st.SearchStrategy[Any]:
    return st.one_of(*(messages_of(c) for c in ROBOT_CLASSES))


def hub_messages() -> st.SearchStrategy[Any]:
    return st.one_of(*(messages_of(c) for c in HUB_CLASSES))


def envelopes() -> st.SearchStrategy[tuple[codec.Sender, Any]]:
    """(sender, message) for every message class in both directions."""
    classes = (*ROBOT_CLASSES, *HUB_CLASSES, *PARSER_CLASSES)
    return st.one_of(*(messages_of(c).map(functools.partial(_with_sender, c)) for c in classes))


def _with_sender(cls: type[Any], message: Any) -> tuple[codec.Sender, Any]:
    return sender_of(cls), message


def listen_payloads() -> st.SearchStrategy[envelope.ListenData]:
    """LISTEN data, biased towards the modes and shapes robots really send (§4.3)."""
    realistic = st.builds(
        envelope.ListenData,
        lang=st.just("en-US"),
        hotphrase=st.booleans(),
        rules=st.lists(
            st.sampled_from(["launch", "globals/global_commands_launch", "shared/yes_no"]),
            min_size=1,
            max_size=3,
        ).map(tuple),
        mode=st.sampled_from(["", "CLIENT_ASR", "CLIENT_NLU"]),
        asr=st.one_of(st.just(protocol.FAKE_ASR), messages_of(envelope.AsrConfig)),
    )
    return st.one_of(realistic, messages_of(envelope.ListenData))


# --------------------------------------------------------------------------- JCP


def behaviors() -> st.SearchStrategy[jcp.Behavior]:
    ids = st.none() | st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
    leaves = st.one_of(
        st.builds(jcp.Slim, esml=st.text(max_size=20), meta=st.none() | json_objects(), id=ids),
        st.builds(jcp.ImpactEmotion, emotion=st.sampled_from(["CALM", "HAPPY"]), id=ids),
        st.builds(
            jcp.SetPresentPerson,
            looper_id=st.none() | st.text(max_size=8),
            source=st.text(max_size=8),
            confidence=_numbers(),
            id=ids,
        ),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.builds(jcp.Sequence, children=st.lists(inner, max_size=3).map(tuple), id=ids),
            st.builds(
                jcp.Parallel,
                children=st.lists(inner, max_size=3).map(tuple),
                succeed_on_first=st.booleans(),
                id=ids,
            ),
        ),
        max_leaves=6,
    )


# --------------------------------------------------------------------------- turns


@st.composite
def robot_turns(draw: st.DrawFn) -> list[Any]:
    """A robot's side of one listen turn: LISTEN, then CLIENT_ASR/CLIENT_NLU or nothing, with
    CONTEXT moved to any position after LISTEN (§4.3: CONTEXT may come in any order)."""
    trans_id = draw(st.text(min_size=1, max_size=8))
    ts = draw(st.integers(0, 2**42))
    data = draw(listen_payloads())
    turn: list[Any] = [envelope.Listen(msg_id="mid-listen", data=data, trans_id=trans_id, ts=ts)]
    if data.mode == protocol.MODE_CLIENT_ASR:
        asr = envelope.ClientAsrData(text=draw(st.text(max_size=20)))
        turn.append(envelope.ClientAsr(msg_id="mid-asr", data=asr, trans_id=trans_id, ts=ts))
    elif data.mode == protocol.MODE_CLIENT_NLU:
        nlu = draw(messages_of(envelope.ClientNluData))
        turn.append(envelope.ClientNlu(msg_id="mid-nlu", data=nlu, trans_id=trans_id, ts=ts))
    context = envelope.Context(
        msg_id="mid-context",
        data=draw(messages_of(envelope.ContextData)),
        trans_id=trans_id,
        ts=ts,
    )
    turn.insert(draw(st.integers(1, len(turn))), context)
    return turn
