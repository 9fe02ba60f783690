"""Start-up: lazy subcommands, optional extras, and what ``serve`` imports.

Each check runs in a fresh interpreter (the test process has imported everything already).
An extra's absence is simulated with ``sys.modules[name] = None``, which makes ``import name``
raise ``ModuleNotFoundError`` exactly as an uninstalled package does.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import trio

from jibo_cloud.cli import COMMANDS, build_parser
from tests.support.server import REPO, TEST_SECRET


async def _python(code: str, *, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    with trio.fail_after(60):
        done = await trio.run_process(
            [sys.executable, "-c", code],
            cwd=REPO, env={**os.environ, **(env or {})},
            capture_stdout=True, capture_stderr=True, check=False,
        )  # fmt: skip
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def _cli(argv: list[str], *, without: tuple[str, ...] = ()) -> str:
    """Code that runs ``jibo-cloud argv`` with the modules ``without`` uninstalled."""
    return (
        "import sys\n"
        f"for name in {list(without)!r}: sys.modules[name] = None\n"
        "from jibo_cloud.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )


async def test_help_imports_no_command_module() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from jibo_cloud.cli import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    main(['--help'])\n"
        "heavy = [m for m in sys.modules if m.startswith(('jibo_cloud.commands', 'trio',\n"
        "         'hypothesis', 'httpx', 'quart', 'hypercorn', 'psycopg', 'jibo_cloud.tools'))]\n"
        "print(heavy)\n"
        "print(out.getvalue())\n"
    )
    status, out, err = await _python(code)
    assert status == 0, err
    first, listing = out.split("\n", 1)
    assert first == "[]"
    for name, (_, help_text) in COMMANDS.items():
        assert re.search(rf"^\s+{name}\s+{re.escape(help_text)}$", listing, re.M), name


def test_the_table_matches_what_each_module_registers() -> None:
    parser = build_parser(full=True)
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    registered = {choice.dest: choice.help for choice in sub._choices_actions}
    assert registered == {name: help_text for name, (_, help_text) in COMMANDS.items()}


async def test_a_command_s_help_still_shows_its_flags() -> None:
    status, out, err = await _python(_cli(["serve", "--help"]))
    assert status == 0, err
    for flag in ("--host", "--port", "--workers", "--data-dir", "--database-url"):
        assert flag in out
    status, out, err = await _python(_cli(["fuzz", "--help"]))
    assert status == 0, err
    assert "--budget" in out
    assert "--allow-host" in out


async def test_fuzz_without_hypothesis_names_the_extra() -> None:
    status, out, err = await _python(
        _cli(["fuzz", "--url", "http://127.0.0.1:9"], without=("hypothesis",))
    )
    assert status == 2
    assert out == ""
    assert err.splitlines() == [
        "jibo-cloud fuzz: fuzzing needs Hypothesis, which is not installed: "
        "pip install 'jibo-cloud[fuzz]'"
    ]


async def test_sqlite_needs_no_postgres_driver(tmp_path: Path) -> None:
    argv = ["robot", "list", "--data-dir", str(tmp_path / "data")]
    status, _, err = await _python(_cli(argv, without=("psycopg", "psycopg_pool")))
    assert status == 0, err
    assert "Traceback" not in err


async def test_postgres_url_without_the_driver_is_one_line(tmp_path: Path) -> None:
    argv = [
        "serve", "--port", "0", "--data-dir", str(tmp_path / "data"),
        "--database-url", "postgresql://postgres@127.0.0.1:5432/postgres",
    ]  # fmt: skip
    status, out, err = await _python(
        _cli(argv, without=("psycopg", "psycopg_pool")), env={"JIBO_TOKEN_SECRET": TEST_SECRET}
    )
    assert status == 1
    assert "listening on" not in out
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if "psycopg" in line] == [
        "jibo-cloud serve: a postgresql:// database needs psycopg, which is not installed: "
        "pip install 'jibo-cloud[postgres]'"
    ]


def test_serve_imports_neither_hypothesis_nor_the_tools(tmp_path: Path) -> None:
    """A real ``jibo-cloud serve`` up to its ``listening on`` line, with ``-X importtime``."""
    env = {
        **os.environ,
        "JIBO_TOKEN_SECRET": TEST_SECRET,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPROFILEIMPORTTIME": "1",
    }
    argv = [sys.executable, "-m", "jibo_cloud", "serve", "--port", "0"]
    proc = subprocess.Popen(
        [*argv, "--data-dir", str(tmp_path / "data")],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    imported: set[str] = set()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            match = re.match(r"import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)$", line.rstrip())
            if match:
                imported.add(match[1])
            if "listening on" in line:
                break
        else:
            raise AssertionError("the server exited before listening")
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert "jibo_cloud.app" in imported  # the check saw the server's imports
    assert "jibo_cloud.runtime" in imported
    assert not {m for m in imported if m == "hypothesis" or m.startswith("hypothesis.")}
    assert not {m for m in imported if m.startswith("jibo_cloud.tools")}
    assert not {m for m in imported if m == "pytest" or m.startswith("_pytest")}
