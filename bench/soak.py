"""Fleet benches: cross-server notification latency, and a bounded soak on loopback.

``python -m bench.soak notify-latency [--count N]``
    Two server instances on one PostgreSQL database. ``queue`` mode (always available) times
    the storage path alone with two independent storages (two pools, as two hosts have):
    queue the row, ``NOTIFY`` its holder, the holder's ``LISTEN`` wakes, reads the queue. ``full``
    mode (needs the servers' start-up hooks, docs/operators.md) starts two real servers in
    this process, holds a robot's notification socket on one and sends through the other,
    timing until the robot has the frame. Sequential sends; medians and percentiles.

``python -m bench.soak soak [--minutes M] [--sockets N] [--backend postgres|sqlite]
[--notify-robots R] [--notify-every S] [--trace-memory DIR]``
    Two ``jibo-cloud serve`` processes on one database, ``N`` idle notification sockets spread
    over both, and continuous typed turns and REST boots (``ListLoops``, ``GetRobot``,
    ``NewRobotToken``) against both for ``M`` minutes; and ``R`` more robots, each with its
    owner signed in to the portal and its notification socket on one server (alternately),
    whose owners edit a household member every ``S`` seconds through either server in turn
    (the portal's POST, which notifies the robot: half the notifications cross to the other
    instance); each notification is awaited on its robot's socket (lost after 10 s).
    Every 10 s: each server's resident memory and the window's percentiles. Reports errors
    (goal: zero), notifications delivered and lost (goal: none lost) with their latency, memory
    growth from the first minute to the end (goal: within 5 %), percentiles, the machine and
    the date; writes ``bench-results/soak-*.csv`` (and a PNG plot when matplotlib is
    installed). Bounded: it stops after ``M`` minutes whatever happens. ``--trace-memory DIR``
    runs the servers under :mod:`bench.soak_trace` (tracemalloc snapshots and object counts
    every minute, heap figures every 10 s, into ``DIR``; slower, for hunting memory growth;
    ``--trace-frames 0`` keeps only the counters, cheap enough for a reported run).

``run(report)`` (for ``python -m bench``) runs the ``queue`` latency mode, 200 sends.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import trio

from bench.server import SECRET, add_robot, bench_env, cli, robot_spec, store
from bench.soak_trace import DIR_ENV as TRACE_DIR_ENV

ROBOT_NAME = "Bench-Robot-Name-1"


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"n": 0}

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"n": len(ordered), "p50": statistics.median(ordered), "p90": at(0.9),
            "p99": at(0.99), "max": ordered[-1]}  # fmt: skip


def _fmt(stats: dict[str, float], unit: str = "ms") -> str:
    if not stats.get("n"):
        return "no samples"
    return (f"n={stats['n']:.0f} p50={stats['p50']:.2f} p90={stats['p90']:.2f} "
            f"p99={stats['p99']:.2f} max={stats['max']:.2f} {unit}")  # fmt: skip


# --------------------------------------------------------------------------- notify latency


async def queue_latency(count: int) -> list[float]:
    """Milliseconds from queueing a notification for a robot held by another instance to
    that instance having read it after its wake-up (two storages on one database)."""
    from jibo_cloud.storage import connect_storage
    from jibo_cloud.storage.instances import register_instance
    from jibo_cloud.storage.pubsub import serve_wakeups, wake_holders
    from tests.support.server import test_config

    with store("postgres") as args:
        url = args[args.index("--database-url") + 1]
        data = Path(args[1])
        sender_store = await connect_storage(test_config(data / "s", database_url=url))
        holder_store = await connect_storage(test_config(data / "h", database_url=url))
        holder_config = test_config(data / "h", database_url=url)
        try:
            await register_instance(holder_store, "holder", _now(), 60_000)
            await holder_store.record_sessions(
                [("open", "s1", ROBOT_NAME, "notification", _now())], instance_id="holder"
            )
            arrived: dict[int, float] = {}
            wake = trio.Event()

            async def on_wake() -> None:
                rows = await holder_store.notifications_for_instance("holder", 0, 1000)
                for row in rows:
                    arrived[json.loads(row.frame)["i"]] = time.perf_counter()
                await holder_store.delete_notifications([r.seq for r in rows])
                wake.set()

            latencies: list[float] = []
            async with trio.open_nursery() as nursery:
                await nursery.start(serve_wakeups, holder_config, "holder", on_wake)
                for i in range(count):
                    wake = trio.Event()
                    started = time.perf_counter()
                    frame = json.dumps({"i": i})
                    await sender_store.queue_notification(ROBOT_NAME, frame, _now(), keep=100)
                    await wake_holders(sender_store, ROBOT_NAME, sender="sender")
                    with trio.fail_after(10):
                        while i not in arrived:
                            await wake.wait()
                            wake = trio.Event()
                    latencies.append((arrived[i] - started) * 1000)
                nursery.cancel_scope.cancel()
            return latencies
        finally:
            await sender_store.aclose()
            await holder_store.aclose()


async def full_latency(count: int) -> list[float]:
    """Milliseconds from ``notify()`` on one server to the robot's socket on the other
    having the frame (two real servers in this process, one PostgreSQL schema)."""
    from tests.e2e.test_workers import robot_token
    from tests.rest.support import ACCOUNT_ID, register_robot
    from tests.rest.support import ROBOT_NAME as ROBOT
    from tests.support.robot import open_robot_socket
    from tests.support.server import start_server

    with store("postgres") as args:
        url = args[args.index("--database-url") + 1]
        data = Path(args[1])
        latencies: list[float] = []
        async with trio.open_nursery() as nursery:
            sender = await start_server(nursery, data / "a", database_url=url)
            holder = await start_server(nursery, data / "b", database_url=url)
            await register_robot(sender)
            token = await robot_token(holder.port)  # the robot of tests.rest.support
            async with open_robot_socket(
                holder.port, f"/{token}", host="api-socket.jibo.com"
            ) as ws:
                with trio.fail_after(10):
                    while not await sender.runtime.storage.account_connected(ACCOUNT_ID):  # noqa: ASYNC110
                        await trio.sleep(0.01)
                for i in range(count):
                    started = time.perf_counter()
                    await sender.runtime.notifications.notify(ROBOT, {"i": i})
                    with trio.fail_after(5):
                        got = json.loads(await ws.get_message())
                    assert got == {"i": i}, got
                    latencies.append((time.perf_counter() - started) * 1000)
            sender.stop()
            holder.stop()
        return latencies


def _now() -> int:
    return time.time_ns() // 1_000_000


def run(report: Any) -> None:
    """``python -m bench``: the queue path's latency, 200 sequential sends."""
    latencies = trio.run(queue_latency, 200)
    stats = percentiles(latencies)
    report.add("notify cross-instance (queue+NOTIFY) p50", stats["p50"], "ms")
    report.add("notify cross-instance (queue+NOTIFY) p99", stats["p99"], "ms")


