"""Run ``jibo-cloud serve`` in a subprocess for a benchmark, with a registered robot.

Also the benches' one place for what the security limits made every server need: the
limits raised for the bench's own servers (:data:`BENCH_LIMITS`, :func:`bench_config`,
:func:`limits_raised`),
the robot every bench registers (:data:`ROBOT`, :func:`add_robot`, :func:`robot_spec`,
:func:`register_robot`) and a hub token naming it (:func:`hub_token`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
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
    "account_id": "6a0b1c2d3e4f50617283a4b5",
    "owner": "bench@example.com", "key": "BENCHKEY0000000000001", "secret": "bench-secret-key",
}  # fmt: skip

#: The per-address and per-principal rate limits and per-token / per-robot socket caps,
#: raised out of reach for the bench's own servers only (subprocess environment, or the ``env``
#: of :func:`bench_config`): a bench measures the server's accept and turn paths, and its load
#: comes from one address with one robot and one token, which the limits would (rightly) refuse
#: long before the server is busy. The server's defaults are untouched (jibo_cloud/config.py).
BENCH_LIMITS: dict[str, str] = {
    "JIBO_RATE_PER_ADDRESS": "1e9",  # requests/s per client address
    "JIBO_HANDSHAKES_PER_ADDRESS": "1e9",  # socket handshakes/s per client address
    "JIBO_AUTH_FAILURES_PER_MINUTE": "1000000000",  # failed authentications per address
    "JIBO_RATE_PER_PRINCIPAL": "1e9",  # requests/s per robot, owner or operator
    "JIBO_MAX_SOCKETS_PER_TOKEN": "1000000000",  # open sockets per hub token
    "JIBO_MAX_SOCKETS_PER_ROBOT": "1000000000",  # open sockets per robot
}


def bench_env(**extra: str) -> dict[str, str]:
    """This process's environment with :data:`BENCH_LIMITS` (and ``extra``): for a bench's
    server subprocess."""
    return {**os.environ, **BENCH_LIMITS, **extra}


@contextmanager
def limits_raised() -> Iterator[None]:
    """:data:`BENCH_LIMITS` in ``os.environ`` for the duration, for helpers that start the
    server with this process's environment (``tests.support.server.serve_subprocess``)."""
    saved = {name: os.environ.get(name) for name in BENCH_LIMITS}
    os.environ.update(BENCH_LIMITS)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def bench_config(data_dir: str | Path, **overrides: Any) -> Any:
    """A :class:`jibo_cloud.config.Config` for an in-process bench server or runtime: the
    bench's secret, :data:`BENCH_LIMITS` as its only environment, and ``overrides``."""
    from jibo_cloud.config import load_config

    values: dict[str, Any] = {"token_secret": SECRET, **overrides}
    return load_config(data_dir=data_dir, env=dict(BENCH_LIMITS), **values)


def robot_spec() -> Any:
    """:data:`ROBOT` as the :class:`jibo_cloud.storage.provisioning.RobotSpec` ``robot add``
    builds from its flags (see :func:`add_robot`)."""
    from jibo_cloud.storage.provisioning import RobotSpec

    r = ROBOT
    return RobotSpec(name=r["name"], serial=r["serial"], robot_id=r["robot_id"],
                     owner_email=r["owner"], access_key_id=r["key"],
                     secret_access_key=r["secret"], loop_id=r["loop_id"],
                     account_id=r["account_id"])  # fmt: skip


async def register_robot(storage: Any) -> None:
    """Register :data:`ROBOT` in an open storage (an in-process runtime's), as ``robot add``
    does: the hub refuses tokens whose robot is not in the store."""
    from jibo_cloud.storage.provisioning import add_robot as provision

    await provision(storage, robot_spec(), now_ms=time.time_ns() // 1_000_000)


def hub_token(config: Any) -> str:
    """A hub token for :data:`ROBOT` (its account and name, ``exp`` set by
    ``issue_hub_token``), signed with ``config``'s secret: what ``jibo-cloud token`` prints."""
    from jibo_cloud.tokens import issue_hub_token

    token, _ = issue_hub_token(config, account_id=ROBOT["account_id"], friendly_id=ROBOT["name"],
                               access_key_id=None, now_s=time.time())  # fmt: skip
    return token


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
        r["key"], "--secret-access-key", r["secret"], "--account-id", r["account_id"],
        *store_args)  # fmt: skip


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
    with limits_raised(), serve_subprocess(args, secret=SECRET) as running:
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
    ``fixes``: on our serve loop (:mod:`jibo_cloud.edge`), as the server runs it; else on
    hypercorn's own ``serve`` as released."""
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
    hc = hypercorn.config.Config()
    hc.bind = [f"127.0.0.1:{sys.argv[2]}"]
    hc.accesslog = None
    hc.errorlog = logging.getLogger("hypercorn.error")
    if sys.argv[3:4] == ["1"]:
        from jibo_cloud.edge.serving import serve_app

        floor_sockets = hc.create_sockets()
        for floor_socket in floor_sockets.insecure_sockets:
            floor_socket.listen(hc.backlog)
        print("Running on", hc.bind[0], flush=True)
        trio.run(
            lambda: serve_app(
                _floor_app, hc, sockets=floor_sockets, shutdown_trigger=trio.sleep_forever
            )
        )
    else:
        trio.run(hypercorn.trio.serve, _floor_app, hc)  # type: ignore[arg-type]
