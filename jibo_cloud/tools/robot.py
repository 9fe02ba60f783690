"""What a robot sends, built from PROTOCOL.md §2.3 and §4.3: hub frames and REST bodies.

The tools are I/O code, so ids come from :mod:`uuid` and ``ts`` from the wall clock here.
Frames are plain JSON objects (the wire form), not protocol classes, so the tools also work
against clouds that accept frames this project's codec would not.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

#: The firmware release robots report in CONTEXT ``general.release`` (§4.3).
RELEASE = "1.9.2"
#: Default LISTEN rules of a hot-phrase turn (§4.3).
LAUNCH_RULES = ("launch", "globals/global_commands_launch")


def now_ms() -> int:
    """Epoch milliseconds for ``ts`` (the tools are I/O code and may read the clock)."""
    return time.time_ns() // 1_000_000


def new_trans_id() -> str:
    return f"tid-{uuid.uuid4()}"


def new_msg_id() -> str:
    return f"mid-{uuid.uuid4()}"


@attrs.frozen
class RobotIdentity:
    """Who the simulated robot is. Defaults are obvious fakes, never anyone's real robot."""

    name: str = "Test-Robot-Name-Sim"
    serial: str = "BOJW-1000-0000-0000-0001"
    robot_id: str | None = None
    loop_id: str | None = None
    account_id: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = attrs.field(default=None, repr=False)
    #: The household, as the robot reports it (UpdateRobot SSID, CONTEXT location and users).
    ssid: str = "ExampleWifi"
    city: str = "Boston"
    state: str = "Massachusetts"
    lat: float = 42.3601
    lng: float = -71.0589
    first_name: str = "Alex"
    last_name: str = "Example"


def envelope(
    type_: str, data: Any, *, trans_id: str, msg_id: str | None = None, ts: int | None = None
) -> dict[str, Any]:
    """One robot text frame's JSON object, with the ids a real robot always sets (§4.2)."""
    return {
        "type": type_,
        "ts": now_ms() if ts is None else ts,
        "msgID": msg_id or new_msg_id(),
        "transID": trans_id,
        "data": data,
    }


def listen_data(
    mode: str,
    *,
    rules: Sequence[str] = LAUNCH_RULES,
    hotphrase: bool = True,
    sos_timeout: int = 7000,
    max_speech_timeout: int = 20000,
) -> dict[str, Any]:
    """LISTEN ``data`` as robots send it (§4.3); ``mode`` is ``""``, CLIENT_ASR or CLIENT_NLU.

    The one builder of this payload: the simulator, the tests and the benchmarks all use it.
    """
    return {
        "lang": "en-US",
        "hotphrase": hotphrase,
        "rules": list(rules),
        "mode": mode,
        "asr": {
            "hints": [],
            "earlyEOS": [],
            "encoding": "OGG_OPUS",
            "sampleRate": 16000,
            "sosTimeout": sos_timeout,
            "maxSpeechTimeout": max_speech_timeout,
        },
    }


def context_data(robot: RobotIdentity, *, skill_id: str | None = None) -> dict[str, Any]:
    """CONTEXT ``data`` like a robot's (§4.3), filled with the fake household of the fixtures."""
    user_id = "0" * 23 + "1"
    return {
        "general": {"release": RELEASE},
        "runtime": {
            "character": {"emotion": {"name": "NEUTRAL", "valence": 0.5, "confidence": 0.2}},
            "perception": {"speaker": user_id, "peoplePresent": [{"id": user_id}]},
            "location": {
                "city": robot.city,
                "state": robot.state,
                "country": "United States",
                "lat": robot.lat,
                "lng": robot.lng,
            },
            "loop": {
                "loopId": robot.loop_id or "0" * 24,
                "users": [
                    {"firstName": robot.first_name, "lastName": robot.last_name, "id": user_id}
                ],
                "jibo": {"id": robot.robot_id or "0" * 24},
            },
            "dialog": {"referent": None},
        },
        "skill": {"id": skill_id},
    }


def client_nlu_data(
    intent: str | None, entities: Mapping[str, Any], rules: Sequence[str]
) -> dict[str, Any]:
    """CLIENT_NLU ``data``; a robot sends ``intent: null`` when it understood nothing."""
    return {"intent": intent, "entities": dict(entities), "rules": list(rules)}


def trigger_data(source: str, looper_id: str | None) -> dict[str, Any]:
    return {"triggerSource": source, "triggerData": {"looperID": looper_id}}
