"""The listen socket end to end: a real server, a real websocket client acting as a robot."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionRejected

from jibo_cloud.logs import current_trace
from jibo_cloud.services import NoRecognizer
from tests.support import hub_client as hc
from tests.support.robot import open_robot_socket
from tests.support.server import RunningServer, start_server


async def test_client_nlu_turn_routes_to_an_on_robot_skill(server: RunningServer) -> None:
    token = hc.hub_token(server.config)
    frames = await hc.one_turn(
        server.port,
        token,
        hc.listen("CLIENT_NLU", hotphrase=False),
        hc.client_nlu("menu", {"skill": "@be/clock"}),
        hc.context(),
    )
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    sos, eos, reply = frames
    assert sos["data"] is None
    assert sos["timings"] == {"total": -1}
    assert eos["data"] is None
    assert eos["timings"] == {"total": -1}
    assert reply["final"] is True
    assert reply["data"]["match"] == {"skillID": "@be/clock", "launch": True, "onRobot": True}
    assert reply["data"]["asr"] == {"text": "", "confidence": 1}
    assert reply["timings"]["asr"] == -1
    assert reply["transID"] == "tid-test"


async def test_client_nlu_without_launch_rule_updates_the_running_skill(
    server: RunningServer,
) -> None:
    token = hc.hub_token(server.config)
    frames = await hc.one_turn(
        server.port,
        token,
        hc.listen("CLIENT_NLU", hotphrase=False, rules=["main-menu/execute_main_menu"]),
        hc.client_nlu("loadMenu", {"destination": "clock"}, rules=["main-menu/execute_main_menu"]),
        hc.context(skill_id="@be/main-menu"),
    )
    reply = frames[-1]
    assert reply["type"] == "LISTEN"
    assert reply["data"]["match"] == {"skillID": "@be/main-menu", "launch": False, "onRobot": True}
    assert reply["data"]["nlu"]["intent"] == "loadMenu"


async def test_client_asr_turn_with_no_match_is_a_final_listen(server: RunningServer) -> None:
    token = hc.hub_token(server.config)

    async def no_parse(request: object) -> dict[str, object]:
        return {"intent": None, "entities": None, "rules": []}

    class Parser:
        parse = staticmethod(no_parse)

    server.runtime.parser = Parser()
    frames = await hc.one_turn(
        server.port, token, hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("blah blah")
    )
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN"]
    reply = frames[-1]
    assert reply["final"] is True
    assert reply["data"]["match"] is None
    assert reply["data"]["asr"] == {"text": "blah blah", "confidence": 1}
    assert reply["data"]["nlu"] == {"intent": None, "entities": None, "rules": []}


async def test_server_asr_without_recogniser_answers_a_clear_asr_error(
    server: RunningServer,
) -> None:
    server.runtime.recognizer = NoRecognizer()  # what a server without speech support has
    token = hc.hub_token(server.config)
    frames = await hc.one_turn(server.port, token, hc.listen(""), hc.context())
    assert len(frames) == 1
    assert frames[0]["type"] == "ERROR"
    assert frames[0]["data"]["code"] == "ASR"
    assert "recogniser" in frames[0]["data"]["message"]


async def test_malformed_json_and_unknown_type_get_the_original_messages(
    server: RunningServer,
) -> None:
    token = hc.hub_token(server.config)
    with trio.fail_after(10):
        async with hc.open_hub(server.port, token=token) as robot:
            await robot.send("{not json")
            (error,) = await robot.receive_until_final()
    assert error["type"] == "ERROR"
    assert error["data"]["message"] == "Invalid JSON arrived into socket: {not json"
    with trio.fail_after(10):
        async with hc.open_hub(server.port, token=token) as robot:
            await robot.send({"type": "BOGUS", "msgID": "m", "ts": 1, "data": {}})
            (error,) = await robot.receive_until_final()
    assert error["data"]["message"] == "Unknown message type: BOGUS"


async def test_invalid_mode_is_refused(server: RunningServer) -> None:
    token = hc.hub_token(server.config)
    (error,) = await hc.one_turn(server.port, token, hc.listen("SHOUTING"))
    assert error["data"] == {"message": "Invalid value for mode 'SHOUTING'"}
    assert error["final"] is True


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ((), b"Authorization is required"),
        ((("Authorization", "Basic abc"),), b"Only bearer scheme is supported"),
        (
            (("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJpZCI6ImEifQ.c2lnbmF0dXJl"),),
            b"JsonWebTokenError: invalid signature",
        ),
    ],
)
@pytest.mark.parametrize("path", ["/v1/listen", "/listen", "/v1/proactive", "/proactive"])
async def test_bad_tokens_are_refused_before_the_upgrade(
    server: RunningServer, headers: tuple[tuple[str, str], ...], reason: bytes, path: str
) -> None:
    with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
        async with open_robot_socket(server.port, path, headers=headers):
            pass
    assert info.value.status_code == 401
    assert info.value.body == reason


async def test_spoken_text_reaches_a_built_in_cloud_skill(server: RunningServer) -> None:
    """The fresh server answers a turn on its own: embedded parser, in-process skill."""
    token = hc.hub_token(server.config)
    frames = await hc.one_turn(
        server.port, token, hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("tell me a joke")
    )
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN", "SKILL_ACTION"]
    listen_reply, action = frames[2], frames[3]
    assert listen_reply["final"] is False
    assert listen_reply["data"]["match"]["onRobot"] is False
    assert action["final"] is True
    assert set(action["timings"]) == {"total", "skill"}
    assert action["data"]["action"]["type"] == "JCP"
    with trio.fail_after(5):  # the record is written by its own task
        # The memory store has no change notification; poll it briefly.
        while not (launches := await server.runtime.history.launches(hc.ROBOT)):  # noqa: ASYNC110
            await trio.sleep(0.01)
    assert [x["skillID"] for x in launches] == [listen_reply["data"]["match"]["skillID"]]


async def test_graceful_shutdown_closes_idle_sockets_1001(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data", grace_seconds=2.0)
    token = hc.hub_token(server.config)
    with trio.fail_after(10):
        async with hc.open_hub(server.port, token=token) as robot:
            server.stop()  # the upgrade was accepted; the socket is idle
            assert await robot.wait_closed() == 1001


async def test_expired_and_unsigned_tokens_are_refused(server: RunningServer) -> None:
    import base64
    import json as _json
    import time as _time

    from jibo_cloud.tokens import issue_hub_token

    expired, _ = issue_hub_token(
        server.config,
        account_id="a",
        friendly_id="r",
        access_key_id=None,
        now_s=_time.time() - 3600,
        ttl_s=60,
    )

    def b64(obj: object) -> str:
        return base64.urlsafe_b64encode(_json.dumps(obj).encode()).decode().rstrip("=")

    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'id': 'a'})}."
    for token, reason in (
        (expired, b"TokenExpiredError: jwt expired"),
        (unsigned, b"JsonWebTokenError: invalid algorithm"),
    ):
        with trio.fail_after(10), pytest.raises(ConnectionRejected) as info:
            async with open_robot_socket(
                server.port, "/v1/listen", headers=[("Authorization", f"Bearer {token}")]
            ):
                pass
        assert (info.value.status_code, info.value.body) == (401, reason)


async def test_socket_log_lines_carry_the_trace_headers(server: RunningServer) -> None:
    seen: list[tuple[str, str, str]] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            trace = current_trace()
            seen.append((trace.trans_id, trace.robot_id, record.getMessage()))

    handler = Capture(level=logging.INFO)
    logger = logging.getLogger("jibo_cloud.hub.session")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        token = hc.hub_token(server.config)
        with trio.fail_after(10):
            async with hc.open_hub(
                server.port, token=token, headers=[("x-jibo-robotid", "Robot-Log")]
            ) as robot:
                await robot.send(hc.listen("SHOUTING"))
                await robot.receive_until_final()
            while not seen:  # noqa: ASYNC110 - the server logs when it notices the close
                await trio.sleep(0.01)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert seen[0][:2] == ("tid-test", "Robot-Log")
    assert "hub socket closing" in seen[0][2]


async def test_dev_switch_accepts_sockets_without_tokens(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data", disable_auth=True)
    seen: list[dict[str, object]] = []

    async def skill(request: dict[str, object]) -> dict[str, object]:
        seen.append(request)
        return {"type": "SKILL_ACTION", "data": {"action": {}}}

    server.runtime.skill_handlers["cloud-jokes"] = skill
    with trio.fail_after(10):
        async with hc.open_hub(server.port) as robot:  # no Authorization header at all
            await robot.send(hc.listen("CLIENT_ASR"), hc.context(), hc.client_asr("tell me a joke"))
            frames = await robot.receive_until_final()
    assert frames[-1]["type"] == "SKILL_ACTION"
    general = seen[0]["data"]["general"]  # type: ignore[index]
    assert (general["accountID"], general["robotID"]) == ("anonymous-account", "anonymous-robot")
