"""``jibo-cloud owner invite|operator`` on both backends: a link only for household owners."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import trio

from jibo_cloud.cli import main
from jibo_cloud.config import load_config
from jibo_cloud.portal.auth import token_hash
from jibo_cloud.storage import open_storage

ROBOT = ["robot", "add", "--name", "Test-Robot-Name", "--serial", "BOJW-1000-0000-0000-0001",
         "--robot-id", "a" * 24, "--owner", "owner@example.com"]  # fmt: skip
LINK = re.compile(r"^https://jibo\.example\.org/portal/invite\?t=([A-Za-z0-9_-]{43})$")


def _account_of_invite(store_args: list[str], token: str) -> str | None:
    flags = dict(zip(store_args[::2], store_args[1::2], strict=True))
    config = load_config(data_dir=flags["--data-dir"], database_url=flags.get("--database-url"))

    async def read() -> str | None:
        async with open_storage(config) as storage:
            return await storage.invite_account(token_hash(token), now=0)

    return trio.run(read)


def test_invite_prints_a_one_time_link(
    store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ROBOT, *store_args]) == 0
    capsys.readouterr()
    argv = ["owner", "invite", "Owner@Example.com", "--base-url", "https://jibo.example.org/"]
    assert main([*argv, *store_args]) == 0
    first = LINK.match(capsys.readouterr().out.splitlines()[0])
    assert first is not None
    assert _account_of_invite(store_args, first[1]) is not None
    assert main([*argv, *store_args]) == 0
    second = LINK.match(capsys.readouterr().out.splitlines()[0])
    assert second is not None
    assert _account_of_invite(store_args, first[1]) is None  # replaced by the newer one
    assert _account_of_invite(store_args, second[1]) is not None
    assert main(["owner", "operator", "owner@example.com", *store_args]) == 0
    assert "is now an operator" in capsys.readouterr().out
    assert main(["owner", "operator", "owner@example.com", "--revoke", *store_args]) == 0
    assert "a plain owner" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("email", "message"),
    [("nobody@example.com", "no account 'nobody@example.com'")],
)
def test_unknown_owner_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], email: str, message: str
) -> None:
    assert main(["owner", "invite", email, "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("jibo-cloud owner: ")
    assert message in err
