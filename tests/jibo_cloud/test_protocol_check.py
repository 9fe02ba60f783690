"""``jibo-cloud protocol check``: per-frame types or precise errors, exit status, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jibo_cloud.cli import main
from tests.support import env

FRAMES = env.PROJECT_FIXTURES / "frames"
GOOD = '{"type":"CLIENT_ASR","ts":1,"msgID":"m","data":{"text":"hi"}}'


def write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "frames.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_valid_lines_print_types_and_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "# a comment", GOOD, "", GOOD)
    assert main(["protocol", "check", "--roundtrip", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "line 2: CLIENT_ASR (ClientAsr); round-trips"
    assert out[1] == "line 4: CLIENT_ASR (ClientAsr); round-trips"
    assert out[-1].endswith("2 frames, 2 valid, 0 invalid, 0 skipped, 0 not round-tripping")


def test_invalid_frames_print_the_precise_error_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        GOOD,
        '{"type":"NOPE"}',
        '{"type":"LISTEN","ts":1,"msgID":"m","data":{"rules":"launch"}}',
        "{not json",
    )
    assert main(["protocol", "check", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "line 2: INVALID: $.type: unknown message type 'NOPE'"
    assert out[2] == "line 3: INVALID: $.data.rules: expected list of str, got str"
    assert out[3].startswith("line 4: INVALID: $: invalid JSON: ")


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD, '{"type":"X"}')
    assert main(["protocol", "check", "--json", "--roundtrip", str(path)]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {
        "frames": 2, "valid": 1, "invalid": 1, "skipped": 0, "not_round_tripping": 0,
    }  # fmt: skip
    first, second = doc["frames"]
    assert first["type"] == "CLIENT_ASR"
    assert first["class"] == "ClientAsr"
    assert first["roundtrip"]
    assert second["ok"] is False
    assert second["path"] == "$.type"
    assert second["message"] == "Unknown message type: X"


def test_sender_picks_the_direction(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FRAMES / "hub.jsonl"
    assert main(["protocol", "check", "--roundtrip", "--sender", "hub", str(hub)]) == 0
    assert main(["protocol", "check", str(hub)]) == 1  # hub replies are not robot frames
    capsys.readouterr()


def test_flow_file_with_binary_steps(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from protocol.ogg import build_page, opus_head_packet

    page = build_page([opus_head_packet()], serial=1, sequence=0, bos=True)
    flow = {
        "name": "t",
        "steps": [
            {"text": json.loads(GOOD)},
            {"binary": list(page)},
            {"binary": [1, 2, 3]},
            {"text": None, "binary": {"length": 4198, "ogg": {}}},
        ],
    }
    path = tmp_path / "t.flow.json"
    path.write_text(json.dumps(flow))
    assert main(["protocol", "check", "--roundtrip", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "step 0: CLIENT_ASR (ClientAsr); round-trips"
    assert out[1] == "step 1: Ogg page 0 OpusHead; round-trips"
    assert out[2] == "step 2: INVALID: no Ogg capture pattern 'OggS' at byte 0"
    assert out[3] == "step 3: skipped: binary, 4198 bytes (audio not captured)"


@pytest.mark.shared
def test_real_files_are_all_valid(capsys: pytest.CaptureFixture[str]) -> None:
    for parts in (
        ("ws", "turns", "listen-server-asr.json"),
        ("pegasus-reference", "transactions.hub-excerpt.json"),
        ("openjibo-flows", "captured"),
    ):
        root = env.shared_fixtures(*parts)
        for path in [root] if root.is_file() else sorted(root.glob("*.json")):
            assert main(["protocol", "check", "--roundtrip", str(path)]) == 0, path
    capsys.readouterr()


def test_unreadable_file_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["protocol", "check", str(tmp_path / "missing.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("jibo-cloud protocol: can't read ")
    assert "Traceback" not in err