# --------------------------------------------------------------------------- soak


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class Soak:
    """Counters and samples of one soak run."""

    def __init__(self) -> None:
        self.errors: dict[str, int] = {}
        self.error_lines: list[str] = []
        #: Failures of the bench's own clients while closing their sockets after the end
        #: (trio-websocket answers a server ping after its close began: LocalProtocolError).
        self.teardown: dict[str, int] = {}
        self.turns: list[float] = []
        self.boots: list[float] = []
        self.window_turns: list[float] = []
        self.window_boots: list[float] = []
        #: Notifications: latency of each delivered (all, sent through the socket's own
        #: server, sent through the other), never delivered, delivered after 10 s.
        self.notified: list[float] = []
        self.notified_local: list[float] = []
        self.notified_cross: list[float] = []
        self.window_notified: list[float] = []
        self.lost = 0
        self.late = 0
        self.rows: list[dict[str, float]] = []

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _loop(deadline: float, soak: Soak, what: str,
                step: Callable[[], Awaitable[float]]) -> None:  # fmt: skip
    while time.monotonic() < deadline:
        try:
            with trio.fail_after(30):
                ms = await step()
        except Exception as exc:  # every failure is counted and reported, never hidden
            soak.error(f"{what}: {type(exc).__name__} {str(exc)[:80]}")
            await trio.sleep(0.5)
            continue
        (soak.turns if what == "turn" else soak.boots).append(ms)
        (soak.window_turns if what == "turn" else soak.window_boots).append(ms)


@contextlib.contextmanager
def _serve(args: list[str], env: dict[str, str],
           trace: Path | None) -> Iterator[tuple[subprocess.Popen[str], int]]:  # fmt: skip
    """``jibo-cloud serve --port 0 ARGS`` in a subprocess (under :mod:`bench.soak_trace`
    when ``trace`` names a folder), with the speech warm-up of a real ``serve``."""
    from tests.support.server import serve_subprocess

    environ = {"JIBO_ASR_WARM_UP": "true", **env}
    if trace:
        environ[TRACE_DIR_ENV] = str(trace)
        environ.setdefault("JIBO_SOAK_TRACE_FRAMES", "8")
    module = "bench.soak_trace" if trace else "jibo_cloud"
    with serve_subprocess(args, SECRET, env=environ, module=module) as served:
        yield served


