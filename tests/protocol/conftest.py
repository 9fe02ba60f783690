"""Counts the examples the codec property and fuzz tests run, and reports the total.

``nox -s fuzz`` needs at least 200,000 examples in all; Hypothesis may stop a test
early when it has exhausted a strategy, so the total is counted, not assumed. Tests call
:func:`count_example` once per example; the terminal summary prints the totals.
"""

from __future__ import annotations

import collections
import os
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from hypothesis import settings

_F = TypeVar("_F", bound=Callable[..., Any])

#: examples run, per test node id
EXAMPLES: collections.Counter[str] = collections.Counter()
#: the goal ``nox -s fuzz`` checks (JIBO_FUZZ_MIN_TOTAL, default 200,000)
FUZZ_MIN_TOTAL = int(os.environ.get("JIBO_FUZZ_MIN_TOTAL", "200000"))

_current: list[str] = [""]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> object:
    _current[0] = item.nodeid
    try:
        return (yield)
    finally:
        _current[0] = ""


def fuzz_budget(weight: float) -> Callable[[_F], _F]:
    """Under ``HYPOTHESIS_PROFILE=fuzz``, run ``weight * JIBO_FUZZ_EXAMPLES`` examples.

    Cheap properties (arbitrary bytes) get more of the budget than expensive ones (mutated
    CONTEXT frames); the weights in ``test_codec_fuzz.py`` add up to at least 10, so the
    default ``JIBO_FUZZ_EXAMPLES=20000`` of ``nox -s fuzz`` gives at least 200,000 examples.
    Outside the fuzz profile the test keeps the profile's small budget.
    """
    if os.environ.get("HYPOTHESIS_PROFILE") != "fuzz":
        return lambda f: f
    per_test = int(os.environ.get("JIBO_FUZZ_EXAMPLES", "20000"))
    return settings(max_examples=max(1, round(per_test * weight)))


def count_example() -> None:
    """Record one example of the running test."""
    EXAMPLES[_current[0]] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not EXAMPLES:
        return
    total = sum(EXAMPLES.values())
    terminalreporter.section("protocol examples")
    for nodeid, n in sorted(EXAMPLES.items()):
        terminalreporter.write_line(f"{n:>9,} {nodeid}")
    line = f"{total:,} examples ran in total"
    if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz":
        verdict = "reached" if total >= FUZZ_MIN_TOTAL else "NOT reached"
        line += f" (goal {FUZZ_MIN_TOTAL:,}: {verdict})"
    terminalreporter.write_line(line)
