"""Logging with the robot's trace context, and without secrets.

PROTOCOL.md §4.1: ``x-jibo-transid``, ``x-jibo-robotid`` and ``x-jibo-logging-config`` are
parsed for every socket and request and carried into the logs, with the client address
(by :mod:`jibo_cloud.clientaddr`'s rule: ``x-forwarded-for`` only from trusted proxies, read
from the right). The context lives in a :class:`contextvars.ContextVar`, which trio copies
into each task, so every line a connection's tasks log carries that connection's ids without
passing them around.

Format: JSON lines (:class:`JsonFormatter`, one object per record: ``time``, ``level``,
``logger``, ``msg``, and ``transID``, ``robotID``, ``client``, ``instance``, ``kind``, ``target``,
``outcome`` when known) by default when standard error is not a terminal (a service manager,
a container, a pipe), the classic one-line text on a terminal; ``JIBO_LOG_FORMAT=json|text``
decides otherwise. The standard library's logging is kept (every module already logs through
it, and the per-request levels are a :class:`logging.Filter`); structlog would only wrap it.

Privacy: :class:`RedactingFormatter` masks bearer tokens, JWTs, SigV4 signatures and
``secretAccessKey``-like values in the whole formatted line (message, exception text,
traceback and stack), as a last line of defence; code should not log them in the first
place. :class:`RedactingFilter` (the message only) stays for handlers configured elsewhere.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs

from jibo_cloud.clientaddr import choose_client

LOGGER_NAME = "jibo_cloud"


@attrs.frozen
class TraceContext:
    """The trace headers of one socket or request (PROTOCOL.md §4.1)."""

    trans_id: str = "unknown"
    robot_id: str = "unknown"
    client: str = "-"
    #: The socket or request kind (``hub``, ``notification``, ``rest``, ``blob`` …) and its
    #: target (a REST ``X-Amz-Target``, a hub path): set by the code that opens the scope.
    kind: str = "-"
    target: str = "-"
    #: Per-request log levels, ``{namespace: level}`` from ``x-jibo-logging-config``.
    levels: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_headers(
        cls,
        headers: Mapping[str, str],
        peer: str | None,
        *,
        trust_forwarded: bool,
        trusted_proxies: tuple[str, ...] = (),
        kind: str = "-",
        target: str = "-",
        robot_fallback: str | None = None,
    ) -> TraceContext:
        """Parse the trace headers; malformed values fall back to the spec's defaults.

        The client is :func:`jibo_cloud.clientaddr.choose_client` of ``peer`` and
        ``x-forwarded-for`` (``trust_forwarded``/``trusted_proxies``: the config's fields).
        ``kind`` and ``target`` are the caller's; with ``robot_fallback`` (a hub socket's
        token's robot) a missing robot header gives that robot, or ``-`` when it is empty.
        The context is built once (an ``attrs.evolve`` afterwards costs a second build per
        socket).
        """
        levels: dict[str, str] = {}
        raw = headers.get("x-jibo-logging-config")
        if raw:
            try:
                parsed = json.loads(raw)
            except (ValueError, RecursionError):  # a header of "[[[[…" exhausts the stack
                parsed = None
            if isinstance(parsed, dict):
                levels = {str(k): str(v) for k, v in parsed.items() if isinstance(v, str)}
        client = choose_client(
            peer,
            headers.get("x-forwarded-for"),
            trust_forwarded=trust_forwarded,
            trusted_proxies=trusted_proxies,
        )
        robot_id = _clip(headers.get("x-jibo-robotid") or "unknown")
        if robot_fallback is not None and robot_id == "unknown":
            robot_id = robot_fallback or "-"
        return cls(
            trans_id=_clip(headers.get("x-jibo-transid") or "unknown"),
            robot_id=robot_id,
            client=_clip(client),
            kind=kind,
            target=target,
            levels=levels,
        )


def _clip(value: str, limit: int = 128) -> str:
    """Keep header values printable and short: they go into every log line."""
    if not value.isprintable():
        value = "".join(ch if ch.isprintable() else "?" for ch in value)
    return value[:limit]


_NO_TRACE = TraceContext()
_current: contextvars.ContextVar[TraceContext | None] = contextvars.ContextVar(
    "jibo_trace", default=None
)


def current_trace() -> TraceContext:
    return _current.get() or _NO_TRACE


@contextmanager
def trace_fields(**changes: Any) -> Iterator[TraceContext]:
    """The current context with ``changes`` (``kind``, ``target``, ``trans_id`` …) for the
    block: ``with trace_fields(kind="notification"):``."""
    with trace_scope(attrs.evolve(current_trace(), **changes)) as trace:
        yield trace


#: This server process among those sharing the storage (``Runtime.instance_id``), named in
#: every JSON line. Process-wide by nature, set once at start-up (:func:`set_instance`).
_instance = "-"


def set_instance(instance_id: str) -> None:
    """Name this process in every log line (call once the runtime has its instance id)."""
    global _instance
    _instance = _clip(instance_id, 64)


@contextmanager
def trace_scope(trace: TraceContext) -> Iterator[TraceContext]:
    """Make ``trace`` the current context for this task and the tasks it starts."""
    pushed = _enter(trace)
    try:
        yield trace
    finally:
        pop_trace(pushed)


def push_trace(**changes: Any) -> tuple[contextvars.Token[TraceContext | None], bool]:
    """:func:`trace_fields` for a hot path, without a context manager: make the current
    context with ``changes`` current until :func:`pop_trace` of the returned value, in the
    same task (the hub's driver, once per turn, when the transaction's ``transID`` is known)."""
    return _enter(attrs.evolve(current_trace(), **changes))


def _enter(trace: TraceContext) -> tuple[contextvars.Token[TraceContext | None], bool]:
    """Make ``trace`` current (opening the root gate if it asks for levels)."""
    verbose = bool(trace.levels)
    if verbose:
        _open_levels(1)
    return _current.set(trace), verbose


def pop_trace(pushed: tuple[contextvars.Token[TraceContext | None], bool]) -> None:
    """Undo one :func:`push_trace` (the last one first; :func:`trace_scope` undoes its own)."""
    token, verbose = pushed
    if verbose:
        _open_levels(-1)
    _current.reset(token)


@attrs.define
class _RootGate:
    """The root logger's level, kept at the handler's base level so a record below it is
    never built (``log.debug`` on a hot path then costs a level check, not a LogRecord),
    and opened to DEBUG while any request with ``x-jibo-logging-config`` levels is being
    served (:class:`TraceFilter` then lets through only what that request asked for)."""

    base: int | None = None  # None: setup_logging was not called; the root is left alone
    open_scopes: int = 0
    #: The root's level when the first verbose request opened it, put back after the last.
    closed_level: int = logging.INFO


_gate = _RootGate()


def _open_levels(change: int) -> None:
    if _gate.base is None:
        return
    was = _gate.open_scopes
    _gate.open_scopes = max(0, was + change)
    root = logging.getLogger()
    if was == 0 and _gate.open_scopes > 0:
        _gate.closed_level = root.level
        root.setLevel(logging.DEBUG)
    elif was > 0 and _gate.open_scopes == 0:
        root.setLevel(_gate.closed_level)


_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class TraceFilter(logging.Filter):
    """Adds ``trans_id``, ``robot_id`` and ``client`` to records, and applies the per-request
    levels of ``x-jibo-logging-config`` (a namespace set to ``debug`` lets debug lines of that
    logger through for that request only)."""

    def __init__(self, base_level: int = logging.INFO) -> None:
        super().__init__()
        self.base_level = base_level

    def filter(self, record: logging.LogRecord) -> bool:
        trace = current_trace()
        record.trans_id = trace.trans_id
        record.robot_id = trace.robot_id
        record.client = trace.client
        record.trace_kind = trace.kind
        record.trace_target = trace.target
        if trace.levels:
            for namespace, level in trace.levels.items():
                if record.name == namespace or record.name.startswith(namespace + "."):
                    return record.levelno >= _LEVELS.get(level.lower(), logging.INFO)
        return record.levelno >= self.base_level


_SECRET_PATTERNS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1[redacted]"),
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[jwt]"),
    (re.compile(r"(?i)(signature=)[0-9a-f]{16,}"), r"\1[redacted]"),
    # Key-value forms: JSON ("secretAccessKey": "…"), Python reprs ('secretAccessKey': '…'),
    # query and env styles (secret_access_key=…); passwords and tokens alike.
    (
        re.compile(
            r"(?i)([\"']?(?:secret(?:AccessKey|_access_key)?|password|token)[\"']?\s*[:=]\s*"
            r"[\"']?)[^\s\"',}]+"
        ),
        r"\1[redacted]",
    ),
]


#: Every pattern above needs one of these words (lower-cased): checking them first decides
#: whether the substitutions run at all; most lines hold none, and the access log writes one
#: line per request (about 1 µs instead of about 15 µs for a clean line).
_SECRET_WORDS = ("bearer", "eyj", "signature=", "secret", "password", "token")


def redact(text: str) -> str:
    """Mask tokens, JWTs, signatures and secret keys in ``text``."""
    lowered = text.lower()
    if not any(word in lowered for word in _SECRET_WORDS):
        return text
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with :func:`redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose whole output passes through :func:`redact`.

    :class:`RedactingFilter` sees only the message; the exception text, the traceback and
    ``stack_info`` are formatted later, by the formatter, so a token inside an exception's
    message reached the log. Redacting the finished line covers all of
    them. ``formatException``/``formatStack`` results are cached on the record
    (``exc_text``) by the base class; the cache holds the raw text, and every handler using
    this formatter redacts its own copy of the line.
    """

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


#: Fields a record may carry through ``extra=`` that JSON lines keep (anything else passed
#: as ``extra`` stays out: a field reaches the log only when it is known to be safe).
EXTRA_FIELDS = ("outcome", "status", "code", "ms", "kind", "target")
_UNKNOWN = ("", "-", "unknown", None)


def _safe(value: object) -> object:
    """A JSON-ready, redacted value (numbers and booleans as they are)."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, every string redacted before it is encoded.

    Redacting the encoded line would miss secrets whose quotes JSON escaped, so each field is
    redacted on its own (:func:`redact`); unknown trace fields are left out rather than
    written as ``unknown``.
    """

    def __init__(self, *, worker: bool = False) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        created = time.gmtime(record.created)
        line: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", created) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, attr in (("transID", "trans_id"), ("robotID", "robot_id"),
                          ("client", "client"), ("kind", "trace_kind"),
                          ("target", "trace_target")):  # fmt: skip
            value = getattr(record, attr, None)
            if value not in _UNKNOWN:
                line[key] = _safe(value)
        if _instance not in _UNKNOWN:
            line["instance"] = _instance
        for key in EXTRA_FIELDS:
            value = record.__dict__.get(key)
            if value not in _UNKNOWN:
                line[key] = _safe(value)
        if self.worker:
            line["pid"] = record.process
        if record.exc_info:
            record.exc_text = record.exc_text or self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


