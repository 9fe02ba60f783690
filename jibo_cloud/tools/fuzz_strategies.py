"""Hypothesis strategies for live fuzzing: robot turns, then mutated and reordered frames,
wrong types, huge and truncated frames, junk audio, bad tokens and malformed REST bodies.

Valid turns come from two sources: this module's own robot-shaped turns (real field values,
so the hub gets far into a transaction) and the protocol's own strategies
(:mod:`protocol.strategies`: ``robot_turns``, ``json_values``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import attrs
from hypothesis import strategies as st

from jibo_cloud.tools import robot as rb
from protocol import strategies as protocol_strategies
from protocol.codec import encode_frame

Frame = str | bytes

#: Robot frame types the hub knows (§4.2); any other ``type`` is due an ERROR.
ROBOT_TYPES = frozenset(("LISTEN", "CONTEXT", "CLIENT_ASR", "CLIENT_NLU", "TRIGGER", "CMD_RESULT"))
#: Sizes past the hub's default frame caps (64 KiB text, 256 KiB binary).
HUGE_TEXT_BYTES = 70_000
HUGE_BINARY_BYTES = 300_000
#: Well-known targets (§2.3) plus shapes a broken client might send.
REST_TARGETS = (
    "Notification_20150505.NewRobotToken",
    "Account_20151111.CreateHubToken",
    "Account_20151111.Get",
    "Loop_20160324.ListLoops",
    "Key_20160201.ListIncomingRequests",
    "Robot_20160225.GetRobot",
    "Robot_20160225.UpdateRobot",
    "Person_20160801.ListHolidays",
    "Media_20160725.List",
    "Backup_20170222.List",
    "Update_20160301.GetUpdateFrom",
    "Log_20150309.PutEventsAsync",
    "Nope_20990101.Missing",
    "Loop_20160324",
    "",
)


@attrs.frozen
class SocketCase:
    """Frames for one hub socket; ``pristine`` when they are an unmutated complete turn."""

    path: str
    frames: tuple[Frame, ...]
    pristine: bool


@attrs.frozen
class RestCase:
    target: str
    body: bytes
    content_type: str = "application/json"


@attrs.frozen
class AuthCase:
    path: str
    authorization: str | None


def json_values() -> st.SearchStrategy[Any]:
    return protocol_strategies.json_values(6)


def _own_listen_turn(mode: str, order: int) -> list[Frame]:
    robot = rb.RobotIdentity()
    tid = "tid-fuzz"
    frames: list[dict[str, Any]] = [
        rb.envelope("LISTEN", rb.listen_data(mode), trans_id=tid, msg_id="mid-1", ts=1)
    ]
    if mode == "CLIENT_ASR":
        frames.append(
            rb.envelope("CLIENT_ASR", {"text": "tell me a joke"}, trans_id=tid, msg_id="m2", ts=2)
        )
    elif mode == "CLIENT_NLU":
        data = rb.client_nlu_data("loadMenu", {"destination": "clock"}, ["launch"])
        frames.append(rb.envelope("CLIENT_NLU", data, trans_id=tid, msg_id="mid-2", ts=2))
    context = rb.envelope("CONTEXT", rb.context_data(robot), trans_id=tid, msg_id="mid-3", ts=3)
    frames.insert(min(order, len(frames)), context)
    return [json.dumps(f) for f in frames]


@st.composite
def listen_turns(draw: st.DrawFn) -> tuple[list[Frame], bool]:
    """(frames, complete?) of one listen turn; complete turns are due a final frame."""
    if draw(st.integers(0, 3)) > 0:
        mode = draw(st.sampled_from(("CLIENT_NLU", "CLIENT_ASR")))
        return _own_listen_turn(mode, draw(st.integers(1, 2))), True
    turn = draw(protocol_strategies.robot_turns())
    # The protocol's turns are valid frames, but not always a turn this hub can finish.
    return [encode_frame(m) for m in turn], False


def proactive_turn() -> list[Frame]:
    robot = rb.RobotIdentity()
    trigger = rb.envelope(
        "TRIGGER", rb.trigger_data("SURPRISE", "0" * 24), trans_id="t", msg_id="m1", ts=1
    )
    context = rb.envelope("CONTEXT", rb.context_data(robot), trans_id="t", msg_id="m2", ts=2)
    return [json.dumps(trigger), json.dumps(context)]


def _paths(obj: Any, prefix: tuple[Any, ...] = (), depth: int = 3) -> list[tuple[Any, ...]]:
    """Key paths into a JSON value, shallow first (data's own keys matter most)."""
    out: list[tuple[Any, ...]] = []
    if depth == 0:
        return out
    if isinstance(obj, dict):
        for key, value in obj.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key), depth - 1))
    elif isinstance(obj, list):
        for index, value in enumerate(obj[:3]):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index), depth - 1))
    return out


