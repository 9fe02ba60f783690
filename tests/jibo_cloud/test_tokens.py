"""Hub tokens: HS256 only, kid rotation, expiry on the injected clock, the original error texts."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import jwt
import pytest

from jibo_cloud.config import Config, load_config
from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.hub.auth import TokenCache
from jibo_cloud.storage import open_storage
from jibo_cloud.tokens import (
    HubIdentity,
    authenticate_socket,
    bearer_token,
    issue_hub_token,
    verify_hub_token,
)

NOW = 1_800_000_000.0
PRIMARY = "primary-secret-0123456789abcdef-xyz"
SECOND = "second-secret-0123456789abcdef-xyzw"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(
        data_dir=tmp_path,
        env={"JIBO_TOKEN_SECRET": PRIMARY, "JIBO_TOKEN_KEYS": f"k2={SECOND}"},
    )


def reason(config: Config, token: str, now: float = NOW) -> str:
    with pytest.raises(HandshakeRejected) as info:
        verify_hub_token(config, token, now_s=now)
    assert info.value.status == 401
    return info.value.reason


def test_issue_and_verify_round_trip(config: Config) -> None:
    token, expires = issue_hub_token(
        config,
        account_id="acct",
        friendly_id="Test-Robot-Name",
        access_key_id="AKID",
        now_s=NOW,
        ttl_s=60,
    )
    assert expires == int(NOW + 60) * 1000
    ident = verify_hub_token(config, token, now_s=NOW + 59)
    assert ident == HubIdentity(
        account_id="acct", robot_id="Test-Robot-Name", access_key_id="AKID", kid=None
    )
    assert "secretAccessKey" not in jwt.decode(token, options={"verify_signature": False})


def test_original_style_token_without_kid_is_accepted_with_exp(config: Config) -> None:
    token = jwt.encode(
        {"id": "acct", "accessKeyId": "x", "secretAccessKey": "y", "exp": NOW + 60},
        PRIMARY,
        algorithm="HS256",
    )
    assert verify_hub_token(config, token, now_s=NOW).account_id == "acct"


def test_token_without_exp_is_refused(config: Config) -> None:
    # The original accepted these, so one leaked token opened the hub forever.
    token = jwt.encode({"id": "acct", "friendlyId": "r"}, PRIMARY, algorithm="HS256")
    assert reason(config, token) == "JsonWebTokenError: jwt has no exp"


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"iat": NOW, "exp": NOW + 24 * 3600}, True),  # exactly the maximum
        ({"iat": NOW, "exp": NOW + 24 * 3600 + 1}, False),  # one second over
        ({"exp": NOW + 24 * 3600}, True),  # no iat: what is left counts
        ({"exp": NOW + 100 * 365 * 24 * 3600}, False),  # the audit's 100-year token
        ({"iat": NOW - 10, "exp": NOW + 24 * 3600 - 10}, True),
        # A short iat..exp span does not hide a token that stays valid a century from now.
        ({"iat": NOW + 50 * 365 * 24 * 3600, "exp": NOW + 50 * 365 * 24 * 3600 + 60}, False),
    ],
)
def test_lifetime_over_the_maximum_is_refused(
    config: Config, claims: dict[str, float], accepted: bool
) -> None:
    token = jwt.encode({"id": "acct", "friendlyId": "r", **claims}, PRIMARY, algorithm="HS256")
    if accepted:
        assert verify_hub_token(config, token, now_s=NOW).account_id == "acct"
    else:
        assert reason(config, token) == "TokenExpiredError: jwt lifetime exceeds the maximum"


def test_maximum_is_configurable_and_caps_issued_tokens(tmp_path: Path) -> None:
    config = load_config(
        data_dir=tmp_path,
        env={"JIBO_TOKEN_SECRET": PRIMARY, "JIBO_HUB_TOKEN_MAX_SECONDS": "600"},
    )
    token, expires = issue_hub_token(
        config, account_id="a", friendly_id="r", access_key_id=None, now_s=NOW
    )
    assert expires == int(NOW + 600) * 1000  # the default day is capped to the maximum
    assert verify_hub_token(config, token, now_s=NOW).account_id == "a"
    long = jwt.encode({"id": "a", "iat": NOW, "exp": NOW + 601}, PRIMARY, algorithm="HS256")
    assert reason(config, long) == "TokenExpiredError: jwt lifetime exceeds the maximum"


def test_expired(config: Config) -> None:
    token, _ = issue_hub_token(
        config, account_id="a", friendly_id=None, access_key_id=None, now_s=NOW, ttl_s=10
    )
    assert reason(config, token, NOW + 10) == "TokenExpiredError: jwt expired"


def test_wrong_secret(config: Config) -> None:
    token = jwt.encode({"id": "a"}, "not-the-secret" * 4, algorithm="HS256")
    assert reason(config, token) == "JsonWebTokenError: invalid signature"


def test_rotation_key_by_kid(config: Config) -> None:
    exp = NOW + 60
    token = jwt.encode({"id": "a", "exp": exp}, SECOND, algorithm="HS256", headers={"kid": "k2"})
    assert verify_hub_token(config, token, now_s=NOW).kid == "k2"
    unknown = jwt.encode({"id": "a"}, SECOND, algorithm="HS256", headers={"kid": "k9"})
    assert reason(config, unknown) == "JsonWebTokenError: invalid signature"
    # A kid token signed with the primary secret must not pass as the kid key.
    crossed = jwt.encode({"id": "a"}, PRIMARY, algorithm="HS256", headers={"kid": "k2"})
    assert reason(config, crossed) == "JsonWebTokenError: invalid signature"


def test_signing_kid_is_used_for_new_tokens(tmp_path: Path) -> None:
    config = load_config(
        data_dir=tmp_path,
        env={
            "JIBO_TOKEN_SECRET": "p",
            "JIBO_TOKEN_KEYS": "k2=" + "s2" * 16,
            "JIBO_SIGNING_KID": "k2",
        },
    )
    token, _ = issue_hub_token(
        config, account_id="a", friendly_id=None, access_key_id=None, now_s=NOW
    )
    assert jwt.get_unverified_header(token)["kid"] == "k2"
    assert verify_hub_token(config, token, now_s=NOW).kid == "k2"


def _b64(obj: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_alg_none_and_other_algorithms_are_refused(config: Config) -> None:
    none_token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({'id': 'a'})}."
    assert reason(config, none_token) == "JsonWebTokenError: invalid algorithm"
    hs512 = jwt.encode({"id": "a"}, PRIMARY * 5, algorithm="HS512")
    assert reason(config, hs512) == "JsonWebTokenError: invalid algorithm"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "eyJ.eyJ.x"])
def test_malformed(config: Config, token: str) -> None:
    assert reason(config, token).startswith("JsonWebTokenError: ")


def test_token_without_account_claim(config: Config) -> None:
    token = jwt.encode({"friendlyId": "r", "exp": NOW + 60}, PRIMARY, algorithm="HS256")
    assert reason(config, token) == "JsonWebTokenError: jwt payload has no account id"


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        ({}, "Authorization is required"),
        ({"authorization": "Basic abc"}, "Only bearer scheme is supported"),
        ({"authorization": "Bearer "}, "JsonWebTokenError: jwt must be provided"),
        ({"authorization": "bearer"}, "JsonWebTokenError: jwt must be provided"),
    ],
)
def test_bearer_header(headers: dict[str, str], text: str) -> None:
    with pytest.raises(HandshakeRejected) as info:
        bearer_token(headers)
    assert (info.value.status, info.value.reason) == (401, text)


def test_disable_auth_gives_anonymous_identity(tmp_path: Path) -> None:
    config = load_config(
        data_dir=tmp_path, env={"JIBO_TOKEN_SECRET": "s", "JIBO_DISABLE_AUTH": "true"}
    )
    ident = authenticate_socket(config, {}, now_s=NOW)
    assert (ident.account_id, ident.robot_id, ident.authenticated) == (
        "anonymous-account",
        "anonymous-robot",
        False,
    )


def _cli(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "jibo_cloud", *args],
        capture_output=True,
        text=True,
        check=check,
        env={"PATH": "/usr/bin:/bin"},
    )


async def test_token_command_issues_a_token_the_hub_admits(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    # The hub admits only tokens of a registered robot, so the command needs one.
    refused = _cli("token", "--robot", "Test-Robot-Name", *data, check=False)
    assert refused.returncode == 1
    assert "no robot named 'Test-Robot-Name' in this store" in refused.stderr
    _cli("robot", "add", "--name", "Test-Robot-Name", "--serial", "BOJW-1000-0000-0000-0009",
         "--robot-id", "5f1d2c3b4a5968778695a4b9", "--owner", "o@example.com", *data)  # fmt: skip
    too_long = _cli("token", "--robot", "Test-Robot-Name", "--ttl", "90000", *data, check=False)
    assert "over the hub's maximum token lifetime" in too_long.stderr
    token = _cli("token", "--robot", "Test-Robot-Name", *data).stdout.strip()
    config = load_config(data_dir=tmp_path, env={})
    now = jwt.decode(token, options={"verify_signature": False})["iat"]
    async with open_storage(config) as storage:
        ident = await TokenCache().admit(
            config, storage, {"authorization": f"Bearer {token}"}, now_s=now
        )
    assert ident.robot_id == "Test-Robot-Name"


def test_token_command_rejects_bad_input(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "jibo_cloud", "token", "--robot", " ", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1
    assert "--robot must not be empty" in out.stderr
    assert "Traceback" not in out.stderr
