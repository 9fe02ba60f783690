"""The Quart-trio application: one port answering all three robot host names (PROTOCOL.md §1).

:func:`create_app` builds it for a runtime. Every request first meets the one router
(:mod:`jibo_cloud.router`): a table from (host kind, method, path) to a handler, filled by the
route modules (:data:`ROUTE_MODULES`, each ``register(app, runtime, router)``). What the table
does not hold goes to Quart: ``GET /healthcheck`` → ``ok``, uploads and downloads, the portal,
and Quart's own errors, always AWS JSON (:func:`install_json_errors`). Websockets the router
sends through Quart arrive at one catch-all route, which runs the handler the router chose.
"""

from __future__ import annotations

import importlib
import json
import logging

from quart import Response
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException
from werkzeug.routing import WebsocketMismatch

from jibo_cloud.router import (
    HOST_REFRESH_SECONDS,
    HUB_HOST_PREFIX,
    NOTIFICATION_HOST_PREFIX,
    ASGIHandler,
    HostMap,
    Router,
    no_handler,
)
from jibo_cloud.runtime import Runtime

log = logging.getLogger(__name__)

#: The content type of AWS JSON errors (the same as ``rest.dispatch.CONTENT_TYPE``; app.py
#: cannot import the REST package, which imports this module).
AWS_JSON = "application/x-amz-json-1.1"
#: Where :func:`create_app` leaves the app's :class:`~jibo_cloud.router.Router`.
_ROUTER_EXTENSION = "jibo_cloud.router"

__all__ = [
    "HOST_REFRESH_SECONDS",
    "HUB_HOST_PREFIX",
    "NOTIFICATION_HOST_PREFIX",
    "ROUTE_MODULES",
    "HostMap",
    "create_app",
    "host_map",
    "install_json_errors",
    "router_of",
]


def router_of(app: QuartTrio) -> Router:
    """The :class:`~jibo_cloud.router.Router` :func:`create_app` built for ``app``."""
    router = app.extensions[_ROUTER_EXTENSION]
    assert isinstance(router, Router)
    return router


def host_map(app: QuartTrio) -> HostMap:
    """The :class:`~jibo_cloud.router.HostMap` the app's router reads."""
    return router_of(app).hosts


#: Modules that add routes: each has ``register(app, runtime, router)``.
ROUTE_MODULES: list[str] = [
    "jibo_cloud.hub.routes",
    "jibo_cloud.portal",
    "jibo_cloud.rest.routes",
]


def create_app(runtime: Runtime) -> QuartTrio:
    """Build the app for ``runtime``; dependencies are closed over, never global."""
    app = QuartTrio(__name__)
    app.config["MAX_CONTENT_LENGTH"] = runtime.config.max_upload_body
    quart_asgi: ASGIHandler = app.asgi_app  # type: ignore[assignment]
    router = Router(ping_interval=runtime.config.ping_interval, fallback=quart_asgi)
    app.extensions[_ROUTER_EXTENSION] = router
    # Quart documents wrapping asgi_app for middleware: the router sees every request first
    # (the access middleware, installed last by rest.routes, wraps it in turn).
    app.asgi_app = router  # type: ignore[method-assign,assignment]

    @app.get("/healthcheck")
    async def healthcheck() -> Response:
        return Response("ok", status=200, content_type="text/plain")

    # No websocket reaches Quart: the edge serves the robots' sockets and the router refuses
    # every other upgrade before the app. This rule stays for what werkzeug answers plain HTTP:
    # a path with a rule but another method is 405, not 404 (tests/rest/test_limits.py).
    @app.websocket("/", defaults={"path": ""})
    @app.websocket("/<path:path>")
    async def no_socket(path: str) -> Response:
        return Response(no_handler("/" + path), status=404, content_type="text/plain")

    install_json_errors(app)
    for name in ROUTE_MODULES:
        importlib.import_module(name).register(app, runtime, router)
    return app


#: The AWS error code for each HTTP error Quart raises itself (unknown path, wrong method …).
_HTTP_ERROR_CODES = {
    400: "ValidationException",
    404: "ResourceNotFoundException",
    405: "MethodNotAllowedException",
    408: "RequestTimeoutException",
    413: "RequestEntityTooLargeException",
}


def _json_error(code: str, message: str, status: int) -> Response:
    body = json.dumps({"__type": code, "message": message})
    return Response(body, status=status, content_type=AWS_JSON,
                    headers={"x-amzn-ErrorType": code})  # fmt: skip


def install_json_errors(app: QuartTrio) -> None:
    """Every error Quart answers itself is the AWS JSON shape (PROTOCOL.md §2.1), never HTML.

    Robots parse REST errors as ``{"__type", "message"}``; an HTML page from a 404, 405, 413
    or a bug is noise to them and tells a prober which framework runs here.
    """

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if isinstance(error, WebsocketMismatch):
            # An HTTP request on a path only the websocket catch-all route matches: for the
            # caller that path simply does not exist.
            status = 404
        if status >= 500:
            return _json_error("InternalFailure", "the server failed to process the request", 500)
        code = _HTTP_ERROR_CODES.get(status, "BadRequestException")
        message = "no such resource" if status == 404 else str(error.name or "bad request")
        answer = _json_error(code, message, status)
        if status == 405 and error.get_headers():  # keep Quart's Allow header
            for name, value in error.get_headers():
                if name.lower() == "allow":
                    answer.headers[name] = value
        return answer

    @app.errorhandler(Exception)
    async def internal_error(error: Exception) -> Response:
        log.error("request failed", exc_info=error)
        return _json_error("InternalFailure", "the server failed to process the request", 500)
