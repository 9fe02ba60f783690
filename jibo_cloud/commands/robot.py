"""``jibo-cloud robot add|list``: register the robots this server answers for.

``robot add`` creates the account, loop and membership a real robot needs to boot
(PROTOCOL.md §2.4), and imports the robot's SigV4 key pair (from flags or from its credentials
file) so its requests are verified. Pass ``--loop-id``/``--account-id`` with the ids from the
robot's local store to keep them identical to what the robot already knows.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jibo_cloud.commands import add_store_options, now_ms, run_on_store
from jibo_cloud.config import Config
from jibo_cloud.storage.provisioning import (
    ProvisioningError,
    RobotSpec,
    add_robot,
    read_credentials,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("robot", help="register and list robots")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="register a robot so it can boot against this server")
    add.add_argument("--name", required=True, help="friendly id, e.g. Test-Robot-Name")
    add.add_argument("--serial", required=True, help="serial number, e.g. BOJW-…")
    add.add_argument("--robot-id", required=True, metavar="HEX24", help="the robot's 24-hex id")
    add.add_argument("--owner", required=True, metavar="EMAIL", help="owner's e-mail")
    add.add_argument("--access-key-id", metavar="ID", help="the robot's SigV4 access key id")
    add.add_argument("--secret-access-key", metavar="KEY", help="the robot's SigV4 secret")
    add.add_argument(
        "--from-credentials", metavar="FILE", type=Path,
        help="read accessKeyId/secretAccessKey from the robot's credentials JSON",
    )  # fmt: skip
    add.add_argument("--loop-id", metavar="HEX24", help="use the robot's own loop id")
    add.add_argument("--account-id", metavar="HEX24", help="use the robot's own account id")
    add_store_options(add)
    add.set_defaults(func=run_add)
    lst = actions.add_parser("list", help="list registered robots")
    add_store_options(lst)
    lst.set_defaults(func=run_list)


def _spec(args: argparse.Namespace) -> RobotSpec:
    key, secret = args.access_key_id, args.secret_access_key
    if args.from_credentials is not None:
        if key or secret:
            raise ProvisioningError("use --from-credentials or the key flags, not both")
        key, secret = read_credentials(args.from_credentials)
    return RobotSpec(
        name=args.name, serial=args.serial, robot_id=args.robot_id.lower(),
        owner_email=args.owner, access_key_id=key, secret_access_key=secret,
        loop_id=args.loop_id.lower() if args.loop_id else None,
        account_id=args.account_id.lower() if args.account_id else None,
    )  # fmt: skip


def run_add(args: argparse.Namespace) -> int:
    spec = _spec(args)
    spec.check()

    async def work(config: Config, storage: Any) -> None:
        robot, loop = await add_robot(storage, spec, now_ms=now_ms())
        key = "imported" if spec.access_key_id else "none (requests follow unknown_sigv4_keys)"
        print(f"registered {robot.name} (id {robot.robot_id}, serial {robot.serial})")
        print(f"  owner account {robot.account_id}, loop {loop.id}; key pair: {key}")

    return run_on_store(args, work)


def run_list(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        robots = await storage.list_robots()
        if not robots:
            print("no robots registered (add one with: jibo-cloud robot add …)")
        for robot in robots:
            keys = [k.access_key_id for k in await storage.key_pairs_of(robot.account_id)
                    if k.robot_name == robot.name]  # fmt: skip
            print(f"{robot.name}\tid={robot.robot_id}\tserial={robot.serial}\t"
                  f"account={robot.account_id}\tkeys={','.join(keys) or '-'}")  # fmt: skip

    return run_on_store(args, work)
