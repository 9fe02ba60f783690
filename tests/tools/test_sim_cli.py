"""``jibo-cloud sim`` as a user runs it: exit status, human lines and ``--json`` documents."""

from __future__ import annotations

import io
import json
import shutil
import time
from contextlib import redirect_stdout

import pytest
import trio

from jibo_cloud.cli import main as cli_main
from jibo_cloud.tokens import issue_hub_token
from tests.support import env
from tests.support import hub_client as hc
from tests.tools.conftest import Provisioned


async def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()

    def run() -> int:
        with redirect_stdout(out):
            return cli_main(list(argv))

    status = await trio.to_thread.run_sync(run)
    return status, out.getvalue()


def robot_flags(p: Provisioned) -> list[str]:
    r = p.robot
    return [
        "--robot", r.name, "--serial", r.serial, "--robot-id", str(r.robot_id),
        "--access-key-id", str(r.access_key_id), "--secret-access-key", str(r.secret_access_key),
    ]  # fmt: skip


async def test_sim_boot_json_never_prints_the_hub_token(provisioned: Provisioned) -> None:
    url = provisioned.server.http_url
    status, out = await run_cli("sim", "boot", "--url", url, *robot_flags(provisioned), "--json")
    doc = json.loads(out)
    assert status == 0
    assert doc["ok"] is True
    assert doc["hub_token_received"] is True
    assert len(doc["steps"]) == 18
    assert "eyJ" not in out  # a JWT would start like this


async def test_sim_turn_human_output_and_failure_status(provisioned: Provisioned) -> None:
    url = provisioned.server.http_url
    status, out = await run_cli("sim", "turn", "--url", url, *robot_flags(provisioned),
                                "--nlu", "loadMenu", "--entity", "destination=clock",
                                "--rules", "main-menu/execute_main_menu")  # fmt: skip
    assert status == 0, out
    lines = out.splitlines()
    assert any("robot → hub  CLIENT_NLU" in line for line in lines)
    assert any("robot ← hub  LISTEN final" in line for line in lines)
    assert lines[-1].startswith("final LISTEN after ")

    status, out = await run_cli("sim", "turn", "--url", url, "--text", "hi", "--token", "junk")
    assert status == 1
    assert "upgrade refused: HTTP 401" in out


async def test_sim_proactive_json(provisioned: Provisioned) -> None:
    token, _ = issue_hub_token(  # the robot start_server registers
        provisioned.server.config, account_id=hc.ACCOUNT, friendly_id=hc.ROBOT,
        access_key_id=None, now_s=time.time(),
    )  # fmt: skip
    status, out = await run_cli(
        "sim", "proactive", "--url", provisioned.server.http_url, "--token", token, "--json"
    )
    doc = json.loads(out)
    assert status == 0
    assert doc["final_type"] == "PROACTIVE"
    assert [f["from"] for f in doc["frames"]][:2] == ["robot", "robot"]


@pytest.mark.speech
async def test_sim_say_streams_opus_pages_and_completes(provisioned: Provisioned) -> None:
    if shutil.which("espeak-ng") is None:
        env.missing("espeak-ng is not installed")
    try:
        import jibo_cloud.speech.synth  # noqa: F401
    except ImportError as exc:
        env.missing(f"the speech stack is not importable: {exc}")
    token, _ = issue_hub_token(  # the robot start_server registers
        provisioned.server.config, account_id=hc.ACCOUNT, friendly_id=hc.ROBOT,
        access_key_id=None, now_s=time.time(),
    )  # fmt: skip
    status, out = await run_cli(
        "sim", "turn", "--url", provisioned.server.http_url, "--token", token,
        "--say", "what time is it", "--no-pace", "--json",
    )  # fmt: skip
    doc = json.loads(out)
    binary = [f for f in doc["frames"] if f["kind"] == "binary"]
    assert len(binary) >= 3
    assert binary[0]["size"] < 100  # the OpusHead page comes first, alone
    assert status == 0, doc["error"]
    hub = [f["json"]["type"] for f in doc["frames"] if f["from"] == "hub" and "json" in f]
    assert hub[:2] == ["SOS", "EOS"]
