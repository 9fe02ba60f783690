"""Flow files: one socket's robot frames and the replies expected, as JSON.

The format is OpenJibo's (``shared/fixtures/openjibo-flows/``), which this project writes too:

.. code-block:: json

    {"name": "…", "session": {"hostName": "neo-hub.jibo.com", "path": "/v1/listen",
                              "kind": "neo-hub-listen", "token": "…"},
     "steps": [{"text": {"type": "LISTEN", …}, "expectedReplyTypes": ["SOS"],
                "expectedReplies": [{"type": "SOS", "jsonSubset": {"data": null}}]},
               {"binary": [79, 103, 103, 83, …]}]}

A step sends ``text`` (a JSON object, or a string sent as it is) or ``binary``: a list of byte
values, ``{"base64": "…"}`` (this project's capture with ``--keep-audio``), or the sanitized
captures' ``{"length": N, "ogg": {…}}``, from which a well-formed page of the same length and
header facts is rebuilt (the voice bytes are gone). ``expectedReplyTypes`` lists the hub's text
frames that answer the step, in order; ``expectedReplies`` gives JSON subsets some of them must
contain. HTTP flows (``kind: "http"``, written by the capture proxy) have steps with
``http: {method, path, headers, body}`` and ``expectedStatus`` / ``expectedJsonSubset``.
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

import attrs

from jibo_cloud.tools.audio import build_page, ogg_facts, opus_head, opus_tags
from jibo_cloud.tools.target import ToolError

HTTP_KIND = "http"


@attrs.define
class ExpectedReply:
    type: str
    json_subset: Any = None


@attrs.define
class FlowStep:
    """One thing the robot sends, and what should answer it."""

    text: Any = None  #: A JSON object (or a raw string) to send as a text frame.
    binary: bytes | None = None
    http: dict[str, Any] | None = None
    expected_types: list[str] | None = None
    expected_replies: list[ExpectedReply] = attrs.field(factory=list)
    expected_status: int | None = None
    expected_json_subset: Any = None

    @property
    def label(self) -> str:
        if self.http is not None:
            headers = {str(k).lower(): v for k, v in (self.http.get("headers") or {}).items()}
            target = headers.get("x-amz-target", "")
            return (
                f"{self.http.get('method', 'POST')} {self.http.get('path', '/')} {target}".strip()
            )
        if self.binary is not None:
            return f"binary {len(self.binary)} bytes"
        if isinstance(self.text, dict):
            return str(self.text.get("type", "?"))
        return "raw text"


@attrs.define
class Flow:
    name: str
    host_name: str | None
    path: str
    kind: str
    token: str | None = attrs.field(default=None, repr=False)
    steps: list[FlowStep] = attrs.field(factory=list)
    source: str = ""


def _binary(value: Any, where: str) -> bytes:
    if isinstance(value, list):
        if not all(isinstance(b, int) and 0 <= b <= 255 for b in value):
            raise ToolError(f"{where}: binary must be a list of byte values 0..255")
        return bytes(value)
    if isinstance(value, dict) and isinstance(value.get("base64"), str):
        try:
            return base64.b64decode(value["base64"], validate=True)
        except binascii.Error:
            raise ToolError(f"{where}: binary.base64 is not base64") from None
    if isinstance(value, dict) and isinstance(value.get("length"), int):
        return rebuild_audio(value, where)
    raise ToolError(f"{where}: binary must be a byte list, {{base64}} or {{length, ogg}}")


def rebuild_audio(meta: dict[str, Any], where: str) -> bytes:
    """Bytes standing in for sanitized audio: the same pages and length, silent payload."""
    length = int(meta["length"])
    pages = (meta.get("ogg") or {}).get("pages") or []
    out = b""
    for page in pages:
        if not isinstance(page, dict):
            raise ToolError(f"{where}: binary.ogg.pages must hold objects")
        if page.get("is_opus_head"):
            head = page.get("opus_head") or {}
            body = opus_head(
                int(head.get("channel_count", 1)),
                int(head.get("pre_skip", 0)),
                int(head.get("input_sample_rate", 16000)),
            )
        elif page.get("is_opus_tags"):
            tags = opus_tags()  # the tags page may also carry the first audio packets
            body = tags + bytes(max(0, int(page.get("body_length", 0)) - len(tags)))
        else:
            body = bytes(int(page.get("body_length", 0)))
        out += build_page(
            body,
            header_type=int(page.get("header_type", 0)),
            granule=int(page.get("granule_position", 0)),
            serial=int(page.get("serial", 1)),
            sequence=int(page.get("page_sequence", 0)),
        )
    if len(out) < length:
        out += bytes(length - len(out))  # trailing bytes the capture counted but did not parse
    return out


def _step(raw: Any, where: str) -> FlowStep:
    if not isinstance(raw, dict):
        raise ToolError(f"{where}: a step must be an object")
    step = FlowStep()
    if raw.get("text") is not None:
        step.text = raw["text"]
    elif raw.get("binary") is not None:
        step.binary = _binary(raw["binary"], where)
    elif isinstance(raw.get("http"), dict):
        step.http = raw["http"]
    else:
        raise ToolError(f"{where}: a step needs text, binary or http")
    types = raw.get("expectedReplyTypes")
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ToolError(f"{where}.expectedReplyTypes: expected a list of strings")
        step.expected_types = list(types)
    for index, reply in enumerate(raw.get("expectedReplies") or []):
        if not isinstance(reply, dict) or not isinstance(reply.get("type"), str):
            raise ToolError(f"{where}.expectedReplies[{index}]: needs a string type")
        step.expected_replies.append(ExpectedReply(reply["type"], reply.get("jsonSubset")))
    if raw.get("expectedStatus") is not None:
        step.expected_status = int(raw["expectedStatus"])
    step.expected_json_subset = raw.get("expectedJsonSubset")
    return step


def parse_flow(doc: Any, source: str = "") -> Flow:
    """Validate a parsed flow document.

    Raises:
        ToolError: the document is not a flow; the message names the JSON path.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        raise ToolError(f"{source}: not a flow file (expected an object with a steps list)")
    session = doc.get("session") or {}
    if not isinstance(session, dict):
        raise ToolError(f"{source}: session must be an object")
    kind = str(session.get("kind") or "neo-hub-listen")
    return Flow(
        name=str(doc.get("name") or Path(source).stem),
        host_name=session.get("hostName"),
        path=str(session.get("path") or ("/" if kind == HTTP_KIND else "/v1/listen")),
        kind=kind,
        token=session.get("token"),
        steps=[_step(s, f"{source}: $.steps[{i}]") for i, s in enumerate(doc["steps"])],
        source=source,
    )


