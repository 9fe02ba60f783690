"""Room to store a body: the household's quota (507) and the disk's free-space watermark (503).

Checked before a body is accepted and again while it streams in (:mod:`.uploads`), and by the
``POST /`` handlers that store a binary payload (``Media.Create``, ``Key.ShareBinary``,
``Log.PutBinary``) through :func:`require_room`. The point is to answer with AWS JSON *before*
the disk is full: a full disk fails SQLite's WAL, every other household's writes and the
logs, not just the upload that filled it.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from jibo_cloud.errors import ServiceError
from jibo_cloud.runtime import Runtime

log = logging.getLogger(__name__)


def disk_full(root: Path, min_free: int, incoming: int) -> ServiceError | None:
    """503 ``ServiceUnavailableException`` when storing ``incoming`` more bytes under ``root``
    would leave less than ``min_free`` bytes free; None when there is room."""
    free = shutil.disk_usage(root).free
    if free - incoming >= min_free:
        return None
    log.warning("write refused: the disk is nearly full (%d bytes free)", free)
    return ServiceError(
        "ServiceUnavailableException", "the server's disk is nearly full; retry later", 503
    )


def over_quota(quota: int, used: int, incoming: int) -> ServiceError | None:
    """507 ``InsufficientStorageException`` when ``used + incoming`` exceeds ``quota``."""
    if used + incoming <= quota:
        return None
    return ServiceError(
        "InsufficientStorageException",
        f"the household's storage quota ({quota} bytes) is used up",
        507,
    )


async def require_room(rt: Runtime, account_id: str | None, incoming: int) -> None:
    """Raise the 507/503 :class:`ServiceError` unless ``incoming`` bytes may be stored for
    ``account_id`` (None: an operator's write, no household quota), counting what the
    household's bodies in flight hold (:mod:`jibo_cloud.reservations`).

    Raises:
        ServiceError: 507 over the household quota, 503 below the free-disk watermark.
    """
    config = rt.config
    if account_id:
        used = await rt.storage.household_usage(account_id) + rt.reserved.held(account_id)
        refusal = over_quota(config.household_quota, used, incoming)
        if refusal is not None:
            raise refusal
    refusal = disk_full(rt.blobs.root, config.min_free_disk, incoming)
    if refusal is not None:
        raise refusal


@asynccontextmanager
async def room(rt: Runtime, account_id: str | None, incoming: int) -> AsyncIterator[None]:
    """:func:`require_room`, then hold ``incoming`` bytes for the household until the block
    (write the blob, store its record) ends: a concurrent body sees them as taken."""
    await require_room(rt, account_id, incoming)
    if not account_id:
        yield
        return
    with rt.reserved.hold(account_id, incoming):
        yield
