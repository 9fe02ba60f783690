"""In-process interaction history: what the hub records (§5) and proactive rules read (§4.6).

Kept in memory, per robot, bounded (the newest :data:`MAX_RECORDS_PER_ROBOT` launches and
speech records per robot; at most :data:`MAX_ROBOTS` robots, least recently used dropped),
because it only feeds "was this skill launched in the last hours" rules. A server restart
forgets it, which at worst lets a proactive greeting repeat once.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

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
