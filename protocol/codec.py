"""The codec: JSON text frames ⇄ typed messages, through one cattrs converter.

Pure: stdlib, attrs and cattrs only. :data:`converter` holds one structure and one unstructure
hook per message class. The hooks are generated once per class from its attrs fields and
their metadata (:mod:`protocol._fields`) rather than with cattrs' generic ``make_dict_*_fn``,
because the wire needs three things those do not give together: strict primitives (``"42"`` is
not an int, ``true`` is not a number), unknown keys kept in ``extra`` and written back, and an
explicit ``null`` kept apart from an absent key. The generated functions do no validation work
beyond one type check per field, and build the JSON path only when something fails.

Decoding raises only :class:`~protocol.errors.DecodeError` (a
:class:`~protocol.errors.ProtocolError`):

- malformed JSON → ``Invalid JSON arrived into socket: <data>`` (PROTOCOL.md §4.4);
- unknown or missing ``type`` → ``Unknown message type: <type>`` (§4.4);
- a field of the wrong shape → ``Invalid <TYPE> message: $.data.rules: expected list of str,
  got str``; ``.path`` is ``$.data.rules`` and ``.detail`` the part after the type.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeAlias, get_args, get_origin

import attrs
import cattrs

from protocol import envelope as env
from protocol import services as svc
from protocol._fields import ALWAYS, EXTRA, WIRE
from protocol.errors import DecodeError, LocalProtocolError

__all__ = [
    "HUB_TYPES",
    "PARSER_TYPES",
    "ROBOT_TYPES",
    "SKILL_TYPES",
    "Message",
    "Sender",
    "converter",
    "decode_frame",
    "encode_frame",
    "from_json",
    "to_json",
]

#: Who sent a frame or body; it picks the type table (``LISTEN`` is both directions).
Sender: TypeAlias = Literal["robot", "hub", "skill", "parser"]

Message: TypeAlias = env.RobotMessage | env.HubMessage

#: Robot → hub frames (§4.2).
ROBOT_TYPES: Mapping[str, type[env.RobotMessage]] = {
    "LISTEN": env.Listen,
    "CONTEXT": env.Context,
    "CLIENT_ASR": env.ClientAsr,
    "CLIENT_NLU": env.ClientNlu,
    "TRIGGER": env.Trigger,
    "CMD_RESULT": env.CmdResult,
}
#: Hub → robot frames, and the hub's requests to skills and the parser (§4.2, §5).
HUB_TYPES: Mapping[str, type[env.HubMessage]] = {
    "SOS": env.Sos,
    "EOS": env.Eos,
    "LISTEN": env.ListenReply,
    "SKILL_ACTION": env.SkillAction,
    "SKILL_REDIRECT": env.SkillRedirect,
    "PROACTIVE": env.Proactive,
    "ERROR": env.ErrorReply,
    "LISTEN_LAUNCH": svc.ListenLaunch,
    "LISTEN_UPDATE": svc.ListenUpdate,
    "PROACTIVE_LAUNCH": svc.ProactiveLaunch,
    "NLU": svc.ParserRequest,
}
#: A skill's replies (§5); other types are forwarded verbatim as ``Forwarded``.
SKILL_TYPES: Mapping[str, type[env.HubMessage]] = {
    "SKILL_ACTION": env.SkillAction,
    "SKILL_REDIRECT": env.SkillRedirect,
    "ERROR": env.ErrorReply,
}
#: The parser's replies (§5).
PARSER_TYPES: Mapping[str, type[env.HubMessage]] = {
    "NLU": svc.ParserReply,
    "ERROR": env.ErrorReply,
}
_TABLES: Mapping[str, Mapping[str, type[Any]]] = {
    "robot": ROBOT_TYPES,
    "hub": HUB_TYPES,
    "skill": SKILL_TYPES,
    "parser": PARSER_TYPES,
}
# The hub forwards a skill's reply whatever its type (§4.4).
_FORWARDING = frozenset({"hub", "skill"})

#: Envelope keys in the order the hub writes them (then ``extra``).
_ENVELOPE_ORDER = ("type", "msgID", "ts", "transID", "data", "final", "timings")

converter = cattrs.Converter()


class _Invalid(Exception):
    """Internal: a value has the wrong shape; ``path`` is built innermost first."""

    def __init__(self, problem: str, key: str | int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.path: list[str | int] = [] if key is None else [key]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _format_path(path: list[str | int]) -> str:
    out = "$"
    for part in reversed(path):
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


# --------------------------------------------------------------------------- primitive hooks

_Fn = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def _str(value: Any) -> Any:
    if type(value) is not str:
        raise _Invalid(f"expected str, got {_kind(value)}")
    return value


def _int(value: Any) -> Any:
    if type(value) is not int:
        raise _Invalid(f"expected int, got {_kind(value)}")
    return value


def _number(value: Any) -> Any:
    # JSON has one number type: keep 1 as 1 and 1.5 as 1.5, so re-encoding is exact.
    if type(value) is not int and type(value) is not float:
        raise _Invalid(f"expected number, got {_kind(value)}")
    return value


def _bool(value: Any) -> Any:
    if type(value) is not bool:
        raise _Invalid(f"expected bool, got {_kind(value)}")
    return value


def _none(value: Any) -> Any:
    if value is not None:
        raise _Invalid(f"expected null, got {_kind(value)}")
    return None


def _object(value: Any) -> Any:
    if type(value) is not dict:
        raise _Invalid(f"expected object, got {_kind(value)}")
    return value


def _number_object(value: Any) -> Any:
    if type(value) is not dict:
        raise _Invalid(f"expected object of numbers, got {_kind(value)}")
    for key, item in value.items():
        if type(item) is not int and type(item) is not float:
            raise _Invalid(f"expected number, got {_kind(item)}", key)
    return value


def _str_tuple(value: Any) -> Any:
    if type(value) is not list:
        raise _Invalid(f"expected list of str, got {_kind(value)}")
    for item in value:
        if type(item) is not str:
            raise _Invalid(f"expected list of str, got {_kind(item)} in the list")
    return tuple(value)


def _str_tuple_out(value: Any) -> Any:
    return list(value)


def _describe(tp: Any) -> str:
    if get_origin(tp) is Literal:
        return " or ".join(repr(a) for a in get_args(tp))
    if attrs.has(tp):
        return "object"
    return getattr(tp, "__name__", str(tp))


# --------------------------------------------------------------------------- compiled hooks

_STRUCTURE: dict[type[Any], _Fn] = {}
_UNSTRUCTURE: dict[type[Any], _Fn] = {}


def _structure_fn(tp: Any) -> _Fn:
    """A function checking and converting one JSON value into ``tp``."""
    if tp is Any:
        return _identity
    simple = {str: _str, int: _int, float: _number, bool: _bool, type(None): _none}
    if tp in simple:
        return simple[tp]
    origin, args = get_origin(tp), get_args(tp)
    if attrs.has(tp):
        return _class_structure(tp)
    if origin in (typing.Union, types.UnionType):
        return _union_structure(args)
    if origin is Literal:
        values = args

        def literal(value: Any) -> Any:
            if type(value) is str and value in values:
                return value
            raise _Invalid(f"expected {_describe(tp)}, got {_kind(value)}")

        return literal
    if origin in (Mapping, dict):
        return _number_object if args and args[1] is float else _object
    if origin is tuple and args == (str, ...):
        return _str_tuple
    raise TypeError(f"protocol.codec: no structure hook for {tp!r}")  # a bug in a class


def _union_structure(args: tuple[Any, ...]) -> _Fn:
    allows_none = type(None) in args
    options = [a for a in args if a is not type(None)]
    if len(options) == 1:
        inner = _structure_fn(options[0])
        if not allows_none:
            return inner

        def optional(value: Any) -> Any:
            return None if value is None else inner(value)

        optional.inner = inner  # type: ignore[attr-defined]  # inlined by _class_structure
        return optional
    literals = [v for a in options if get_origin(a) is Literal for v in get_args(a)]
    classes = [a for a in options if attrs.has(a)]
    assert len(classes) <= 1, "unions of several classes need a tag"
    class_fn = _class_structure(classes[0]) if classes else None
    expected = " or ".join(_describe(a) for a in options)

    def union(value: Any) -> Any:
        if value is None and allows_none:
            return None
        if type(value) is dict and class_fn is not None:
            return class_fn(value)
        if type(value) is str and value in literals:
            return value
        raise _Invalid(f"expected {expected}, got {_kind(value)}")

    return union


def _unstructure_fn(tp: Any) -> _Fn:
    if attrs.has(tp):
        return _class_unstructure(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin in (typing.Union, types.UnionType):
        classes = [a for a in args if attrs.has(a)]
        tuples = [a for a in args if get_origin(a) is tuple]
        if classes:
            cls, fn = classes[0], _class_unstructure(classes[0])
            return lambda value: fn(value) if isinstance(value, cls) else value
        if tuples:
            return lambda value: list(value) if isinstance(value, tuple) else value
        return _identity
    if origin is tuple:
        return _str_tuple_out
    return _identity


def _is_frame(cls: type[Any]) -> bool:
    return issubclass(cls, env._Frame)


def _field_specs(cls: type[Any]) -> list[tuple[str, str, attrs.Attribute[Any]]]:
    specs = [
        (f.name, f.metadata.get(WIRE, f.name), f)
        for f in attrs.fields(cls)
        if not f.metadata.get(EXTRA)
    ]
    if _is_frame(cls):
        order = {key: i for i, key in enumerate(_ENVELOPE_ORDER)}
        specs.sort(key=lambda s: order.get(s[1], len(order)))
    return specs


# Checks inlined into the generated functions (the rest are calls to the field's hook).
_INLINE = {
    _str: "type(v) is not str",
    _int: "type(v) is not int",
    _bool: "type(v) is not bool",
    _number: "type(v) is not int and type(v) is not float",
    _object: "type(v) is not dict",
}
_INLINE_EXPECTED = {_str: "str", _int: "int", _bool: "bool", _number: "number", _object: "object"}


def _class_structure(cls: type[Any]) -> _Fn:
    """Generate (once) a function structuring a JSON object into ``cls``.

    The source is generated per class, like cattrs' own ``make_dict_structure_fn``: one
    straight-line block per field, primitive checks inlined, and the ``extra`` dict built only
    when the object has keys beyond the modelled ones.
    """
    if cls in _STRUCTURE:
        return _STRUCTURE[cls]

    def deferred(value: Any) -> Any:  # recursion guard while building
        return _STRUCTURE[cls](value)

    _STRUCTURE[cls] = deferred
    hints = typing.get_type_hints(cls)
    # The dispatcher consumed "type"; Forwarded keeps it as a field instead.
    frame = _is_frame(cls) and cls is not env.Forwarded
    scope: dict[str, Any] = {"_Invalid": _Invalid, "_kind": _kind, "cls": cls}
    lines = [
        "def structure(obj):",
        "    if type(obj) is not dict:",
        "        raise _Invalid(f'expected object, got {_kind(obj)}')",
        "    n = 1 if 'type' in obj else 0" if frame else "    n = 0",
    ]
    keys, nullable, args = ["type"] if frame else [], [], []
    for i, (name, key, f) in enumerate(_field_specs(cls)):
        fn = _structure_fn(hints[name])
        inner = getattr(fn, "inner", None)
        nullable_value = inner is not None
        fn = inner if inner is not None else fn
        required = f.default is attrs.NOTHING or bool(f.metadata.get(ALWAYS))
        optional = f.default is None and not f.metadata.get(ALWAYS)
        keys.append(key)
        scope[f"f{i}"], scope[f"k{i}"] = fn, key
        if optional:
            nullable.append(key)
        if fn in _INLINE:
            check = [
                f"        if {'v is not None and ' if nullable_value else ''}({_INLINE[fn]}):",
                f"            raise _Invalid(f'expected {_INLINE_EXPECTED[fn]}, "
                f"got {{_kind(v)}}', k{i})",
            ]
            assign = f"        a{i} = v"
        elif fn is _identity:
            check, assign = [], f"        a{i} = v"
        else:
            check = []
            assign = (
                f"        try:\n            a{i} = f{i}(v)\n        except _Invalid as exc:\n"
                f"            exc.path.append(k{i})\n            raise"
            )
            if nullable_value:
                assign = (
                    f"        if v is None:\n            a{i} = None\n        else:\n"
                    + "\n".join("    " + line for line in assign.split("\n"))
                )
        lines.append(f"    if k{i} in obj:")
        lines.append(f"        v = obj[k{i}]")
        if optional:
            # An explicit null is "absent" for the field, kept in extra and written back.
            lines.append("        if v is None:")
            lines.append(f"            a{i} = None")
            lines.append("        else:")
            lines.append("            n += 1")
            lines += ["    " + line for line in check]
            lines += ["    " + line for line in assign.split("\n")]
        else:
            lines.append("        n += 1")
            lines += check
            lines += assign.split("\n")
        lines.append("    else:")
        if required:
            lines.append(f"        raise _Invalid('required key is missing', k{i})")
        else:
            lines.append(f"        a{i} = None")
        args.append(f"{name}=a{i}")
    scope["known"] = frozenset(keys)
    scope["nullable"] = frozenset(nullable)
    lines += [
        "    if n == len(obj):",
        "        extra = {}",
        "    else:",
        "        extra = {k: v for k, v in obj.items()"
        " if k not in known or (v is None and k in nullable)}",
        f"    return cls({', '.join([*args, 'extra=extra'])})",
    ]
    source = "\n".join(lines)
    exec(compile(source, f"<protocol.codec structure {cls.__name__}>", "exec"), scope)  # noqa: S102 - generated from our own class definitions
    structure: _Fn = scope["structure"]
    _STRUCTURE[cls] = structure
    return structure


def _class_unstructure(cls: type[Any]) -> _Fn:
    if cls in _UNSTRUCTURE:
        return _UNSTRUCTURE[cls]

    def deferred(value: Any) -> Any:
        return _UNSTRUCTURE[cls](value)

    _UNSTRUCTURE[cls] = deferred
    hints = typing.get_type_hints(cls)
    # Generated like the structure functions (above): one straight-line function per class,
    # no loop over field tuples and no call for a field that needs no conversion. Keys keep
    # the class's order (the envelope's order for frames), so the JSON text is unchanged.
    scope: dict[str, Any] = {}
    lines = ["def unstructure(obj):"]
    if _is_frame(cls) and cls is not env.Forwarded:
        lines.append("    out = {'type': obj.type}")
    else:
        lines.append("    out = {}")
    for i, (name, key, f) in enumerate(_field_specs(cls)):
        fn = _unstructure_fn(hints[name])
        omit = f.default is None and not f.metadata.get(ALWAYS)
        scope[f"k{i}"] = key
        value = "v" if fn is _identity else f"f{i}(v)"
        if fn is not _identity:
            scope[f"f{i}"] = fn
        lines.append(f"    v = obj.{name}")
        if omit:
            lines.append("    if v is not None:")
            lines.append(f"        out[k{i}] = {value}")
        elif fn is _identity:
            lines.append(f"    out[k{i}] = v")
        else:
            lines.append(f"    out[k{i}] = None if v is None else {value}")
    lines += [
        "    if obj.extra:",
        "        for key, value in obj.extra.items():",
        "            if key not in out:",
        "                out[key] = value",
        "    return out",
    ]
    source = "\n".join(lines)
    exec(compile(source, f"<protocol.codec unstructure {cls.__name__}>", "exec"), scope)  # noqa: S102 - generated from our own class definitions
    unstructure: _Fn = scope["unstructure"]
    _UNSTRUCTURE[cls] = unstructure
    return unstructure


def _payload_classes() -> list[type[Any]]:
    found: list[type[Any]] = []
    for module in (env, svc):
        for value in vars(module).values():
            if isinstance(value, type) and attrs.has(value) and not value.__name__.startswith("_"):
                found.append(value)
    return found


def _hook(fn: _Fn) -> Callable[[Any, Any], Any]:
    def structure_hook(obj: Any, _type: Any) -> Any:
        return fn(obj)

    return structure_hook


for _cls in _payload_classes():
    if _cls in (env.RobotMessage, env.HubMessage):
        continue
    converter.register_structure_hook(_cls, _hook(_class_structure(_cls)))
    converter.register_unstructure_hook(_cls, _class_unstructure(_cls))


# --------------------------------------------------------------------------- public API


def _loads_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


# One decoder, built once (json.loads with keyword arguments builds one per call).
_decode_json = json.JSONDecoder(parse_constant=_loads_constant).decode


def from_json(obj: Any, *, sender: Sender = "robot", cls: type[Any] | None = None) -> Any:
    """A parsed JSON value (an HTTP body, a parsed frame) → a typed message.

    Args:
        obj: what ``json.loads`` returned.
        sender: who sent it; picks the type table (``robot``, ``hub``, ``skill``, ``parser``).
        cls: structure into this class instead of dispatching on ``type`` (history records).

    Raises:
        DecodeError: unknown ``type``, or a field of the wrong shape (the path is named).
    """
    if cls is None:
        try:
            table = _TABLES[sender]
        except KeyError:
            raise LocalProtocolError(f"unknown sender {sender!r}") from None
        if type(obj) is not dict:
            detail = f"$: expected object, got {_kind(obj)}"
            raise DecodeError(f"Invalid message: {detail}", path="$", detail=detail)
        msg_type = obj.get("type")
        cls = table.get(msg_type) if type(msg_type) is str else None
        if cls is None:
            if type(msg_type) is str and sender in _FORWARDING:
                cls = env.Forwarded
            else:
                shown = "undefined" if "type" not in obj else json.dumps(msg_type)
                if type(msg_type) is str:
                    shown = msg_type
                raise DecodeError(
                    f"Unknown message type: {shown}",
                    path="$.type",
                    detail=f"$.type: unknown message type {shown!r}",
                )
        label = msg_type
    else:
        label = cls.__name__
    # The converter's hook for cls, called directly (cattrs' dispatch costs ~1 µs a frame).
    structure = _STRUCTURE.get(cls)
    if structure is None:
        raise LocalProtocolError(f"can't decode into {cls.__name__}: not a protocol class")
    try:
        return structure(obj)
    except _Invalid as exc:
        path = _format_path(exc.path)
        detail = f"{path}: {exc.problem}"
        raise DecodeError(f"Invalid {label} message: {detail}", path=path, detail=detail) from None


def decode_frame(text: str | bytes, *, sender: Sender = "robot") -> Any:
    """One websocket text frame → a typed message.

    Args:
        text: the frame (bytes are read as UTF-8).
        sender: ``"robot"`` (default) for frames a robot sent, ``"hub"`` for the hub's frames.

    Returns:
        A :class:`~protocol.envelope.RobotMessage` or :class:`~protocol.envelope.HubMessage`.

    Raises:
        DecodeError: malformed JSON, unknown type, or a field of the wrong shape; never
            anything else.
    """
    if not isinstance(text, str):
        raw = bytes(text)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            shown = raw.decode("utf-8", "replace")
            raise DecodeError(
                f"Invalid JSON arrived into socket: {shown}", path="$", detail=f"$: {exc}"
            ) from None
    try:
        obj = _decode_json(text)
    except (ValueError, RecursionError) as exc:
        raise DecodeError(
            f"Invalid JSON arrived into socket: {text}", path="$", detail=f"$: invalid JSON: {exc}"
        ) from None
    return from_json(obj, sender=sender)


def to_json(msg: Any) -> dict[str, Any]:
    """A typed message (or history record) → its JSON object, for HTTP bodies.

    Raises:
        LocalProtocolError: ``msg`` is not a protocol class.
    """
    fn = _UNSTRUCTURE.get(type(msg))
    if fn is None:
        raise LocalProtocolError(f"can't encode {type(msg).__name__}: not a protocol message")
    # The class's hook, called directly (cattrs' dispatch costs ~1 µs a message).
    result: dict[str, Any] = fn(msg)
    return result


def encode_frame(msg: Any) -> str:
    """A typed message → compact JSON text for one websocket frame.

    Raises:
        LocalProtocolError: ``msg`` is not a protocol class, or holds a value JSON cannot carry.
    """
    obj = to_json(msg)
    try:
        return json.dumps(obj, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise LocalProtocolError(f"can't encode {type(msg).__name__}: {exc}") from None
