"""Launch history shared by several server processes (StorageHistory), SQLite and PostgreSQL:
the proactive greeting given by one server counts for the history rule on another."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.hub.clients import RemoteHistory, open_history
from jibo_cloud.hub.history import MemoryHistory, StorageHistory
from jibo_cloud.storage import Storage
from tests.rest.support import postgres_server_url
from tests.storage.backends import BACKENDS, fresh_schema, open_test_storage
from tests.support import env
from tests.support import hub_client as hc
from tests.support.server import start_server


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_test_storage(request.param, tmp_path) as opened:
        yield opened


async def test_storage_history_keeps_launches_in_storage_and_speech_in_memory(
    storage: Storage,
) -> None:
    history = StorageHistory(storage=storage, now_ms=lambda: 1000, max_records=2)
    for skill in ("a", "b", "c"):
        await history.skill_launched({"robotID": "R", "skillID": skill})
    await history.skill_launched({"robotID": "R", "skillID": "d", "timestamp": 7})
    await history.speech({"robotID": "R", "transID": "t"})
    assert [(x["skillID"], x["timestamp"]) for x in await history.launches("R")] == [
        ("c", 1000),
        ("d", 7),
    ]
    # Another process's history on the same storage reads the same launches.
    other = StorageHistory(storage=storage, now_ms=lambda: 0)
    assert [x["skillID"] for x in await other.launches("R")] == ["c", "d"]
    assert history.speech_records("R") == [{"robotID": "R", "transID": "t"}]
    assert other.speech_records("R") == []


def test_open_history_picks_storage_only_for_several_processes() -> None:
    shared = object()
    assert isinstance(open_history(None, lambda: 0, workers=2, storage=shared), StorageHistory)
    assert isinstance(open_history(None, lambda: 0, workers=1, storage=shared), MemoryHistory)
    # A remote history service answers no reads: its local mirror follows the same rule.
    remote = open_history("http://127.0.0.1:9", lambda: 0, workers=2, storage=shared)
    assert isinstance(remote, RemoteHistory)
    assert isinstance(remote.mirror, StorageHistory)
    remote = open_history("http://127.0.0.1:9", lambda: 0, workers=1, storage=shared)
    assert isinstance(remote, RemoteHistory)
    assert isinstance(remote.mirror, MemoryHistory)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_greeting_on_one_server_is_remembered_by_the_other(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    overrides: dict[str, Any] = {"workers": 2}
    schemas = fresh_schema(env.postgres_url()) if backend == "postgres" else nullcontext(None)
    async with schemas as schema:
        if schema is not None:
            overrides["database_url"] = postgres_server_url(schema)
        a = await start_server(nursery, tmp_path / "data", **overrides)
        b = await start_server(nursery, tmp_path / "data", **overrides)
        assert isinstance(a.runtime.history, StorageHistory)
        token = hc.hub_token(a.config)
        first = await hc.one_turn(
            a.port, token, hc.trigger("NEW_ARRIVAL", looper="u1"), hc.context(),
            path="/v1/proactive",
        )  # fmt: skip
        assert first[0]["data"]["match"]["skillID"] == "@be/greetings"
        # The launch is written off the turn path (after the final frame, in a database
        # worker thread of server A): nothing to wait on but the row itself.
        with trio.fail_after(10):
            while not await b.runtime.storage.list_skill_launches(hc.ROBOT):  # noqa: ASYNC110
                await trio.sleep(0.01)
        second = await hc.one_turn(
            b.port, token, hc.trigger("NEW_ARRIVAL"), hc.context(), path="/v1/proactive"
        )
        assert second[0]["data"] == {}  # §4.6 history rule: one greeting in two hours
        assert second[0]["final"] is True
        a.stop()
        b.stop()