def _set(obj: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> None:
    for key in path[:-1]:
        obj = obj[key]
    if delete and isinstance(obj, dict):
        del obj[path[-1]]
    else:
        obj[path[-1]] = value


def _mutate_json(draw: st.DrawFn, frame: str, op: str) -> Frame:
    try:
        obj = json.loads(frame)
    except ValueError:
        return frame
    obj = copy.deepcopy(obj)
    paths = sorted(_paths(obj), key=len)
    if op == "retype":
        obj["type"] = draw(st.sampled_from((*sorted(ROBOT_TYPES), "NOPE", "", "listen")))
    elif op == "huge":
        obj["pad"] = "x" * HUGE_TEXT_BYTES
    elif paths:
        path = draw(st.sampled_from(paths))
        if op == "delete":
            _set(obj, path, None, delete=True)
        else:
            _set(obj, path, draw(json_values()))
    return json.dumps(obj)


OPS = ("wrong_type", "delete", "retype", "drop", "duplicate", "swap", "truncate", "junk_text",
       "junk_audio", "huge")  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, frames: list[Frame]) -> tuple[list[Frame], int]:
    """Apply 0..3 mutations to ``frames``; returns (frames, how many applied)."""
    frames = list(frames)
    count = draw(st.integers(0, 3))
    for _ in range(count):
        op = draw(st.sampled_from(OPS))
        index = draw(st.integers(0, max(0, len(frames) - 1)))
        if op in ("wrong_type", "delete", "retype", "huge") and frames:
            if isinstance(frames[index], str):
                frames[index] = _mutate_json(draw, str(frames[index]), op)
        elif op == "drop" and frames:
            frames.pop(index)
        elif op == "duplicate" and frames:
            frames.insert(index, frames[index])
        elif op == "swap" and len(frames) > 1:
            other = draw(st.integers(0, len(frames) - 1))
            frames[index], frames[other] = frames[other], frames[index]
        elif op == "truncate" and frames and isinstance(frames[index], str):
            text = str(frames[index])
            frames[index] = text[: draw(st.integers(0, max(0, len(text) - 1)))]
        elif op == "junk_text":
            frames.insert(index, draw(st.text(max_size=40)))
        elif op == "junk_audio":
            junk = draw(
                st.one_of(
                    st.binary(max_size=64),
                    st.just(b"OggS\x00\x02" + b"\x00" * 10),  # a truncated Ogg page
                    st.just(bytes(HUGE_BINARY_BYTES)),
                )
            )
            frames.insert(index, junk)
    return frames, count


@st.composite
def listen_cases(draw: st.DrawFn) -> SocketCase:
    base, complete = draw(listen_turns())
    frames, count = draw(mutated(base))
    return SocketCase("/v1/listen", tuple(frames), complete and count == 0)


@st.composite
def proactive_cases(draw: st.DrawFn) -> SocketCase:
    frames, count = draw(mutated(proactive_turn()))
    return SocketCase("/v1/proactive", tuple(frames), count == 0)


@st.composite
def rest_cases(draw: st.DrawFn) -> RestCase:
    # Header values must be visible ASCII (RFC 9110 §5.5) or the client itself refuses them.
    header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
    if draw(st.integers(0, 3)) > 0:  # mostly real targets, so bodies reach real handlers
        target = draw(st.sampled_from(REST_TARGETS))
    else:
        target = draw(header_text.map(str.strip))
    body = draw(
        st.one_of(
            st.dictionaries(st.sampled_from(("id", "loopId", "deviceId", "kind", "x")),
                            json_values(), max_size=3).map(lambda d: json.dumps(d).encode()),
            json_values().map(lambda v: json.dumps(v).encode()),
            st.binary(max_size=40),
            st.just(b'{"id": '),
            st.just(b"[" * 5000),
            st.just(b'{"deviceId": "' + b"x" * 2_000_000 + b'"}'),
        )
    )  # fmt: skip
    content_type = draw(
        st.sampled_from(("application/json", "application/x-amz-json-1.1", "text/plain"))
    )
    return RestCase(target, body, content_type)


def auth_cases() -> st.SearchStrategy[AuthCase]:
    tokens = st.one_of(
        st.none(),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40).map(
            lambda t: f"Bearer {t}"
        ),
        st.just("Basic dXNlcjpwYXNz"),
        st.just("Bearer eyJhbGciOiJub25lIn0.eyJpZCI6ImEifQ."),  # alg: none
        st.just("Bearer"),
    )
    return st.builds(AuthCase, st.sampled_from(("/v1/listen", "/v1/proactive")), tokens)
