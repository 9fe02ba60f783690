"""``POST /`` for every classic service: X-Amz-Target → validated call → handler → answer.

The HTTP layer (:mod:`jibo_cloud.rest.routes`) turns the Quart request into a
:class:`HttpCall` and the :class:`HttpAnswer` back into a response; everything in between is
here and never touches Quart, so it can be tested and benchmarked on its own.

Authorization: the caller is identified (:mod:`.identity`) and the operation's rule in
:mod:`.policy` is applied before the body is parsed or any handler runs; handlers then check
the resources a call names (loops, robots, media, accounts).

Every failure is an AWS-JSON error (PROTOCOL.md §2.1): body ``{"__type", "message"}``, header
``x-amzn-ErrorType``, and a 4xx/5xx status. Unknown targets, malformed JSON, wrong types,
missing members and oversized bodies are 4xx; storage outages are a retryable 503
``ServiceUnavailableException``; a bug is a 500 ``InternalFailure`` whose message never
contains a stack trace (the traceback goes to the log).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

import attrs

from jibo_cloud import metrics, sigv4
from jibo_cloud.access import charge_principal
from jibo_cloud.diagnostics import note_rest_call
from jibo_cloud.errors import ServiceError, StorageUnavailable
from jibo_cloud.rest.context import NOBODY, Call, Caller, Handler, caller_principal
from jibo_cloud.rest.generic import generic_handler
from jibo_cloud.rest.identity import identify, unsigned
from jibo_cloud.rest.models import ModelTable, Operation, conform, validate
from jibo_cloud.rest.policy import refusal, rule_for
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import Conflict

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/x-amz-json-1.1"
#: The headers of every successful answer: one shared mapping, so the ASGI layer can send
#: bytes it encoded once (identity check) instead of encoding them per request.
JSON_HEADERS: Mapping[str, str] = {"Content-Type": CONTENT_TYPE}


@attrs.frozen
class HttpCall:
    """One ``POST /`` as received. ``headers`` have lower-case names."""

    headers: Mapping[str, str]
    body: bytes
    base_url: str
    path: str = "/"
    query: str = ""
    #: The ``Host`` the robot signed (the forwarded one behind a trusted proxy).
    host: str = ""


@attrs.frozen
class HttpAnswer:
    status: int
    body: bytes
    headers: Mapping[str, str]


def error_answer(code: str, message: str, status: int) -> HttpAnswer:
    body = json.dumps({"__type": code, "message": message}).encode()
    return HttpAnswer(status, body, {"Content-Type": CONTENT_TYPE, "x-amzn-ErrorType": code})


def json_answer(value: Any) -> HttpAnswer:
    body = json.dumps(value, separators=(",", ":")).encode()
    return HttpAnswer(200, body, JSON_HEADERS)


def _header_value(raw: str, shape: Mapping[str, Any], name: str) -> Any:
    kind = shape.get("t", "string")
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ServiceError("ValidationException", f"header {name} must be true or false")
        return raw.lower() == "true"
    if kind in ("long", "integer"):
        try:
            return int(raw)
        except ValueError:
            raise ServiceError("ValidationException", f"header {name} must be a number") from None
    return raw


def _payload_input(op: Operation, headers: Mapping[str, str]) -> dict[str, Any]:
    """Header-bound members of a binary-payload operation (``Media.Create`` …)."""
    assert op.input is not None
    values: dict[str, Any] = {}
    for name, member in op.input.get("m", {}).items():
        location, header = member.get("loc"), str(member.get("ln", "")).lower()
        if location == "header" and header in headers:
            values[name] = _header_value(headers[header], member, header)
        elif location == "headers":
            prefix = header
            found = {k[len(prefix) :].lstrip("-"): v for k, v in headers.items()
                     if k.startswith(prefix)}  # fmt: skip
            if found:
                values[name] = found
    for name in op.input.get("r", ()):
        if name != op.payload_member and values.get(name) is None:
            header = op.input["m"][name].get("ln", name)
            raise ServiceError("ValidationException", f"{name} (header {header}) is required")
    return values


def _json_input(op: Operation, body: bytes) -> dict[str, Any]:
    if not body.strip():
        value: Any = {}
    else:
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ServiceError(
                "SerializationException", f"the body is not valid JSON: {exc}"
            ) from None
        except RecursionError:
            # json.loads recurses per nesting level; a hostile body can exhaust the stack.
            raise ServiceError(
                "SerializationException", "the body is nested too deeply to be parsed"
            ) from None
    if op.input is None:
        if not isinstance(value, dict):
            raise ServiceError("SerializationException", "the body must be a JSON object")
        return value
    validate(value, op.input)
    return value  # type: ignore[no-any-return]


def authorize(op: Operation, caller: Caller) -> None:
    """The policy table's verdict (:mod:`jibo_cloud.rest.policy`), before any handler runs.

    Raises:
        ServiceError: 403 ``MissingAuthenticationTokenException`` for an unsigned caller,
            ``AccessDeniedException`` for a principal the operation's rule does not name.
    """
    why = refusal(rule_for(op.target), caller.kind)
    if why is None:
        return
    if caller.kind == NOBODY:
        raise unsigned()
    raise ServiceError("AccessDeniedException", why, 403)


def max_body(rt: Runtime, op: Operation | None) -> int:
    """Binary-payload operations take upload-sized bodies; JSON calls the REST cap."""
    if op is not None and op.payload_member is not None:
        return int(rt.config.max_upload_body)
    return int(rt.config.max_rest_body)


async def dispatch(
    rt: Runtime, table: ModelTable, handlers: Mapping[str, Handler], http: HttpCall
) -> HttpAnswer:
    """Answer one ``POST /``; never raises (bugs become a logged 500 ``InternalFailure``).

    The answer is noted for ``jibo-cloud doctor`` (:mod:`jibo_cloud.diagnostics`:
    synchronous, nothing awaited)."""
    seen: list[Caller] = []
    started = time.perf_counter()
    answer = await _dispatch(rt, table, handlers, http, seen)
    op = table.find(http.headers.get("x-amz-target", ""))
    label, code = (
        op.target if op is not None else "unknown",
        answer.headers.get("x-amzn-ErrorType", ""),
    )
    metrics.rest_call(label, answer.status, time.perf_counter() - started, code)
    # Shown only at DEBUG, e.g. for one request whose x-jibo-logging-config asks for it.
    fields = {"target": label, "status": answer.status, "outcome": code or "ok"}
    log.debug("answered %s: %d", label, answer.status, extra=fields)
    note_rest_call(
        rt, http.headers, seen[0] if seen else None, answer.status,
        answer.headers.get("x-amzn-ErrorType", ""), answer.body if answer.status >= 400 else b"",
    )  # fmt: skip
    return answer


async def _dispatch(
    rt: Runtime, table: ModelTable, handlers: Mapping[str, Handler], http: HttpCall,
    seen: list[Caller],
) -> HttpAnswer:  # fmt: skip
    target = http.headers.get("x-amz-target", "")
    try:
        op = table.find(target)
        if op is None:
            if not target:
                raise ServiceError("UnknownOperationException", "missing X-Amz-Target header")
            raise ServiceError("UnknownOperationException", f"unknown operation {target[:200]!r}")
        if len(http.body) > max_body(rt, op):
            raise ServiceError(
                "RequestEntityTooLargeException",
                f"the body is larger than {max_body(rt, op)} bytes",
                413,
            )
        now_ms = rt.now_ms()
        signed = sigv4.SignedRequest(
            method="POST", path=http.path, query=http.query,
            headers={**http.headers, "host": http.host or http.headers.get("host", "")},
            body=http.body,
        )  # fmt: skip
        caller: Caller = await identify(rt, signed, now_s=now_ms / 1000, op=op)
        seen.append(caller)
        principal = caller_principal(caller)
        if principal != "-" and not charge_principal(principal):
            raise ServiceError("ThrottlingException", "too many requests; slow down", 429)
        authorize(op, caller)
        if op.payload_member is not None:
            body = _payload_input(op, http.headers)
        else:
            body = _json_input(op, http.body)
        call = Call(
            op=op, body=body, raw=http.body, headers=http.headers, caller=caller,
            base_url=http.base_url, now_ms=now_ms,
        )  # fmt: skip
        handler = handlers.get(op.target, generic_handler)
        answer = await handler(rt, call)
    except ServiceError as exc:
        return error_answer(exc.code, exc.message, exc.status)
    except StorageUnavailable as exc:
        log.warning("%s: storage unavailable: %s", target, exc)
        return error_answer(
            "ServiceUnavailableException", "storage is temporarily unavailable; retry", 503
        )
    except Conflict as exc:
        return error_answer("ConflictException", f"conflicting write: {exc}", 409)
    except Exception:
        log.exception("%s failed", target)
        return error_answer("InternalFailure", "the server failed to process the request", 500)
    if op.output is None:
        return json_answer({} if answer is None else answer)
    return json_answer(conform(answer, op.output))
