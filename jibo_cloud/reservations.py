"""Bytes a household is storing right now, so two uploads cannot both take the last room.

The quota check reads what a household has *stored* (:meth:`household_usage`); a body being
written is not stored yet. Without a reservation, two uploads racing at the quota's edge (or
one slow ``PUT`` while photos arrive) would each see the same free room and both be accepted.
Each body in flight holds its size here from its check until its record is stored, and every
check counts what the household's other bodies hold.

Per process: with ``serve --workers N`` each worker holds its own bodies (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import attrs


@attrs.define
class Hold:
    """One body's reservation; :meth:`Reservations.hold` releases it."""

    account_id: str
    amount: int = 0


@attrs.define
class Reservations:
    """Bytes held per household by bodies being stored in this process."""

    _held: dict[str, int] = attrs.field(factory=dict, alias="held")

    def held(self, account_id: str) -> int:
        return self._held.get(account_id, 0)

    def others(self, hold: Hold) -> int:
        """What the household's other bodies hold (everything but ``hold``)."""
        return self.held(hold.account_id) - hold.amount

    def resize(self, hold: Hold, amount: int) -> None:
        """Make ``hold`` hold ``amount`` bytes (grows as a body arrives)."""
        self._held[hold.account_id] = self.held(hold.account_id) - hold.amount + amount
        hold.amount = amount

    @contextmanager
    def hold(self, account_id: str, amount: int = 0) -> Iterator[Hold]:
        """Hold ``amount`` bytes for ``account_id`` until the block ends (however it ends)."""
        hold = Hold(account_id)
        self.resize(hold, amount)
        try:
            yield hold
        finally:
            self.resize(hold, 0)
            if not self._held.get(account_id):
                self._held.pop(account_id, None)
