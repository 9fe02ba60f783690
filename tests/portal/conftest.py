"""Portal fixtures: ``storage`` on both backends (like tests/storage)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from jibo_cloud.storage import Storage
from tests.storage.backends import BACKENDS, open_test_storage


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_test_storage(request.param, tmp_path) as opened:
        yield opened
