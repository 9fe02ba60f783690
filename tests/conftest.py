"""Suite-wide fixtures: small and stacking (STYLE.md). Hypothesis profiles are registered here.

- ``server``: the real server on an ephemeral port with a fresh data directory (SQLite).
- ``postgres_url``: CI's PostgreSQL, or a loud skip (a failure under CI=true).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import trio
from hypothesis import HealthCheck, settings

from tests.rest.support import postgres_server_url
from tests.storage.backends import BACKENDS
from tests.support import env
from tests.support.server import RunningServer, start_server

settings.register_profile(
    "dev", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
# ``nox -s fuzz`` selects the big budget through HYPOTHESIS_PROFILE=fuzz.
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("JIBO_FUZZ_EXAMPLES", "20000")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if env.in_ci() else "dev"))


@pytest.fixture
async def server(nursery: trio.Nursery, tmp_path: Path) -> AsyncIterator[RunningServer]:
    running = await start_server(nursery, tmp_path / "data")
    yield running
    running.stop()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    return env.postgres_url()


@pytest.fixture(params=BACKENDS)
def store_args(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """The operator CLI's store flags for each backend: ``--data-dir`` (SQLite), plus
    ``--database-url`` on a fresh PostgreSQL schema (dropped afterwards)."""
    args = ["--data-dir", str(tmp_path / "data")]
    if request.param == "sqlite":
        yield args
        return
    import psycopg

    url, schema = env.postgres_url(), f"cli_{tmp_path.name[-12:].replace('-', '_').lower()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    yield [*args, "--database-url", postgres_server_url(schema)]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
