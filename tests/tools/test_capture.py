"""The capture proxy records a simulated robot's traffic to the real server, scrubbed."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import trio

from jibo_cloud.tools import sim_hub
from jibo_cloud.tools.capture import CaptureProxy, serve_capture
from jibo_cloud.tools.flows import load_flow
from jibo_cloud.tools.replay import replay_flow
from jibo_cloud.tools.scrub import Scrubber
from jibo_cloud.tools.sim_boot import run_boot
from jibo_cloud.tools.target import Target
from tests.support import hub_client as hc
from tests.tools.conftest import OWNER_EMAIL, Provisioned

HOUSEHOLD = {
    "ssid": "QuokkaHomeNet-5G",
    "city": "Wollongong",
    "state": "NewSouthWales",
    "lat": 11.223344,
    "lng": 55.667788,
    "first_name": "Ottoline",
    "last_name": "Quillfeather",
}


async def start_proxy(
    nursery: trio.Nursery, upstream: str, out: Path, **kwargs: object
) -> tuple[Target, CaptureProxy]:
    proxy = CaptureProxy(Target.parse(upstream), out, **kwargs)  # type: ignore[arg-type]
    stop = trio.Event()
    binds = await nursery.start(
        lambda task_status: serve_capture(
            proxy, "127.0.0.1:0", shutdown_trigger=stop.wait, task_status=task_status
        )
    )
    return Target.parse(binds[0], robot_hosts=True), proxy


async def test_capture_records_a_robot_with_no_personal_values(
    provisioned: Provisioned, nursery: trio.Nursery, tmp_path: Path
) -> None:
    out = tmp_path / "capture"
    events: list[str] = []
    via_proxy, proxy = await start_proxy(
        nursery, provisioned.server.http_url, out, on_event=events.append
    )
    robot = attrs.evolve(provisioned.robot, **HOUSEHOLD)  # type: ignore[arg-type]
    with trio.fail_after(30):
        boot = await run_boot(via_proxy, robot)
        assert boot.ok, [s.describe() for s in boot.steps if not s.ok]
        turn = await sim_hub.run_transaction(
            via_proxy,
            "/v1/listen",
            sim_hub.client_nlu_script(
                "loadMenu", {"destination": "clock"}, ["main-menu/execute_main_menu"], robot
            ),
            token=boot.hub_token,
        )
        assert turn.ok, turn.error
        await trio.sleep(0.2)  # the proxy writes the socket's flow when both sides closed
    proxy.finish()

    files = sorted(out.iterdir())
    names = [f.name for f in files]
    assert "http.flow.json" in names
    assert any(n.endswith("-neo-hub-listen.flow.json") for n in names)
    assert any(n.endswith("-notification.flow.json") for n in names)
    text = "\n".join(f.read_text() for f in files)
    personal = [
        robot.name, robot.serial, str(robot.robot_id), str(robot.access_key_id),
        str(robot.secret_access_key), OWNER_EMAIL, str(boot.hub_token),
        *(str(v) for v in HOUSEHOLD.values()),
    ]  # fmt: skip
    leaked = [value for value in personal if value in text]
    assert leaked == []
    assert any("socket 1 /<robot token>: open" in e for e in events)
    printed = "\n".join(events)
    assert [value for value in personal if value in printed] == []

    http = load_flow(out / "http.flow.json")
    labels = [s.label for s in http.steps]
    assert "POST / Notification_20150505.NewRobotToken" in labels
    assert "POST / Account_20151111.CreateHubToken" in labels
    notify = load_flow(next(f for f in files if f.name.endswith("-notification.flow.json")))
    assert notify.path.startswith("/scrubbed-secret-")  # the robot token, replaced
    listen = load_flow(next(f for f in files if f.name.endswith("-neo-hub-listen.flow.json")))
    assert [s.label for s in listen.steps] == ["LISTEN", "CLIENT_NLU", "CONTEXT"]
    recorded = [t for s in listen.steps for t in s.expected_types or []]
    assert recorded == ["SOS", "EOS", "LISTEN"]

    # The recorded flow is replayable: the same server gives the same replies.
    with trio.fail_after(20):
        again = await replay_flow(
            Target.parse(provisioned.server.http_url), listen, token=boot.hub_token
        )
    assert again.ok, again.mismatches


async def test_upstream_refusal_reaches_the_robot(
    provisioned: Provisioned, nursery: trio.Nursery, tmp_path: Path
) -> None:
    via_proxy, _ = await start_proxy(nursery, provisioned.server.http_url, tmp_path / "c")
    with trio.fail_after(20):
        turn = await sim_hub.run_transaction(
            via_proxy, "/v1/listen", sim_hub.client_asr_script("hi", provisioned.robot), token="x"
        )
    assert turn.frames[0].kind == "rejected"
    assert turn.frames[0].code == 401
    assert turn.frames[0].raw is not None
    assert turn.frames[0].raw.startswith("JsonWebTokenError")


def test_scrubber_is_consistent_and_catches_values_inside_text() -> None:
    scrub = Scrubber(salt=b"fixed")
    doc = {
        "loop": {"loopId": "0123456789abcdef01234567", "users": [{"firstName": "Ottoline"}]},
        "text": "hey Ottoline, loop 0123456789abcdef01234567 from 203.0.113.9",
        "skill": {"id": "@be/clock"},
        "lat": 1.5,
    }
    scrub.learn(doc)
    out = scrub.scrub(doc)
    fake_loop = out["loop"]["loopId"]
    assert fake_loop != "0123456789abcdef01234567"
    assert len(fake_loop) == 24
    assert out["text"] == f"hey Test-Name-1, loop {fake_loop} from 192.0.2.2"
    assert out["skill"] == {"id": "@be/clock"}
    assert out["lat"] == 42.3601
    headers = scrub.headers([("Authorization", "Bearer eyJhbGciOi.eyJpZCI6.c2ln")])
    assert headers["Authorization"].startswith("Bearer scrubbed-secret-")
    assert json.dumps(out).count("Ottoline") == 0


async def test_audio_is_kept_only_on_request(
    provisioned: Provisioned, nursery: trio.Nursery, tmp_path: Path
) -> None:
    import base64

    from jibo_cloud.tools.audio import build_page, opus_head, opus_tags

    voice = bytes(range(256)) * 4  # stands in for a household's voice
    pages = [
        (build_page(opus_head(), header_type=2, serial=3, sequence=0), 0.0),
        (build_page(opus_tags(), serial=3, sequence=1), 0.0),
        (build_page(voice, granule=960 * 25, serial=3, sequence=2), 0.5),
    ]
    token = (await run_boot(Target.parse(provisioned.server.http_url), provisioned.robot)).hub_token
    for keep in (False, True):
        out = tmp_path / f"keep-{keep}"
        via_proxy, _ = await start_proxy(nursery, provisioned.server.http_url, out, keep_audio=keep)
        with trio.fail_after(30):
            await sim_hub.run_transaction(
                via_proxy, "/v1/listen",
                sim_hub.audio_script(pages, provisioned.robot, pace=False), token=token,
                final_timeout=0.5,  # the flow is recorded when the socket closes; no answer needed
            )  # fmt: skip
            await trio.sleep(0.2)
        (path,) = out.glob("*-neo-hub-listen.flow.json")
        steps = json.loads(path.read_text())["steps"]
        binary = [s["binary"] for s in steps if "binary" in s]
        assert len(binary) == 3
        text = path.read_text()
        if keep:
            assert base64.b64decode(binary[2]["base64"]) == pages[2][0]
        else:
            assert [b["length"] for b in binary] == [len(p) for p, _ in pages]
            assert binary[0]["ogg"]["pages"][0]["is_opus_head"] is True
            assert base64.b64encode(voice[:48]).decode() not in text
            assert voice[:32].hex() not in text


def test_scrubber_headers_and_patterns() -> None:
    scrub = Scrubber(salt=b"fixed")
    sigv4 = (
        "AWS4-HMAC-SHA256 Credential=AKIDQUOKKA/20260415/us-east-1/loop/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "ab" * 32
    )
    headers = scrub.headers(
        [("Authorization", sigv4), ("Cookie", "session=s3cr3t"), ("X-Forwarded-For", "203.0.113.7")]
    )
    assert "AKIDQUOKKA" not in headers["Authorization"]
    assert "ab" * 32 not in headers["Authorization"]
    assert headers["Authorization"].endswith("Signature=" + "0" * 64)
    assert "s3cr3t" not in headers["Cookie"]
    assert headers["X-Forwarded-For"].startswith("192.0.2.")
    text = scrub.text(
        "BOJW-4242-7777-3131-0009 mail me@home.example mid-0e3b8a4c-3b68-11f1-985b-03ef91daa64d"
    )
    assert "BOJW-4242" not in text
    assert "me@home.example" not in text
    assert "03ef91daa64d" not in text
    assert "0e3b8a4c-3b68-11f1-985b-" in text  # the time part of a UUIDv1 is kept
    assert scrub.text("127.0.0.1 and 192.0.2.9") == "127.0.0.1 and 192.0.2.9"
    same = scrub.scrub({"robot": "a1b2c3d4e5f6a7b8c9d0e1f2"})["robot"]
    assert scrub.scrub({"id": "a1b2c3d4e5f6a7b8c9d0e1f2"})["id"] == same  # consistent fakes
    assert scrub.scrub({"emotion": {"name": "NEUTRAL"}}) == {"emotion": {"name": "NEUTRAL"}}


async def test_open_socket_is_written_when_the_proxy_stops(
    provisioned: Provisioned, tmp_path: Path
) -> None:
    import time

    from jibo_cloud.tokens import issue_hub_token
    from jibo_cloud.tools.target import bearer, open_socket

    token, _ = issue_hub_token(  # the robot start_server registers
        provisioned.server.config, account_id=hc.ACCOUNT, friendly_id=hc.ROBOT,
        access_key_id=None, now_s=time.time(),
    )  # fmt: skip
    out = tmp_path / "stop"
    proxy = CaptureProxy(Target.parse(provisioned.server.http_url), out)
    stop = trio.Event()
    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            binds = await nursery.start(
                lambda task_status: serve_capture(
                    proxy, "127.0.0.1:0", shutdown_trigger=stop.wait, task_status=task_status
                )
            )
            via_proxy = Target.parse(binds[0], robot_hosts=True)
            async with open_socket(via_proxy, "hub", "/v1/proactive", headers=bearer(token)) as ws:
                await ws.send_message('{"type": "TRIGGER"}')
                await trio.sleep(0.2)
                stop.set()  # the robot has not closed its socket
                await trio.sleep(1.5)
    (path,) = out.glob("*-neo-hub-proactive.flow.json")
    assert json.loads(path.read_text())["steps"][0]["text"] == {"type": "TRIGGER"}


async def test_capture_command_runs_until_interrupted(
    provisioned: Provisioned, tmp_path: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.support.env import REPO

    out = tmp_path / "cmd"
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "jibo_cloud", "capture", "--listen", "127.0.0.1:0",
         "--upstream", provisioned.server.http_url, "--out", str(out), "--json"],
        cwd=REPO, stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        buffer = b""
        with trio.fail_after(30):
            while b"\n" not in buffer:
                buffer += await proc.stdout.receive_some()
            first = json.loads(buffer.split(b"\n")[0])["event"]
            assert first.startswith("capturing on http://127.0.0.1:")
            url = first.split()[2]
            boot = await run_boot(Target.parse(url, robot_hosts=True), provisioned.robot)
            assert boot.ok
            proc.send_signal(signal.SIGINT)
            while True:
                chunk = await proc.stdout.receive_some()
                if not chunk:
                    break
                buffer += chunk
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()  # never leave the proxy running if the test failed
    events = [json.loads(line)["event"] for line in buffer.decode().splitlines()]
    assert "stopping: writing the last flows" in events
    http = load_flow(out / "http.flow.json")
    assert len(http.steps) >= 17
