"""Run the benchmarks and print a report with the machine and the date."""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

#: Benchmark modules; each issue adds its own.
BENCH_MODULES: list[str] = [
    "bench.codec",
    "bench.hub",
    "bench.boot",
    "bench.sockets",
    "bench.storm",
    "bench.tools",
    "bench.speech",
    "bench.startup",  # jibo-cloud --help wall time, what serve imports
    "bench.nlu",  # launch suite (tune / held-out), false launches, parse CPU
    "bench.soak",  # notification latency across servers (python -m bench.soak soak: the soak)
]


class Report:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def add(self, name: str, value: float, unit: str, note: str = "") -> None:
        self.rows.append({"name": name, "value": value, "unit": unit, "note": note})
        print(f"  {name:<48} {value:>12.3f} {unit:<10} {note}", flush=True)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {sys.platform}"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="run only these (e.g. codec hub boot)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="hub: per-turn tasks, scopes, context switches and CPU beside a bare trio hub",
    )
    args = parser.parse_args()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"jibo-cloud benchmarks — {when}\nmachine: {machine()}\n")
    report = Report()
    for name in BENCH_MODULES:
        short = name.rsplit(".", 1)[-1]
        if args.names and short not in args.names:
            continue
        print(f"[{short}]", flush=True)
        if args.profile and short == "hub":
            importlib.import_module("bench.hub_profile").run_profile(report)
            continue
        importlib.import_module(name).run(report)
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    path = out / f"bench-{datetime.datetime.now(datetime.UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps({"date": when, "machine": machine(), "rows": report.rows}, indent=1))
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
