"""The hottest paths, served as bare ASGI in front of Quart.

- ``POST /`` (every REST call; ~16 per robot boot): Quart's per-request machinery costs about
  a third of a no-op request on this stack, so :func:`serve_rest` reads the body, runs
  :func:`jibo_cloud.rest.dispatch.dispatch` and answers directly, with the same trace context
  the hub's ``before_request`` hook gives Quart requests (PROTOCOL.md §4.1).
- ``GET /`` (the robot's connectivity probe, every ~10 s per robot, PROTOCOL.md §1): always
  an empty 204, answered here for the same reason (app.py's Quart route stays as the
  reference and answers when this module is not installed).
- ``api-socket.*/{token}`` and the same path on hosts mapped to ``socket`` (one per robot,
  all day; the mapping is a dict lookup, :class:`jibo_cloud.app.HostMap`): see
  :meth:`jibo_cloud.notify.NotificationHub.serve_asgi` (~24 KiB per idle socket below Quart,
  ~40 KiB through it; docs/rest.md).

Everything else goes to Quart unchanged. Quart documents wrapping ``app.asgi_app`` for
middleware; that is all :func:`install` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from quart_trio import QuartTrio

from jibo_cloud.app import NOTIFICATION_HOST_PREFIX, HostMap, host_map
from jibo_cloud.logs import TraceContext, trace_scope
from jibo_cloud.notify import NotificationHub
from jibo_cloud.rest.bodies import BodyRefused, ClientGone, read_request_body, send_refusal
from jibo_cloud.rest.context import Handler
from jibo_cloud.rest.dispatch import (
    CONTENT_TYPE,
    JSON_HEADERS,
    HttpAnswer,
    HttpCall,
    dispatch,
    error_answer,
    max_body,
)
from jibo_cloud.rest.models import ModelTable
from jibo_cloud.runtime import Runtime

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def request_host(headers: Mapping[str, str], trust_forwarded: bool) -> str:
    forwarded = headers.get("x-forwarded-host") if trust_forwarded else None
    return (forwarded or headers.get("host", "")).split(",")[0].strip()


def request_base_url(headers: Mapping[str, str], scheme: str, trust_forwarded: bool) -> str:
    """The URL prefix the robot used to reach us. Jibo host names are always https."""
    host = request_host(headers, trust_forwarded)
    if trust_forwarded and headers.get("x-forwarded-proto"):
        scheme = headers["x-forwarded-proto"].split(",")[0].strip()
    if host.split(":")[0].endswith("jibo.com"):
        scheme = "https"
    return f"{scheme}://{host}"


def _headers(scope: Mapping[str, Any]) -> dict[str, str]:
    return {bytes(k).decode("latin-1").lower(): bytes(v).decode("latin-1")
            for k, v in scope.get("headers", ())}  # fmt: skip


def is_notification_socket(
    scope: Mapping[str, Any], headers: Mapping[str, str], hosts: HostMap | None = None
) -> bool:
    """A single path segment on a ``socket`` host: exactly what app.py's router sends to the
    token handler for that host (any other path there is its 404).

    A ``socket`` host is one mapped to ``socket`` in ``hosts``, else an unmapped
    ``api-socket.*`` one; a host mapped to another service never is, whatever its prefix.
    """
    path = str(scope.get("path", ""))
    if path.count("/") != 1 or len(path) <= 1:
        return False
    host = headers.get("host", "")
    service = hosts.service_for(host) if hosts is not None else None
    if service is not None:
        return service == "socket"
    return host.lower().startswith(NOTIFICATION_HOST_PREFIX)


#: The header every successful answer carries, encoded once.
_JSON_HEADER = (b"content-type", CONTENT_TYPE.encode())


async def _answer(send: Send, answer: HttpAnswer) -> None:
    if answer.headers is JSON_HEADERS:
        headers = [_JSON_HEADER]
    else:
        headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def serve_probe(send: Send) -> None:
    """``GET /``: 204, no body (§1: any failure shows "connection lost" on the robot)."""
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def _too_large(limit: int) -> HttpAnswer:
    return error_answer(
        "RequestEntityTooLargeException", f"the body is larger than {limit} bytes", 413
    )


async def serve_rest(
    rt: Runtime, table: ModelTable, handlers: Mapping[str, Handler],
    scope: Mapping[str, Any], receive: Receive, send: Send,
) -> None:  # fmt: skip
    """One ``POST /``: the body (capped), then :func:`dispatch`, then the answer."""
    headers = _headers(scope)
    limit = max_body(rt, table.find(headers.get("x-amz-target", "")))
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        await _answer(send, _too_large(limit))
        return
    try:  # the whole body within body_timeout, else 408 and the connection closed
        body = await read_request_body(rt, receive, limit=limit, time_limit=rt.config.body_timeout)
    except BodyRefused as refused:
        await send_refusal(send, refused)
        return
    except ClientGone:
        return
    trust = rt.config.trust_forwarded
    call = HttpCall(
        headers=headers, body=body,
        base_url=request_base_url(headers, str(scope.get("scheme", "http")), trust),
        path=str(scope.get("path", "/")), query=bytes(scope.get("query_string", b"")).decode(),
        host=request_host(headers, trust),
    )  # fmt: skip
    client = scope.get("client")
    peer = str(client[0]) if client else None
    trace = TraceContext.from_headers(
        headers, peer, trust_forwarded=trust, trusted_proxies=rt.config.trusted_proxies
    )
    with trace_scope(trace):
        answer = await dispatch(rt, table, handlers, call)
    await _answer(send, answer)


def install(
    app: QuartTrio, rt: Runtime, hub: NotificationHub, table: ModelTable,
    handlers: Mapping[str, Handler],
) -> None:  # fmt: skip
    """Put the two fast paths in front of ``app`` (see the module docstring)."""
    inner = app.asgi_app
    hosts = host_map(app)

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        kind = scope.get("type")
        if kind == "http" and scope.get("path") == "/" and scope.get("method") == "POST":
            await serve_rest(rt, table, handlers, scope, receive, send)
        elif kind == "http" and scope.get("path") == "/" and scope.get("method") == "GET":
            await serve_probe(send)
        elif kind == "websocket" and is_notification_socket(scope, _headers(scope), hosts):
            await hub.serve_asgi(scope, receive, send)
        else:
            await inner(scope, receive, send)

    app.asgi_app = asgi_app  # type: ignore[method-assign]
