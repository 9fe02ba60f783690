"""Server processes sharing one database, each known by a lease it keeps renewing.

Why: notification sessions carry the id of the process holding the socket
(``sessions.instance_id``). A process that dies without closing them (kill -9, a lost host)
leaves robots that look online. Before leases, a server closed at start-up every session but
its own, which closed the sessions of every *other* server on the same database; several
independent ``serve`` commands could not share one. Now every process registers a row in
``instances`` (migration 8) with ``lease_until`` and renews it every third of the lease;
whoever renews next after a lease lapsed closes the sessions of that instance (and of
processes that never registered: a release before leases, a worker whose row is gone), and
only those.

The clock is the servers' own (``now_ms``); leases are long (15 s by default) next to the
clock skew of hosts kept by NTP.

All queries go through the storage's :class:`~jibo_cloud.storage.db.Database`, so they run on
SQLite (one host, ``--workers``) and PostgreSQL (several hosts) alike.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage.db import Database, Tx

if TYPE_CHECKING:
    from jibo_cloud.storage import Storage

log = logging.getLogger(__name__)


async def register_instance(
    storage: Storage, instance_id: str, now_ms: int, lease_ms: int, *, host: str = "", pid: int = 0
) -> None:
    """Record (or re-record) ``instance_id`` as live until ``now_ms + lease_ms``."""

    def fn(tx: Tx) -> None:
        tx.execute(
            "INSERT INTO instances (instance_id, host, pid, started, lease_until)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (instance_id) DO UPDATE"
            " SET lease_until = excluded.lease_until, host = excluded.host, pid = excluded.pid",
            (instance_id, host[:200], pid, now_ms, now_ms + lease_ms),
        )

    await _db(storage).run(fn)


async def renew_instance(storage: Storage, instance_id: str, now_ms: int, lease_ms: int) -> bool:
    """Extend the lease; False when the row was gone (another server found it lapsed and
    closed this process's sessions: the caller registers again and says so)."""

    def fn(tx: Tx) -> int:
        tx.execute(
            "UPDATE instances SET lease_until = ? WHERE instance_id = ?",
            (now_ms + lease_ms, instance_id),
        )
        return tx.rowcount()

    return bool(await _db(storage).run(fn))


async def release_instance(storage: Storage, instance_id: str, now_ms: int) -> None:
    """A graceful stop: close what the process still holds and forget its row."""

    def fn(tx: Tx) -> None:
        tx.execute(
            "UPDATE sessions SET closed = ? WHERE closed IS NULL AND instance_id = ?",
            (now_ms, instance_id),
        )
        tx.execute(
            "UPDATE notification_queue SET instance_id = '' WHERE instance_id = ?", (instance_id,)
        )
        tx.execute("DELETE FROM instances WHERE instance_id = ?", (instance_id,))

    await _db(storage).run(fn)


async def close_lapsed(storage: Storage, now_ms: int) -> tuple[list[str], int]:
    """Close the open sessions of every process without a live lease; forget lapsed rows.

    Queued notifications addressed to such a process lose the address (the robot's next
    socket, wherever it opens, reads them by name). Returns the lapsed instance ids and how
    many sessions were closed. Sessions of live instances are never touched.
    """

    def fn(tx: Tx) -> tuple[list[str], int]:
        lapsed = [
            str(row[0])
            for row in tx.execute(
                "SELECT instance_id FROM instances WHERE lease_until < ?", (now_ms,)
            )
        ]
        tx.execute(
            "UPDATE sessions SET closed = ? WHERE closed IS NULL AND instance_id NOT IN"
            " (SELECT instance_id FROM instances WHERE lease_until >= ?)",
            (now_ms, now_ms),
        )
        closed = tx.rowcount()
        tx.execute(
            "UPDATE notification_queue SET instance_id = '' WHERE instance_id <> ''"
            " AND instance_id NOT IN (SELECT instance_id FROM instances WHERE lease_until >= ?)",
            (now_ms,),
        )
        tx.execute("DELETE FROM instances WHERE lease_until < ?", (now_ms,))
        return lapsed, closed

    lapsed, closed = await _db(storage).run(fn)
    return lapsed, int(closed)


async def live_instances(storage: Storage, now_ms: int) -> list[str]:
    """The ids of the processes whose lease has not lapsed."""
    rows = await _db(storage).read(
        lambda tx: tx.execute(
            "SELECT instance_id FROM instances WHERE lease_until >= ? ORDER BY instance_id",
            (now_ms,),
        )
    )
    return [str(row[0]) for row in rows]


def _db(storage: Storage) -> Database:
    return storage.db


async def serve_lease(
    storage: Storage,
    instance_id: str,
    now_ms: Callable[[], int],
    *,
    lease_seconds: float,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Keep ``instance_id``'s lease until cancelled, then release it.

    At start: register, then close the sessions of lapsed processes (only theirs); reports
    how many through ``task_status`` once registered, so the caller serves sockets only
    after its own row exists. Then every third of the lease: renew, and close what lapsed
    since. A renewal that fails (the database is down) is retried at the next tick; a
    process that could not renew for a whole lease may find its sessions closed by another
    server, is told so in the log, registers again, and its robots' next sockets record
    them anew.
    """
    lease_ms = int(lease_seconds * 1000)
    host, pid = socket.gethostname(), os.getpid()
    await register_instance(storage, instance_id, now_ms(), lease_ms, host=host, pid=pid)
    _lapsed, closed = await close_lapsed(storage, now_ms())
    if closed:
        log.info("closed %d notification sessions of server processes whose lease lapsed", closed)
    task_status.started(closed)
    try:
        while True:
            await trio.sleep(lease_seconds / 3)
            try:
                if not await renew_instance(storage, instance_id, now_ms(), lease_ms):
                    log.warning(
                        "this server's lease had lapsed (it could not renew for %.0f s): other "
                        "servers closed its notification sessions; registering again",
                        lease_seconds,
                    )
                    await register_instance(
                        storage, instance_id, now_ms(), lease_ms, host=host, pid=pid
                    )
                lapsed, closed = await close_lapsed(storage, now_ms())
                if lapsed or closed:
                    log.info(
                        "server lease lapsed for %d process(es): closed %d notification sessions",
                        len(lapsed), closed,
                    )  # fmt: skip
            except StorageUnavailable:
                log.warning("server lease not renewed: storage unavailable; retrying")
    finally:
        with trio.move_on_after(5, shield=True):
            try:
                await release_instance(storage, instance_id, now_ms())
            except Exception as exc:  # best effort at shutdown: an unreleased lease lapses
                log.warning("server lease not released (%s): it will lapse", type(exc).__name__)
