"""Live fuzzing finds planted faults in a test-only faulty server and reports them minimized."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
import trio

from jibo_cloud.tokens import issue_hub_token
from jibo_cloud.tools import fuzz_strategies as mutate
from jibo_cloud.tools.fuzz import Fuzzer, FuzzReport, check_host_allowed, run_fuzz
from jibo_cloud.tools.target import Target, ToolError
from tests.support import hub_client as hc
from tests.support.server import RunningServer, start_server
from tests.tools.fakes import Faults, start_fake_cloud


async def fuzz_fake(
    nursery: trio.Nursery, faults: Faults, targets: list[str], budget: int, seed: int = 1
) -> FuzzReport:
    """Fuzz the fake cloud. Seeds are fixed: each test's seed finds its fault within budget."""
    port = await start_fake_cloud(nursery, faults)
    async with httpx.AsyncClient() as client:
        fuzzer = Fuzzer(
            Target.parse(f"http://127.0.0.1:{port}"),
            token=None,
            client=client,
            hang_seconds=1.0,
            error_seconds=0.2,
            settle_seconds=0.02,
        )
        with trio.fail_after(60):
            return await run_fuzz(
                fuzzer, targets=targets, budget=budget, max_seconds=40, seed_value=seed
            )


@pytest.mark.slow
async def test_finds_and_minimizes_each_planted_fault(nursery: trio.Nursery) -> None:
    faults = Faults(crash_on_bad_intent=True, hang_on_big_frame=True)
    report = await fuzz_fake(nursery, faults, ["listen"], 60, seed=8)
    assert not report.ok
    by_kind = {f.kind: f for f in report.failures}
    assert sorted(by_kind) == ["crash", "hang"]  # each kind reported once

    crash = by_kind["crash"]
    assert crash.detail == "socket closed with code 1011"
    assert isinstance(crash.case, mutate.SocketCase)
    # Minimal: the turn's own frames, with only the CLIENT_NLU broken.
    assert len(crash.case.frames) <= 3
    frames = [json.loads(f) for f in crash.case.frames]
    broken = [
        f
        for f in frames
        if f.get("type") == "CLIENT_NLU"
        and not (isinstance(f.get("data"), dict) and isinstance(f["data"].get("intent"), str))
    ]
    assert broken, frames
    assert crash.to_json()["input"]["path"] == "/v1/listen"

    hang = by_kind["hang"]
    assert "after an invalid frame" in hang.detail
    assert any(isinstance(f, str) and len(f) > 64 * 1024 for f in hang.case.frames)


@pytest.mark.slow
async def test_finds_a_rest_500(nursery: trio.Nursery) -> None:
    report = await fuzz_fake(nursery, Faults(rest_500_on_bad_id=True), ["rest"], 40, seed=1)
    (failure,) = report.failures
    assert failure.kind == "5xx"
    assert failure.case.target == "Robot_20160225.GetRobot"
    assert len(failure.case.body) <= 8, failure.case.body  # shrunk to a tiny non-object body


async def test_healthy_fake_has_no_failures(nursery: trio.Nursery) -> None:
    report = await fuzz_fake(nursery, Faults(), ["listen", "rest"], 40)
    assert report.ok, [f.to_json() for f in report.failures]
    assert sum(report.cases.values()) >= 30


def test_refuses_non_loopback_unless_named() -> None:
    with pytest.raises(ToolError, match=r"--allow-host 192\.0\.2\.1"):
        check_host_allowed(Target.parse("http://192.0.2.1:8080"), [])
    check_host_allowed(Target.parse("http://192.0.2.1:8080"), ["192.0.2.1"])
    check_host_allowed(Target.parse("http://127.0.0.1:8080"), [])
    check_host_allowed(Target.parse("http://localhost:8080"), [])


async def _fuzz_auth(server: RunningServer, budget: int) -> FuzzReport:
    token, _ = issue_hub_token(  # the robot start_server registers
        server.config, account_id=hc.ACCOUNT, friendly_id=hc.ROBOT, access_key_id=None,
        now_s=time.time(),
    )  # fmt: skip
    async with httpx.AsyncClient() as client:
        fuzzer = Fuzzer(Target.parse(server.http_url), token=token, client=client)
        with trio.fail_after(60):
            return await run_fuzz(
                fuzzer, targets=["auth"], budget=budget, max_seconds=20, seed_value=7
            )


async def test_real_server_refuses_every_bad_token(nursery: trio.Nursery, tmp_path: Path) -> None:
    # A fuzz target raises the failed-authentication limit (docs/tools.md): every bad token
    # must then be refused 401, none accepted, the server still healthy.
    server = await start_server(nursery, tmp_path, auth_failures_per_minute=1_000_000)
    report = await _fuzz_auth(server, budget=40)
    assert report.ok, [f.to_json() for f in report.failures]
    assert report.cases == {"auth": 40}


async def test_fuzzing_a_throttled_server_says_so(server: RunningServer) -> None:
    # With the default limit (30 failed authentications a minute per address), the fuzzer's
    # address is cut off: the report names the limit, not a protocol fault.
    report = await _fuzz_auth(server, budget=60)
    kinds = {f.kind for f in report.failures}
    assert "throttled" in kinds
    assert "wrong-status" not in kinds
    assert "accepted" not in kinds
    assert any("JIBO_AUTH_FAILURES_PER_MINUTE" in f.detail for f in report.failures)


async def test_fuzz_command_exit_status_and_json(nursery: trio.Nursery) -> None:
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from jibo_cloud.cli import main as cli_main

    port = await start_fake_cloud(nursery, Faults(crash_on_bad_intent=True))
    out, err = io.StringIO(), io.StringIO()

    def run(*argv: str) -> int:
        with redirect_stdout(out), redirect_stderr(err):
            return cli_main(["fuzz", *argv])

    refused = await trio.to_thread.run_sync(run, "--url", "http://192.0.2.1:9")
    assert refused == 2
    assert "not loopback" in err.getvalue()
    # A budget of 40 found the planted crash only when this test ran alone: which cases a seed
    # draws depends on the modules imported before (the full suite imports every command),
    # so the budget is large enough to find it either way.
    found = await trio.to_thread.run_sync(
        run, "--url", f"http://127.0.0.1:{port}", "--targets", "listen", "--budget", "120",
        "--seed", "8", "--settle-seconds", "0.02", "--json",
    )  # fmt: skip
    assert found == 1, (out.getvalue()[-2000:], err.getvalue()[-2000:])
    doc = json.loads(out.getvalue())
    assert doc["ok"] is False
    crashes = [f for f in doc["failures"] if f["kind"] == "crash"]
    assert len(crashes) == 1, doc["failures"]
    assert crashes[0]["detail"] == "socket closed with code 1011"
    assert crashes[0]["input"]["path"] == "/v1/listen"
    # The fake cloud runs on hypercorn 0.18, whose close (send_eof, outside its send lock) can
    # meet a frame being sent on a loaded box: trio.BusyResourceError, the frame is lost (seen
    # in CI on 2026-12-07), and the fuzzer rightly reports that case as closed without ERROR.
    # That is the fake's library, not the fuzzer; nothing else may be reported.
    others = {f["kind"] for f in doc["failures"]} - {"crash"}
    assert others <= {"closed-without-error"}, doc["failures"]
