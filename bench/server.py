"""Run ``jibo-cloud serve`` in a subprocess for a benchmark, with a registered robot."""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from tests.support.server import serve_subprocess

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "JIBO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"  # noqa: S105 - a bench-only key
ROBOT = {
    "name": "Bench-Robot-Name-1", "serial": "BOJW-1000-0000-0000-0001",
    "robot_id": "5f1d2c3b4a5968778695a4b3", "loop_id": "4cac7f6b66665c31d0219831",
    "owner": "bench@example.com", "key": "BENCHKEY0000000000001", "secret": "bench-secret-key",
}  # fmt: skip


@contextmanager
def store(backend: str) -> Iterator[list[str]]:
    """``--data-dir`` (and ``--database-url`` on a fresh PostgreSQL schema) for one run."""
    with tempfile.TemporaryDirectory(prefix="jibo-bench-") as tmp:
        args = ["--data-dir", tmp]
        if backend == "sqlite":
            yield args
            return
        import psycopg

        schema = f"bench_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        try:
            url = POSTGRES_URL + "?options=" + quote(f"-c search_path={schema}")
            yield [*args, "--database-url", url]
        finally:
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")


def cli(*args: str) -> None:
    env = {**os.environ, "JIBO_TOKEN_SECRET": SECRET}
    subprocess.run([sys.executable, "-m", "jibo_cloud", *args], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip


def add_robot(store_args: list[str]) -> None:
    r = ROBOT
    cli("robot", "add", "--name", r["name"], "--serial", r["serial"], "--robot-id",
        r["robot_id"], "--owner", r["owner"], "--loop-id", r["loop_id"], "--access-key-id",
        r["key"], "--secret-access-key", r["secret"], *store_args)  # fmt: skip


TICK = os.sysconf("SC_CLK_TCK")


def stat_cpu_seconds(stat: str) -> float:
    """User + system CPU from the text of a ``/proc/<pid>/stat`` file (all its threads).

    Fields are counted after the command name's closing parenthesis, since the name itself
    may hold spaces or parentheses.
    """
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def cpu_seconds(pid: int) -> float:
    """User + system CPU so far of process ``pid``, all its threads and all its live
    descendants (``serve --workers N`` runs N worker processes under a supervisor)."""
    total = stat_cpu_seconds(Path(f"/proc/{pid}/stat").read_text())
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            kids = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        for child in kids:
            with contextlib.suppress(FileNotFoundError):  # the child ended meanwhile
                total += cpu_seconds(int(child))
    return total


def postgres_cpu_seconds() -> float | None:
    """CPU so far of every local PostgreSQL process (backends, WAL writer, checkpointer …),
    or None when none runs on this machine (a remote database: its CPU is not ours to read).

    The boot bench's server and PostgreSQL share the same cores, so a boot's real cost is
    the server's CPU plus this."""
    total, found = 0.0, False
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # the process ended meanwhile, or is not ours to read
            continue
        if stat.partition("(")[2].rpartition(")")[0].startswith("postgres"):
            total += stat_cpu_seconds(stat)
            found = True
    return total if found else None


@contextmanager
def serve(store_args: list[str], workers: int = 1) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``jibo-cloud serve`` with ``workers`` processes; yields the (supervisor) process and
    its port once it listens."""
    args = ["--log-level", "WARNING", "--workers", str(workers), *store_args]
    with serve_subprocess(args, secret=SECRET) as running:
        yield running


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _floor_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A do-nothing ASGI app: reads the body, answers ``{}`` (the HTTP stack's own cost)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    while (await receive()).get("more_body"):
        pass
    headers = [(b"content-type", b"application/x-amz-json-1.1"), (b"content-length", b"2")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


@contextmanager
def serve_floor(fixes: bool = True) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """hypercorn (trio worker, access log off, as ``jibo-cloud serve``) around
    :func:`_floor_app`, in a subprocess: what any request costs before our code runs.
    ``fixes``: with :mod:`jibo_cloud.hypercorn_fixes` installed, as the server runs it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [sys.executable, "-m", "bench.server", "floor", str(port), str(int(fixes))]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Running on" in line:
                yield proc, port
                return
        raise RuntimeError("the floor server exited before listening")
    finally:
        proc.kill()
        proc.wait(timeout=10)


if __name__ == "__main__" and sys.argv[1:2] == ["floor"]:
    import logging

    import hypercorn.config
    import hypercorn.trio
    import trio

    logging.basicConfig(level=logging.INFO, stream=sys.stdout)
    if sys.argv[3:4] == ["1"]:
        from jibo_cloud import hypercorn_fixes

        hypercorn_fixes.install()
    hc = hypercorn.config.Config()
    hc.bind = [f"127.0.0.1:{sys.argv[2]}"]
    hc.accesslog = None
    hc.errorlog = logging.getLogger("hypercorn.error")
    trio.run(hypercorn.trio.serve, _floor_app, hc)  # type: ignore[arg-type]
