"""Subcommands of ``jibo-cloud``; see :mod:`jibo_cloud.cli`."""

from __future__ import annotations

import argparse
import time
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from jibo_cloud.config import Config, load_config


def add_store_options(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--database-url``, shared by every command that touches the store."""
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data directory (default: $JIBO_DATA_DIR or the user's data folder)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="sqlite:///FILE or postgresql://… (default: $JIBO_DATABASE_URL or SQLite in DIR)",
    )


#: What an operator command does with the store: ``work(config, storage)``.
StoreWork = Callable[[Config, Any], Awaitable[None]]


def run_on_store(args: argparse.Namespace, work: StoreWork) -> int:
    """Open the store ``--data-dir``/``--database-url`` name (migrated), run ``work`` on it,
    close it; exit status 0. A :class:`~jibo_cloud.errors.JiboCloudError` raised by ``work``
    reaches :func:`jibo_cloud.cli.main`, which prints its one line and exits 1."""
    from jibo_cloud.storage import open_storage

    config = load_config(data_dir=args.data_dir, database_url=args.database_url)

    async def main() -> None:
        async with open_storage(config) as storage:
            await work(config, storage)

    trio.run(main)
    return 0


def now_ms() -> int:
    """Wall-clock milliseconds, what records are stamped with."""
    return time.time_ns() // 1_000_000
