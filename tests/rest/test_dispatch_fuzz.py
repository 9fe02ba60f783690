"""Property: whatever arrives on ``POST /``, the answer is a well-formed AWS-JSON reply, never a
500. Runs :func:`dispatch` directly on a real runtime (SQLite), without HTTP, so many
examples are cheap; ``nox -s fuzz`` runs the ``fuzz``-marked version with a large budget."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jibo_cloud.rest.dispatch import HttpCall, dispatch
from jibo_cloud.rest.models import load_models
from jibo_cloud.rest.services import all_handlers
from jibo_cloud.runtime import Runtime, open_runtime
from tests.rest.support import register_robot, signed_headers
from tests.support.server import RunningServer
from tests.support.server import test_config as make_config

TARGETS = sorted(load_models().operations)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "loopId",
                "loopIds",
                "payload",
                "fromVersion",
                "deviceId",
                "paths",
                "email",
                "password",
                "data",
            ]
        ),
        json_values,
        max_size=5,
    ).map(lambda v: json.dumps(v).encode()),
)
targets = st.one_of(st.sampled_from(TARGETS), st.text(max_size=40))


@asynccontextmanager
async def runtime_in(data_dir: Path) -> AsyncIterator[Runtime]:
    """A real runtime on ``data_dir``; examples share the directory, each opens its own run."""
    async with open_runtime(make_config(data_dir)) as rt:
        if not await rt.storage.list_robots():
            await register_robot(RunningServer(rt.config, 0, rt, None))  # type: ignore[arg-type]
        yield rt


async def check(data_dir: Path, target: str, body: bytes, signed: bool) -> None:
    headers: dict[str, Any] = {"x-amz-target": target, "host": "api.jibo.com"}
    if signed:
        try:
            signed_h = signed_headers(target, body)
        except UnicodeEncodeError:
            return
        headers.update({k.lower(): v for k, v in signed_h.items()})
    call = HttpCall(headers=headers, body=body, base_url="https://api.jibo.com",
                    host="api.jibo.com")  # fmt: skip
    async with runtime_in(data_dir) as rt:
        answer = await dispatch(rt, load_models(), all_handlers(), call)
    assert answer.status < 500, answer.body
    assert answer.headers["Content-Type"] == "application/x-amz-json-1.1"
    decoded = json.loads(answer.body)
    if answer.status >= 400:
        assert decoded["__type"] == answer.headers["x-amzn-ErrorType"]
        assert "Traceback" not in decoded["message"]


#: The runtime is shared by all examples on purpose: it is the server under test.
SHARED_RUNTIME = settings(
    suppress_health_check=[*settings.default.suppress_health_check,
                           HealthCheck.function_scoped_fixture]
)  # fmt: skip


@SHARED_RUNTIME
@given(target=targets, body=bodies, signed=st.booleans())
async def test_any_request_gets_a_clear_answer(
    tmp_path: Path, target: str, body: bytes, signed: bool
) -> None:
    await check(tmp_path / "data", target, body, signed)


@pytest.mark.fuzz
@SHARED_RUNTIME
@given(target=targets, body=bodies, signed=st.booleans())
async def test_any_request_gets_a_clear_answer_fuzz(
    tmp_path: Path, target: str, body: bytes, signed: bool
) -> None:
    await check(tmp_path / "data", target, body, signed)
