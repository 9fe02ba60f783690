"""``jibo-cloud host add|list|remove``: tell the server which service a host name is.

A robot's own host names route by prefix (``api-socket.*``, ``neo-hub.*``, PROTOCOL.md §1).
A revival reached under other names maps each one to ``api``, ``socket`` or ``hub``, and a name
for the owner's web portal to ``portal`` (docs/portal.md); a running
server picks a change up within 30 s (docs/operators.md "Host names"). ``*.jibo.com`` names
cannot be mapped.
"""

from __future__ import annotations

import argparse
from typing import Any

from jibo_cloud.commands import add_store_options, now_ms, run_on_store
from jibo_cloud.config import Config
from jibo_cloud.storage.hosts import SERVICES, HostMappingError, check_service, normalize_host_name


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("host", help="map host names to services (api, socket, hub, portal)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="map a host name to a service (replaces its mapping)")
    add.add_argument("host", metavar="HOST", help="e.g. notify.example.org (no port)")
    # No argparse ``choices``: a wrong value is our one-line error and exit 1, not usage text.
    add.add_argument(
        "--service", required=True, metavar="|".join(SERVICES),
        help="api: REST; socket: the notification socket; hub: the hub sockets;"
        " portal: the owner's web portal only",
    )  # fmt: skip
    add_store_options(add)
    add.set_defaults(func=run_add)
    lst = actions.add_parser("list", help="list host mappings")
    add_store_options(lst)
    lst.set_defaults(func=run_list)
    rm = actions.add_parser("remove", help="remove a host mapping")
    rm.add_argument("host", metavar="HOST")
    add_store_options(rm)
    rm.set_defaults(func=run_remove)


def run_add(args: argparse.Namespace) -> int:
    host, service = normalize_host_name(args.host), check_service(args.service)

    async def work(config: Config, storage: Any) -> None:
        before = await storage.put_host_mapping(host, service, now_ms=now_ms())
        was = f" (was {before})" if before is not None and before != service else ""
        print(f"mapped {host} -> {service}{was}; a running server uses it within 30 s")

    return run_on_store(args, work)


def run_list(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        mappings = await storage.list_host_mappings()
        if not mappings:
            print("no host mappings (add one with: jibo-cloud host add HOST --service …)")
        for m in mappings:
            print(f"{m.host}\t{m.service}")

    return run_on_store(args, work)


def run_remove(args: argparse.Namespace) -> int:
    host = normalize_host_name(args.host)

    async def work(config: Config, storage: Any) -> None:
        if not await storage.remove_host_mapping(host):
            raise HostMappingError(f"{host} is not mapped")
        print(f"removed {host}; a running server stops using it within 30 s")

    return run_on_store(args, work)
