"""Benchmarks, run by ``nox -s bench`` (``python -m bench [NAME…]``).

Each module in :data:`bench.__main__.BENCH_MODULES` has ``run(report)``; it measures, then
calls ``report.add(name, value, unit, note)``. Results are medians of repeated runs, printed
with the machine and date, and written as JSON to ``bench-results/`` for comparison.
Benchmarks measure; they never assert timings (tests do not time anything either).
"""
