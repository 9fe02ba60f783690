"""The owner's web portal under ``/portal`` (docs/portal.md).

Server-rendered pages (Jinja2 templates and one plain CSS file shipped in this package; a few
lines of optional script, no build step): sign-in by invite, Home (robots online or not),
Household (loop members as the robot reads them), Photos, Voice history, Settings and, for
operators, Updates. Data comes from the storage (migration 7 adds the portal's tables;
:mod:`jibo_cloud.storage.portal`).

:func:`register` is the ``ROUTE_MODULES`` entry (:mod:`jibo_cloud.app`). This module imports
nothing heavy itself: the command line imports :mod:`jibo_cloud.portal.auth` without Quart.
"""

from __future__ import annotations

from typing import Any

from jibo_cloud.runtime import Runtime


def register(app: Any, runtime: Runtime, sockets: Any) -> None:
    """Mount the blueprint and run the background purge while the app serves."""
    from jibo_cloud.portal.context import Portal
    from jibo_cloud.portal.purge import Purger
    from jibo_cloud.portal.site import build_blueprint

    portal = Portal(runtime)
    # ``sockets`` is the app's Router: JIBO_PORTAL_HOSTS_ONLY keeps /portal off other hosts.
    sockets.portal_hosts_only = runtime.config.portal_hosts_only
    app.register_blueprint(build_blueprint(portal))
    purger = Purger(runtime)

    @app.before_serving  # type: ignore[untyped-decorator]
    async def start_purge() -> None:
        app.nursery.start_soon(purger.run)

    @app.after_serving  # type: ignore[untyped-decorator]
    async def stop_purge() -> None:
        purger.stop()
