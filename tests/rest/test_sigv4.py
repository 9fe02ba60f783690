"""SigV4 checks against requests signed by botocore, the reference signer."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import trio
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from jibo_cloud import sigv4
from jibo_cloud.sigv4 import EMPTY_SHA256
from tests.rest.support import ACCESS_KEY, SECRET_KEY, RestClient, register_robot
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


@pytest.mark.parametrize(
    ("policy", "status"), [("accept", 200), ("reject", 403)]
)  # fmt: skip
async def test_unknown_keys_follow_the_policy(
    nursery: trio.Nursery, tmp_path: Path, policy: str, status: int
) -> None:
    server = await start_server(nursery, tmp_path / "data", unknown_sigv4_keys=policy)
    await register_robot(server)
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        client = RestClient(http)
        unknown = await client.call(LIST, {}, service="Loop", key="AKIAUNKNOWN", secret="x")
        unsigned = await client.call(LIST, {}, sign=False)
        account = await client.call("Account_20151111.Get", {}, key="AKIAUNKNOWN", secret="x")
    assert unknown.status_code == status
    if policy == "reject":
        assert_aws_error(unknown, 403, "UnrecognizedClientException")
        assert_aws_error(unsigned, 403, "MissingAuthenticationTokenException")
    else:
        assert unknown.json()[0]["robotFriendlyId"] == "Test-Robot-Name-1"
        assert unsigned.status_code == 200
        assert "secretAccessKey" not in account.json()[0]  # unverified: never a secret


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
