"""HTTP wiring of the classic services (``ROUTE_MODULES`` entry ``jibo_cloud.rest.routes``).

- ``POST /``: every operation of every service, by ``X-Amz-Target`` (:mod:`.dispatch`),
  served below Quart (:mod:`.asgi`).
- ``PUT /upload/{kind}[/{id}]``: bodies for the upload URLs the services hand out
  (:mod:`.uploads`).
- ``GET /media/{path}``, ``/updates/{id}/package``, ``/backups/{id}``, ``/uploads/{id}``:
  stored bodies, byte-exact.
- The notification socket ``/{robotToken}`` on ``socket`` hosts and hosts of no kind, below
  Quart (:mod:`.asgi`, :mod:`jibo_cloud.notify`).

Behind a proxy, ``x-forwarded-host``/``x-forwarded-proto`` are believed only when
``config.trust_forwarded`` is set; they decide the URLs we hand out and the ``host`` the SigV4
check uses (the robot signed the name it dialled, not the proxy's upstream name).

Outermost of all, :mod:`jibo_cloud.access` wraps the whole app (installed last): the access
log and the per-address rate limits see every request and socket, Quart's and the fast
paths' alike.
"""

from __future__ import annotations

from quart_trio import QuartTrio

from jibo_cloud import access
from jibo_cloud.hub.routes import LISTEN_PATHS, PROACTIVE_PATHS
from jibo_cloud.rest import asgi, uploads
from jibo_cloud.rest.models import load_models
from jibo_cloud.rest.services import all_handlers
from jibo_cloud.rest.services.notification import handlers as notification_handlers
from jibo_cloud.router import Router
from jibo_cloud.runtime import Runtime


def register(app: QuartTrio, runtime: Runtime, router: Router) -> None:
    table = load_models()
    hub = runtime.notifications
    handlers = {**all_handlers(), **notification_handlers(hub)}
    asgi.install(router, runtime, hub, table, handlers)
    uploads.register(app, runtime)
    access.install(app, runtime, socket_paths=(*LISTEN_PATHS, *PROACTIVE_PATHS))
