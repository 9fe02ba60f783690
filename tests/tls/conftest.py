"""Fixtures for the TLS tests: a data folder with the private CA and server
certificate ``jibo-cloud certs init`` makes (through the real command), and the real server
with its TLS port on an ephemeral port beside the plain one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from jibo_cloud.cli import main
from jibo_cloud.config import load_config
from jibo_cloud.runtime import Runtime
from jibo_cloud.server import bound_port, serve, tls_port
from jibo_cloud.tls import certs
from tests.support.server import RunningServer, test_config
from tests.tools.conftest import register_robot


@attrs.frozen
class TLSServer:
    server: RunningServer
    tls_port: int
    ca_file: Path

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"


def certs_init(data_dir: Path, *extra: str) -> Path:
    """``jibo-cloud certs init`` on ``data_dir`` (SQLite there); returns the CA file."""
    status = main(["certs", "init", "--data-dir", str(data_dir), *extra])
    assert status == 0
    return certs.ca_cert_path(load_config(data_dir=data_dir, env={}))


@pytest.fixture(scope="session")
def tls_data_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``certs init`` per session (RSA key generation costs ~0.1 s of CPU each)."""
    data = tmp_path_factory.mktemp("tls-template") / "data"
    certs_init(data)
    return data


@pytest.fixture
def tls_data(tls_data_template: Path, tmp_path: Path) -> Path:
    """A fresh data folder holding the session's CA and server certificate."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "tls").mkdir(mode=0o700)
    for name in ("ca.pem", "ca.key", "server.pem", "server.key"):
        src = tls_data_template / "tls" / name
        (data / "tls" / name).write_bytes(src.read_bytes())
        (data / "tls" / name).chmod(src.stat().st_mode & 0o777)
    return data


async def start_tls_server(nursery: trio.Nursery, data: Path, **overrides: Any) -> TLSServer:
    """The real server (as :func:`tests.support.server.start_server` starts it) with its TLS
    port on an ephemeral port; both addresses are read from what ``serve`` reports."""
    config = test_config(data, tls_port=0, **overrides)
    stop_event = trio.Event()
    captured: list[Runtime] = []
    binds = await nursery.start(
        lambda task_status: serve(
            config,
            shutdown_trigger=stop_event.wait,
            runtime_hook=captured.append,
            task_status=task_status,
        )
    )
    port = tls_port(binds)
    assert port is not None, binds
    server = RunningServer(
        config=config, port=bound_port(binds), runtime=captured[0], stop_event=stop_event
    )
    return TLSServer(server, port, certs.ca_cert_path(config))


@pytest.fixture
async def tls_server(nursery: trio.Nursery, tls_data: Path) -> AsyncIterator[TLSServer]:
    running = await start_tls_server(nursery, tls_data)
    await register_robot(running.server)
    yield running
    running.server.stop()
