"""Where the cloud under test is, and how to reach it as a robot would.

A robot reaches three host names (PROTOCOL.md §1): ``api.jibo.com`` (REST),
``api-socket.jibo.com`` (notification socket) and ``neo-hub.jibo.com`` (hub). A revival
answers all three on one address. :class:`Target` connects to the address given with
``--url`` and, with ``robot_hosts``, presents the robot's own host names in ``Host`` so the
server's host routing is exercised exactly as a robot does.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Literal
from urllib.parse import urlsplit

import attrs
import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    wrap_client_stream,
)

from jibo_cloud.errors import JiboCloudError

Service = Literal["api", "socket", "hub"]

#: The robot's host name for each service (PROTOCOL.md §1).
ROBOT_HOSTS: dict[Service, str] = {
    "api": "api.jibo.com",
    "socket": "api-socket.jibo.com",
    "hub": "neo-hub.jibo.com",
}

#: Largest frame a tool accepts from a server (the hub's replies are small; audio is robot→hub).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class ToolError(JiboCloudError):
    """A tool cannot do what was asked (bad URL, unreachable server); printed as one line."""


class SocketRejected(ToolError):
    """The server answered a websocket upgrade with an HTTP status instead of accepting it."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"upgrade refused: HTTP {status} {body!r}")
        self.status = status
        self.body = body


@attrs.frozen
class Target:
    """A cloud's address: scheme, host and port, plus which ``Host`` header to present."""

    scheme: str
    host: str
    port: int
    robot_hosts: bool = False

    @classmethod
    def parse(cls, url: str, *, robot_hosts: bool = False) -> Target:
        """Parse ``http(s)://host[:port]`` (``ws``/``wss`` accepted as the same thing).

        Raises:
            ToolError: the URL has another scheme or no host.
        """
        parts = urlsplit(url)
        scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
        if scheme not in ("http", "https") or not parts.hostname:
            raise ToolError(f"--url must look like http://HOST:PORT or https://HOST, got {url!r}")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError as exc:
            raise ToolError(f"--url has a bad port: {url!r}") from exc
        return cls(scheme=scheme, host=parts.hostname, port=port, robot_hosts=robot_hosts)

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def host_header(self, service: Service) -> str:
        """The ``Host`` to present for ``service``: the robot's name or the URL's own."""
        if self.robot_hosts:
            return ROBOT_HOSTS[service]
        default = 443 if self.tls else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"

    def http_url(self, path: str = "/") -> str:
        return self.base_url + path

    def ws_url(self, path: str) -> str:
        return ("wss" if self.tls else "ws") + self.base_url.partition(":")[2] + path


@asynccontextmanager
async def open_socket(
    target: Target,
    service: Service,
    path: str,
    *,
    headers: Sequence[tuple[str, str]] = (),
    host_header: str | None = None,
    connect_timeout: float = 10.0,
) -> AsyncIterator[WebSocketConnection]:
    """A client websocket to ``target`` at ``path``; closed (bounded) on exit.

    Args:
        host_header: overrides the ``Host`` the target would present (replay of a flow file
            presents the flow's own host name).

    Raises:
        SocketRejected: the server answered the upgrade with an HTTP status (raised bare).
        ToolError: the server is unreachable.
    """
    try:
        with trio.fail_after(connect_timeout):
            tcp = await trio.open_tcp_stream(target.host, target.port)
    except (OSError, trio.TooSlowError) as exc:
        raise ToolError(f"cannot connect to {target.base_url}: {exc or 'timed out'}") from None
    stream: trio.SocketStream | trio.SSLStream[trio.SocketStream] = tcp
    if target.tls:
        stream = trio.SSLStream(tcp, ssl.create_default_context(), server_hostname=target.host)
    try:
        async with trio.open_nursery() as nursery:
            try:
                ws = await wrap_client_stream(
                    nursery,
                    stream,
                    host_header or target.host_header(service),
                    path,
                    extra_headers=[(k.encode(), v.encode()) for k, v in headers],
                    message_queue_size=256,
                    max_message_size=MAX_MESSAGE_BYTES,
                )
            except ConnectionRejected:
                raise
            except (HandshakeError, ConnectionClosed, trio.BrokenResourceError) as exc:
                # The server dropped the connection during the handshake. (The path is not
                # named: on the notification socket it is the robot's token.)
                raise ToolError(
                    f"{target.base_url}: websocket handshake failed: {type(exc).__name__}"
                ) from None
            try:
                yield ws
            finally:
                with trio.move_on_after(2, shield=True):
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        # The socket's nursery wraps whatever the caller's block raised; give it back bare so
        # callers can catch their own errors (and ours) without exception-group handling.
        single = sole_exception(group)
        if single is None:
            raise
        if isinstance(single, ConnectionRejected):
            body = (single.body or b"").decode("utf-8", "replace")
            raise SocketRejected(single.status_code, body) from None
        raise single from None


def sole_exception(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The only leaf exception of a (nested) group, or None when there are several."""
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop()
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)
        else:
            leaves.append(exc)
    return leaves[0] if len(leaves) == 1 else None


def bearer(token: str | None) -> list[tuple[str, str]]:
    """The hub's ``Authorization`` header for ``token`` (none when there is no token)."""
    return [("Authorization", f"Bearer {token}")] if token else []
