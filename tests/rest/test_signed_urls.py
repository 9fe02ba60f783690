"""Signed blob URLs: one method, one path, one principal, until the expiry."""

from __future__ import annotations

from pathlib import Path

import pytest

from jibo_cloud.config import Config
from jibo_cloud.rest import signed_urls
from jibo_cloud.rest.context import (
    NOBODY_PRINCIPAL,
    OPERATOR,
    OWNER,
    ROBOT,
    Call,
    Caller,
    caller_principal,
    url_principal,
)
from jibo_cloud.rest.signed_urls import UrlRejected, parse_query, sign_path, verify
from tests.support import server as support

NOW = 1_800_000_000.0


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return support.test_config(tmp_path / "data")


def _split(signed: str) -> tuple[str, dict[str, str]]:
    path, _, query = signed.partition("?")
    return path, parse_query(query)


def test_a_signed_path_verifies_for_its_method_path_and_principal(config: Config) -> None:
    path, query = _split(sign_path(config, "GET", "/backups/b1", principal="account:a1", now_s=NOW))
    grant = verify(config, "GET", path, query, now_s=NOW + 10)
    assert grant.principal == "account:a1"
    assert grant.expires == int(NOW + config.blob_url_seconds)


@pytest.mark.parametrize(
    ("method", "path", "change", "reason"),
    [
        ("PUT", "/backups/b1", {}, "does not match"),  # a download URL replayed as an upload
        ("GET", "/backups/b2", {}, "does not match"),  # moved to another blob
        ("GET", "/backups/b1", {signed_urls.PRINCIPAL: "account:a2"}, "does not match"),
        ("GET", "/backups/b1", {signed_urls.EXPIRES: str(int(NOW) + 10**6)}, "does not match"),
        ("GET", "/backups/b1", {signed_urls.SIGNATURE: ""}, "not signed"),
        ("GET", "/backups/b1", {signed_urls.EXPIRES: "soon"}, "malformed"),
    ],
)
def test_anything_changed_is_refused(config, method, path, change, reason) -> None:  # type: ignore[no-untyped-def]
    _, query = _split(sign_path(config, "GET", "/backups/b1", principal="account:a1", now_s=NOW))
    query.update(change)
    with pytest.raises(UrlRejected, match=reason):
        verify(config, method, path, query, now_s=NOW)


def test_an_expired_url_is_refused(config: Config) -> None:
    path, query = _split(sign_path(config, "GET", "/m", principal="operator", now_s=NOW, ttl_s=5))
    verify(config, "GET", path, query, now_s=NOW + 4)
    with pytest.raises(UrlRejected, match="expired"):
        verify(config, "GET", path, query, now_s=NOW + 5)


def test_another_secret_does_not_verify(config: Config, tmp_path: Path) -> None:
    other = support.test_config(
        tmp_path / "other", token_secret="another-secret-of-enough-length-0123456789"
    )
    path, query = _split(sign_path(other, "GET", "/m", principal="operator", now_s=NOW))
    with pytest.raises(UrlRejected):
        verify(config, "GET", path, query, now_s=NOW)


@pytest.mark.parametrize(
    ("caller", "logged", "url"),
    [
        (Caller(kind=OPERATOR, access_key_id="JIBOOPX", verified=True), "operator", "operator"),
        (Caller(kind=ROBOT, account_id="a1", robot_name="R-1"), "robot:R-1", "account:a1"),
        (Caller(kind=OWNER, account_id="a1"), "account:a1", "account:a1"),
        # Neither a household nor the operator's key: a URL that fits no record, never the
        # operator's principal (which fits every record).
        (Caller(), "-", NOBODY_PRINCIPAL),
    ],
)
def test_who_a_caller_is_for_logs_and_urls(caller: Caller, logged: str, url: str) -> None:
    call = Call(op=None, body={}, raw=b"", headers={}, caller=caller, base_url="", now_ms=0)  # type: ignore[arg-type]
    assert caller_principal(caller) == logged
    assert url_principal(call) == url