def log_format(explicit: str | None = None) -> str:
    """``json`` or ``text``: ``explicit``, else ``JIBO_LOG_FORMAT``, else JSON unless standard
    error is a terminal."""
    chosen = (explicit or os.environ.get("JIBO_LOG_FORMAT", "") or "auto").strip().lower()
    if chosen in ("json", "text"):
        return chosen
    if chosen != "auto":
        raise ValueError(f"JIBO_LOG_FORMAT must be json, text or auto, got {chosen!r}")
    return "text" if sys.stderr.isatty() else "json"


def setup_logging(level: str = "INFO", *, worker: bool = False, fmt: str | None = None) -> None:
    """Configure the root handler once: one line per record with the trace ids.

    ``worker``: this process is one of several (``serve --workers``); lines then name the
    process id, so an operator can tell the workers' logs apart. ``fmt``: ``json``, ``text``
    or ``auto`` (see :func:`log_format`).
    """
    handler = logging.StreamHandler()
    formatter: logging.Formatter
    if log_format(fmt) == "json":
        formatter = JsonFormatter(worker=worker)
    else:
        who = "%(name)s pid=%(process)d" if worker else "%(name)s"
        formatter = RedactingFormatter(
            f"%(asctime)s %(levelname)s {who} [%(trans_id)s %(robot_id)s %(client)s] %(message)s"
        )
    handler.setFormatter(formatter)
    handler.addFilter(TraceFilter(logging.getLevelName(level.upper())))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # The root stops records under the base level before they are built; while a request
    # with x-jibo-logging-config levels is served it opens to DEBUG (_RootGate) and the
    # handler's TraceFilter applies the base level, or the level that request asked for.
    base = logging.getLevelName(level.upper())
    _gate.base = base if isinstance(base, int) else logging.INFO
    _gate.closed_level = _gate.base
    root.setLevel(logging.DEBUG if _gate.open_scopes else _gate.base)
    for noisy in ("hypercorn.access", "quart.serving", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
