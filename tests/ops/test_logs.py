"""Structured logs: JSON lines with the trace fields, per-request levels, and nothing private.

The last test runs a whole robot session against ``jibo-cloud serve`` in a subprocess at DEBUG
level (boot, a typed turn, a spoken turn, a REST call that asks for debug logs, an upload by
signed URL) and greps everything the server printed for the robot's secret key, the token
secret, hub tokens, the URL signature, the owner's e-mail and the transcripts.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio

from jibo_cloud.cli import main as cli_main
from jibo_cloud.logs import (
    JsonFormatter,
    TraceContext,
    TraceFilter,
    log_format,
    set_instance,
    setup_logging,
    trace_fields,
    trace_scope,
)
from tests.rest.support import signed_headers
from tests.support.server import REPO, TEST_SECRET

SECRET_KEY = "sim-secret-quokka-key-0987654321"


def _record(name: str, level: int, msg: str, *args: object, **extra: Any) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, args or None, None)
    record.__dict__.update(extra)
    return record


def _json(record: logging.LogRecord) -> dict[str, Any]:
    assert TraceFilter(logging.DEBUG).filter(record)
    return dict(json.loads(JsonFormatter().format(record)))


def test_a_json_line_carries_the_trace_fields() -> None:
    set_instance("inst-1")
    try:
        trace = TraceContext(trans_id="tid-1", robot_id="My-Robot", client="203.0.113.7")
        with trace_scope(trace), trace_fields(kind="hub", target="/v1/listen"):
            line = _json(_record("jibo_cloud.hub", logging.INFO, "turn %s", "done",
                                 outcome="ok", ignored="not kept"))  # fmt: skip
    finally:
        set_instance("-")
    assert line.pop("time").endswith("Z")
    assert line == {
        "level": "INFO", "logger": "jibo_cloud.hub", "msg": "turn done", "transID": "tid-1",
        "robotID": "My-Robot", "client": "203.0.113.7", "kind": "hub",
        "target": "/v1/listen", "instance": "inst-1", "outcome": "ok",
    }  # fmt: skip


def test_unknown_fields_are_left_out() -> None:
    line = _json(_record("jibo_cloud.x", logging.WARNING, "no ids here"))
    assert set(line) == {"time", "level", "logger", "msg"}


def test_json_lines_are_redacted_field_by_field() -> None:
    """Redacting the encoded line would miss a secret whose quotes JSON escaped."""
    try:
        raise ValueError(f'{{"secretAccessKey": "{SECRET_KEY}"}}')
    except ValueError:
        import sys as _sys

        record = _record("x", logging.ERROR, 'got {"secretAccessKey": "%s"}', SECRET_KEY)
        record.exc_info = _sys.exc_info()
    text = JsonFormatter().format(record)
    assert SECRET_KEY not in text
    assert "[redacted]" in json.loads(text)["msg"]
    assert "ValueError" in json.loads(text)["exc"]


def test_per_request_levels_still_apply() -> None:
    flt = TraceFilter(logging.INFO)
    debug = _record("jibo_cloud.hub.listen", logging.DEBUG, "frame")
    assert not flt.filter(debug)
    with trace_scope(TraceContext(levels={"jibo_cloud.hub": "debug"})):
        assert flt.filter(debug)
    with trace_scope(TraceContext(levels={"jibo_cloud.hub": "error"})):
        assert not flt.filter(_record("jibo_cloud.hub", logging.WARNING, "quiet"))
    assert not flt.filter(debug)  # only for that request


def test_the_format_follows_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JIBO_LOG_FORMAT", raising=False)
    assert log_format() == ("text" if sys.stderr.isatty() else "json")
    monkeypatch.setenv("JIBO_LOG_FORMAT", "text")
    assert log_format() == "text"
    assert log_format("json") == "json"
    monkeypatch.setenv("JIBO_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="JIBO_LOG_FORMAT"):
        log_format()


def test_setup_logging_json(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    out = io.StringIO()
    try:
        setup_logging("INFO", worker=True, fmt="json")
        root.handlers[0].setStream(out)  # type: ignore[attr-defined]
        logging.getLogger("jibo_cloud.test").info("hello %d", 1)
        logging.getLogger("jibo_cloud.test").debug("hidden")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    (line,) = [json.loads(raw) for raw in out.getvalue().splitlines()]
    assert (line["msg"], line["pid"]) == ("hello 1", os.getpid())


# --------------------------------------------------------------------------- a whole session

ROBOT = [
    "--robot", "Zanzi-Quokka-Lamp-Tree", "--serial", "BOJW-4242-7777-3131-0009",
    "--robot-id", "a1b2c3d4e5f6a7b8c9d0e1f2", "--access-key-id", "AKIDSIMQUOKKA42",
]  # fmt: skip
OWNER = "quokka.owner@example.org"
TYPED = "remind me to phone aunt zelda about the zanzibar trip"
SPOKEN = "what is the weather like in timbuktu"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """``jibo-cloud serve`` at DEBUG with the robot registered; its whole output in a file."""
    data = tmp_path / "data"
    environ = {**os.environ, "JIBO_TOKEN_SECRET": TEST_SECRET, "PYTHONUNBUFFERED": "1",
               "JIBO_ASR_PROCESSES": "1"}  # fmt: skip
    environ.pop("JIBO_LOG_FORMAT", None)  # the default: JSON, since the output is a file
    add = subprocess.run(
        [sys.executable, "-m", "jibo_cloud", "robot", "add", "--data-dir", str(data),
         "--name", ROBOT[1], "--serial", ROBOT[3], "--robot-id", ROBOT[5], "--owner", OWNER,
         "--access-key-id", ROBOT[7], "--secret-access-key", SECRET_KEY],
        cwd=REPO, env=environ, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert add.returncode == 0, add.stdout + add.stderr
    out_path = tmp_path / "server.out"
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jibo_cloud", "serve", "--port", "0", "--data-dir", str(data),
             "--log-level", "DEBUG"],
            cwd=REPO, env=environ, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (match := re.search(r"listening on http://[\d.]+:(\d+)", out_path.read_text())):
            assert proc.poll() is None, out_path.read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield int(match[1]), out_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def _cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()

    def run() -> int:
        with redirect_stdout(out):
            return cli_main(list(argv))

    return await trio.to_thread.run_sync(run), out.getvalue()


async def test_a_whole_session_logs_nothing_private(served: tuple[int, Path]) -> None:
    port, out_path = served
    url = f"http://127.0.0.1:{port}"
    secret = ["--secret-access-key", SECRET_KEY]
    status, out = await _cli("sim", "boot", "--url", url, *ROBOT, *secret, "--json")
    assert status == 0, out
    status, out = await _cli("sim", "turn", "--url", url, *ROBOT, *secret, "--text", TYPED)
    assert status == 0, out
    heard = ""
    if shutil.which("espeak-ng"):
        # Whether the recogniser answers in time is the speech tests' business; what it
        # heard (if anything) must stay out of the log either way.
        _status, out = await _cli("sim", "turn", "--url", url, *ROBOT, *secret, "--say",
                                  SPOKEN, "--json")  # fmt: skip
        heard = _transcript(json.loads(out))
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        body = json.dumps({"kind": "HEALTH", "serial": ROBOT[3]}).encode()
        debug = {"x-jibo-logging-config": '{"jibo_cloud": "debug"}', "x-jibo-transid": "tid-9"}
        headers = signed_headers("Log_20150309.PutEventsAsync", body, key=ROBOT[7],
                                 secret=SECRET_KEY, extra=debug)  # fmt: skip
        answer = await http.post("/", content=body, headers={**headers, "Host": "api.jibo.com"})
        assert answer.status_code == 200, answer.text
        upload_url = answer.json()["uploadUrl"]
        path = httpx.URL(upload_url).raw_path.decode()
        assert (await http.put(path, content=b"{}", headers={"Host": "api.jibo.com"})).is_success
    await trio.sleep(0.5)  # the last lines reach the file
    text = out_path.read_text()
    lines = [json.loads(raw) for raw in text.splitlines() if raw.startswith("{")]
    assert len(lines) >= 5, text
    # The REST call that asked for debug logs got them, with its ids, target and outcome.
    (answered,) = [line for line in lines if line.get("transID") == "tid-9"
                   and line["msg"].startswith("answered")]  # fmt: skip
    assert answered["level"] == "DEBUG"
    assert answered["target"] == answered["msg"].split()[1].rstrip(":")
    assert (answered["status"], answered["outcome"], answered["client"]) == (200, "ok", "127.0.0.1")
    assert all(set(line) >= {"time", "level", "logger", "msg"} for line in lines)
    signature = httpx.URL(upload_url).params["X-Jibo-Signature"]
    private = [SECRET_KEY, TEST_SECRET, signature, OWNER, "zelda", "zanzibar", "timbuktu"]
    if heard:
        private.append(heard)
    for value in private:
        assert value.lower() not in text.lower(), f"{value!r} reached the log"
    assert not re.search(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", text), "a JWT was logged"


def _transcript(doc: dict[str, Any]) -> str:
    """The text the server heard (the longest ``text`` in the hub's frames of
    ``sim turn --json``), or ""."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "text" and isinstance(item, str):
                    found.append(item)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk([frame for frame in doc.get("frames", []) if frame.get("from") == "hub"])
    return max(found, key=len, default="")
