"""Codec throughput: decode+validate and encode of real frame mixes, beside plain json.

The frames are the robot messages of ``../shared/fixtures/ws/turns`` (their exact wire text:
LISTEN, CONTEXT, CLIENT_ASR, CLIENT_NLU, TRIGGER in the real proportions) when present, else
the project's ``fixtures/frames/robot.jsonl``; plus the hub's replies from
``fixtures/frames/hub.jsonl``. For each mix, in the same run:

- ``json.loads`` of every frame vs :func:`protocol.decode_frame` (parse, type dispatch,
  validation, typed objects);
- ``json.dumps`` (compact) of the parsed objects vs :func:`protocol.encode_frame`.

Reported in frames/s (median of repeats) with the ratio codec/plain; the goal is a cost of at
most 3x plain JSON.

Ogg pages: :func:`protocol.ogg.parse_page` of a 4.2 KB Opus page (26 packets, the
size of a robot's audio page), in µs per page, with the CRC in C (``zlib``, now) and with the
table-driven Python loop it replaced (``before``), both measured in the same run.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from protocol import decode_frame, encode_frame, ogg

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("JIBO_SHARED_DIR", REPO.parent / "shared")) / "fixtures"
REPEATS = 7
MIN_SECONDS = 0.2  # per measurement


def robot_frames() -> tuple[str, list[str]]:
    turns = SHARED / "ws" / "turns"
    if turns.is_dir():
        texts = [
            msg["text"]
            for path in sorted(turns.glob("*.json"))
            for turn in json.loads(path.read_text())["turns"]
            for msg in turn["messages"]
            if "text" in msg
        ]
        return "real robot frames (shared/fixtures/ws)", texts
    path = REPO / "fixtures" / "frames" / "robot.jsonl"
    return "spec robot frames (fixtures/frames)", path.read_text().splitlines()


def hub_frames() -> list[str]:
    return (REPO / "fixtures" / "frames" / "hub.jsonl").read_text().splitlines()


def _rate(fn: Callable[[], Any], count: int) -> float:
    """Median frames/s of ``fn`` (which handles ``count`` frames per call)."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - start >= MIN_SECONDS / 4:
            break
        loops *= 2
    rates = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        rates.append(count * loops / (time.perf_counter() - start))
    return statistics.median(rates)


def measure(texts: list[str], sender: str) -> dict[str, float]:
    """frames/s for plain json and the codec, decoding and encoding ``texts``."""
    parsed = [json.loads(t) for t in texts]
    messages = [decode_frame(t, sender=sender) for t in texts]  # type: ignore[arg-type]
    loads, dumps = json.loads, json.dumps

    def plain_decode() -> None:
        for t in texts:
            loads(t)

    def codec_decode() -> None:
        for t in texts:
            decode_frame(t, sender=sender)  # type: ignore[arg-type]

    def plain_encode() -> None:
        for obj in parsed:
            dumps(obj, separators=(",", ":"))

    def codec_encode() -> None:
        for msg in messages:
            encode_frame(msg)

    n = len(texts)
    return {
        "plain_decode": _rate(plain_decode, n),
        "codec_decode": _rate(codec_decode, n),
        "plain_encode": _rate(plain_encode, n),
        "codec_encode": _rate(codec_encode, n),
    }


def _python_loop_crc32(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """The CRC ``protocol/ogg.py`` computed before its fast path (a table-driven Python loop)."""
    table = _PY_TABLE
    for byte in bytes(data):
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[(crc >> 24) ^ byte]
    return crc


def _py_table() -> tuple[int, ...]:
    out = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        out.append(r & 0xFFFFFFFF)
    return tuple(out)


_PY_TABLE = _py_table()


def ogg_page_parse_us() -> dict[str, float]:
    """µs per ``parse_page`` of a 4.2 KB page: CRC in C (now) and the Python loop (before)."""
    rng = random.Random(21)
    page = ogg.build_page([rng.randbytes(160) for _ in range(26)], serial=744568034, sequence=5)
    fast = ogg.crc32
    now = 1e6 / _rate(lambda: ogg.parse_page(page), 1)
    ogg.crc32 = _python_loop_crc32  # the module looks its crc32 up at call time
    try:
        before = 1e6 / _rate(lambda: ogg.parse_page(page), 1)
    finally:
        ogg.crc32 = fast
    return {"bytes": float(len(page)), "now": now, "before": before}


def run(report: Any) -> None:
    label, robot = robot_frames()
    for name, texts, sender, note in (
        ("robot", robot, "robot", f"{len(robot)} {label}"),
        ("hub", hub_frames(), "hub", "hub replies and skill requests (fixtures/frames)"),
    ):
        r = measure(texts, sender)
        report.add(f"codec.{name}.decode json.loads", r["plain_decode"], "frames/s", note)
        report.add(f"codec.{name}.decode decode_frame", r["codec_decode"], "frames/s")
        report.add(
            f"codec.{name}.decode cost ratio",
            r["plain_decode"] / r["codec_decode"],
            "x",
            "codec time / json.loads time (goal <= 3)",
        )
        report.add(f"codec.{name}.encode json.dumps", r["plain_encode"], "frames/s")
        report.add(f"codec.{name}.encode encode_frame", r["codec_encode"], "frames/s")
        report.add(
            f"codec.{name}.encode cost ratio",
            r["plain_encode"] / r["codec_encode"],
            "x",
            "codec time / json.dumps time (goal <= 3)",
        )
    pages = ogg_page_parse_us()
    note = f"{pages['bytes']:.0f}-byte Opus page"
    report.add("codec.ogg.parse_page (CRC in C)", pages["now"], "us/page", note)
    report.add("codec.ogg.parse_page (Python-loop CRC, before)", pages["before"], "us/page")
    report.add("codec.ogg.parse_page speed-up", pages["before"] / pages["now"], "x")
