"""Headless Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright for Python.

Playwright's sync API runs its own event loop and its objects belong to the thread that made
them, while the tests and the server run on trio. :class:`BrowserThread` owns one browser in
one dedicated thread; the test hands it steps (``fn(page)``) and awaits their results from a
trio worker thread, so the server keeps serving while the browser waits for it.

A failed step saves a screenshot (``<artifacts>/<step>-failure.png``: the test's tmp folder,
or ``$JIBO_PORTAL_ARTIFACTS`` when set, e.g. by CI) and the path is in the failure message.
Without Chromium or Playwright the tests skip loudly, and fail under ``CI=true``.
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import trio

from tests.support import env

T = TypeVar("T")
CHROMIUM = Path(os.environ.get("JIBO_CHROMIUM", "/usr/bin/chromium"))
#: Longest a single browser action waits (ms).
STEP_TIMEOUT_MS = 15_000


def require_browser() -> None:
    """Skip (fail under CI=true) unless Playwright and Chromium are both here."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        env.missing("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        env.missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")


class StepFailed(AssertionError):
    """A browser step failed; the message names the step and the screenshot."""


class BrowserThread:
    """One headless Chromium page, driven from its own thread (see the module doc)."""

    def __init__(self, artifacts: Path, *, width: int = 1024, height: int = 768) -> None:
        self.artifacts = Path(os.environ.get("JIBO_PORTAL_ARTIFACTS", artifacts))
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self._size = (width, height)
        self._tasks: queue.Queue[tuple[str, Callable[[Any], Any], concurrent.futures.Future[Any]]
                                 | None] = queue.Queue()  # fmt: skip
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._main, name="portal-browser", daemon=True)

    def _main(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            manager = sync_playwright().start()
            browser = manager.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            context = browser.new_context(
                viewport={"width": self._size[0], "height": self._size[1]}, accept_downloads=True
            )
            page = context.new_page()
            page.set_default_timeout(STEP_TIMEOUT_MS)
        except Exception as exc:  # reported to the test that waits for the browser
            self._ready.set_exception(exc)
            return
        self._ready.set_result(None)
        try:
            while (task := self._tasks.get()) is not None:
                name, fn, done = task
                try:
                    done.set_result(fn(page))
                except Exception as exc:
                    shot = self.artifacts / f"{name}-failure.png"
                    try:
                        page.screenshot(path=str(shot), full_page=True)
                    except Exception:  # the page itself may be gone
                        shot = Path("(no screenshot)")
                    done.set_exception(StepFailed(f"browser step {name!r} failed: {exc}\n"
                                                  f"screenshot: {shot}"))  # fmt: skip
        finally:
            context.close()
            browser.close()
            manager.stop()

    async def __aenter__(self) -> BrowserThread:
        self._thread.start()
        await trio.to_thread.run_sync(self._ready.result, abandon_on_cancel=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._tasks.put(None)
        await trio.to_thread.run_sync(self._thread.join, 30, abandon_on_cancel=True)

    async def step(self, name: str, fn: Callable[[Any], T]) -> T:
        """Run ``fn(page)`` in the browser's thread; a failure saves a screenshot."""
        done: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._tasks.put((name, fn, done))
        return await trio.to_thread.run_sync(done.result, abandon_on_cancel=True)