def notify_spec(k: int) -> Any:
    """The ``k``-th robot of the notification load (its own owner, household and keys)."""
    from jibo_cloud.storage.provisioning import RobotSpec

    return RobotSpec(name=f"Soak-Notify-Robot-{k}", serial=f"BOJW-2000-0000-0000-{k:04d}",
                     robot_id=f"{0x5000 + k:024x}", owner_email=f"soak{k}@example.com",
                     access_key_id=f"SOAKNOTIFYKEY{k:07d}", secret_access_key=f"soak-secret-{k}",
                     loop_id=f"{0x6000 + k:024x}", account_id=f"{0x7000 + k:024x}")  # fmt: skip


def _add_notify_robots(args: list[str], count: int) -> None:
    for k in range(count):
        r = notify_spec(k)
        cli("robot", "add", "--name", r.name, "--serial", r.serial, "--robot-id", r.robot_id,
            "--owner", r.owner_email, "--loop-id", r.loop_id, "--access-key-id",
            r.access_key_id, "--secret-access-key", r.secret_access_key, "--account-id",
            r.account_id, *args)  # fmt: skip


async def _invites_and_members(args: list[str], count: int) -> list[tuple[str, str]]:
    """For each notification robot: a fresh portal invite token for its owner and the id of
    the owner's membership of its household (read from the store in this process)."""
    from jibo_cloud.config import load_config
    from jibo_cloud.portal.auth import new_invite
    from jibo_cloud.storage import connect_storage

    url = args[args.index("--database-url") + 1] if "--database-url" in args else None
    config = load_config(data_dir=args[1], database_url=url, env={}, token_secret=SECRET)
    storage = await connect_storage(config)
    try:
        found = []
        for k in range(count):
            spec = notify_spec(k)
            token = await new_invite(storage, spec.account_id, now=_now())
            members = await storage.members_of(spec.loop_id)
            found.append((token, members[0].id))
        return found
    finally:
        await storage.aclose()


async def soak_run(minutes: float, sockets: int, backend: str, notify_robots: int = 0,
                   notify_every: float = 1.0,
                   trace: Path | None = None) -> dict[str, Any]:  # fmt: skip
    import httpx

    from tests.rest.support import RestClient
    from tests.support import hub_client as hc
    from tests.support.robot import open_robot_socket

    spec = robot_spec()
    with store(backend) as args, contextlib.ExitStack() as stack:
        add_robot(args)
        _add_notify_robots(args, notify_robots)
        invites = await _invites_and_members(args, notify_robots)
        env = bench_env(JIBO_ASR_PROCESSES="0")
        servers = []
        for name in ("a", "b"):
            # PostgreSQL: a data folder each (as on two hosts); SQLite: the one file.
            own = Path(args[1]) / name if backend == "postgres" else Path(args[1])
            server_args = [*args[2:], "--data-dir", str(own)]
            servers.append(stack.enter_context(_serve(server_args, env, trace)))
        soak = Soak()
        for proc, _port in servers:  # keep reading: a full pipe would block the server's logs
            threading.Thread(target=_drain, args=(proc.stdout, soak), daemon=True).start()
        ports = [port for _proc, port in servers]
        pids = [proc.pid for proc, _port in servers]
        from jibo_cloud.config import Config

        token = hc.hub_token(Config(token_secret=SECRET), account=spec.account_id,
                             robot=spec.name)  # fmt: skip
        deadline = time.monotonic() + minutes * 60
        signer = {"key": spec.access_key_id, "secret": spec.secret_access_key}
        clients = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in ports]

        async def boot(i: int) -> float:
            client = RestClient(clients[i % 2])
            started = time.perf_counter()
            await client.ok("Loop_20160324.ListLoops", **signer)
            await client.ok("Robot_20160225.GetRobot", {"id": spec.name}, **signer)
            answer = await client.ok("Notification_20150505.NewRobotToken",
                                     {"deviceId": spec.name}, **signer)  # fmt: skip
            assert answer["token"]
            return (time.perf_counter() - started) * 1000

        async def turn(i: int) -> float:
            started = time.perf_counter()
            frames = await hc.one_turn(ports[i % 2], token, hc.listen("CLIENT_ASR"), hc.context(),
                                       hc.client_asr("what time is it"))  # fmt: skip
            if frames[-1].get("type") == "ERROR":
                data = frames[-1].get("data", {})
                raise RuntimeError(f"turn ERROR {data.get('code')}: {data.get('message')}")
            return (time.perf_counter() - started) * 1000

        async def hold_sockets(nursery: trio.Nursery) -> None:
            answer = await RestClient(clients[0]).ok(
                "Notification_20150505.NewRobotToken", {"deviceId": spec.name}, **signer
            )
            for i in range(sockets):
                await nursery.start(_idle_socket, open_robot_socket, ports[i % 2],
                                    answer["token"], deadline, soak)  # fmt: skip

        async def sample(started: float) -> None:
            while time.monotonic() < deadline:
                await trio.sleep(10)
                if time.monotonic() > deadline:  # the sockets are closing: not the steady state
                    break
                row = {"t_s": time.monotonic() - started}
                for name, pid in zip("ab", pids, strict=True):
                    row[f"rss_{name}_mb"] = rss_bytes(pid) / 2**20
                windows = (
                    ("turn", soak.window_turns),
                    ("boot", soak.window_boots),
                    ("notify", soak.window_notified),
                )
                for what, values in windows:
                    stats = percentiles(values)
                    row[f"{what}_p99_ms"] = stats.get("p99", float("nan"))
                    row[f"{what}_n"] = stats.get("n", 0)
                    values.clear()
                soak.rows.append(row)
                print(f"  t={row['t_s']:6.0f}s rss a={row['rss_a_mb']:.1f} b={row['rss_b_mb']:.1f}"
                      f" MB  turn p99={row['turn_p99_ms']:.1f} ms boot p99="
                      f"{row['boot_p99_ms']:.1f} ms notify p99={row['notify_p99_ms']:.1f} ms "
                      f"(n={row['notify_n']:.0f}, lost {soak.lost})  "
                      f"errors={sum(soak.errors.values())}",
                      flush=True)  # fmt: skip

        async def notifier(k: int, invite: str, member_id: str, nursery: trio.Nursery) -> None:
            await nursery.start(_notify_robot, k, invite, member_id, ports, deadline,
                                notify_every, soak)  # fmt: skip

        started = time.monotonic()
        async with trio.open_nursery() as nursery:
            await hold_sockets(nursery)
            for k, (invite, member_id) in enumerate(invites):
                await notifier(k, invite, member_id, nursery)
            nursery.start_soon(sample, started)
            for i in range(2):
                nursery.start_soon(_loop, deadline, soak, "turn", lambda i=i: turn(i))
                nursery.start_soon(_loop, deadline, soak, "boot", lambda i=i: boot(i))
        for client in clients:
            await client.aclose()
        return _soak_summary(soak, minutes, sockets, backend)


