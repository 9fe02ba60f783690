"""One long-lived HTTP client per outside service, opened by the runtime and closed with it.

Building an ``httpx.AsyncClient`` costs about 75 ms of CPU (its TLS context) on the trio
thread, where it stalls every socket of the process, and a client per request reuses no
connection. So the runtime keeps one client per outside service (remote speech recognition,
the chat model, and the weather, news and knowledge providers the understanding work adds):
:meth:`ServiceClients.get` builds a service's client the first time it is asked for (the
runtime asks at start-up for the services that are configured) and returns the same one
afterwards; :meth:`ServiceClients.aclose` closes them all at shutdown.

Deadlines are not the client's business: the clients have no httpx timeout, and each caller
bounds its request with a trio cancel scope (``trio.move_on_after`` / ``fail_after``), which
the virtual clock can test and which also covers the time spent reading the answer.

Providers take the client as an argument (``http: httpx.AsyncClient``) and never build one;
a provider built without one (a test, a tool) makes its own once, not per request.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
import httpx

#: Service names the runtime and the providers agree on.
ASR = "asr"
CHAT = "chat"
WEATHER = "weather"
NEWS = "news"
KNOWLEDGE = "knowledge"
CALENDAR = "calendar"

#: Connections kept open per service: enough for the turns a server runs at once.
MAX_KEEPALIVE = 20
#: An idle connection is dropped after this long: below the 5 s keep-alive of common servers
#: (uvicorn, which many model servers use), so we never send on one they are closing.
KEEPALIVE_EXPIRY_SECONDS = 4.0


def new_service_client() -> httpx.AsyncClient:
    """A client for one outside service: no httpx timeout (the caller's cancel scope is the
    deadline), keep-alive connections reused across turns."""
    return httpx.AsyncClient(
        timeout=None,  # noqa: S113 - the deadline is the caller's trio cancel scope (module docs)
        limits=httpx.Limits(
            max_keepalive_connections=MAX_KEEPALIVE, keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS
        ),
        follow_redirects=False,
    )


@attrs.define
class ServiceClients:
    """The registry of per-service clients (see module docs). Not thread-safe: trio thread."""

    #: Builds a client for a service name; tests pass a counting one.
    factory: Callable[[str], httpx.AsyncClient] = lambda _service: new_service_client()
    _clients: dict[str, httpx.AsyncClient] = attrs.field(factory=dict, init=False)
    _closed: bool = attrs.field(default=False, init=False)

    def get(self, service: str) -> httpx.AsyncClient:
        """The client of ``service`` (built on the first call, the same one afterwards).

        Raises:
            RuntimeError: after :meth:`aclose` (a provider outliving the runtime).
        """
        if self._closed:
            raise RuntimeError(f"HTTP clients are closed (asked for {service!r})")
        client = self._clients.get(service)
        if client is None:
            client = self._clients[service] = self.factory(service)
        return client

    @property
    def services(self) -> tuple[str, ...]:
        """The services whose client has been built, in the order they were."""
        return tuple(self._clients)

    async def aclose(self) -> None:
        """Close every client (their pooled connections); later :meth:`get` calls fail."""
        self._closed = True
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.aclose()