def load_flow(path: Path) -> Flow:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ToolError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ToolError(f"{path}: not JSON: {exc}") from None
    return parse_flow(doc, str(path))


def step_to_json(step: FlowStep, *, keep_audio: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if step.http is not None:
        out["http"] = step.http
        if step.expected_status is not None:
            out["expectedStatus"] = step.expected_status
        if step.expected_json_subset is not None:
            out["expectedJsonSubset"] = step.expected_json_subset
        return out
    if step.binary is not None:
        out["binary"] = (
            {"base64": base64.b64encode(step.binary).decode()}
            if keep_audio
            else ogg_facts(step.binary)
        )
    else:
        out["text"] = step.text
    out["expectedReplyTypes"] = list(step.expected_types or [])
    if step.expected_replies:
        out["expectedReplies"] = [
            {"type": r.type, "jsonSubset": r.json_subset} for r in step.expected_replies
        ]
    return out


def flow_to_json(flow: Flow, *, keep_audio: bool = False) -> dict[str, Any]:
    session: dict[str, Any] = {"hostName": flow.host_name, "path": flow.path, "kind": flow.kind}
    if flow.token is not None:
        session["token"] = flow.token
    return {
        "name": flow.name,
        "session": session,
        "steps": [step_to_json(s, keep_audio=keep_audio) for s in flow.steps],
    }
