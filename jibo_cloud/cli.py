"""The ``jibo-cloud`` command: one entry point, one module per subcommand.

Each module in :data:`COMMAND_MODULES` has ``register(subparsers)``, which adds its parser and
sets ``func`` to a callable taking the parsed arguments and returning the exit status.
Errors the user can fix (bad flags, bad files, bad configuration) print one clear line to
stderr and exit 2 (usage) or 1 (failure), never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from jibo_cloud import __version__
from jibo_cloud.errors import JiboCloudError

#: Subcommand modules, in the order ``--help`` lists them. Issues add theirs.
COMMAND_MODULES: list[str] = [
    "jibo_cloud.commands.serve",
    "jibo_cloud.commands.robot",
    "jibo_cloud.commands.update",
    "jibo_cloud.commands.host",
    "jibo_cloud.commands.protocol_check",
    "jibo_cloud.commands.token",
    "jibo_cloud.commands.sim",
    "jibo_cloud.commands.replay",
    "jibo_cloud.commands.capture",
    "jibo_cloud.commands.fuzz",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jibo-cloud",
        description="A replacement cloud for the Jibo robot, and tools to study its protocol.",
    )
    parser.add_argument("--version", action="version", version=f"jibo-cloud {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except JiboCloudError as exc:
        print(f"jibo-cloud {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
