"""The researcher tools' own costs: scrubbing, replay, a simulated boot and live fuzzing.

A server runs in a subprocess (``bench.server``, SQLite) with a registered robot. Reported:

- scrubbing a captured CONTEXT frame (learn + scrub) in frames/s, beside a plain
  ``json.loads(json.dumps(...))`` round trip of the same frame, and the ratio;
- replaying the project's ``fixtures/flows`` (all checks on): flows/s and the median flow;
- ``sim boot``: the median time of the 18 boot steps (of which 0.5 s is the deliberate watch
  of the notification socket);
- ``fuzz``: cases/s per target with the default settle time (which dominates socket cases).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import trio

from bench.server import ROBOT, SECRET, add_robot, hub_token, serve, store
from jibo_cloud.tools import fuzz, sim_boot
from jibo_cloud.tools.flows import load_flow
from jibo_cloud.tools.replay import replay_flow
from jibo_cloud.tools.robot import RobotIdentity, context_data
from jibo_cloud.tools.scrub import Scrubber
from jibo_cloud.tools.target import Target

REPO = Path(__file__).resolve().parents[1]
REPEATS = 5


def _rate(fn: Any, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - start)


def bench_scrub(report: Any) -> None:
    frame = {"type": "CONTEXT", "msgID": "mid-1", "transID": "tid-1",
             "data": context_data(RobotIdentity(robot_id="5f1d2c3b4a5968778695a4b3"))}  # fmt: skip
    text = json.dumps(frame)

    def scrub() -> None:
        s = Scrubber()
        s.learn(frame)
        s.scrub(frame)

    def plain() -> None:
        json.loads(json.dumps(frame))

    ours = statistics.median(_rate(scrub, 2000) for _ in range(REPEATS))
    base = statistics.median(_rate(plain, 2000) for _ in range(REPEATS))
    report.add("scrub CONTEXT frame", ours, "frames/s", f"{len(text)} bytes")
    report.add("plain json round trip, same frame", base, "frames/s")
    report.add("scrub cost vs plain json", base / ours, "x")


async def _live(report: Any, port: int) -> None:
    from jibo_cloud.config import Config

    # The token names the registered robot's account and carries ``exp``.
    token = hub_token(Config(token_secret=SECRET))
    target = Target.parse(f"http://127.0.0.1:{port}")
    flows = [load_flow(p) for p in sorted((REPO / "fixtures" / "flows").glob("*.flow.json"))]
    per_flow: list[float] = []
    rates: list[float] = []
    for _ in range(REPEATS):
        start = trio.current_time()
        for flow in flows:
            t = trio.current_time()
            result = await replay_flow(target, flow, token=token)
            per_flow.append(trio.current_time() - t)
            assert result.ok, result.mismatches
        rates.append(len(flows) / (trio.current_time() - start))
    report.add("replay fixtures/flows", statistics.median(rates), "flows/s", f"{len(flows)} flows")
    report.add("replay, median flow", statistics.median(per_flow) * 1000, "ms")

    robot = RobotIdentity(
        name=ROBOT["name"], serial=ROBOT["serial"], robot_id=ROBOT["robot_id"],
        access_key_id=ROBOT["key"], secret_access_key=ROBOT["secret"],
    )  # fmt: skip
    boots = []
    for _ in range(REPEATS):
        t = trio.current_time()
        boot = await sim_boot.run_boot(target, robot)
        boots.append(trio.current_time() - t)
        assert boot.ok
    report.add("sim boot (18 steps)", statistics.median(boots) * 1000, "ms",
               f"includes the {sim_boot.NOTIFY_WATCH_SECONDS:g} s notification watch")  # fmt: skip

    async with httpx.AsyncClient() as client:
        fuzzer = fuzz.Fuzzer(target, token, client)
        for name in ("listen", "rest", "auth"):
            t = trio.current_time()
            result = await fuzz.run_fuzz(fuzzer, targets=[name], budget=60, max_seconds=60)
            cases = sum(result.cases.values())
            note = "ok" if result.ok else f"{len(result.failures)} failure(s) found"
            report.add(f"fuzz {name}", cases / (trio.current_time() - t), "cases/s", note)


def run(report: Any) -> None:
    bench_scrub(report)
    with store("sqlite") as args:
        add_robot(args)
        # The project's flows were recorded against a cloud that answers the time itself.
        os.environ["JIBO_PREFER_CLOUD_SKILLS"] = "clock"
        with serve(args) as (_proc, port):
            trio.run(_live, report, port)
