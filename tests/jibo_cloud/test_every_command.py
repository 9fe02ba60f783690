"""Every ``jibo-cloud`` command, run as a new user would first run it: with only its required
flags, against a real server (``jibo-cloud serve`` on an ephemeral port) where it talks to
one. Each must succeed or fail cleanly: exit status 0 or 1 and no traceback.

Found this way: ``jibo-cloud sim boot --url URL`` crashed with ``TypeError: Object of type
member_descriptor is not JSON serializable`` (its defaults were read from a slotted class).

The commands are listed from the real parser (:func:`jibo_cloud.cli.build_parser`), so a new
command or verb fails :func:`test_every_command_has_a_case` until it has a case here. Commands
that run until stopped (``serve``, ``capture``, ``fuzz``) run in a subprocess and get SIGINT
once started, as an operator's Ctrl-C; they must then exit without a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jibo_cloud.cli import build_parser, main
from tests.support.server import REPO, TEST_SECRET, serve_subprocess

#: A robot id in the form the robot uses (24 hex digits); an obvious fake.
ROBOT_ID = "0123456789abcdef01234567"


def leaf_commands() -> list[tuple[str, ...]]:
    """Every command and verb of the real parser, e.g. ``("robot", "add")``."""
    out: list[tuple[str, ...]] = []

    def walk(parser: argparse.ArgumentParser, prefix: tuple[str, ...]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            out.append(prefix)
        for sub in subs:
            for name, child in sub.choices.items():
                walk(child, (*prefix, name))

    walk(build_parser(full=True), ())
    return out


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """``jibo-cloud serve`` (only ``--port 0`` and its data folder); yields its URL and the
    data folder the other commands share through ``$JIBO_DATA_DIR``."""
    data = tmp_path_factory.mktemp("every-command") / "data"
    with serve_subprocess(["--data-dir", str(data), "--tls-port", "off"]) as (proc, port):
        yield f"http://127.0.0.1:{port}", data
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def cases(url: str, tmp: Path) -> dict[tuple[str, ...], list[str]]:
    """The required flags of each command, with plausible values."""
    package = tmp / "package.tar"
    package.write_bytes(b"not really a package")
    capture = tmp / "capture.json"
    capture.write_text('{"frames": []}')
    flow = tmp / "empty.flow.json"
    flow.write_text("{}")
    return {
        ("serve",): [],
        ("robot", "add"): [
            "--name", "Cli-Robot", "--serial", "BOJW-1000-0000-0000-0002",
            "--robot-id", ROBOT_ID, "--owner", "owner@example.com",
        ],
        ("robot", "list"): [],
        ("robot", "pending"): [],
        ("robot", "approve"): ["AKIDEXAMPLEEXAMPLE01", "--robot", "Cli-Robot"],
        ("robot", "deny"): ["AKIDEXAMPLEEXAMPLE01"],
        ("robot", "setup-script"): ["--server", url],
        ("update", "publish"): [
            "--subsystem", "robot", "--from-version", "1.0.0", "--to-version", "1.0.1",
            "--file", str(package),
        ],
        ("update", "list"): [],
        ("operator", "key"): [],
        ("operator", "keys"): [],
        ("operator", "revoke"): ["AKIDEXAMPLEEXAMPLE02"],
        ("host", "add"): ["notify.example.org", "--service", "socket"],
        ("host", "list"): [],
        ("host", "remove"): ["notify.example.org"],
        ("owner", "invite"): ["owner@example.com"],
        ("owner", "operator"): ["owner@example.com"],
        ("protocol", "check"): [str(capture)],
        ("token",): ["--robot", "Cli-Robot"],
        ("sim", "boot"): ["--url", url],
        ("sim", "turn"): ["--url", url, "--text", "tell me a joke"],
        ("sim", "proactive"): ["--url", url],
        ("replay",): [str(flow), "--url", url],
        ("capture",): ["--upstream", url, "--out", str(tmp / "flows")],
        ("fuzz",): ["--url", url],
        ("doctor",): [],
        ("models",): [],
        ("certs", "init"): [],
        ("certs", "show"): [],
        ("certs", "renew"): [],
    }  # fmt: skip


#: Commands that run until stopped: started in a subprocess, then interrupted.
UNTIL_STOPPED = {("serve",), ("capture",), ("fuzz",)}


def test_every_command_has_a_case(tmp_path: Path) -> None:
    missing = set(leaf_commands()) - set(cases("http://x", tmp_path))
    assert not missing, f"add a case (its required flags) for {sorted(missing)}"


def test_every_command_with_only_its_required_flags(
    running: tuple[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, data = running
    monkeypatch.setenv("JIBO_DATA_DIR", str(data))
    monkeypatch.setenv("JIBO_TOKEN_SECRET", TEST_SECRET)
    statuses: dict[str, int] = {}
    commands = set(leaf_commands())
    for command, flags in cases(url, tmp_path).items():
        if command in UNTIL_STOPPED or command not in commands:
            continue
        argv = [*command, *flags]
        status = main(argv)  # an exception escaping main() is the crash this test is for
        err = capsys.readouterr().err
        assert status in (0, 1, 2), (argv, status, err)  # 2: a usage error, one line
        assert "Traceback" not in err, (argv, err)
        statuses[" ".join(command)] = status
    # What a fresh server should let through with nothing but these flags.
    for ok in ("robot add", "robot list", "host add", "host list", "token", "certs init"):
        assert statuses[ok] == 0, (ok, statuses)


@pytest.mark.parametrize("command", sorted(UNTIL_STOPPED - {("serve",)}))
def test_commands_that_run_until_stopped(
    running: tuple[str, Path], tmp_path: Path, command: tuple[str, ...]
) -> None:
    url, data = running
    argv = [*command, *cases(url, tmp_path)[command]]
    env = {**os.environ, "JIBO_DATA_DIR": str(data), "JIBO_TOKEN_SECRET": TEST_SECRET}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jibo_cloud", *argv], cwd=REPO, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(3)  # started (or already finished)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    # 130: it caught the interrupt; -SIGINT: it left SIGINT's default action (both clean).
    assert proc.returncode in (0, 1, 130, -signal.SIGINT), (argv, proc.returncode, err)
    assert "Traceback" not in err, (argv, err)
