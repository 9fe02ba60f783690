"""Every listening socket gets ``config.backlog`` (default 4096, was
hypercorn's 100), capped by the kernel's somaxconn with one log line, ``--workers`` included.

The queue length of a listening socket is what ``ss`` reports as Send-Q (inet_diag)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from jibo_cloud.config import load_config
from jibo_cloud.server import kernel_somaxconn, listen, listen_backlog
from tests.support.server import serve_subprocess


def listen_queue(port: int) -> int:
    """The accept-queue limit of the socket listening on ``port`` (ss's Send-Q)."""
    if shutil.which("ss") is None:
        pytest.skip("NOT TESTED: ss (iproute2) is not installed")
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[2])


def test_the_default_is_4096_and_somaxconn_caps_it_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    assert listen_backlog(4096, None) == 4096
    assert listen_backlog(4096, 8192) == 4096
    assert listen_backlog(5000, 1024) == 1024
    assert listen_backlog(5000, 1024) == 1024  # asked again: no second line
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "listen backlog 5000 capped to 1024 by net.core.somaxconn; raise it"
        " (sysctl -w net.core.somaxconn=5000) for the full queue"
    ]


def test_kernel_somaxconn_reads_the_file(tmp_path: Path) -> None:
    (tmp_path / "somaxconn").write_text("4096\n")
    assert kernel_somaxconn(tmp_path / "somaxconn") == 4096
    assert kernel_somaxconn(tmp_path / "missing") is None


def test_the_listening_socket_gets_the_configured_backlog(tmp_path: Path) -> None:
    config = load_config(host="127.0.0.1", port=0, data_dir=tmp_path, env={}, backlog=321)
    sockets = listen(config)
    try:
        (sock,) = sockets.insecure_sockets
        assert listen_queue(sock.getsockname()[1]) == min(321, kernel_somaxconn() or 321)
    finally:
        for sock in sockets.insecure_sockets:
            sock.close()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_backlog_flag_reaches_every_listening_socket(tmp_path: Path, workers: str) -> None:
    args = ["--data-dir", str(tmp_path), "--backlog", "777", "--workers", workers]
    with serve_subprocess(args) as (_proc, port):
        assert listen_queue(port) == min(777, kernel_somaxconn() or 777)


def test_serve_default_backlog_is_not_hypercorns_100(tmp_path: Path) -> None:
    with serve_subprocess(["--data-dir", str(tmp_path)]) as (_proc, port):
        assert listen_queue(port) == min(4096, kernel_somaxconn() or 4096)
