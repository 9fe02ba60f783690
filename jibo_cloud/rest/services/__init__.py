"""Operation handlers, one module per service; :func:`all_handlers` joins their tables."""

from __future__ import annotations

from jibo_cloud.rest.context import Handler


def all_handlers() -> dict[str, Handler]:
    """Every handled target (``Prefix.WireName``) → handler. The rest go to generic.py."""
    from jibo_cloud.rest.services import (
        account,
        backup,
        key,
        log,
        loop,
        media,
        person,
        robot,
        settings,
        update,
    )

    table: dict[str, Handler] = {}
    for module in (account, backup, key, log, loop, media, person, robot, settings, update):
        table.update(module.HANDLERS)
    return table
