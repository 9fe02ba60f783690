"""HTTP wiring of the classic services (``ROUTE_MODULES`` entry ``jibo_cloud.rest.routes``).

- ``POST /``: every operation of every service, by ``X-Amz-Target`` (:mod:`.dispatch`).
- ``PUT /upload/{kind}[/{id}]``: bodies for the upload URLs the services hand out
  (:mod:`.uploads`).
- ``GET /media/{path}``, ``/updates/{id}/package``, ``/backups/{id}``, ``/uploads/{id}``:
  stored bodies, byte-exact.
- The notification socket: ``sockets.token_handler`` (:mod:`jibo_cloud.notify`).

Behind a proxy, ``x-forwarded-host``/``x-forwarded-proto`` are believed only when
``config.trust_forwarded`` is set; they decide the URLs we hand out and the ``host`` the SigV4
check uses (the robot signed the name it dialled, not the proxy's upstream name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from quart import Response, request
from quart_trio import QuartTrio
from werkzeug.exceptions import RequestEntityTooLarge

from jibo_cloud.app import NOTIFICATION_HOST_PREFIX
from jibo_cloud.notify import open_hub
from jibo_cloud.rest import uploads
from jibo_cloud.rest.dispatch import HttpAnswer, HttpCall, dispatch, error_answer, max_body
from jibo_cloud.rest.models import load_models
from jibo_cloud.rest.services import all_handlers
from jibo_cloud.rest.services.notification import handlers as notification_handlers
from jibo_cloud.runtime import Runtime

#: ``app.extensions`` key under which the :class:`NotificationHub` is published.
NOTIFICATIONS_EXTENSION = "jibo_notifications"


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


def to_response(answer: HttpAnswer) -> Response:
    return Response(answer.body, status=answer.status, headers=dict(answer.headers))


def is_notification_socket(scope: Mapping[str, Any]) -> bool:
    """``api-socket.*`` and a single path segment: exactly what app.py's router sends to the
    token handler for that host (any other ``api-socket.*`` path is its 404)."""
    if scope.get("type") != "websocket":
        return False
    path = str(scope.get("path", ""))
    if path.count("/") != 1 or len(path) < 2:
        return False
    for name, value in scope.get("headers", ()):
        if name == b"host":
            return bytes(value).lower().startswith(NOTIFICATION_HOST_PREFIX.encode())
    return False


def _serve_notification_sockets_below_quart(app: QuartTrio, hub: Any) -> None:
    """Route ``api-socket.*/{token}`` to :meth:`NotificationHub.serve_asgi` before Quart.

    10,000 idle robots hold these all day; below Quart each costs ~22 KiB instead of ~40 KiB
    (``bench/sockets.py``). Other hosts (a bare IP) still reach ``hub.handle`` through the
    socket router in app.py. Quart documents wrapping ``app.asgi_app`` for middleware.
    """
    inner = app.asgi_app

    async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
        if is_notification_socket(scope):
            await hub.serve_asgi(scope, receive, send)
        else:
            await inner(scope, receive, send)

    app.asgi_app = asgi_app  # type: ignore[method-assign]


def register(app: QuartTrio, runtime: Runtime, sockets: Any) -> None:
    table = load_models()
    hub = open_hub(runtime)
    handlers = {**all_handlers(), **notification_handlers(hub)}
    app.extensions[NOTIFICATIONS_EXTENSION] = hub
    sockets.token_handler = hub.handle
    _serve_notification_sockets_below_quart(app, hub)
    trust = runtime.config.trust_forwarded

    @app.post("/")
    async def rest_call() -> Response:
        headers = {k.lower(): v for k, v in request.headers.items()}
        op = table.find(headers.get("x-amz-target", ""))
        limit = max_body(runtime, op)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return to_response(error_answer(
                "RequestEntityTooLargeException", f"the body is larger than {limit} bytes", 413
            ))  # fmt: skip
        try:
            body = await uploads.read_body()
        except RequestEntityTooLarge:
            return to_response(error_answer(
                "RequestEntityTooLargeException", f"the body is larger than {limit} bytes", 413
            ))  # fmt: skip
        call = HttpCall(
            headers=headers, body=body,
            base_url=request_base_url(headers, request.scheme, trust),
            path=request.path, query=request.query_string.decode("latin-1"),
            host=request_host(headers, trust),
        )  # fmt: skip
        return to_response(await dispatch(runtime, table, handlers, call))

    uploads.register(app, runtime)
