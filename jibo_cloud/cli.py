"""The ``jibo-cloud`` command: one entry point, one module per subcommand, imported lazily.

:data:`COMMANDS` names each subcommand's module and its one-line help. ``jibo-cloud --help``
lists them from this table alone, without importing any command module (they pull in the
server, the storage drivers, trio, the tools and Hypothesis: about a second of imports). Only
the chosen command's module is imported; its ``register(subparsers)`` adds its real parser
(flags, sub-actions) and sets ``func`` to a callable taking the parsed arguments and returning
the exit status. So ``jibo-cloud serve --help`` still shows serve's flags.

Errors the user can fix (bad flags, bad files, bad configuration) print one clear line to
stderr and exit 2 (usage) or 1 (failure), never a traceback. A command whose optional
dependencies are missing (``jibo-cloud fuzz`` without ``jibo-cloud[fuzz]``) exits 2 with one
line naming the extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from jibo_cloud import __version__
from jibo_cloud.errors import JiboCloudError, MissingExtra

#: Subcommand → (module, help), in the order ``--help`` lists them. Issues add theirs. The help
#: must be the one the module's ``register`` gives (tests/jibo_cloud/test_cli_lazy.py checks).
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "jibo_cloud.commands.serve",
        "run the server (REST, notification and hub sockets)",
    ),
    "robot": ("jibo_cloud.commands.robot", "register and list robots"),
    "update": ("jibo_cloud.commands.update", "publish and list update packages"),
    "operator": (
        "jibo_cloud.commands.operator",
        "operator key pairs for REST calls only an operator makes",
    ),
    "host": ("jibo_cloud.commands.host", "map host names to services (api, socket, hub, portal)"),
    "owner": (
        "jibo_cloud.commands.owner",
        "invite owners to the web portal and set the operator role",
    ),
    "protocol": ("jibo_cloud.commands.protocol_check", "tools for studying the hub protocol"),
    "token": (
        "jibo_cloud.commands.token",
        "print a hub token for a robot (signed with the server's secret)",
    ),
    "sim": (
        "jibo_cloud.commands.sim",
        "simulate a robot: boot, a listen turn, a proactive trigger",
    ),
    "replay": (
        "jibo_cloud.commands.replay",
        "replay flow files against a cloud and check the replies",
    ),
    "capture": (
        "jibo_cloud.commands.capture",
        "record robot ↔ cloud traffic as scrubbed flow files",
    ),
    "fuzz": (
        "jibo_cloud.commands.fuzz",
        "fuzz a running cloud (loopback only unless --allow-host)",
    ),
    "doctor": (
        "jibo_cloud.commands.doctor",
        "find what keeps robots from booting here, with fixes",
    ),
    "certs": (
        "jibo_cloud.commands.certs",
        "make and show the private CA and the TLS server certificate",
    ),
    "models": (
        "jibo_cloud.commands.models",
        "list the speech engines and models found, and verify them",
    ),
}

#: Kept for code that listed the modules: every command's module, in ``--help`` order.
COMMAND_MODULES: list[str] = [module for module, _ in COMMANDS.values()]


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names: its first argument not starting with ``-`` (the top
    level has only ``--help`` and ``--version``, neither taking a value)."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] = (), *, full: bool = False) -> argparse.ArgumentParser:
    """The parser for ``argv``: the chosen command registered by its module, every other one
    as a name and help line only. ``full=True`` imports and registers every command (tests).

    Raises:
        MissingExtra: the chosen command needs an optional dependency that is not installed.
    """
    parser = argparse.ArgumentParser(
        prog="jibo-cloud",
        description="A replacement cloud for the Jibo robot, and tools to study its protocol.",
    )
    parser.add_argument("--version", action="version", version=f"jibo-cloud {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    chosen = chosen_command(argv)
    for name, (module, help_text) in COMMANDS.items():
        if full or name == chosen:
            importlib.import_module(module).register(sub)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    out: list[BaseException] = []
    for exc in group.exceptions:
        out.extend(_leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc])
    return out


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
    except MissingExtra as exc:
        print(f"jibo-cloud {chosen_command(argv)}: {exc}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except JiboCloudError as exc:
        print(f"jibo-cloud {args.command}: {exc}", file=sys.stderr)
        return 1
    except BaseExceptionGroup as group:
        # A start-up failure inside a nursery (e.g. serve refusing a newer database) arrives
        # wrapped; when every error in it is ours, it still gets its one line, no traceback.
        ours, rest = group.split(JiboCloudError)
        if ours is None or rest is not None:
            raise
        for error in _leaves(ours):
            print(f"jibo-cloud {args.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
