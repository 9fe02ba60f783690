"""nox sessions: tests, lint, typecheck, fuzz, bench, serve, deps-min.

``nox -s tests`` is the whole suite (what CI runs through ``.ci/run``). Pass pytest arguments
after ``--``: ``nox -s tests -- -k listen``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True
PYTHON = os.environ.get("JIBO_NOX_PYTHON")  # default: the interpreter running nox


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The full test suite (SQLite always; PostgreSQL when reachable, required under CI=true)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy, strict on protocol/ (see pyproject.toml)."""
    session.install("-e", ".[test]", "mypy>=1.11")
    session.run("mypy", "protocol", "jibo_cloud")


@nox.session(python=PYTHON)
def fuzz(session: nox.Session) -> None:
    """Hypothesis with a large example budget over the codecs (and anything marked fuzz).

    ``JIBO_FUZZ_EXAMPLES`` (default 20000) is scaled per test by its weight
    (``tests/protocol/conftest.py``, ``fuzz_budget``); the weights add up to at least 10, so
    the default runs at least 200,000 examples. The total actually run is printed at the end
    ("N examples ran in total").
    """
    session.install("-e", ".[test]")
    examples = os.environ.get("JIBO_FUZZ_EXAMPLES", "20000")
    env = {"HYPOTHESIS_PROFILE": "fuzz", "JIBO_FUZZ_EXAMPLES": examples}
    session.log(f"fuzz: {examples} examples per unit of weight, at least {10 * int(examples):,}")
    session.run(
        "python", "-m", "pytest", "-m", "fuzz", "-p", "no:randomly", "-q",
        "--hypothesis-show-statistics", *session.posargs, env=env,
    )  # fmt: skip


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: medians and ratios, with the machine and the date (bench/README.md)."""
    session.install("-e", ".[test]")
    session.run("python", "-m", "bench", *session.posargs)


@nox.session(python=PYTHON)
def soak(session: nox.Session) -> None:
    """The bounded soak (docs/deployment.md): two servers on one database, idle notification
    sockets, continuous turns and boots, notifications sent through the portal to robots on
    both servers; errors, notifications lost, memory and p99 over time, CSV and PNG.
    Arguments replace the defaults (``nox -s soak -- --minutes 2 --sockets 500``;
    ``--trace-memory DIR`` for tracemalloc snapshots of the servers, bench/soak_trace.py)."""
    session.install("-e", ".[test]")
    args = session.posargs or ["--minutes", "10", "--sockets", "2000"]
    session.run("python", "-m", "bench.soak", "soak", *args)


@nox.session(python=PYTHON)
def serve(session: nox.Session) -> None:
    """Run the server on the embedded default (SQLite in the user's data folder)."""
    session.install("-e", ".")
    session.run("jibo-cloud", "serve", *session.posargs)


def lowest_declared(pyproject: Path, extras: tuple[str, ...]) -> list[str]:
    """``name==minimum`` for every dependency of the project and of ``extras`` (following
    extras that name the project itself, like ``jibo-cloud[postgres,fuzz]``) that declares a
    ``>=`` lower bound."""
    project = tomllib.loads(pyproject.read_text())["project"]
    optional = project.get("optional-dependencies", {})
    lines, todo, seen = list(project["dependencies"]), list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in optional[extra]:
            req = Requirement(line)
            if req.name == project["name"]:
                todo.extend(req.extras)
            else:
                lines.append(line)
    pins = {}
    for line in lines:
        req = Requirement(line)
        lows = [spec.version for spec in req.specifier if spec.operator == ">="]
        if lows:
            pins[req.name.lower()] = f"{req.name}=={lows[0]}"
    return sorted(pins.values())


@nox.session(name="deps-min", python=PYTHON)
def deps_min(session: nox.Session) -> None:
    """The suite on the lowest versions pyproject.toml declares (``pkg==minimum`` constraints
    for every direct dependency and the test extras; indirect ones resolve normally)."""
    pins = lowest_declared(Path("pyproject.toml"), ("test",))
    constraints = Path(session.create_tmp()) / "lowest.txt"
    constraints.write_text("\n".join(pins) + "\n")
    session.log("lowest declared versions: " + ", ".join(pins))
    session.install("-c", str(constraints), "-e", ".[test]")
    session.run("python", "-m", "pip", "list", "--format=freeze", silent=False)
    session.run("python", "-m", "pytest", *session.posargs)
