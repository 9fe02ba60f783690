"""Start-up: ``jibo-cloud --help`` wall time, and what ``serve`` imports.

- ``jibo-cloud --help``: the median wall time of :data:`RUNS` fresh processes (the console
  script beside this interpreter), the goal being at most 0.3 s; ``jibo-cloud serve --help``
  beside it (that one imports the server on purpose: it must show serve's flags).
- ``serve``: a real ``jibo-cloud serve --port 0`` run with ``PYTHONPROFILEIMPORTTIME=1`` up to
  its ``listening on`` line; reported are the modules imported, their summed import time, the
  heaviest top-level packages, and whether ``hypothesis`` or ``jibo_cloud.tools`` is among them
  (the goal: neither; the runtime does not carry the test tools).
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.server import bench_env

REPO = Path(__file__).resolve().parents[1]
RUNS = 7
GOAL_SECONDS = 0.3
_IMPORT = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)([\w.]+)$")


def _command() -> list[str]:
    script = Path(sys.executable).with_name("jibo-cloud")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jibo_cloud"]


#: The old ``--help``: build the parser with every command module imported and registered.
_EAGER_HELP = (
    "import sys; from jibo_cloud.cli import build_parser\n"
    "try:\n    build_parser(full=True).parse_args(['--help'])\nexcept SystemExit:\n    pass"
)


def wall_seconds(args: list[str], runs: int = RUNS, *, python: bool = False) -> list[float]:
    """Wall time of ``jibo-cloud ARGS`` (``python ARGS`` with ``python=True``) in ``runs``
    fresh processes (one warm-up run first, so the byte-code cache is written and the disk
    cache warm, as for an operator)."""
    cmd = [sys.executable, *args] if python else [*_command(), *args]
    subprocess.run(cmd, capture_output=True, check=True, cwd=REPO)
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, cwd=REPO)
        out.append(time.perf_counter() - start)
    return out


def serve_imports() -> dict[str, int]:
    """Module name → own import µs, for a real ``serve`` up to its ``listening on`` line."""
    with tempfile.TemporaryDirectory() as data:
        # BENCH_LIMITS as every bench server (this one takes no requests: only its imports
        # are read).
        env = {
            **bench_env(),
            "PYTHONPROFILEIMPORTTIME": "1",
            "PYTHONUNBUFFERED": "1",
            "JIBO_TOKEN_SECRET": "bench-secret-" + "0" * 40,
        }
        proc = subprocess.Popen(
            [*_command(), "serve", "--port", "0", "--data-dir", data],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        modules: dict[str, int] = {}
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                match = _IMPORT.match(line.rstrip())
                if match:
                    modules[match[4]] = int(match[1])
                if "listening on" in line:
                    break
            else:
                raise RuntimeError("jibo-cloud serve exited before listening")
        finally:
            proc.kill()
            proc.wait(timeout=10)
    return modules


def run(report: Any) -> None:
    helps = wall_seconds(["--help"])
    median = statistics.median(helps)
    spread = f"min {min(helps):.3f} max {max(helps):.3f}"
    report.add(
        "startup.help wall (median)",
        median,
        "s",
        f"{RUNS} fresh processes, {spread}; goal <= {GOAL_SECONDS}",
    )
    # What --help cost before the lazy imports: every command module imported to build the parser.
    eager = wall_seconds(["-c", _EAGER_HELP], runs=5, python=True)
    report.add("startup.help wall, all commands imported (before)", statistics.median(eager), "s")
    serve_help = wall_seconds(["serve", "--help"], runs=5)
    report.add("startup.serve --help wall (median)", statistics.median(serve_help), "s", "5 runs")
    modules = serve_imports()
    tops: Counter[str] = Counter()
    for name, own_us in modules.items():
        tops[name.split(".")[0]] += own_us
    heaviest = ", ".join(f"{name} {us / 1000:.0f} ms" for name, us in tops.most_common(6))
    report.add("startup.serve modules imported", len(modules), "modules", f"heaviest: {heaviest}")
    report.add("startup.serve import time (sum)", sum(modules.values()) / 1e6, "s")
    hypothesis = sorted(m for m in modules if m.split(".")[0] == "hypothesis")
    tools = sorted(m for m in modules if m.startswith("jibo_cloud.tools"))
    report.add("startup.serve imports hypothesis", len(hypothesis), "modules", "goal 0")
    report.add("startup.serve imports jibo_cloud.tools", len(tools), "modules", "goal 0")
