"""``jibo-cloud robot add|list`` and ``jibo-cloud update publish|list``, on both backends."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
import trio

from jibo_cloud.cli import main
from tests.rest.support import (
    ACCESS_KEY,
    ROBOT_ID,
    ROBOT_NAME,
    SECRET_KEY,
    SERIAL,
    RestClient,
    register_robot,
)
from tests.support.server import start_server

ADD = ["robot", "add", "--name", ROBOT_NAME, "--serial", SERIAL, "--robot-id", ROBOT_ID,
       "--owner", "user1@example.com"]  # fmt: skip


def test_robot_add_and_list(store_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    keys = ["--access-key-id", ACCESS_KEY, "--secret-access-key", SECRET_KEY]
    assert main([*ADD, *keys, *store_args]) == 0
    assert f"registered {ROBOT_NAME}" in capsys.readouterr().out
    assert main(["robot", "list", *store_args]) == 0
    out = capsys.readouterr().out
    assert ROBOT_NAME in out
    assert f"keys={ACCESS_KEY}" in out
    assert SECRET_KEY not in out  # never print a secret


def test_robot_add_from_credentials(
    store_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = tmp_path / "credentials.json"
    creds.write_text(
        json.dumps({"accessKeyId": "AKIDFILE", "secretAccessKey": "s", "region": "api"})
    )
    assert main([*ADD, "--from-credentials", str(creds), *store_args]) == 0
    assert main(["robot", "list", *store_args]) == 0
    assert "keys=AKIDFILE" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--robot-id", "xyz"], "--robot-id must be 24 lower-case hex digits"),
        (["--owner", "nobody"], "--owner must be an e-mail address"),
        (["--access-key-id", "A"], "give both --access-key-id and --secret-access-key"),
        (["--from-credentials", "/nonexistent.json"], "cannot read credentials"),
    ],
)
def test_robot_add_rejects_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main([*ADD, *extra, "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_robot_add_twice_fails_clearly(
    store_args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*ADD, *store_args]) == 0
    assert main([*ADD, *store_args]) == 1
    assert "already registered" in capsys.readouterr().err


def test_update_publish_and_list(
    store_args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    package = tmp_path / "be.tgz"
    package.write_bytes(b"\x1f\x8b package bytes")
    publish = ["update", "publish", "--subsystem", "@be/be", "--from-version", "10.0.18",
               "--to-version", "10.0.19", "--filter", "fcs", "--file", str(package)]  # fmt: skip
    assert main([*publish, *store_args]) == 0
    out = capsys.readouterr().out
    assert hashlib.sha256(package.read_bytes()).hexdigest() in out
    assert main(["update", "list", *store_args]) == 0
    assert "10.0.18 -> 10.0.19" in capsys.readouterr().out
    bad = [*publish[:-1], str(tmp_path / "missing.tgz")]
    assert main([*bad, *store_args]) == 1
    assert "cannot read --file" in capsys.readouterr().err


async def test_a_published_update_is_served_to_the_robot(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    server = await start_server(nursery, data_dir)
    package = tmp_path / "pkg.bin"
    package.write_bytes(bytes(range(256)) * 10)
    args = ["update", "publish", "--subsystem", "os", "--from-version", "12.10.0",
            "--to-version", "12.11.0", "--file", str(package),
            "--data-dir", str(data_dir)]  # fmt: skip
    assert await trio.to_thread.run_sync(main, args) == 0
    await register_robot(server)  # update records are for signed robots only
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        client = RestClient(http)
        ask = {"fromVersion": "12.10.0", "subsystem": "os"}
        assert (
            await client.call("Update_20160301.GetUpdateFrom", ask, sign=False)
        ).status_code == 403
        record = await client.ok("Update_20160301.GetUpdateFrom", ask)
        assert (record["length"], record["shaHash"]) == (
            2560, hashlib.sha256(package.read_bytes()).hexdigest(),
        )  # fmt: skip
        assert (await client.get(record["url"])).content == package.read_bytes()
