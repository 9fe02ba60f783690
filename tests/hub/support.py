"""A hub socket over memory channels, so the runner's timers can run on trio's virtual clock.

:class:`MemorySocket` has the same surface as :class:`jibo_cloud.edge.websocket.WebSocket`
(``accept``, ``receive``, ``send``, ``close``); the test plays the robot on the other end.
Real-I/O tests cannot use ``autojump_clock`` safely (the clock may jump while a packet is in
flight), so everything timed is tested here, and the e2e tests check the same paths over TCP
without asserting times.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import trio

from jibo_cloud.config import load_config
from jibo_cloud.hub.history import MemoryHistory
from jibo_cloud.hub.listen import run_listen
from jibo_cloud.hub.session import HubSocket, serve_socket
from jibo_cloud.runtime import Runtime
from protocol.routing import SkillKind, SkillManifest, SkillTable, manifest_from_json
from protocol.transaction import Identity


@attrs.define
class MemorySocket:
    to_hub: trio.MemorySendChannel[str | bytes]
    hub_inbox: trio.MemoryReceiveChannel[str | bytes]
    to_robot: trio.MemorySendChannel[str]
    robot_inbox: trio.MemoryReceiveChannel[str]
    headers: dict[str, str] = attrs.field(factory=dict)
    host: str = "neo-hub.jibo.com"
    path: str = "/v1/listen"
    peer: str | None = "127.0.0.1"
    close_code: int | None = None
    closed: trio.Event = attrs.field(factory=trio.Event)

    @classmethod
    def pair(cls) -> MemorySocket:
        a, b = trio.open_memory_channel[str | bytes](100)
        c, d = trio.open_memory_channel[str](100)
        return cls(to_hub=a, hub_inbox=b, to_robot=c, robot_inbox=d)

    # hub side
    async def accept(self) -> None:
        return None

    async def receive(self) -> str | bytes:
        return await self.hub_inbox.receive()

    async def send(self, frame: str) -> None:
        await self.to_robot.send(frame)

    async def close(self, code: int, reason: str = "") -> None:
        if self.close_code is None:
            self.close_code = code
        self.closed.set()

    # robot side
    async def robot_send(self, *frames: dict[str, Any] | str | bytes) -> None:
        for frame in frames:
            await self.to_hub.send(json.dumps(frame) if isinstance(frame, dict) else frame)

    async def robot_receive(self) -> dict[str, Any]:
        obj = json.loads(await self.robot_inbox.receive())
        assert isinstance(obj, dict)
        return obj

    async def robot_receive_until_final(self) -> list[dict[str, Any]]:
        frames = []
        while True:
            frames.append(await self.robot_receive())
            if frames[-1].get("final") is True:
                return frames


def make_runtime(
    tmp_path: Path, skills: list[SkillManifest] | None = None, **config: Any
) -> Runtime:
    cfg = load_config(
        host="127.0.0.1", port=0, data_dir=tmp_path, env={}, token_secret="x" * 40, **config
    )
    clock = iter(range(1_000_000, 10**12, 1))
    runtime = Runtime(config=cfg, now_ms=lambda: next(clock))
    runtime.skills = SkillTable.of(skills if skills is not None else default_skills())
    runtime.history = MemoryHistory(now_ms=runtime.now_ms)
    return runtime


def default_skills() -> list[SkillManifest]:
    return [
        manifest_from_json(
            {
                "id": "@be/clock",
                "onRobot": True,
                "intents": [
                    {"name": "askForTime", "entities": [{"name": "skill", "value": "@be/clock"}]}
                ],
            }
        ),
        manifest_from_json(
            {"id": "joke-skill", "intents": [{"name": "tellJoke", "memo": "jokes"}]},
            base_url="inproc:joke-skill",
        ),
        manifest_from_json(
            {"id": "other-skill", "intents": [{"name": "other"}]}, base_url="inproc:other-skill"
        ),
    ]


async def serve_listen(
    runtime: Runtime,
    sock: MemorySocket,
    identity: Identity | None = None,
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> HubSocket:
    """Run one listen socket exactly as routes.py does, minus the handshake."""

    async def transaction(hub: HubSocket, nursery: trio.Nursery) -> None:
        await run_listen(runtime, hub, nursery, identity or Identity(), http=None)

    task_status.started()
    return await serve_socket(
        sock,  # type: ignore[arg-type]
        runtime.config,
        runtime.shutting_down,
        transaction,
        now_ms=runtime.now_ms,
    )


class StaticParser:
    """A parser answering one fixed NLU (or raising / hanging) and recording its requests."""

    def __init__(
        self,
        nlu: dict[str, Any] | None = None,
        *,
        hang: bool = False,
        error: BaseException | None = None,
    ) -> None:
        self.nlu = nlu or {"intent": None, "entities": None, "rules": []}
        self.hang = hang
        self.error = error
        self.requests: list[Any] = []

    async def parse(self, request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.hang:
            await trio.sleep_forever()
        if self.error is not None:
            raise self.error
        return self.nlu


__all__ = ["MemorySocket", "SkillKind", "StaticParser", "make_runtime", "serve_listen"]
