"""Replay against the real server: the project's flows pass; a broken one gets a precise diff."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest
import trio

from jibo_cloud.cli import main as cli_main
from jibo_cloud.tokens import issue_hub_token
from jibo_cloud.tools.flows import load_flow, parse_flow
from jibo_cloud.tools.replay import replay_flow
from jibo_cloud.tools.target import Target
from tests.support import env
from tests.support import hub_client as hc
from tests.support.server import RunningServer, start_server

FLOWS = sorted((env.PROJECT_FIXTURES / "flows").glob("*.flow.json"))


@pytest.fixture
async def server(nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[RunningServer]:
    """The flows were recorded against a cloud that answers the time itself (cloud-clock):
    by default the robot's own clock takes those words now, so this server prefers
    ours (JIBO_PREFER_CLOUD_SKILLS=clock)."""
    running = await start_server(nursery, tmp_path / "data", prefer_cloud_skills=("clock",))
    yield running
    running.stop()


def hub_token(server: RunningServer) -> str:
    # The robot start_server registers (a token's robot must exist).
    token, _ = issue_hub_token(
        server.config, account_id=hc.ACCOUNT, friendly_id=hc.ROBOT,
        access_key_id=None, now_s=time.time(),
    )  # fmt: skip
    return token


def test_there_are_flows() -> None:
    assert len(FLOWS) >= 5


@pytest.mark.parametrize("path", FLOWS, ids=lambda p: p.name)
async def test_project_flow_passes(server: RunningServer, path: Path) -> None:
    with trio.fail_after(30):
        result = await replay_flow(
            Target.parse(server.http_url), load_flow(path), token=hub_token(server)
        )
    assert result.ok, (result.error, result.mismatches)


async def test_broken_flow_gets_a_precise_diff(server: RunningServer) -> None:
    doc = json.loads(
        (env.PROJECT_FIXTURES / "flows" / "client-nlu-load-menu.flow.json").read_text()
    )
    doc["steps"][1]["expectedReplyTypes"] = ["ASR"]  # the hub sends EOS here
    final = doc["steps"][2]["expectedReplies"][0]["jsonSubset"]
    final["data"]["nlu"]["intent"] = "loadMenuX"
    with trio.fail_after(30):
        result = await replay_flow(
            Target.parse(server.http_url), parse_flow(doc, "broken"), token=hub_token(server),
            step_timeout=1.0,
        )  # fmt: skip
    assert not result.ok
    types, subset = result.mismatches
    assert types.splitlines()[0] == "reply types differ:"
    assert "-ASR" in types.splitlines()
    assert "+EOS" in types.splitlines()
    assert subset.splitlines() == [
        "step 2 (CONTEXT): LISTEN reply differs:",
        '  $.data.nlu.intent: expected "loadMenuX", got "loadMenu"',
    ]


async def test_replay_command_exit_status_and_json(server: RunningServer, tmp_path: Path) -> None:
    token = hub_token(server)
    out = io.StringIO()

    def run(*argv: str) -> int:
        with redirect_stdout(out):
            return cli_main(["replay", *argv, "--url", server.http_url, "--token", token])

    good = await trio.to_thread.run_sync(run, str(env.PROJECT_FIXTURES / "flows"), "--json")
    doc = json.loads(out.getvalue())
    assert good == 0
    assert doc["failed"] == 0
    assert doc["passed"] == len(FLOWS)

    broken = json.loads(FLOWS[0].read_text())
    broken["steps"][0]["expectedReplyTypes"] = ["NOT_A_REPLY"]
    path = tmp_path / "broken.flow.json"
    path.write_text(json.dumps(broken))
    out.seek(0)
    out.truncate()
    bad = await trio.to_thread.run_sync(run, str(path), "--step-timeout", "0.5")
    assert bad == 1
    assert "FAIL" in out.getvalue()
    assert "-NOT_A_REPLY" in out.getvalue()


@pytest.mark.shared
def test_every_shared_flow_file_loads() -> None:
    folder = env.shared_fixtures("openjibo-flows")
    paths = sorted(folder.rglob("*.flow.json"))
    assert paths
    for path in paths:
        flow = load_flow(path)
        assert flow.steps, path


@pytest.mark.shared
async def test_openjibo_flows_replay_with_diffs_not_errors(server: RunningServer) -> None:
    """OpenJibo's flows expect OpenJibo's replies; replay must run them and say how they differ."""
    folder = env.shared_fixtures("openjibo-flows")
    paths = sorted(folder.rglob("*.flow.json"))
    token = hub_token(server)
    for path in paths:
        with trio.fail_after(30):
            result = await replay_flow(
                Target.parse(server.http_url), load_flow(path), token=token, step_timeout=0.15
            )
        assert result.error is None, (path.name, result.error)
        sent = [f for f in result.frames if f.sender == "robot"]
        assert len(sent) == len(result.flow.steps), path.name
        if not result.ok:
            assert result.mismatches[0].startswith(("reply types differ:", "step ")), path.name


async def test_http_flow_checks_status_and_body(server: RunningServer) -> None:
    doc = {
        "name": "rest checks",
        "session": {"hostName": "api.jibo.com", "path": "/", "kind": "http"},
        "steps": [
            {"http": {"method": "GET", "path": "/healthcheck"}, "expectedStatus": 200},
            {
                "http": {"method": "POST", "path": "/", "body": {},
                         "headers": {"X-Amz-Target": "Nope_20990101.Missing"}},
                "expectedStatus": 400,
                "expectedJsonSubset": {"__type": "UnknownOperationException"},
            },
            {"http": {"method": "GET", "path": "/"}, "expectedStatus": 200},
        ],
    }  # fmt: skip
    with trio.fail_after(30):
        result = await replay_flow(Target.parse(server.http_url), parse_flow(doc), token=None)
    assert result.mismatches == ["step 2 (GET /): expected HTTP 200, got 204: "]
