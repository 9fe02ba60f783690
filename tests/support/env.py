"""Where the shared reference data and CI's PostgreSQL are, and what to do when they are not.

Rule (DEVELOPERS brief): a test that needs ``../shared`` or PostgreSQL is *skipped with a loud
reason* on a developer machine that lacks them, and *fails* under ``CI=true``, where both must
be present.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_FIXTURES = REPO / "fixtures"
SHARED = Path(os.environ.get("JIBO_SHARED_DIR", REPO.parent / "shared")).resolve()
SHARED_FIXTURES = SHARED / "fixtures"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> None:
    """Skip loudly, or fail under CI=true, because ``what`` is not available."""
    reason = f"NOT TESTED: {what}"
    if in_ci():
        pytest.fail(f"{reason} (CI=true requires it)", pytrace=False)
    pytest.skip(reason)


def shared_fixtures(*parts: str) -> Path:
    """A path under ``../shared/fixtures``; skips (or fails in CI) when it is absent."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        missing(f"shared reference data not found at {path} (set JIBO_SHARED_DIR)")
    return path


def postgres_url() -> str:
    """CI's PostgreSQL (trust auth, user postgres); skips (or fails in CI) when unreachable."""
    url = os.environ.get("JIBO_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except Exception as exc:  # any failure to reach it means "no PostgreSQL here"
        missing(f"PostgreSQL not reachable at {url}: {type(exc).__name__}: {exc}")
    return url
