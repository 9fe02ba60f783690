"""``jibo-cloud serve``: start-up lines say how to use the server without printing secrets."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from jibo_cloud.commands.serve import startup_lines, weak_secrets
from jibo_cloud.config import load_config
from tests.support.server import serve_subprocess


def test_startup_lines_never_print_the_secret(tmp_path: Path) -> None:
    config = load_config(data_dir=tmp_path, env={})
    text = "\n".join(startup_lines(config, ["http://127.0.0.1:5555"]))
    assert config.token_secret not in text
    assert "http://127.0.0.1:5555" in text
    assert f"jibo-cloud token --robot NAME --data-dir {tmp_path}" in text
    assert str(tmp_path / "token-secret") in text


def test_weak_secrets_are_named_not_printed(tmp_path: Path) -> None:
    config = load_config(
        data_dir=tmp_path,
        env={"JIBO_TOKEN_SECRET": "short", "JIBO_TOKEN_KEYS": "old=tiny,new=" + "x" * 40},
    )
    problems = weak_secrets(config)
    assert problems == [
        "the hub token secret is shorter than 32 bytes",
        "hub token key 'old' is shorter than 32 bytes",
    ]
    assert not weak_secrets(load_config(data_dir=tmp_path / "gen", env={}))


def test_serve_rejects_bad_configuration_without_traceback(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "jibo_cloud",
            "serve",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            "mysql://nope",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert out.returncode == 1
    assert "database URL must start with sqlite:/// or postgresql://" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_not_a_traceback(tmp_path: Path, workers: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = subprocess.run(
            [sys.executable, "-m", "jibo_cloud", "serve", "--port", str(port),
             "--data-dir", str(tmp_path), "--workers", workers],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
    assert out.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_freezes_its_start_up_heap(tmp_path: Path) -> None:
    """A served process keeps its start-up objects out of full collections (jibo_cloud/heap.py):
    the log line comes right after the listening line, with the frozen count."""
    with serve_subprocess(["--data-dir", str(tmp_path)]) as (proc, _port):
        assert proc.stdout is not None
        for line in proc.stdout:
            match = re.search(r"memory: (\d+) start-up objects kept out of full collections", line)
            if match:
                break
        else:
            raise AssertionError("no freeze line")
    assert int(match[1]) > 10_000  # the modules, tables and models loaded at start-up
    assert "(started)" in line
