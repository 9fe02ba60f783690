"""Message ids for frames and replies the server makes (``msgID``, PROTOCOL.md §4.2).

uuid-shaped, from a random per-process prefix and a counter: a ``uuid4()`` per frame cost 5 %
of a hub turn (an ``os.urandom`` call each), and uniqueness within and across processes is
all a msgID needs; nothing reads meaning into it.
"""

from __future__ import annotations

import itertools
import uuid

_PREFIX = str(uuid.uuid4())[:24]
_COUNTER = itertools.count(1)


def new_id() -> str:
    """A fresh uuid-shaped id (``xxxxxxxx-xxxx-xxxx-xxxx-`` and 12 hex digits of a counter)."""
    return f"{_PREFIX}{next(_COUNTER) & 0xFFFFFFFFFFFF:012x}"
