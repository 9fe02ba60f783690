"""Interaction history: what the hub records (§5) and proactive rules read (§4.6).

- :class:`MemoryHistory` (one server process, the default): in memory, per robot, bounded
  (the newest :data:`MAX_RECORDS_PER_ROBOT` launches and speech records per robot; at most
  :data:`MAX_ROBOTS` robots, least recently used dropped), because it only feeds "was this
  skill launched in the last hours" rules. A server restart forgets it, which at worst lets a
  proactive greeting repeat once; recording costs no I/O on the turn path.
- :class:`StorageHistory` (several server processes, ``config.workers > 1``): launches in the
  storage's ``skill_launches``, so a launch on one process's listen socket is seen by a
  proactive socket on another.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from jibo_cloud.errors import StorageUnavailable, UpstreamError

MAX_RECORDS_PER_ROBOT = 200
MAX_ROBOTS = 10_000


@attrs.define
class MemoryHistory:
    """:class:`jibo_cloud.services.History` in memory. ``now_ms`` stamps launches."""

    now_ms: Callable[[], int]
    max_records: int = MAX_RECORDS_PER_ROBOT
    max_robots: int = MAX_ROBOTS
    _launches: OrderedDict[str, deque[dict[str, Any]]] = attrs.field(factory=OrderedDict)
    _speech: OrderedDict[str, deque[dict[str, Any]]] = attrs.field(factory=OrderedDict)

    def _slot(
        self, table: OrderedDict[str, deque[dict[str, Any]]], robot: str
    ) -> deque[dict[str, Any]]:
        slot = table.get(robot)
        if slot is None:
            slot = table[robot] = deque(maxlen=self.max_records)
            while len(table) > self.max_robots:
                table.popitem(last=False)
        table.move_to_end(robot)
        return slot

    async def skill_launched(self, record: Mapping[str, Any]) -> None:
        entry = dict(record)
        entry.setdefault("timestamp", self.now_ms())
        self._slot(self._launches, str(record.get("robotID"))).append(entry)

    async def speech(self, record: Mapping[str, Any]) -> None:
        self._slot(self._speech, str(record.get("robotID"))).append(dict(record))

    async def launches(self, robot_id: str) -> Sequence[Mapping[str, Any]]:
        return list(self._launches.get(robot_id, ()))

    def speech_records(self, robot_id: str) -> Sequence[Mapping[str, Any]]:
        """For tests and tools: the speech records kept for one robot, oldest first."""
        return list(self._speech.get(robot_id, ()))


@attrs.define
class StorageHistory:
    """:class:`jibo_cloud.services.History` whose launches live in the storage, shared by every
    server process (each launch is one committed write, done off the turn path by the hub).

    Speech records stay in memory, per process (:class:`MemoryHistory`): no rule reads them
    across processes, and they are the bulky part. A storage outage is reported as an
    :class:`~jibo_cloud.errors.UpstreamError` of the ``history`` service, which the hub
    already handles (the launch is not kept; proactive rules fall back as on any history
    failure).
    """

    storage: Any
    now_ms: Callable[[], int]
    #: Launches kept per robot in the storage (older ones are deleted as new ones arrive).
    max_records: int = MAX_RECORDS_PER_ROBOT
    speech_memory: MemoryHistory = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self.speech_memory = MemoryHistory(now_ms=self.now_ms, max_records=self.max_records)

    async def skill_launched(self, record: Mapping[str, Any]) -> None:
        entry = dict(record)
        stamp = entry.get("timestamp")
        now = stamp if isinstance(stamp, int) else self.now_ms()
        try:
            await self.storage.record_skill_launch(
                str(record.get("robotID")), entry, now, keep=self.max_records
            )
        except StorageUnavailable as exc:
            raise UpstreamError("history", str(exc)) from None

    async def speech(self, record: Mapping[str, Any]) -> None:
        await self.speech_memory.speech(record)

    async def launches(self, robot_id: str) -> Sequence[Mapping[str, Any]]:
        try:
            found: list[dict[str, Any]] = await self.storage.list_skill_launches(
                robot_id, limit=self.max_records
            )
        except StorageUnavailable as exc:
            raise UpstreamError("history", str(exc)) from None
        return found

    def speech_records(self, robot_id: str) -> Sequence[Mapping[str, Any]]:
        """For tests and tools: this process's speech records of one robot, oldest first."""
        return self.speech_memory.speech_records(robot_id)
