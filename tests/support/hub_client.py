"""Drive the hub the way a robot does: frame builders and a small websocket client.

``open_hub(port, path)`` connects with a valid hub token (or the headers a test gives) and
yields a :class:`HubRobot` that sends JSON frames and reads the hub's replies.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import trio
from trio_websocket import ConnectionClosed, WebSocketConnection

from jibo_cloud.config import Config
from jibo_cloud.tokens import issue_hub_token
from jibo_cloud.tools.robot import (
    client_nlu_data,
    envelope,
    listen_data,
    trigger_data,
)
from tests.support.robot import open_robot_socket

ACCOUNT = "0123456789abcdef01234567"
#: Registered (with ACCOUNT) by tests.support.server.start_server: hub tokens must name a
#: robot that exists. Not the REST tests' "Test-Robot-Name-1", so both can share
#: one server.
ROBOT = "Test-Hub-Robot-1"
ROBOT_ID = "0123456789abcdef0123abcd"


async def register_hub_robot(
    storage: Any,
    now_ms: int,
    *,
    account: str = ACCOUNT,
    robot: str = ROBOT,
    robot_id: str = ROBOT_ID,
) -> None:
    """Put ``robot`` (in ``account``) in the storage, so :func:`hub_token` tokens naming it
    open the hub (a token's robot must exist)."""
    from jibo_cloud.storage.records import Account, Robot

    if await storage.get_robot(robot) is not None:
        return
    if await storage.get_account(account) is None:
        await storage.create_account(
            Account(id=account, email=f"{account}@example.com", created=now_ms, updated=now_ms)
        )
    await storage.put_robot(
        Robot(name=robot, robot_id=robot_id, account_id=account, created=now_ms, updated=now_ms)
    )


_ids = itertools.count(1)


def hub_token(config: Config, *, account: str = ACCOUNT, robot: str | None = ROBOT) -> str:
    token, _ = issue_hub_token(
        config, account_id=account, friendly_id=robot, access_key_id=None, now_s=time.time()
    )
    return token


def _env(kind: str, data: Any, trans_id: str = "tid-test") -> dict[str, Any]:
    """The tools' envelope with a fixed ``ts`` and counted ``msgID``s (readable test logs)."""
    return envelope(kind, data, trans_id=trans_id, msg_id=f"mid-{next(_ids)}", ts=1776303996941)


def listen(
    mode: str = "CLIENT_NLU",
    *,
    rules: Sequence[str] = ("launch", "globals/global_commands_launch"),
    hotphrase: bool = True,
    sos_timeout: int = 7000,
    max_speech_timeout: int = 20000,
) -> dict[str, Any]:
    data = listen_data(
        mode,
        rules=rules,
        hotphrase=hotphrase,
        sos_timeout=sos_timeout,
        max_speech_timeout=max_speech_timeout,
    )
    return _env("LISTEN", data)


def context(
    skill_id: str | None = None, session: dict[str, Any] | None = None, **general: Any
) -> dict[str, Any]:
    skill: dict[str, Any] = {"id": skill_id}
    if session is not None:
        skill["session"] = session
    return _env(
        "CONTEXT",
        {
            "general": {"release": "1.9.2", **general},
            "runtime": {
                "perception": {"speaker": None, "peoplePresent": []},
                "loop": {"loopId": "loop-1", "users": [{"firstName": "Alex", "id": "u1"}]},
                "location": {"iso": "2026-04-15T09:16:26.165-04:00"},
            },
            "skill": skill,
        },
    )


def client_asr(text: str) -> dict[str, Any]:
    return _env("CLIENT_ASR", {"text": text})


def client_nlu(
    intent: str | None, entities: dict[str, Any] | None = None, rules: Sequence[str] = ("launch",)
) -> dict[str, Any]:
    return _env("CLIENT_NLU", client_nlu_data(intent, entities or {}, rules))


def trigger(source: str = "SURPRISE", looper: str | None = None) -> dict[str, Any]:
    return _env("TRIGGER", trigger_data(source, looper))


class HubRobot:
    """One robot socket: JSON out, JSON in."""

    def __init__(self, ws: WebSocketConnection) -> None:
        self.ws = ws

    async def send(self, *frames: dict[str, Any] | str | bytes) -> None:
        for frame in frames:
            if isinstance(frame, dict):
                frame = json.dumps(frame)
            await self.ws.send_message(frame)

    async def receive(self) -> dict[str, Any]:
        message = await self.ws.get_message()
        assert isinstance(message, str), f"expected a text frame, got {message!r}"
        obj = json.loads(message)
        assert isinstance(obj, dict)
        return obj

    async def receive_until_final(self) -> list[dict[str, Any]]:
        frames = []
        while True:
            frame = await self.receive()
            frames.append(frame)
            if frame.get("final") is True:
                return frames

    async def wait_closed(self) -> int | None:
        """Read until the hub closes; returns the close code. Fails on any further frame."""
        try:
            extra = await self.ws.get_message()
        except ConnectionClosed as closed:
            return closed.reason.code
        raise AssertionError(f"unexpected frame after final: {extra!r}")


@asynccontextmanager
async def open_hub(
    port: int,
    path: str = "/v1/listen",
    *,
    token: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> AsyncIterator[HubRobot]:
    all_headers = list(headers)
    if token is not None:
        all_headers.append(("Authorization", f"Bearer {token}"))
    all_headers.append(("x-jibo-transid", "tid-test"))
    async with open_robot_socket(port, path, headers=all_headers) as ws:
        yield HubRobot(ws)


async def one_turn(
    port: int, token: str, *frames: dict[str, Any], path: str = "/v1/listen"
) -> list[dict[str, Any]]:
    """Send ``frames`` on a fresh socket and return every frame up to the final one."""
    with trio.fail_after(30):
        async with open_hub(port, path, token=token) as robot:
            await robot.send(*frames)
            return await robot.receive_until_final()


async def text_turn(port: int, token: str, text: str) -> list[dict[str, Any]]:
    """One typed (CLIENT_ASR) launch turn: LISTEN, CONTEXT, the text; every frame back."""
    return await one_turn(port, token, listen("CLIENT_ASR"), context(), client_asr(text))


def spoken(frame: dict[str, Any]) -> str:
    """What a SKILL_ACTION frame makes the robot say (its ESML, apostrophes unescaped)."""
    esml = frame["data"]["action"]["config"]["jcp"]["config"]["play"]["esml"]
    return str(esml).replace("&apos;", "'")
