"""The hottest paths, as bare ASGI handlers of the router (:mod:`jibo_cloud.router`).

- ``POST /`` (every REST call; ~16 per robot boot): Quart's per-request machinery costs about
  a third of a no-op request on this stack, so :func:`serve_rest` reads the body, runs
  :func:`jibo_cloud.rest.dispatch.dispatch` and answers directly, with the same trace context
  the hub's ``before_request`` hook gives Quart requests (PROTOCOL.md §4.1).
- ``GET /`` and ``HEAD /`` (the robot's connectivity probe, every ~10 s per robot, PROTOCOL.md
  §1): always an empty 204, :func:`serve_probe`.
- ``/{robotToken}`` on ``socket`` hosts (and hosts with no kind): the notification socket,
  :meth:`jibo_cloud.notify.NotificationHub.serve_socket`, a websocket the edge serves itself
  (no ASGI; one per robot, all day; memory per idle socket: docs/rest.md).

:func:`install` puts them in the router's table.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

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
from jibo_cloud.router import TOKEN_PATH, HostKind, Router
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


async def serve_probe(scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
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
    operation = table.find(headers.get("x-amz-target", ""))
    limit = max_body(rt, operation)
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
    # The target as the model table spells it (an unknown one is not echoed into the logs).
    target = headers.get("x-amz-target", "-") if operation is not None else "unknown"
    with trace_scope(attrs.evolve(trace, kind="rest", target=target)):
        answer = await dispatch(rt, table, handlers, call)
    await _answer(send, answer)


def install(
    router: Router, rt: Runtime, hub: NotificationHub, table: ModelTable,
    handlers: Mapping[str, Handler],
) -> None:  # fmt: skip
    """Put the REST calls, the probe and the notification socket in the router's table."""

    rest = functools.partial(serve_rest, rt, table, handlers)
    router.route(None, "POST", "/", rest)
    router.route(None, "GET", "/", serve_probe)
    router.route(None, "HEAD", "/", serve_probe)
    # The edge serves it (jibo_cloud/edge/websocket.py); its Pings go out from the socket's
    # own task while it waits in receive (no keep-alive task per socket).
    socket_kinds = (HostKind.SOCKET, HostKind.ANY)
    router.socket(socket_kinds, TOKEN_PATH, hub.serve_socket, keep_alive=True)
