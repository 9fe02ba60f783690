"""``jibo-cloud host add|list|remove`` on both backends: one-line errors, exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from jibo_cloud.cli import main


def test_add_list_replace_remove(store_args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["host", "list", *store_args]) == 0
    assert "no host mappings" in capsys.readouterr().out
    assert main(["host", "add", "Notify.Example.org", "--service", "socket", *store_args]) == 0
    assert "mapped notify.example.org -> socket" in capsys.readouterr().out
    assert main(["host", "add", "hub.example.org", "--service", "hub", *store_args]) == 0
    assert main(["host", "add", "notify.example.org", "--service", "api", *store_args]) == 0
    assert "-> api (was socket)" in capsys.readouterr().out.splitlines()[-1]
    assert main(["host", "list", *store_args]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "hub.example.org\thub",
        "notify.example.org\tapi",
    ]
    assert main(["host", "remove", "notify.example.org", *store_args]) == 0
    assert "removed notify.example.org" in capsys.readouterr().out
    assert main(["host", "list", *store_args]) == 0
    assert capsys.readouterr().out.splitlines() == ["hub.example.org\thub"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "api-socket.jibo.com", "--service", "socket"], "*.jibo.com roles are fixed"),
        (["add", "notify.example.org", "--service", "websocket"], "service must be one of"),
        (["add", "notify.example.org:443", "--service", "socket"], "no port"),
        (["add", "no such host", "--service", "hub"], "not a host name"),
        (["remove", "notify.example.org"], "notify.example.org is not mapped"),
        (["remove", "neo-hub.jibo.com"], "*.jibo.com roles are fixed"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["host", *argv, "--data-dir", str(tmp_path / "d")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("jibo-cloud host: ")
    assert message in err


def test_a_missing_service_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["host", "add", "notify.example.org", "--data-dir", str(tmp_path / "d")])
    assert info.value.code == 2
    assert "--service" in capsys.readouterr().err
