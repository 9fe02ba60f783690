"""The operator port: ``/metrics`` (Prometheus), ``/healthz`` (alive), ``/readyz`` (ready).

Why a separate port rather than routes behind the operator principal on the robots' port:
Prometheus and load-balancer health checks cannot sign SigV4 requests, the robots' port faces
the internet (its rate limits and host routing would apply to scrapes), and an operator port
that listens on loopback or a private network by default (``JIBO_METRICS_HOST``) exposes
nothing to robots or strangers. It is off unless ``--metrics-port``/``JIBO_METRICS_PORT`` is
set; with ``serve --workers N`` worker *k* listens on ``port + k`` (each process has its own
counters, docs/operators.md "Metrics").

- ``GET /healthz``: 200 ``ok`` while the process's event loop answers (liveness: restart it
  when this fails).
- ``GET /readyz``: 200 when the database answers and has every migration this code knows,
  the blob store answers (folder writable, bucket reachable), a speech recogniser is loaded
  and no shutdown has started; else 503. The body is JSON naming each check, so an operator
  sees which one failed. Each check has a 2 s deadline.
- ``GET /metrics``: :data:`jibo_cloud.metrics.REGISTRY` in the text format.

A tiny bare-ASGI app on hypercorn's trio worker, like the main server; nothing here touches a
robot's request path.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import hypercorn.config
import hypercorn.trio
import trio

from jibo_cloud import metrics
from jibo_cloud.runtime import Runtime

log = logging.getLogger(__name__)

#: Each readiness check's deadline (seconds).
CHECK_SECONDS = 2.0


async def _check_storage(runtime: Runtime) -> dict[str, str]:
    from jibo_cloud.storage.schema import LATEST_VERSION

    try:
        with trio.fail_after(CHECK_SECONDS):
            version = await runtime.storage.schema_version()
    except trio.TooSlowError:
        return {"storage": "timeout", "migrations": "unknown"}
    except Exception as exc:  # any failure to answer is "not ready", named by its kind
        return {"storage": f"unreachable ({type(exc).__name__})", "migrations": "unknown"}
    migrated = "ok" if version == LATEST_VERSION else f"at {version} of {LATEST_VERSION}"
    return {"storage": "ok", "migrations": migrated}


async def _check_blobs(runtime: Runtime) -> str:
    if runtime.blobs is None:
        return "missing"
    try:
        with trio.fail_after(CHECK_SECONDS):
            await runtime.blobs.check()
    except trio.TooSlowError:
        return "timeout"
    except Exception as exc:  # StorageUnavailable, or anything else: not ready
        return f"unreachable ({type(exc).__name__})"
    return "ok"


def _check_recognizer(runtime: Runtime) -> str:
    from jibo_cloud.services import NoRecognizer

    recognizer = runtime.recognizer
    if isinstance(recognizer, NoRecognizer):
        return "none configured"
    ready = getattr(recognizer, "ready", None)
    if callable(ready) and not ready():
        return "loading"
    return "ok"


async def readiness(runtime: Runtime) -> tuple[bool, dict[str, str]]:
    """Each check's result (``ok`` or what is wrong) and whether they all passed."""
    checks: dict[str, str] = {}
    checks.update(await _check_storage(runtime))
    checks["blobs"] = await _check_blobs(runtime)
    checks["recognizer"] = _check_recognizer(runtime)
    checks["shutdown"] = "started" if runtime.shutting_down.is_set() else "ok"
    return all(v == "ok" for v in checks.values()), checks


def _sample_gauges(runtime: Runtime) -> None:
    """Gauges read at scrape time from the objects that know them."""
    depth = getattr(runtime.recognizer, "queue_depth", None)
    if callable(depth):
        metrics.recognizer_queue(int(depth()))


async def _answer(send: Any, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()),
               (b"content-length", str(len(body)).encode())]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def operator_app(runtime: Runtime) -> Any:
    """The ASGI app of the operator port for ``runtime``."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path, method = scope.get("path", ""), scope.get("method", "")
        if method not in ("GET", "HEAD"):
            await _answer(send, 405, b"method not allowed\n", "text/plain")
        elif path == "/healthz":
            await _answer(send, 200, b"ok\n", "text/plain")
        elif path == "/readyz":
            ready, checks = await readiness(runtime)
            body = json.dumps({"ready": ready, "checks": checks}).encode() + b"\n"
            await _answer(send, 200 if ready else 503, body, "application/json")
        elif path == "/metrics":
            _sample_gauges(runtime)
            body, content_type = metrics.exposition()
            await _answer(send, 200, body, content_type)
        else:
            await _answer(send, 404, b"not found: /metrics, /healthz, /readyz\n", "text/plain")

    return app


async def serve_operator_port(
    runtime: Runtime,
    port: int,
    host: str = "127.0.0.1",
    *,
    task_status: trio.TaskStatus[list[str]] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve the operator port until cancelled; ``task_status`` gets the bound addresses
    (``["http://127.0.0.1:9090"]``; port 0 picks a free one)."""
    hc = hypercorn.config.Config()
    hc.bind = [f"{host}:{port}"]
    hc.accesslog = None
    hc.errorlog = logging.getLogger("hypercorn.error")
    hc.keep_alive_timeout = 30
    never = trio.Event()
    await hypercorn.trio.serve(
        operator_app(runtime), hc, shutdown_trigger=never.wait, task_status=task_status
    )
