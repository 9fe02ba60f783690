"""``python -m bench hub --profile``: what one hub turn costs, beside a bare trio-websocket hub.

Two servers answer the same robots in one run, alternately, each in its own subprocess:

- **hub**: ``jibo-cloud serve`` (the whole server: hypercorn, the router, the token check, the
  transaction driver, the machine, the embedded parser and the in-process joke skill);
- **bare**: :mod:`bench.bare_hub`, trio-websocket answering the same frames with canned replies.

The robots do CLIENT_ASR turns ("tell me a joke", one socket per turn, as robots do), from the
raw-socket load generator of :mod:`bench.hub` (:func:`bench.hub.run_robots`). For each
server and round the bench makes two passes, each on a fresh server process:

1. **CPU pass**, nothing instrumented: :data:`ROBOTS` robots for :data:`WINDOW_SECONDS`;
   turns/s, p50/p99 (LISTEN sent → final frame) and the server's CPU ms per turn
   (``/proc/<pid>/stat``). With two or more cores the server is pinned to core 0
   (``taskset``) and the robots to core 1.
2. **count pass**: the server runs under counters, switched on for the measuring window by
   ``SIGUSR1`` and dumped by ``SIGUSR2``: tasks spawned and task steps (trio's instrument API:
   ``task_spawned``, ``before_task_step`` — a step is one context switch into a task), and
   cancel scopes and nurseries entered (a ``sys.setprofile`` hook counting calls of
   ``CancelScope.__enter__`` and ``NurseryManager.__aenter__``; a nursery's own scope is
   counted among the scopes). The hook slows the server, so this pass reports counts only.

Rounds alternate hub and bare (:data:`ROUNDS`, default 3) and the medians are reported with the
ratio hub / bare of CPU ms per turn. ``trio.run`` is wrapped in the counted server process only
(to pass ``instruments=``); nothing of trio's internals is replaced.
"""

from __future__ import annotations

import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import trio

from bench import server
from bench.hub import _free_port, _pct, _wait_ready, run_robots

ROBOTS = int(os.environ.get("JIBO_BENCH_ROBOTS", "100"))
WINDOW_SECONDS = float(os.environ.get("JIBO_BENCH_SECONDS", "6"))
COUNT_SECONDS = float(os.environ.get("JIBO_BENCH_COUNT_SECONDS", "3"))
ROUNDS = int(os.environ.get("JIBO_BENCH_ROUNDS", "3"))
MODE = "CLIENT_ASR"
COUNT_ENV = "JIBO_BENCH_COUNTS_FILE"


async def _load(
    port: int, token: str, robots: int, seconds: float
) -> tuple[list[float], list[str], float]:
    return await run_robots(port, token, robots, MODE, seconds)


# --------------------------------------------------------------------------- the servers


def _pinned(cmd: list[str], core: int) -> list[str]:
    if (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core), *cmd]
    return cmd


@contextmanager
def _server(
    kind: str, counts_file: str | None
) -> Iterator[tuple[subprocess.Popen[bytes], int, str]]:
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        extra = {COUNT_ENV: counts_file} if counts_file else {}
        if kind == "hub":
            server.add_robot(["--data-dir", tmp])
            # No recogniser warm-up: these turns never decode audio, and loading the speech
            # models in the background would land in the measured window.
            env = server.bench_env(
                JIBO_TOKEN_SECRET=server.SECRET, JIBO_DATA_DIR=tmp, JIBO_ASR_WARM_UP="false",
                **extra,
            )  # fmt: skip
            token = server.hub_token(server.bench_config(tmp))
        else:
            env, token = {**os.environ, **extra}, "x"
        cmd = [sys.executable, "-m", "bench.hub_profile", f"serve-{kind}", str(port)]
        proc = subprocess.Popen(
            _pinned(cmd, 0), env=env, cwd=server.REPO,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            trio.run(_wait_ready, port)
            yield proc, port, token
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _cpu_pass(kind: str) -> dict[str, float]:
    with _server(kind, None) as (proc, port, token):
        trio.run(_load, port, token, 10, 1.0)  # warm-up: imports, caches, the parser
        cpu0 = server.cpu_seconds(proc.pid)
        lat, err, elapsed = trio.run(_load, port, token, ROBOTS, WINDOW_SECONDS)
        cpu = server.cpu_seconds(proc.pid) - cpu0
    turns = max(len(lat), 1)
    if err:
        print(f"    {kind}: {len(err)} failed turns, first: {err[0]}", flush=True)
    return {
        "turns/s": len(lat) / elapsed,
        "p50 ms": _pct(lat, 0.5) * 1000,
        "p99 ms": _pct(lat, 0.99) * 1000,
        "CPU ms/turn": cpu * 1000 / turns,
        "errors": float(len(err)),
    }


def _count_pass(kind: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "counts.json")
        with _server(kind, path) as (proc, port, token):
            trio.run(_load, port, token, 10, 1.0)  # warm-up
            proc.send_signal(signal.SIGUSR1)
            time.sleep(0.2)
            lat, _err, _elapsed = trio.run(_load, port, token, 10, COUNT_SECONDS)
            time.sleep(0.3)  # sockets closing after their final frame are part of the turn
            proc.send_signal(signal.SIGUSR2)
            for _ in range(100):
                if Path(path).exists():
                    break
                time.sleep(0.05)
            counts = json.loads(Path(path).read_text())
    turns = max(len(lat), 1)
    return {f"{name}/turn": value / turns for name, value in counts.items()}


def run_profile(report: Any) -> None:
    """Alternate hub and bare, :data:`ROUNDS` times; report medians and the CPU ratio."""
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if affinity is not None and (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {1})
    print(f"  load: {ROBOTS} robots, {MODE}, {WINDOW_SECONDS:g} s windows, {ROUNDS} rounds; "
          f"loadavg before {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
    runs: dict[str, list[dict[str, float]]] = collections.defaultdict(list)
    try:
        for _ in range(ROUNDS):
            for kind in ("hub", "bare"):
                row = _cpu_pass(kind)
                row.update(_count_pass(kind))
                runs[kind].append(row)
                print(
                    f"    {kind}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items()), flush=True
                )
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)
    medians = {kind: {k: statistics.median(r[k] for r in rows) for k in rows[0]}
               for kind, rows in runs.items()}  # fmt: skip
    for kind, values in medians.items():
        for name, value in values.items():
            report.add(f"profile {kind} {name}", value, "")
    ratio = medians["hub"]["CPU ms/turn"] / medians["bare"]["CPU ms/turn"]
    report.add(
        "profile hub/bare CPU per turn", ratio, "x", f"loadavg after {os.getloadavg()[0]:.2f}"
    )


# --------------------------------------------------------------------------- counted servers

_COUNTS: collections.Counter[str] = collections.Counter()
_ON = [False]


class _Counter(trio.abc.Instrument):
    def task_spawned(self, task: trio.lowlevel.Task) -> None:
        if _ON[0]:
            _COUNTS["tasks spawned"] += 1

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        if _ON[0]:
            _COUNTS["task steps"] += 1


def _install_counters(path: str) -> None:
    from trio._core._run import CancelScope, NurseryManager

    targets = {
        CancelScope.__enter__.__code__: "cancel scopes",
        NurseryManager.__aenter__.__code__: "nurseries",
    }

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event == "call":
            name = targets.get(frame.f_code)
            if name is not None:
                _COUNTS[name] += 1

    def start(_sig: int, _frame: Any) -> None:
        _COUNTS.clear()
        _ON[0] = True
        sys.setprofile(profile)

    def stop(_sig: int, _frame: Any) -> None:
        sys.setprofile(None)
        _ON[0] = False
        counts = {
            k: _COUNTS[k] for k in ("tasks spawned", "nurseries", "cancel scopes", "task steps")
        }
        Path(path).write_text(json.dumps(counts))

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    real_run = trio.run

    def run(*args: Any, **kwargs: Any) -> Any:
        kwargs["instruments"] = [*kwargs.get("instruments", ()), _Counter()]
        return real_run(*args, **kwargs)

    trio.run = run  # type: ignore[assignment]  # this bench process only: add our instrument


def _serve(kind: str, port: int) -> None:
    path = os.environ.get(COUNT_ENV)
    if path:
        _install_counters(path)
    if kind == "hub":
        from jibo_cloud.cli import main

        sys.exit(main(["serve", "--port", str(port), "--log-level", "WARNING"]))
    from bench import bare_hub

    trio.run(bare_hub.main, port)


if __name__ == "__main__" and sys.argv[1:2] in (["serve-hub"], ["serve-bare"]):
    _serve(sys.argv[1].removeprefix("serve-"), int(sys.argv[2]))
