"""Keep the start-up heap out of the garbage collector's full passes.

A server process loads its tables, models and code once (the parser's templates, the skill
table, the semantic index, the libraries' modules: about 110,000 tracked objects) and keeps
them until it exits. CPython's full (generation 2) collection walks every tracked object, and
under hub load it runs every 10-20 s: a 40-50 ms pause of the only thread that serves, which
every turn in flight waits out (docs/hub.md).
:func:`gc.freeze` moves the objects alive now into a permanent generation that collections
skip, so a full pass walks only what the process made since.

Only for a process that serves until it exits (``jibo-cloud serve`` and its workers): frozen
objects are never collected, so a library or test that starts many servers in one process
does not call it.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze_startup_heap(reason: str) -> int:
    """Collect what is garbage now, then freeze the rest; returns the frozen object count.

    Called once start-up is done and again after the speech warm-up (``reason`` says which
    in the log line); each call costs one full collection.
    """
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("memory: %d start-up objects kept out of full collections (%s)", frozen, reason)
    return frozen