async def _notify_robot(k: int, invite: str, member_id: str, ports: list[int], deadline: float,
                        every: float, soak: Soak,
                        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
                        ) -> None:  # fmt: skip
    """One notification robot: its socket on server ``k % 2``, its owner signed in on both
    servers, a member edit every ``every`` seconds through server ``n % 2`` (``n`` the send's
    number), each awaited on the socket: delivered (latency) or lost (nothing in 10 s)."""
    import httpx

    from tests.portal.support import csrf_of
    from tests.rest.support import RestClient
    from tests.support.robot import open_robot_socket

    spec = notify_spec(k)
    password = "soak horse battery staple"  # noqa: S105 - a bench-only owner
    http = [httpx.AsyncClient(base_url=f"http://127.0.0.1:{p}", timeout=30) for p in ports]
    try:
        page = await http[0].get(f"/portal/invite?t={invite}")
        done = await http[0].post(f"/portal/invite?t={invite}", data={
            "csrf": csrf_of(page.text), "password": password, "again": password})  # fmt: skip
        assert done.status_code == 303, (done.status_code, done.text[:200])
        csrf = []
        for client in http:
            page = await client.get("/portal/signin")
            signed = await client.post("/portal/signin", data={
                "csrf": csrf_of(page.text), "email": spec.owner_email, "password": password,
                "next": "/portal/"})  # fmt: skip
            assert signed.status_code == 303, (signed.status_code, signed.text[:200])
            csrf.append(csrf_of((await client.get("/portal/household")).text))
        answer = await RestClient(http[k % 2]).ok(
            "Notification_20150505.NewRobotToken", {"deviceId": spec.name},
            key=spec.access_key_id, secret=spec.secret_access_key)  # fmt: skip
        arrived: dict[str, float] = {}
        lost: list[str] = []
        got = trio.Event()
        async with open_robot_socket(ports[k % 2], f"/{answer['token']}",
                                     host="api-socket.jibo.com") as ws:  # fmt: skip
            task_status.started()

            async def receive() -> None:
                nonlocal got
                while True:
                    frame = json.loads(await ws.get_message())
                    for member in frame.get("members", []):
                        if member.get("id") == member_id and "phoneticName" in member:
                            arrived.setdefault(member["phoneticName"], time.perf_counter())
                    got.set()
                    got = trio.Event()

            async with trio.open_nursery() as inner:
                inner.start_soon(receive)
                n = 0
                while time.monotonic() < deadline - 12:
                    mark = f"n{n}"
                    via = n % 2
                    sent = time.perf_counter()
                    try:
                        with trio.fail_after(30):
                            posted = await http[via].post(
                                f"/portal/household/{spec.loop_id}/members/{member_id}",
                                data={"csrf": csrf[via], "phoneticName": mark,
                                      "firstName": "Soak", "lastName": "Owner",
                                      "birthday": ""})  # fmt: skip
                        if posted.status_code != 303:
                            raise RuntimeError(f"HTTP {posted.status_code}")
                    except Exception as exc:  # counted and reported, never hidden
                        soak.error(f"notify send: {type(exc).__name__} {str(exc)[:80]}")
                        n += 1
                        await trio.sleep(every)
                        continue
                    with trio.move_on_after(10):
                        while mark not in arrived:
                            await got.wait()
                    if mark in arrived:
                        ms = (arrived[mark] - sent) * 1000
                        soak.notified.append(ms)
                        (soak.notified_cross if via != k % 2 else soak.notified_local).append(ms)
                        soak.window_notified.append(ms)
                    else:
                        lost.append(mark)
                    n += 1
                    await trio.sleep(every)
                with trio.move_on_after(10):  # a lost one arriving late is counted apart
                    while lost and not all(m in arrived for m in lost):
                        await got.wait()
                inner.cancel_scope.cancel()
            soak.lost += sum(1 for m in lost if m not in arrived)
            soak.late += sum(1 for m in lost if m in arrived)
    except Exception as exc:
        if time.monotonic() < deadline:
            soak.error(f"notify robot {k}: {type(exc).__name__} {str(exc)[:80]}")
        with contextlib.suppress(RuntimeError):
            task_status.started()
    finally:
        for client in http:
            await client.aclose()


async def _idle_socket(
    opener: Any,
    port: int,
    token: str,
    deadline: float,
    soak: Soak,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    try:
        async with opener(port, f"/{token}", host="api-socket.jibo.com"):
            task_status.started()
            await trio.sleep(max(0.0, deadline - time.monotonic()))
    except Exception as exc:  # a socket refused or dropped is an error of the soak
        leaves = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
        what = ", ".join(sorted({f"{type(e).__name__} {str(e)[:60]}" for e in leaves}))
        if time.monotonic() < deadline:
            soak.error(f"socket: {what}")
        else:  # the client failing to close once the soak ended: reported apart
            soak.teardown[what] = soak.teardown.get(what, 0) + 1
        with contextlib.suppress(RuntimeError):
            task_status.started()


def _drain(stream: Any, soak: Soak) -> None:
    """Read a server's output to the end; its ERROR lines count as soak errors."""
    for line in stream:
        if line.startswith("{"):
            try:
                level = json.loads(line).get("level")
            except ValueError:
                continue
            if level in ("ERROR", "CRITICAL"):
                what = "server log: " + json.loads(line).get("msg", "")[:60]
                if what not in soak.errors:  # the first of each kind, whole, for the report
                    soak.error_lines.append(line.strip()[:4000])
                soak.error(what)


def _soak_summary(soak: Soak, minutes: float, sockets: int, backend: str) -> dict[str, Any]:
    rows = soak.rows
    growth: dict[str, float] = {}
    if len(rows) >= 7:
        for name in ("a", "b"):
            first = statistics.median(r[f"rss_{name}_mb"] for r in rows[:6])  # the first minute
            last = statistics.median(r[f"rss_{name}_mb"] for r in rows[-6:])  # the last minute
            growth[name] = (last - first) / first * 100
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "minutes": minutes, "sockets": sockets, "backend": backend,
        "errors": soak.errors, "error_lines": soak.error_lines, "teardown": soak.teardown,
        "turns": percentiles(soak.turns),
        "boots": percentiles(soak.boots), "notifications": {
            "delivered": len(soak.notified), "lost": soak.lost, "late": soak.late,
            "latency": percentiles(soak.notified), "same_server": percentiles(soak.notified_local),
            "other_server": percentiles(soak.notified_cross)},
        "rss_growth_percent": growth, "samples": rows,
    }  # fmt: skip


