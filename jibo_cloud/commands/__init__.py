"""Subcommands of ``jibo-cloud``; see :mod:`jibo_cloud.cli`."""

from __future__ import annotations

import argparse


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
