"""The verified-token cache answers exactly as the full check does (PROTOCOL.md §4.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jibo_cloud.config import load_config
from jibo_cloud.errors import HandshakeRejected
from jibo_cloud.hub.auth import TokenCache
from jibo_cloud.tokens import issue_hub_token


def _config(tmp_path: Path, **kw: object):  # type: ignore[no-untyped-def]
    return load_config(data_dir=tmp_path, env={}, token_secret="s" * 40, **kw)


def test_cached_token_still_expires(tmp_path: Path) -> None:
    config = _config(tmp_path)
    token, _ = issue_hub_token(
        config, account_id="acc", friendly_id="bot", access_key_id=None, now_s=1000, ttl_s=60
    )
    headers = {"authorization": f"Bearer {token}"}
    cache = TokenCache()
    first = cache.authenticate(config, headers, now_s=1001)
    assert (first.account_id, first.robot_id) == ("acc", "bot")
    assert cache.authenticate(config, headers, now_s=1059) == first  # a hit
    with pytest.raises(HandshakeRejected) as info:
        cache.authenticate(config, headers, now_s=1060)
    assert info.value.reason == "TokenExpiredError: jwt expired"


def test_only_exact_verified_headers_hit(tmp_path: Path) -> None:
    config = _config(tmp_path)
    token, _ = issue_hub_token(
        config, account_id="acc", friendly_id=None, access_key_id=None, now_s=1000
    )
    cache = TokenCache(max_entries=1)
    cache.authenticate(config, {"authorization": f"Bearer {token}"}, now_s=1000)
    with pytest.raises(HandshakeRejected) as info:
        cache.authenticate(config, {"authorization": f"Bearer {token}x"}, now_s=1000)
    assert info.value.reason == "JsonWebTokenError: invalid signature"
    with pytest.raises(HandshakeRejected, match="Authorization is required"):
        cache.authenticate(config, {}, now_s=1000)


def test_dev_switch_bypasses_the_cache(tmp_path: Path) -> None:
    config = _config(tmp_path, disable_auth=True)
    identity = TokenCache().authenticate(config, {}, now_s=0)
    assert identity.account_id == "anonymous-account"
