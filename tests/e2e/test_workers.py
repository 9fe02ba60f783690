"""``jibo-cloud serve --workers 2``: a supervisor and two worker processes on one port.

Real processes, so these tests poll with deadlines instead of a virtual clock: the supervisor,
its workers and the kernel's choice of worker run outside the test's trio loop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import trio

from tests.rest.support import ACCOUNT_ID, LOOP_ID, ROBOT_NAME, SPEC, RestClient
from tests.support.robot import open_robot_socket
from tests.support.server import serve_subprocess

pytestmark = pytest.mark.slow


def children(pid: int) -> set[int]:
    """The worker processes of the supervisor ``pid`` (multiprocessing's resource tracker,
    also a child, is told apart by its command line)."""
    out = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        for child in Path(f"/proc/{pid}/task/{tid}/children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"resource_tracker" not in cmdline:
                out.add(int(child))
    return out


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited


async def wait_until(predicate: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await trio.sleep(0.1)


def add_robot(args: list[str]) -> None:
    from jibo_cloud.cli import main

    add = ["robot", "add", "--name", SPEC.name, "--serial", SPEC.serial,
           "--robot-id", SPEC.robot_id, "--owner", SPEC.owner_email,
           "--loop-id", LOOP_ID, "--account-id", ACCOUNT_ID,
           "--access-key-id", str(SPEC.access_key_id),
           "--secret-access-key", str(SPEC.secret_access_key), *args]  # fmt: skip
    assert main(add) == 0


async def test_two_workers_share_the_port_and_the_storage(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "--workers", "2"]
    await trio.to_thread.run_sync(add_robot, args[:2])
    with serve_subprocess(args) as (proc, port):
        workers = children(proc.pid)
        assert len(workers) == 2
        payloads = [{"SSID": f"net-{i}"} for i in range(12)]
        # A new connection per call: the kernel spreads them over both workers, and every
        # write acknowledged by one is what the next read, wherever it lands, sees.
        for payload in payloads:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                update = {"id": ROBOT_NAME, "payload": payload}
                await RestClient(http).ok("Robot_20160225.UpdateRobot", update)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                robot = await RestClient(http).ok("Robot_20160225.GetRobot", {"id": ROBOT_NAME})
                assert robot["payload"] == payload
        proc.send_signal(signal.SIGTERM)
        assert await trio.to_thread.run_sync(lambda: proc.wait(timeout=30)) == 0
        assert not any(alive(pid) for pid in workers)


async def get_status(port: int) -> bool:
    """``GetStatus`` on a fresh connection: it may land on either worker."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        answer = await RestClient(http).ok(
            "Notification_20150505.GetStatus", {"accountId": ACCOUNT_ID}
        )
    return bool(answer["connected"])


async def status_becomes(port: int, connected: bool) -> None:
    deadline = time.monotonic() + 10
    while await get_status(port) != connected:
        assert time.monotonic() < deadline, "GetStatus did not change"
        await trio.sleep(0.05)


async def robot_token(port: int) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        answer = await RestClient(http).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": ROBOT_NAME}
        )
    return str(answer["token"])


async def test_every_worker_sees_a_notification_socket_held_by_another(tmp_path: Path) -> None:
    args = ["--data-dir", str(tmp_path), "--workers", "2"]
    await trio.to_thread.run_sync(add_robot, args[:2])
    with serve_subprocess(args) as (_proc, port):
        token = await robot_token(port)
        assert not await get_status(port)
        async with open_robot_socket(port, f"/{token}", host="api-socket.jibo.com"):
            await status_becomes(port, True)  # the session open is recorded in a batch
            # Twelve fresh connections: both workers answer some, and all say connected.
            assert all([await get_status(port) for _ in range(12)])
        await status_becomes(port, False)


async def test_a_dead_worker_is_replaced(tmp_path: Path) -> None:
    with serve_subprocess(["--data-dir", str(tmp_path), "--workers", "2"]) as (proc, port):
        first, second = sorted(children(proc.pid))
        os.kill(first, signal.SIGKILL)
        await wait_until(lambda: first not in children(proc.pid) and len(children(proc.pid)) == 2)
        assert second in children(proc.pid)
        assert proc.poll() is None
        for _ in range(6):  # the port answers throughout, on fresh connections
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                assert (await http.get("/healthcheck")).text == "ok"


async def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    with serve_subprocess(["--data-dir", str(tmp_path), "--workers", "2"]) as (proc, _port):
        workers = children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # Their control pipe reaches end-of-file: each shuts down by itself, no orphans.
        await wait_until(lambda: not any(alive(pid) for pid in workers))


def test_workers_must_be_at_least_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "jibo_cloud", "serve", "--port", "0", "--data-dir", str(tmp_path),
         "--workers", "0"],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode != 0
    assert "workers" in result.stderr
    assert "Traceback" not in result.stderr


async def test_sessions_of_a_dead_worker_are_closed(tmp_path: Path) -> None:
    """kill -9 leaves the session row open; the supervisor closes it when it replaces the
    worker, so GetStatus stops claiming a robot whose socket died with its worker."""
    args = ["--data-dir", str(tmp_path), "--workers", "2"]
    await trio.to_thread.run_sync(add_robot, args[:2])
    with serve_subprocess(args) as (proc, port):
        token = await robot_token(port)
        async with open_robot_socket(port, f"/{token}", host="api-socket.jibo.com"):
            await status_becomes(port, True)
            for pid in sorted(children(proc.pid)):  # one of them holds the socket
                os.kill(pid, signal.SIGKILL)
                await wait_until(lambda p=pid: p not in children(proc.pid)
                                 and len(children(proc.pid)) == 2)  # fmt: skip
            assert not await get_status(port)
