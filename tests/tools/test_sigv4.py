"""The robot-style SigV4 signer agrees with botocore, the reference implementation."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from jibo_cloud.tools.sigv4 import scope_for, sign_headers


@pytest.mark.parametrize(
    "target", ["Loop_20160324.ListLoops", "Account_20151111.Get", "Log_20150309.PutEventsAsync"]
)
def test_signature_matches_botocore(target: str) -> None:
    body = b'{"loopId":"abc"}'
    region, service, _ = scope_for(target)
    req = AWSRequest(
        method="POST",
        url="https://api.jibo.com/",
        data=body,
        headers={
            "Host": "api.jibo.com",
            "X-Amz-Target": target,
            "X-Amz-Content-Sha256": hashlib.sha256(body).hexdigest(),
        },
    )
    SigV4Auth(Credentials("AKIDEXAMPLE", "secret-example"), service, region).add_auth(req)
    # botocore stamps the current time; sign ours at that same second.
    when = datetime.datetime.strptime(req.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.UTC
    )
    ours = sign_headers(
        host="api.jibo.com",
        target=target,
        body=body,
        access_key_id="AKIDEXAMPLE",
        secret_access_key="secret-example",
        when=when,
    )
    assert ours["X-Amz-Date"] == req.headers["X-Amz-Date"]
    assert req.headers["Authorization"] == ours["Authorization"]


def test_token_calls_use_the_robots_scope() -> None:
    # Captured robots sign CreateHubToken as region "api", service "jibo", without the target.
    assert scope_for("Account_20151111.CreateHubToken") == ("api", "jibo", False)
    assert scope_for("Loop_20160324.ListLoops") == ("us-east-1", "Loop", True)
