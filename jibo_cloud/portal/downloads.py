"""Who took an update package: noted after each download, shown on the Updates page.

A package URL is signed for the robot's household (``account:<id>``, PROTOCOL.md §2.4), not
for one robot. The download is noted for the household's robot when it has exactly one (the
usual case), else for the household with no robot name (the page then says "a robot of" its
owner). Noting never gets in the download's way: any failure is logged and dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from jibo_cloud.rest.signed_urls import PRINCIPAL, parse_query
from jibo_cloud.runtime import Runtime

log = logging.getLogger(__name__)
_ACCOUNT = "account:"


async def note_update_download(rt: Runtime, update_id: str, scope: dict[str, Any]) -> None:
    """Record that the verified URL in ``scope`` fetched ``update_id`` in full.

    Called only after the body was sent, so the URL's signature was already checked.
    """
    try:
        principal = parse_query(bytes(scope.get("query_string", b""))).get(PRINCIPAL, "")
        if not principal.startswith(_ACCOUNT):
            return  # the operator's own URL, or nobody's: not a robot taking it
        account_id = principal[len(_ACCOUNT) :]
        robots = await rt.storage.list_robots(account_id)
        name = robots[0].name if len(robots) == 1 else ""
        await rt.storage.record_update_download(update_id, account_id, name, now=rt.now_ms())
    except Exception as exc:  # never the download's problem
        log.warning("update download not recorded: %s", type(exc).__name__)
