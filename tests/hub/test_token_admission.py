"""On the hub: a token's robot and key pair must still exist (checked
against the storage, cached ROBOT_CHECK_SECONDS), and sockets are capped per token and per
robot (429 before the upgrade). Real server, real storage, real websocket client."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionRejected

from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.hub.auth import KEY_GONE, NO_ROBOT, ROBOT_CHECK_SECONDS, ROBOT_GONE, TokenCache
from jibo_cloud.tokens import issue_hub_token
from tests.support import hub_client as hc
from tests.support.server import start_server


def token_for(config: object, **kw: object) -> str:
    args: dict[str, object] = {
        "account_id": hc.ACCOUNT,
        "friendly_id": hc.ROBOT,
        "access_key_id": None,
        "now_s": time.time(),
    }
    args.update(kw)
    token, _ = issue_hub_token(config, **args)  # type: ignore[arg-type]
    return token


async def refusal(port: int, token: str) -> tuple[int, str]:
    with pytest.raises(ConnectionRejected) as info:
        async with hc.open_hub(port, token=token):
            pass
    body = info.value.body or b""
    return info.value.status_code, body.decode()


async def test_a_removed_robot_is_refused_once_the_check_expires(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data")
    storage, config = server.runtime.storage, server.config
    cache = TokenCache()
    headers = {"authorization": f"Bearer {token_for(config)}"}
    now = time.time()
    assert (await cache.admit(config, storage, headers, now_s=now)).robot_id == hc.ROBOT
    assert await storage.remove_robot(hc.ROBOT)
    # Within the cache window the earlier answer stands (no storage round trip per socket).
    await cache.admit(config, storage, headers, now_s=now + ROBOT_CHECK_SECONDS - 1)
    with pytest.raises(HandshakeRejected) as info:
        await cache.admit(config, storage, headers, now_s=now + ROBOT_CHECK_SECONDS + 1)
    assert (info.value.status, info.value.reason) == (401, ROBOT_GONE)


async def test_tokens_for_unknown_robots_keys_or_accounts_are_refused(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data")
    config = server.config
    assert await refusal(server.port, token_for(config, friendly_id="Nobody-Here-At-All")) == (
        401,
        ROBOT_GONE,
    )
    # The right robot name under another account is not that robot.
    other = token_for(config, account_id="ffffffffffffffffffffffff")
    assert await refusal(server.port, other) == (401, ROBOT_GONE)
    assert await refusal(server.port, token_for(config, access_key_id="AKIDGONE")) == (
        401,
        KEY_GONE,
    )
    assert await refusal(server.port, token_for(config, friendly_id=None)) == (401, NO_ROBOT)
    # The registered robot still gets in.
    async with hc.open_hub(server.port, token=token_for(config)):
        pass


async def test_sockets_are_capped_per_token_and_per_robot(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(
        nursery, tmp_path / "data", max_sockets_per_token=2, max_sockets_per_robot=3
    )
    config, port = server.config, server.port
    first, second = token_for(config), token_for(config, now_s=time.time() - 5)
    assert first != second
    async with hc.open_hub(port, token=first), hc.open_hub(port, token=first):
        assert await refusal(port, first) == (429, "Too many sockets for this token")
        async with hc.open_hub(port, token=second):
            assert await refusal(port, second) == (429, "Too many sockets for this robot")
    # Closed sockets are no longer counted.
    with trio.fail_after(5):
        while True:
            try:
                async with hc.open_hub(port, token=first), hc.open_hub(port, token=first):
                    break
            except ConnectionRejected:  # the server has not yet seen the close
                await trio.sleep(0.05)


class SlowRobots:
    """The real storage, with ``get_robot`` stalled once ``slow`` is set."""

    def __init__(self, storage: object) -> None:
        self._storage = storage
        self.slow = False

    def __getattr__(self, name: str) -> object:
        return getattr(self._storage, name)

    async def get_robot(self, name: str) -> object:
        if self.slow:
            await trio.sleep_forever()
        return await self._storage.get_robot(name)  # type: ignore[attr-defined]


async def test_a_stalled_storage_check_is_refused_within_the_handshake_timeout(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data", handshake_timeout=0.3)
    slow = SlowRobots(server.runtime.storage)
    server.runtime.storage = slow
    slow.slow = True
    with trio.fail_after(5):  # bounded by the handshake timeout, not by the storage
        assert await refusal(server.port, token_for(server.config)) == (
            503,
            "Service Unavailable",
        )
