"""SigV4 checks against requests signed by botocore, the reference signer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from jibo_cloud import sigv4
from jibo_cloud.sigv4 import EMPTY_SHA256
from tests.rest.support import ACCESS_KEY, ACCOUNT_ID, SECRET_KEY, RestClient, register_robot
from tests.rest.test_errors import assert_aws_error
from tests.support.server import start_server

LIST = "Loop_20160324.ListLoops"


async def test_a_correct_signature_is_verified(client: RestClient) -> None:
    loops = await client.ok(LIST, {}, service="Loop")
    assert loops


async def test_a_tampered_body_is_rejected(client: RestClient) -> None:
    from tests.rest.support import signed_headers

    headers = signed_headers("Robot_20160225.GetRobot", b'{"id":"Test-Robot-Name-1"}')
    headers["Host"] = "api.jibo.com"
    response = await client.http.post("/", content=b'{"id":"Other-Robot-Name"}', headers=headers)
    assert_aws_error(response, 403, "InvalidSignatureException")


async def test_a_wrong_secret_is_rejected(client: RestClient) -> None:
    response = await client.call(LIST, {}, service="Loop", secret="not-the-secret")
    assert_aws_error(response, 403, "InvalidSignatureException")


async def test_a_tampered_signed_header_is_rejected(client: RestClient) -> None:
    from tests.rest.support import signed_headers

    headers = signed_headers(LIST, b"{}", service="Loop")
    headers["X-Amz-Target"] = "Account_20151111.Get"  # signed header changed in flight
    headers["Host"] = "api.jibo.com"
    response = await client.http.post("/", content=b"{}", headers=headers)
    assert_aws_error(response, 403, "InvalidSignatureException")


async def test_the_robots_empty_hash_quirk_is_accepted(client: RestClient) -> None:
    """NewRobotToken: signed over the empty-body hash while the body is {"deviceId": …}."""
    request = AWSRequest(
        method="POST", url="https://api.jibo.com/", data=b"",
        headers={"X-Amz-Content-Sha256": EMPTY_SHA256, "Content-Type": "application/json"},
    )  # fmt: skip
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "jibo", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    headers.update({"Host": "api.jibo.com", "X-Amz-Target": "Notification_20150505.NewRobotToken"})
    body = json.dumps({"deviceId": "Test-Robot-Name-1"}).encode()
    response = await client.http.post("/", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["token"]


@pytest.mark.parametrize("skew_s", [-3600, 3600])
async def test_a_wrong_date_is_rejected(nursery: trio.Nursery, tmp_path: Path, skew_s: int) -> None:
    server = await start_server(nursery, tmp_path / "data")
    await register_robot(server)
    real = server.runtime.now_ms
    server.runtime.now_ms = lambda: real() + skew_s * 1000  # the server's clock is off by 1 h
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        response = await RestClient(http).call(LIST, {}, service="Loop")
    body = assert_aws_error(response, 403, "InvalidSignatureException")
    assert "expired" in body["message"]


@pytest.mark.parametrize("policy", ["reject", "pending"])
async def test_unknown_keys_are_never_someone_else(
    nursery: trio.Nursery, tmp_path: Path, policy: str
) -> None:
    """An unknown key or an unsigned request was served as the oldest robot under the
    old default ``accept``. Now both are refused under either policy (``pending`` only records
    the key for an operator; tests/rest/test_adoption.py)."""
    server = await start_server(nursery, tmp_path / "data", unknown_sigv4_keys=policy)
    await register_robot(server)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        client = RestClient(http)
        unknown = await client.call(LIST, {}, service="Loop", key="AKIAUNKNOWN", secret="x")
        unsigned = await client.call(LIST, {}, sign=False)
        account = await client.call("Account_20151111.Get", {}, key="AKIAUNKNOWN", secret="x")
    assert_aws_error(unknown, 403, "UnrecognizedClientException")
    assert_aws_error(account, 403, "UnrecognizedClientException")
    assert_aws_error(unsigned, 403, "MissingAuthenticationTokenException")
    assert "Test-Robot-Name-1" not in unknown.text + unsigned.text + account.text


def _token_call_headers(body: bytes, target: str) -> dict[str, str]:
    """Headers as a real robot signs a token call: no x-amz-target signed, the empty-body hash
    claimed whatever the body (shared/fixtures/http/Notification_20150505.NewRobotToken.json)."""
    request = AWSRequest(
        method="POST", url="https://api.jibo.com/", data=b"",
        headers={"X-Amz-Content-Sha256": EMPTY_SHA256, "Content-Type": "application/json"},
    )  # fmt: skip
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "jibo", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    headers.update({"Host": "api.jibo.com", "X-Amz-Target": target})
    return headers


async def test_a_captured_token_request_is_not_a_master_key(
    client: RestClient, robot_server: Any
) -> None:
    """NewRobotToken's headers (x-amz-target unsigned, empty-body hash) replayed with
    another target and body returned the robot's permanent secret (Account.Get) and changed the
    owner's e-mail (Account.Update). The quirk now holds only for the token calls' own targets
    and their own small bodies."""
    captured = _token_call_headers(b"", "Notification_20150505.NewRobotToken")
    for target, body in (
        ("Account_20151111.Get", b"{}"),
        ("Account_20151111.Update", b'{"email": "thief@example.com"}'),
        ("Loop_20160324.ListLoops", b"{}"),
    ):
        replay = {**captured, "X-Amz-Target": target}
        response = await client.http.post("/", content=body, headers=replay)
        assert_aws_error(response, 403, "IncompleteSignatureException")
        assert "secretAccessKey" not in response.text
    owner = await robot_server.runtime.storage.get_account(ACCOUNT_ID)
    assert owner.email == "user1@example.com"
    # The token call itself still works, with its own body; a body with other members doesn't.
    ok = await client.http.post("/", content=b'{"deviceId": "Test-Robot-Name-1"}', headers=captured)
    assert ok.status_code == 200, ok.text
    padded = b'{"deviceId": "Test-Robot-Name-1", "extra": "x"}'
    response = await client.http.post("/", content=padded, headers=captured)
    assert_aws_error(response, 403, "InvalidSignatureException")


async def test_x_amz_target_must_be_signed_and_the_body_must_match(client: RestClient) -> None:
    """AWS's rules for every other operation: x-amz-target among the signed headers, and the
    claimed body hash (empty-body or UNSIGNED-PAYLOAD included) equal to the body's."""
    request = AWSRequest(method="POST", url="https://api.jibo.com/", data=b"{}",
                         headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "Loop", "us-east-1").add_auth(request)
    headers = {**dict(request.headers.items()), "Host": "api.jibo.com", "X-Amz-Target": LIST}
    response = await client.http.post("/", content=b"{}", headers=headers)
    assert_aws_error(response, 403, "IncompleteSignatureException")
    for claimed in (EMPTY_SHA256, sigv4.UNSIGNED_PAYLOAD):
        body = b'{"id": "Test-Robot-Name-1"}'
        request = AWSRequest(
            method="POST", url="https://api.jibo.com/", data=body,
            headers={"X-Amz-Content-Sha256": claimed, "X-Amz-Target": "Robot_20160225.GetRobot"},
        )  # fmt: skip
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "robot", "us-east-1").add_auth(request)
        headers = {**dict(request.headers.items()), "Host": "api.jibo.com"}
        response = await client.http.post("/", content=body, headers=headers)
        assert_aws_error(response, 403, "InvalidSignatureException")


async def test_a_forwarded_host_is_trusted_only_when_configured(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    from tests.rest.support import signed_headers

    for trust, expected in ((True, 200), (False, 403)):
        server = await start_server(nursery, tmp_path / f"d{trust}", trust_forwarded=trust)
        await register_robot(server)
        headers = signed_headers(LIST, b"{}", service="Loop")  # signed for api.jibo.com
        headers.update({"Host": "upstream.internal", "X-Forwarded-Host": "api.jibo.com"})
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            response = await http.post("/", content=b"{}", headers=headers)
        assert response.status_code == expected, (trust, response.text)


def test_verify_rejects_a_malformed_header() -> None:
    with pytest.raises(sigv4.SignatureError) as info:
        sigv4.parse_authorization("AWS4-HMAC-SHA256 Credential=abc, Signature=zz")
    assert info.value.code == "IncompleteSignatureException"