def _write_outputs(summary: dict[str, Any]) -> Path:
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
    csv = out / f"soak-{stamp}.csv"
    rows = summary["samples"]
    if rows:
        keys = list(rows[0])
        csv.write_text(",".join(keys) + "\n" + "\n".join(
            ",".join(f"{r[k]:.3f}" for k in keys) for r in rows) + "\n")  # fmt: skip
    (out / f"soak-{stamp}.json").write_text(json.dumps(summary, indent=1))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (no PNG: matplotlib is not installed; the CSV has the same series)")
        return csv
    fig, (mem, lat) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    t = [r["t_s"] for r in rows]
    for name in ("a", "b"):
        mem.plot(t, [r[f"rss_{name}_mb"] for r in rows], label=f"server {name}")
    mem.set_ylabel("RSS (MB)")
    mem.legend()
    lat.plot(t, [r["turn_p99_ms"] for r in rows], label="turn p99")
    lat.plot(t, [r["boot_p99_ms"] for r in rows], label="boot p99")
    if any(r.get("notify_n") for r in rows):
        lat.plot(t, [r["notify_p99_ms"] for r in rows], label="notification p99")
    lat.set_ylabel("ms")
    lat.set_xlabel("seconds")
    lat.legend()
    fig.savefig(out / f"soak-{stamp}.png", dpi=100)
    return csv


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import machine

    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    sub = parser.add_subparsers(dest="mode", required=True)
    lat = sub.add_parser("notify-latency")
    lat.add_argument("--count", type=int, default=200)
    lat.add_argument("--full", action="store_true", help="two real servers and a robot socket")
    soak = sub.add_parser("soak")
    soak.add_argument("--minutes", type=float, default=10.0)
    soak.add_argument("--sockets", type=int, default=2000)
    soak.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    soak.add_argument(
        "--notify-robots", type=int, default=8, help="robots receiving notifications (0: none)"
    )
    soak.add_argument(
        "--notify-every", type=float, default=1.0, help="seconds between one robot's notifications"
    )
    soak.add_argument(
        "--trace-memory",
        type=Path,
        metavar="DIR",
        help="tracemalloc snapshots of the servers into DIR (bench.soak_trace)",
    )
    soak.add_argument(
        "--trace-frames",
        type=int,
        default=8,
        help="with --trace-memory: frames per traceback; 0 = no tracemalloc, counters only",
    )
    args = parser.parse_args(argv)
    if args.mode == "soak" and args.trace_memory:
        os.environ["JIBO_SOAK_TRACE_FRAMES"] = str(args.trace_frames)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"jibo-cloud {args.mode} — {when}\nmachine: {machine()}\nload: {os.getloadavg()}")
    if args.mode == "notify-latency":
        mode = full_latency if args.full else queue_latency
        stats = percentiles(trio.run(mode, args.count))
        print(f"  {'full' if args.full else 'queue'}: {_fmt(stats)}")
        return 0
    summary = trio.run(
        soak_run,
        args.minutes,
        args.sockets,
        args.backend,
        args.notify_robots,
        args.notify_every,
        args.trace_memory,
    )
    print(f"  errors: {summary['errors'] or 'none'}")
    for line in summary["error_lines"]:
        print(f"    first logged: {line}")
    print(f"  client teardown failures (after the end): {summary['teardown'] or 'none'}")
    print(f"  turns: {_fmt(summary['turns'])}")
    print(f"  boots: {_fmt(summary['boots'])}")
    sent = summary["notifications"]
    print(
        f"  notifications: delivered {sent['delivered']}, lost {sent['lost']}, "
        f"late (after 10 s) {sent['late']}"
    )
    print(f"    latency: {_fmt(sent['latency'])}")
    print(f"    same server: {_fmt(sent['same_server'])}")
    print(f"    other server: {_fmt(sent['other_server'])}")
    print(f"  memory growth first→last minute: {summary['rss_growth_percent']}")
    print(f"  written: {_write_outputs(summary)}")
    return 0 if not summary["errors"] and not sent["lost"] else 1


if __name__ == "__main__":
    sys.exit(main())
