"""Configuration: precedence, the original env names, the dev secret file, clear errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from jibo_cloud.config import SECRET_FILE_NAME, load_config, read_or_create_secret
from jibo_cloud.errors import ConfigError


def test_flags_win_over_environment(tmp_path: Path) -> None:
    env = {"JIBO_DATA_DIR": str(tmp_path / "env"), "JIBO_PORT": "9000", "JIBO_TOKEN_SECRET": "s"}
    config = load_config(port=9100, data_dir=tmp_path / "flag", env=env)
    assert config.port == 9100
    assert config.data_dir == tmp_path / "flag"
    assert config.database_url == f"sqlite:///{tmp_path / 'flag' / 'jibo.sqlite3'}"


def test_original_secret_variable_is_accepted(tmp_path: Path) -> None:
    config = load_config(data_dir=tmp_path, env={"ETCO_server_hubTokenSecret": "orig"})
    assert config.token_secret == "orig"
    assert config.token_secret_source == "env"
    assert not (tmp_path / SECRET_FILE_NAME).exists()


def test_dev_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    first = load_config(data_dir=tmp_path, env={})
    second = load_config(data_dir=tmp_path, env={})
    assert first.token_secret == second.token_secret
    assert len(first.token_secret) >= 40
    assert first.token_secret_source == "file"
    mode = stat.S_IMODE((tmp_path / SECRET_FILE_NAME).stat().st_mode)
    assert mode == 0o600
    assert read_or_create_secret(tmp_path) == first.token_secret


def test_secret_never_in_repr(tmp_path: Path) -> None:
    config = load_config(
        data_dir=tmp_path,
        env={"JIBO_TOKEN_SECRET": "very-secret-value", "JIBO_TOKEN_KEYS": "k1=other-secret"},
    )
    assert "very-secret-value" not in repr(config)
    assert "other-secret" not in repr(config)


def test_rotation_keys_and_signing_kid(tmp_path: Path) -> None:
    env = {"JIBO_TOKEN_SECRET": "s", "JIBO_TOKEN_KEYS": "k1=a,k2=b", "JIBO_SIGNING_KID": "k2"}
    config = load_config(data_dir=tmp_path, env=env)
    assert dict(config.token_keys) == {"k1": "a", "k2": "b"}
    assert config.signing_kid == "k2"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JIBO_DATABASE_URL": "mysql://x"}, "database URL must start with"),
        ({"JIBO_PORT": "eighty"}, "port must be a number"),
        ({"JIBO_PORT": "70000"}, "between 0 and 65535"),
        ({"JIBO_TOKEN_KEYS": "nokey"}, "JIBO_TOKEN_KEYS must look like"),
        ({"JIBO_TOKEN_KEYS": "a=b", "JIBO_SIGNING_KID": "zz"}, "is not a kid"),
        ({"JIBO_DISABLE_AUTH": "maybe"}, "JIBO_DISABLE_AUTH must be true or false"),
        ({"JIBO_UNKNOWN_SIGV4_KEYS": "ignore"}, "unknown_sigv4_keys"),
        ({"JIBO_TIME_ZONE": "Mars/Olympus_Mons"}, "is not a known time zone"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    env = {"JIBO_TOKEN_SECRET": "s", **env}
    with pytest.raises(ConfigError, match=message):
        load_config(data_dir=tmp_path, env=env)


def test_disable_auth_accepts_original_name(tmp_path: Path) -> None:
    config = load_config(
        data_dir=tmp_path, env={"ETCO_hub_disableAuth": "true", "JIBO_TOKEN_SECRET": "s"}
    )
    assert config.disable_auth is True


@pytest.mark.parametrize("zone", ["America/New_York", "-05:00", "+0530", "UTC", ""])
def test_time_zone_accepts_names_and_offsets(tmp_path: Path, zone: str) -> None:
    config = load_config(data_dir=tmp_path, env={"JIBO_TOKEN_SECRET": "s", "JIBO_TIME_ZONE": zone})
    assert config.time_zone == zone
