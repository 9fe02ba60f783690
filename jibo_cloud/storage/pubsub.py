"""Cross-server wake-ups through PostgreSQL ``LISTEN/NOTIFY``.

A notification for a robot whose socket another server process holds is queued in
``notification_queue``, addressed to that process (:mod:`jibo_cloud.notify.delivery`). The
queue is the durable path: the holder finds the row by polling (every second), or the robot's
next socket reads it. This module makes the common case fast: the sender calls
:func:`wake_holders`, which sends ``NOTIFY`` on the channel of every process holding an open
session of the robot (one statement, delivered by PostgreSQL when it commits); each process
runs :func:`serve_wakeups`, a ``LISTEN`` on its own channel, and polls the queue as soon as it
is woken. A wake-up carries no data, so a lost one (a listener reconnecting, the database
restarting) costs only the poll's delay, never a notification.

The listener holds one connection of its own (not from the pool: a listening session must stay
open), reads in a worker thread with a short timeout so a cancel is seen quickly, and
reconnects with a back-off when the connection drops. SQLite has no equivalent and needs none:
one SQLite file serves processes on one host, which poll.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import trio

from jibo_cloud import metrics
from jibo_cloud.errors import StorageUnavailable

if TYPE_CHECKING:
    from jibo_cloud.config import Config
    from jibo_cloud.storage import Storage
    from jibo_cloud.storage.db import Tx

log = logging.getLogger(__name__)

#: How long one wait for a wake-up lasts in the worker thread (seconds): the listener's
#: reaction time to a cancel, not to a notification.
WAIT_SECONDS = 0.25
#: Back-off between reconnections of a dropped listening connection (seconds).
RECONNECT_SECONDS = (0.5, 1.0, 2.0, 5.0)
_PREFIX = "jibo_n_"


def channel(instance_id: str) -> str:
    """The channel a process listens on (instance ids are hex; identifiers stay short)."""
    cleaned = "".join(ch for ch in instance_id.lower() if ch.isalnum())
    return _PREFIX + cleaned[:50]


async def wake_holders(storage: Storage, robot_name: str, sender: str) -> int:
    """``NOTIFY`` every other process holding an open session of ``robot_name``; returns how
    many were woken (0 on SQLite, where there is nothing to wake)."""
    if storage.dialect != "postgres":
        return 0

    def fn(tx: Tx) -> int:
        rows = tx.execute(
            "SELECT DISTINCT instance_id FROM sessions"
            " WHERE robot_name = ? AND closed IS NULL AND instance_id <> ? AND instance_id <> ''",
            (robot_name, sender),
        )
        for (instance_id,) in rows:
            tx.execute("SELECT pg_notify(?, '')", (channel(str(instance_id)),))
        return len(rows)

    return int(await storage.db.run(fn))


class _Listener:
    """One listening connection, used from worker threads only (one at a time)."""

    def __init__(self, url: str, name: str) -> None:
        import psycopg

        self._conn: Any = psycopg.connect(url, autocommit=True, connect_timeout=5,
                                          application_name="jibo-cloud-listen")  # fmt: skip
        self._conn.execute(f'LISTEN "{name}"')

    def wait(self) -> int:
        """How many wake-ups arrived within :data:`WAIT_SECONDS` (at most one is waited for;
        any others already received are drained too)."""
        count = sum(1 for _ in self._conn.notifies(timeout=WAIT_SECONDS, stop_after=1))
        if count:
            count += sum(1 for _ in self._conn.notifies(timeout=0))
        return count

    def close(self) -> None:
        self._conn.close()


async def serve_wakeups(
    config: Config,
    instance_id: str,
    on_wake: Callable[[], Awaitable[None]],
    *,
    task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
) -> None:
    """``LISTEN`` on this process's channel and await ``on_wake()`` for each wake-up (several
    arriving together make one call), until cancelled. Returns at once on SQLite.

    ``task_status.started()`` is called once the first ``LISTEN`` is in place (or at once
    when there is nothing to listen to), so a test or a caller can rely on it. A failing
    ``on_wake`` (the storage is down) is logged; the queue keeps the notification.
    """
    if not config.uses_postgres:
        task_status.started()
        return
    import psycopg

    name = channel(instance_id)
    started = False
    failures = 0
    while True:
        try:
            listener = await trio.to_thread.run_sync(_Listener, config.database_url, name)
        except psycopg.Error as exc:
            delay = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
            failures += 1
            log.warning("notification wake-ups: cannot listen (%s); retrying in %.1f s",
                        type(exc).__name__, delay)  # fmt: skip
            if not started:
                started = True
                task_status.started()  # polling still delivers; do not hold start-up
            await trio.sleep(delay)
            continue
        failures = 0
        if not started:
            started = True
            task_status.started()
        try:
            while True:
                woken = await trio.to_thread.run_sync(listener.wait)
                if not woken:
                    continue
                metrics.notification_wakeup()
                try:
                    await on_wake()
                except StorageUnavailable:
                    log.warning("notification wake-up: queue not read, storage unavailable")
        except psycopg.Error as exc:
            log.warning("notification wake-ups: connection lost (%s); reconnecting",
                        type(exc).__name__)  # fmt: skip
        finally:
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(listener.close)
