"""Real and spec frames for the codec tests: (label, sender, JSON text) triples.

- :func:`project_frames`: ``fixtures/frames/*.jsonl`` (written from the spec by this project);
- :func:`ws_frames`: the exact wire ``text`` of every robot message in
  ``../shared/fixtures/ws/turns/*.json``;
- :func:`pegasus_frames`: every frame of ``transactions.hub-excerpt.json``, both directions,
  plus the hub's HTTP bodies recorded there (ERROR envelopes, parser and skill requests and
  replies); history records come from :func:`pegasus_records`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import env

Frame = tuple[str, str, str]  # label, sender, text

PROJECT_FRAMES = env.PROJECT_FIXTURES / "frames"


def project_frames() -> list[Frame]:
    out = []
    for path in sorted(PROJECT_FRAMES.glob("*.jsonl")):
        sender = path.stem
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.strip():
                out.append((f"{path.name}:{number}", sender, line))
    return out


def _shared(*parts: str) -> Path | None:
    path = env.SHARED_FIXTURES.joinpath(*parts)
    return path if path.exists() else None


def ws_frames() -> list[Frame]:
    """Empty when ``../shared`` is absent (the test then skips loudly)."""
    root = _shared("ws", "turns")
    if root is None:
        return []
    out = []
    for path in sorted(root.glob("*.json")):
        for turn in json.loads(path.read_text())["turns"]:
            for i, msg in enumerate(turn["messages"]):
                if "text" in msg:
                    out.append((f"{path.stem}/{turn['id']}/{i}", "robot", msg["text"]))
    return out


def _excerpt() -> dict[str, Any] | None:
    path = _shared("pegasus-reference", "transactions.hub-excerpt.json")
    return json.loads(path.read_text()) if path is not None else None


def pegasus_frames() -> list[Frame]:
    doc = _excerpt()
    if doc is None:
        return []
    out: list[Frame] = []
    for t in doc["transactions"]:
        name = t["name"]
        for i, frame in enumerate(t.get("request", {}).get("frames", [])):
            out.append((f"{name}/request/{i}", "robot", json.dumps(frame)))
        for i, frame in enumerate(t.get("frames", [])):
            out.append((f"{name}/reply/{i}", "hub", json.dumps(frame)))
        body = t.get("request", {}).get("json")
        if isinstance(body, dict) and "type" in body:
            out.append((f"{name}/http-request", "hub", json.dumps(body)))
        body = t.get("response", {}).get("json")
        if isinstance(body, dict) and "type" in body:
            sender = "parser" if t["request"].get("path") == "/v1/parse" else "hub"
            out.append((f"{name}/http-response", sender, json.dumps(body)))
    for i, effect in enumerate(doc.get("sideEffects", [])):
        path = effect["path"]
        if path in ("/v1/parse", "/skill"):
            out.append((f"side-effect {i} {path} request", "hub", json.dumps(effect["json"])))
            reply = "parser" if path == "/v1/parse" else "skill"
            body = effect["response"].get("json")
            if effect["response"]["status"] != 200 or not isinstance(body, dict):
                continue  # an HTTP failure body, not an envelope
            out.append((f"side-effect {i} {path} response", reply, json.dumps(body)))
    return out


def pegasus_records() -> list[tuple[str, str, dict[str, Any]]]:
    """(label, path, body) of the history requests the hub made (§5)."""
    doc = _excerpt()
    if doc is None:
        return []
    return [
        (f"side-effect {i} {e['path']}", e["path"], e["json"])
        for i, e in enumerate(doc.get("sideEffects", []))
        if e["path"].startswith("/v1/skill/launch") or e["path"].startswith("/v1/speech")
    ]


def all_real_frames() -> list[Frame]:
    """Real frames when ``../shared`` is there, else the project's own."""
    return ws_frames() + pegasus_frames() or project_frames()
