"""Human-readable or JSON output for the tools, and progress lines for long runs.

Human output goes to stdout line by line as things happen. With ``--json`` nothing is printed
until the end, when one JSON document is written to stdout; progress always goes to stderr so
it never mixes with a machine-readable result.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import attrs
import trio

#: Seconds between two progress lines (long runs only: fuzz, replay of many flows).
PROGRESS_INTERVAL_SECONDS = 1.0


@attrs.define
class Reporter:
    """Collects a tool's results and prints them the way the user asked."""

    json_mode: bool = False
    out: TextIO = attrs.field(factory=lambda: sys.stdout)
    err: TextIO = attrs.field(factory=lambda: sys.stderr)
    show_progress: bool = True
    _last_progress: float = -1e9

    def line(self, text: str) -> None:
        """A human-readable line (suppressed in JSON mode, where the document says it all)."""
        if not self.json_mode:
            print(text, file=self.out, flush=True)

    def document(self, doc: Any) -> None:
        """The final JSON document (JSON mode only)."""
        if self.json_mode:
            print(json.dumps(doc, indent=1, default=str), file=self.out, flush=True)

    def progress(self, done: int, total: int | None, what: str, *, force: bool = False) -> None:
        """A progress line on stderr, at most once per :data:`PROGRESS_INTERVAL_SECONDS`."""
        if not self.show_progress:
            return
        now = trio.current_time()
        if not force and now - self._last_progress < PROGRESS_INTERVAL_SECONDS:
            return
        self._last_progress = now
        of = f"/{total}" if total is not None else ""
        print(f"… {done}{of} {what}", file=self.err, flush=True)


def short_json(obj: Any, limit: int = 160) -> str:
    """Compact JSON of ``obj`` cut to ``limit`` characters, for one-line frame summaries."""
    text = json.dumps(obj, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
