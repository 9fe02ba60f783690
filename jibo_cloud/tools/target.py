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
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import attrs
import httpx
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
    #: The CA to trust over TLS (``--ca-file``: the one ``jibo-cloud certs init`` made), as
    #: the robot trusts only its own store; None: the system's CAs.
    ca_file: Path | None = None

    @classmethod
    def parse(
        cls, url: str, *, robot_hosts: bool = False, ca_file: str | Path | None = None
    ) -> Target:
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
        return cls(
            scheme=scheme,
            host=parts.hostname,
            port=port,
            robot_hosts=robot_hosts,
            ca_file=Path(ca_file) if ca_file else None,
        )

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

    def server_name(self, service: Service) -> str:
        """The TLS server name (SNI, and the name the certificate is checked against): the
        robot's host name for ``service`` with ``robot_hosts``, else the URL's host."""
        return ROBOT_HOSTS[service] if self.robot_hosts else self.host

    def ssl_context(self) -> ssl.SSLContext:
        """A client context trusting ``ca_file`` (else the system's CAs), checking names.

        Raises:
            ToolError: the CA file cannot be read.
        """
        try:
            return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        except (OSError, ssl.SSLError) as exc:
            raise ToolError(f"--ca-file {self.ca_file}: {exc}") from None

    def http_client(self, service: Service = "api", **kwargs: Any) -> httpx.AsyncClient:
        """The REST client for this target: over TLS it trusts :meth:`ssl_context` and
        presents :meth:`server_name` as SNI (the URL keeps the address to connect to)."""
        if not self.tls:
            return httpx.AsyncClient(**kwargs)
        transport = _ServerNameTransport(self.server_name(service), verify=self.ssl_context())
        return httpx.AsyncClient(transport=transport, **kwargs)

    def http_url(self, path: str = "/") -> str:
        return self.base_url + path

    def ws_url(self, path: str) -> str:
        return ("wss" if self.tls else "ws") + self.base_url.partition(":")[2] + path


class _ServerNameTransport(httpx.AsyncHTTPTransport):
    """Connects to the URL's address but does TLS for ``server_name`` (httpcore's
    ``sni_hostname`` request extension), as a robot whose hosts file points there would."""

    def __init__(self, server_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._server_name = server_name

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions["sni_hostname"] = self._server_name
        return await super().handle_async_request(request)


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
        tls = trio.SSLStream(tcp, target.ssl_context(), server_hostname=target.server_name(service))
        stream = tls
        # Handshake here, bounded: trio-websocket would wait forever on a refused certificate.
        try:
            with trio.fail_after(connect_timeout):
                await tls.do_handshake()
        except (trio.BrokenResourceError, trio.TooSlowError) as exc:
            await trio.aclose_forcefully(tls)
            refused = certificate_refusal(exc)
            if refused is not None:
                # As the robot refuses a certificate its store does not vouch for.
                raise ToolError(
                    f"{target.base_url}: TLS certificate refused for"
                    f" {target.server_name(service)}: {refused.verify_message}"
                ) from None
            raise ToolError(
                f"{target.base_url}: TLS handshake failed: {exc.__cause__ or 'timed out'}"
            ) from None
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


def certificate_refusal(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed somewhere in ``exc``'s causes, if one did (httpx
    and trio wrap it, and httpx's own message may be empty)."""
    visited: set[int] = set()
    seen: BaseException | None = exc
    while seen is not None and id(seen) not in visited:  # context chains can loop
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return None


def describe_http_error(exc: BaseException, target: Target, service: Service = "api") -> str:
    """One line for a failed HTTP call, naming a refused certificate as such."""
    refused = certificate_refusal(exc)
    if refused is not None:
        return (
            f"TLS certificate refused for {target.server_name(service)}:"
            f" {refused.verify_message} (CERTIFICATE_VERIFY_FAILED)"
        )
    return f"{type(exc).__name__}: {exc}"


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
