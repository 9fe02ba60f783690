"""Bad input always gets an AWS-JSON error, never a 500 or a stack trace (PROTOCOL.md §2.1)."""

from __future__ import annotations

import httpx
import pytest
import trio

from tests.rest.support import RestClient
from tests.support.server import RunningServer


def assert_aws_error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["x-amzn-errortype"] == code
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    body = response.json()
    assert body["__type"] == code
    assert "Traceback" not in body["message"]
    return body


async def test_unknown_target(client: RestClient) -> None:
    response = await client.call("Nope_20990101.Nothing", {})
    body = assert_aws_error(response, 400, "UnknownOperationException")
    assert "Nope_20990101.Nothing" in body["message"]


async def test_missing_target(client: RestClient) -> None:
    response = await client.http.post("/", content=b"{}", headers={"Host": "api.jibo.com"})
    assert_aws_error(response, 400, "UnknownOperationException")


# "[" * 5000 used to answer 500 (a RecursionError inside json.loads); found by jibo-cloud fuzz.
@pytest.mark.parametrize(
    "raw", [b"{", b"\xff\xfe", b'{"a": }', b"[1,2", b"[" * 5000, b'{"a":' * 5000]
)
async def test_malformed_json(client: RestClient, raw: bytes) -> None:
    response = await client.call("Loop_20160324.ListLoops", raw=raw, service="Loop")
    assert_aws_error(response, 400, "SerializationException")


async def test_wrong_type_and_missing_member(client: RestClient) -> None:
    wrong = await client.call("Robot_20160225.GetRobot", {"id": 5}, service="robot")
    assert assert_aws_error(wrong, 400, "ValidationException")["message"] == (
        "id must be a string, got number"
    )
    missing = await client.call("Robot_20160225.UpdateRobot", {"id": "x"}, service="robot")
    assert assert_aws_error(missing, 400, "ValidationException")["message"] == (
        "payload is required"
    )


async def test_body_too_large(client: RestClient, robot_server: RunningServer) -> None:
    big = b'{"x": "' + b"a" * (robot_server.config.max_rest_body + 10) + b'"}'
    response = await client.call("Loop_20160324.ListLoops", raw=big, service="Loop")
    assert_aws_error(response, 413, "RequestEntityTooLargeException")


async def test_unknown_robot_is_a_404(client: RestClient) -> None:
    response = await client.call("Robot_20160225.GetRobot", {"id": "Nobody"}, service="robot")
    assert_aws_error(response, 404, "ResourceNotFoundException")


async def test_bad_input_does_not_disturb_other_calls(client: RestClient) -> None:
    results: list[int] = []

    async def good() -> None:
        response = await client.call("Loop_20160324.ListLoops", {}, service="Loop")
        results.append(response.status_code)

    async def bad() -> None:
        response = await client.call("Loop_20160324.ListLoops", raw=b"{nope", service="Loop")
        results.append(response.status_code)

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            for _ in range(5):
                nursery.start_soon(good)
                nursery.start_soon(bad)
    assert sorted(results) == [200] * 5 + [400] * 5
