"""What an operator watches: Prometheus metrics, and tiny functions that record them.

The metric objects live in one :class:`prometheus_client.CollectorRegistry` of this module
(:data:`REGISTRY`), not passed around on the runtime like the rest of the server's state
(STYLE.md): a counter is process-wide by nature, every call site would otherwise need the
runtime only to count, and the recording functions below must stay cheap enough for the
hottest paths (a REST call, a storage query, an audio turn's stages): measured with
``timeit`` on the 2-core EPYC under load average 5 (2026-12-05), a storage timing costs about
4 µs, a REST call's record about 6 µs, a socket count about 2 µs; label sets that are fixed are
bound once.

Served by :mod:`jibo_cloud.operator_port` on the operator port (``/metrics``) together with
``/healthz`` and ``/readyz``. With ``serve --workers N`` each worker process has its own
registry and its own operator port (docs/operators.md "Metrics").

Labels are bounded on purpose (a label value per robot or per request would grow the
registry without end): socket kinds, stage names, outcome words, REST targets of the
model table (unknown targets are counted as ``unknown``), error codes of the protocol.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)  # resident memory, CPU seconds, open files
PlatformCollector(registry=REGISTRY)

#: Seconds; from a 1 ms storage query to a 30 s turn.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

#: Socket kinds (``hub``: ``/v1/listen`` and ``/v1/proactive``; ``notification``: the robot's
#: ``api-socket`` connection).
SOCKET_KINDS = ("hub", "notification")
#: Stages of a hub transaction: speech recognition, the parser (NLU), the skill, the whole turn.
STAGES = ("asr", "parser", "skill", "total")

OPEN_SOCKETS = Gauge(
    "jibo_open_sockets", "Open websocket connections by kind", ["kind"], registry=REGISTRY
)
TRANSACTIONS = Counter(
    "jibo_transactions",
    "Hub transactions by type (listen, proactive) and outcome (ok, error code, cancelled)",
    ["type", "outcome"],
    registry=REGISTRY,
)
STAGE_SECONDS = Histogram(
    "jibo_stage_seconds",
    "Latency of each stage of a hub transaction",
    ["stage"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
REST_CALLS = Counter(
    "jibo_rest_calls", "REST calls (POST /) by target and HTTP status", ["target", "status"],
    registry=REGISTRY,
)  # fmt: skip
REST_SECONDS = Histogram(
    "jibo_rest_seconds", "Latency of REST calls (POST /), whole answer",
    buckets=_LATENCY_BUCKETS, registry=REGISTRY,
)  # fmt: skip
STORAGE_SECONDS = Histogram(
    "jibo_storage_seconds",
    "Latency of storage operations by backend (sqlite, postgres, folder, s3) and operation",
    ["backend", "op"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
STORAGE_FAILURES = Counter(
    "jibo_storage_failures", "Storage operations that failed, by backend and operation",
    ["backend", "op"], registry=REGISTRY,
)  # fmt: skip
ERRORS = Counter(
    "jibo_errors",
    "Errors answered to robots, by protocol error code (REST __type, hub ERROR code)",
    ["code"],
    registry=REGISTRY,
)
RECOGNIZER_QUEUE = Gauge(
    "jibo_recognizer_queue_depth",
    "Speech decodes waiting for a decoder (embedded recogniser)",
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "jibo_notifications",
    "Notifications by how they reached the robot (local, pubsub, queue) or were kept",
    ["path"],
    registry=REGISTRY,
)

WAKEUPS = Counter(
    "jibo_notification_wakeups",
    "LISTEN/NOTIFY wake-ups received from other server instances (each reads the queue)",
    registry=REGISTRY,
)

_SOCKETS = {kind: OPEN_SOCKETS.labels(kind) for kind in SOCKET_KINDS}
_STAGES = {stage: STAGE_SECONDS.labels(stage) for stage in STAGES}


# --------------------------------------------------------------------------- recording


def socket_opened(kind: str) -> None:
    """A websocket of ``kind`` (``hub``, ``notification``) was admitted."""
    _SOCKETS[kind].inc()


def socket_closed(kind: str) -> None:
    """A websocket of ``kind`` ended (whatever the reason)."""
    _SOCKETS[kind].dec()


@contextmanager
def open_socket(kind: str) -> Iterator[None]:
    """Count a socket of ``kind`` as open for the block's duration."""
    socket_opened(kind)
    try:
        yield
    finally:
        socket_closed(kind)


def transaction_done(kind: str, outcome: str) -> None:
    """A hub transaction of ``kind`` (``listen``, ``proactive``) ended with ``outcome``
    (``ok``, a §4 error code such as ``ASR`` or ``TIMEOUT``, ``cancelled``)."""
    TRANSACTIONS.labels(kind, outcome).inc()


def observe_stage(stage: str, seconds: float) -> None:
    """How long ``stage`` (``asr``, ``parser``, ``skill``, ``total``) of one turn took."""
    _STAGES[stage].observe(seconds)


@contextmanager
def timed_stage(stage: str) -> Iterator[None]:
    """Observe the block's duration as ``stage`` (also when it raises)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        _STAGES[stage].observe(time.perf_counter() - start)


def rest_call(target: str, status: int, seconds: float, error_code: str = "") -> None:
    """One ``POST /`` answered: its target (``unknown`` when the model table does not know
    it: the label stays bounded), status, duration and error code, if any."""
    REST_CALLS.labels(target, str(status)).inc()
    REST_SECONDS.observe(seconds)
    if error_code:
        ERRORS.labels(error_code).inc()


def error(code: str) -> None:
    """An error answered to a robot (a hub ``ERROR`` code, a blob route's refusal)."""
    ERRORS.labels(code).inc()


_storage_children: dict[tuple[str, str], Any] = {}


def _storage_child(backend: str, op: str) -> Any:
    child = _storage_children.get((backend, op))
    if child is None:
        child = _storage_children[(backend, op)] = STORAGE_SECONDS.labels(backend, op)
    return child


def observe_storage(backend: str, op: str, seconds: float, *, failed: bool = False) -> None:
    """One storage operation (``read``, ``write``, ``blob_put``, ``blob_get`` …)."""
    _storage_child(backend, op).observe(seconds)
    if failed:
        STORAGE_FAILURES.labels(backend, op).inc()


class timed_storage:
    """Observe the block as one storage operation; an exception counts it as failed (a
    cancellation is not the store's failure and is not observed). A class rather than a
    generator context manager: it wraps every database call, so it is kept to a few µs."""

    __slots__ = ("_backend", "_op", "_start")

    def __init__(self, backend: str, op: str) -> None:
        self._backend = backend
        self._op = op
        self._start = 0.0

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None or issubclass(kind, Exception):
            failed = kind is not None
            observe_storage(self._backend, self._op, time.perf_counter() - self._start,
                            failed=failed)  # fmt: skip


def recognizer_queue(depth: int) -> None:
    """Decodes waiting now (set by the recogniser when it queues or starts one)."""
    RECOGNIZER_QUEUE.set(depth)


def notification(path: str) -> None:
    """A notification reached its robot by ``path`` (``local``: this process held the socket;
    ``pubsub``: another instance, woken by LISTEN/NOTIFY; ``queue``: picked up by polling)."""
    NOTIFICATIONS.labels(path).inc()


def notification_wakeup() -> None:
    """Another instance woke this one (PostgreSQL ``NOTIFY``); the queue is read next."""
    WAKEUPS.inc()


def exposition() -> tuple[bytes, str]:
    """The registry in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE
