"""``jibo-cloud protocol check [--roundtrip] [--json] FILE``: decode every frame of a file.

For researchers: prints, per frame, the message type (and class) or the precise error with its
JSON path; with ``--roundtrip`` also checks that re-encoding gives the same JSON object. Exit
status 1 if any frame is invalid or does not round-trip, 0 otherwise, 2 for usage errors.

FILE may be:

- JSON lines: one frame (JSON text) per line; blank lines and lines starting with ``#`` are
  skipped; ``--sender`` says who sent them (default ``robot``);
- a flow file (``{"steps": [{"text": …, "binary": …}]}``, OpenJibo's replay format): the
  steps' ``text`` are robot frames; a ``binary`` given as a list of byte values is checked as
  one Ogg page, one given as ``{"length", "ogg"}`` (audio not captured) is listed and skipped;
- a turns file (``{"turns": [{"messages": [{"text": …}]}]}``, ``shared/fixtures/ws/turns``);
- a Pegasus transactions excerpt (``{"transactions": […]}``): request frames as robot,
  reply frames as hub.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs

from jibo_cloud.errors import JiboCloudError
from protocol import ProtocolError, decode_frame, encode_frame
from protocol.ogg import parse_page

SENDERS = ("robot", "hub", "skill", "parser")


@attrs.frozen
class Frame:
    """One frame read from the file: a text frame, Ogg bytes, or audio that was not captured."""

    label: str
    sender: str
    text: str | None = None
    binary: bytes | None = None
    note: str | None = None  # skipped, with why


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("protocol", help="tools for studying the hub protocol")
    psub = p.add_subparsers(dest="protocol_command", metavar="ACTION", required=True)
    c = psub.add_parser(
        "check",
        help="decode every frame of a file and report its type or the precise error",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("file", metavar="FILE", help="JSON lines, a flow file, or a turns file")
    c.add_argument(
        "--roundtrip",
        action="store_true",
        help="also check that re-encoding each frame gives the same JSON object",
    )
    c.add_argument("--json", action="store_true", help="print one JSON document (for machines)")
    c.add_argument(
        "--sender",
        choices=SENDERS,
        default="robot",
        help="who sent the frames of a JSON-lines file (default robot)",
    )
    c.set_defaults(func=run)


# --------------------------------------------------------------------------- reading


def _text_of(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _flow_frames(doc: dict[str, Any]) -> Iterator[Frame]:
    for i, step in enumerate(doc.get("steps") or []):
        label = f"step {i}"
        if not isinstance(step, dict):
            yield Frame(label, "robot", text=json.dumps(step))
            continue
        if step.get("text") is not None:
            yield Frame(label, "robot", text=_text_of(step["text"]))
        binary = step.get("binary")
        if isinstance(binary, list):
            try:
                data = bytes(binary)
            except (TypeError, ValueError):
                yield Frame(label, "robot", note="binary step is not a list of byte values")
                continue
            yield Frame(label, "robot", binary=data)
        elif isinstance(binary, dict):
            length = binary.get("length")
            yield Frame(label, "robot", note=f"binary, {length} bytes (audio not captured)")


def _turn_frames(doc: dict[str, Any]) -> Iterator[Frame]:
    for turn in doc.get("turns") or []:
        name = turn.get("id", "turn") if isinstance(turn, dict) else "turn"
        messages = turn.get("messages") or [] if isinstance(turn, dict) else []
        for i, msg in enumerate(messages):
            label = f"{name} message {i}"
            if isinstance(msg, dict) and "text" in msg:
                yield Frame(label, "robot", text=_text_of(msg["text"]))
            elif isinstance(msg, dict) and "binary" in msg:
                length = (msg.get("binary") or {}).get("length")
                yield Frame(label, "robot", note=f"binary, {length} bytes (audio not captured)")


def _transaction_frames(doc: dict[str, Any]) -> Iterator[Frame]:
    for t in doc.get("transactions") or []:
        name = t.get("name", "transaction")
        for i, frame in enumerate((t.get("request") or {}).get("frames") or []):
            yield Frame(f"{name} request frame {i}", "robot", text=_text_of(frame))
        for i, frame in enumerate(t.get("frames") or []):
            yield Frame(f"{name} reply frame {i}", "hub", text=_text_of(frame))


def read_frames(path: Path, sender: str = "robot") -> list[Frame]:
    """The frames of a file in any of the formats above.

    Raises:
        JiboCloudError: the file cannot be read.
    """
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise JiboCloudError(f"can't read {path}: {exc}") from None
    try:
        doc = json.loads(content)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and "steps" in doc:
        return list(_flow_frames(doc))
    if isinstance(doc, dict) and "turns" in doc:
        return list(_turn_frames(doc))
    if isinstance(doc, dict) and "transactions" in doc:
        return list(_transaction_frames(doc))
    frames = []
    for number, line in enumerate(content.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            frames.append(Frame(f"line {number}", sender, text=line))
    return frames


# --------------------------------------------------------------------------- checking


def first_difference(a: Any, b: Any, path: str = "$") -> str | None:
    """The JSON path of the first difference between two parsed JSON values, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}: {'missing' if key not in b else 'added'}"
            found = first_difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items became {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None
    # "Same JSON object" means equal after json.loads: 1 == 1.0, but true is not 1.
    same = a == b and isinstance(a, bool) == isinstance(b, bool)
    return None if same else f"{path}: {json.dumps(a)} became {json.dumps(b)}"


def check_frame(frame: Frame, *, roundtrip: bool) -> dict[str, Any]:
    """One frame's report: ``ok``, ``type``/``class`` or ``error``/``path``, ``roundtrip``."""
    result: dict[str, Any] = {"label": frame.label, "sender": frame.sender}
    if frame.note is not None:
        result.update(ok=True, skipped=frame.note)
        return result
    if frame.binary is not None:
        try:
            page = parse_page(frame.binary)
        except ProtocolError as exc:
            result.update(ok=False, kind="binary", error=exc.message)
            return result
        head = " OpusHead" if page.is_opus_head else " OpusTags" if page.is_opus_tags else ""
        result.update(ok=True, kind="binary", type=f"Ogg page {page.sequence}{head}")
        if roundtrip:
            result["roundtrip"] = page.to_bytes() == frame.binary
        return result
    assert frame.text is not None
    try:
        msg = decode_frame(frame.text, sender=frame.sender)  # type: ignore[arg-type]
    except ProtocolError as exc:
        detail = getattr(exc, "detail", exc.message)
        result.update(ok=False, error=detail, message=exc.message, path=getattr(exc, "path", None))
        return result
    result.update(ok=True, type=msg.type, **{"class": type(msg).__name__})
    if roundtrip:
        again = json.loads(encode_frame(msg))
        diff = first_difference(json.loads(frame.text), again)
        result["roundtrip"] = diff is None
        if diff is not None:
            result["roundtrip_difference"] = diff
    return result


def _line(r: dict[str, Any]) -> str:
    if "skipped" in r:
        return f"{r['label']}: skipped: {r['skipped']}"
    if not r["ok"]:
        return f"{r['label']}: INVALID: {r['error']}"
    text = f"{r['label']}: {r['type']}"
    if "class" in r:
        text += f" ({r['class']})"
    if r.get("roundtrip") is False:
        text += f"; DOES NOT ROUND-TRIP: {r.get('roundtrip_difference', 'bytes differ')}"
    elif r.get("roundtrip"):
        text += "; round-trips"
    return text


def run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    frames = read_frames(path, args.sender)
    results = [check_frame(f, roundtrip=args.roundtrip) for f in frames]
    invalid = sum(1 for r in results if not r["ok"])
    mismatched = sum(1 for r in results if r.get("roundtrip") is False)
    skipped = sum(1 for r in results if "skipped" in r)
    summary = {
        "frames": len(results),
        "valid": len(results) - invalid - skipped,
        "invalid": invalid,
        "skipped": skipped,
        "not_round_tripping": mismatched if args.roundtrip else None,
    }
    if args.json:
        print(json.dumps({"file": str(path), "frames": results, "summary": summary}, indent=1))
    else:
        for r in results:
            print(_line(r))
        tail = f", {mismatched} not round-tripping" if args.roundtrip else ""
        print(
            f"{path}: {len(results)} frames, {summary['valid']} valid, {invalid} invalid"
            f", {skipped} skipped{tail}"
        )
    return 1 if invalid or mismatched else 0
