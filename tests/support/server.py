"""Start the real server on an ephemeral 127.0.0.1 port: inside a test's nursery
(:func:`start_server`), or as ``jibo-cloud serve`` in a subprocess (:func:`serve_subprocess`)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import attrs
import trio

from jibo_cloud.config import Config, load_config
from jibo_cloud.runtime import Runtime
from jibo_cloud.server import bound_port, serve

TEST_SECRET = "test-secret-for-the-suite-only-0123456789abcdef"


@attrs.define
class RunningServer:
    """A server started by :func:`start_server`; ``stop()`` triggers a graceful shutdown."""

    config: Config
    port: int
    runtime: Runtime
    stop_event: trio.Event

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.stop_event.set()


def test_config(data_dir: Path, **overrides: Any) -> Config:
    values: dict[str, Any] = {"token_secret": TEST_SECRET}
    values.update(overrides)
    return load_config(host="127.0.0.1", port=0, data_dir=data_dir, env={}, **values)


async def start_server(
    nursery: trio.Nursery,
    data_dir: Path,
    *,
    runtime_hook: Callable[[Runtime], None] | None = None,
    **overrides: Any,
) -> RunningServer:
    """Start ``jibo_cloud.server.serve`` and return once it accepts connections."""
    config = overrides.pop("config", None) or test_config(data_dir, **overrides)
    stop_event = trio.Event()
    captured: list[Runtime] = []

    def hook(runtime: Runtime) -> None:
        captured.append(runtime)
        if runtime_hook is not None:
            runtime_hook(runtime)

    binds = await nursery.start(
        lambda task_status: serve(
            config, shutdown_trigger=stop_event.wait, runtime_hook=hook, task_status=task_status
        )
    )
    runtime = captured[0]
    # Hub tokens name a robot that exists: the hub helpers' robot is registered.
    from tests.support.hub_client import register_hub_robot

    await register_hub_robot(runtime.storage, runtime.now_ms())
    return RunningServer(
        config=config, port=bound_port(binds), runtime=runtime, stop_event=stop_event
    )


REPO = Path(__file__).resolve().parents[2]


@contextmanager
def serve_subprocess(
    args: list[str],
    secret: str = TEST_SECRET,
    *,
    env: Mapping[str, str] | None = None,
    module: str = "jibo_cloud",
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``jibo-cloud serve --port 0`` in a subprocess (hub token secret ``secret``); yields it
    (output on its ``stdout``, read up to the ``listening on`` line) and its port. Killed on
    exit if still running. The benchmarks start their servers with it too: ``env`` replaces
    this process's environment, ``module`` runs another entry point (``python -m MODULE
    serve``, e.g. the soak's memory tracer)."""
    # No speech warm-up unless a test asks (--warm-up): it would start decoder processes.
    base = os.environ if env is None else env
    environ = {"JIBO_ASR_WARM_UP": "false", **base, "JIBO_TOKEN_SECRET": secret,
               "PYTHONUNBUFFERED": "1"}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", module, "serve", "--port", "0", *args],
        cwd=REPO, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = re.search(r"listening on http://[\d.]+:(\d+)", line)
            if match:
                yield proc, int(match[1])
                break
        else:
            raise AssertionError("the server exited before listening")
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
