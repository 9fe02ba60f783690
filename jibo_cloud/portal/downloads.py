"""Who took an update package: noted after each download, shown on the Updates page.

A package URL a robot asked for is signed for that robot (``robot:<name>``,
:func:`jibo_cloud.rest.services.update.package_principal`): the download is noted for it, even
when its household has several robots. A URL signed for a household (``account:<id>``: one
minted before robots had their own, or an owner's) is noted for the household's robot when it
has exactly one, else for the household with no robot name (the page then says "a robot of"
its owner). Noting never gets in the download's way: any failure is logged and dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from jibo_cloud.rest.signed_urls import PRINCIPAL, parse_query
from jibo_cloud.runtime import Runtime

log = logging.getLogger(__name__)
_ACCOUNT = "account:"
_ROBOT = "robot:"


async def note_update_download(rt: Runtime, update_id: str, scope: dict[str, Any]) -> None:
    """Record that the verified URL in ``scope`` fetched ``update_id`` in full.

    Called only after the body was sent, so the URL's signature was already checked.
    """
    try:
        principal = parse_query(bytes(scope.get("query_string", b""))).get(PRINCIPAL, "")
        if principal.startswith(_ROBOT):
            robot = await rt.storage.find_robot(principal[len(_ROBOT) :])
            if robot is None:
                return  # removed since its URL was minted
            account_id, name = robot.account_id, robot.name
        elif principal.startswith(_ACCOUNT):
            account_id = principal[len(_ACCOUNT) :]
            robots = await rt.storage.list_robots(account_id)
            name = robots[0].name if len(robots) == 1 else ""
        else:
            return  # the operator's own URL, or nobody's: not a robot taking it
        await rt.storage.record_update_download(update_id, account_id, name, now=rt.now_ms())
    except Exception as exc:  # never the download's problem
        log.warning("update download not recorded: %s", type(exc).__name__)
