"""``jibo-cloud robot add|list|…|setup-script``: register the robots this server answers for.

``robot add`` creates the account, loop and membership a real robot needs to boot
(PROTOCOL.md §2.4), and imports the robot's SigV4 key pair (from flags or from its credentials
file) so its requests are verified. Pass ``--loop-id``/``--account-id`` with the ids from the
robot's local store to keep them identical to what the robot already knows.

Adoption (a robot whose secret we do not know, with ``JIBO_UNKNOWN_SIGV4_KEYS=pending``):
``robot pending`` lists the unknown access key ids robots signed with (claimed robot name,
address, first/last seen, count); ``robot approve KEYID --robot NAME`` binds one to that
registered robot only (it is then accepted without a signature check and never receives a
secret); ``robot deny KEYID`` refuses it again.

``robot setup-script --server ADDRESS`` prints the ``sh`` script that points a robot at this
server (hosts entries, the CA, its credentials kept; ``--dry-run``, ``--revert``): see
:mod:`jibo_cloud.setup_script` and docs/robots.md.
"""

from __future__ import annotations

import argparse
import datetime
import sys
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
    pending = actions.add_parser(
        "pending", help="list unknown access key ids robots signed with (pending mode)"
    )
    add_store_options(pending)
    pending.set_defaults(func=run_pending)
    approve = actions.add_parser(
        "approve", help="adopt an unknown key: bind it to one registered robot (unverified)"
    )
    approve.add_argument("key_id", metavar="KEYID", help="the access key id to adopt")
    approve.add_argument("--robot", required=True, metavar="NAME", help="the robot it is")
    add_store_options(approve)
    approve.set_defaults(func=run_approve)
    deny = actions.add_parser("deny", help="refuse an unknown (or adopted) access key id")
    deny.add_argument("key_id", metavar="KEYID", help="the access key id to refuse")
    add_store_options(deny)
    deny.set_defaults(func=run_deny)
    script = actions.add_parser(
        "setup-script", help="print the sh script that points a robot at this server"
    )
    script.add_argument("--server", required=True, metavar="ADDRESS",
                        help="this server's IP address as the robot reaches it")  # fmt: skip
    script.add_argument("--ca-file", type=Path, metavar="PATH",
                        help="the CA the robot must trust (default: 'certs init''s)")  # fmt: skip
    script.add_argument("--region", action="append", metavar="NAME",
                        help="map NAME.jibo.com, NAME-socket.jibo.com (default: api)")  # fmt: skip
    mode = script.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true",
                      help="the script only prints what it would change")  # fmt: skip
    mode.add_argument("--revert", action="store_true",
                      help="the script puts back every file it changed")  # fmt: skip
    script.add_argument(
        "--node-tls-checks-off", action="store_true",
        help="also turn certificate checks OFF for the robot's Node services (their Node 6.9 "
        "ignores the added CA); unsafe, see docs/robots.md",
    )  # fmt: skip
    script.add_argument("--data-dir", metavar="DIR", help="data directory (finds the CA)")
    script.set_defaults(func=run_setup_script)


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


def _when(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")


def run_pending(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        keys = await storage.list_pending_keys()
        if config.unknown_sigv4_keys != "pending":
            print("note: JIBO_UNKNOWN_SIGV4_KEYS is not 'pending': unknown keys are not recorded"
                  " and adopted keys are refused")  # fmt: skip
        if not keys:
            print("no unknown keys recorded")
        for k in keys:
            bound = f"\trobot={k.robot_name}" if k.robot_name else ""
            print(f"{k.access_key_id}\t{k.status}\tclaims={k.claimed_robot or '-'}\t"
                  f"from={k.address or '-'}\tfirst={_when(k.first_seen)}\t"
                  f"last={_when(k.last_seen)}\tcount={k.count}{bound}")  # fmt: skip

    return run_on_store(args, work)


def run_approve(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        robot = await storage.get_robot(args.robot)
        if robot is None:
            raise ProvisioningError(f"no robot named {args.robot!r}; add it with 'robot add'")
        if await storage.get_key_pair(args.key_id) or await storage.get_operator_key(args.key_id):
            raise ProvisioningError(f"{args.key_id} is a key this server already knows")
        await storage.approve_key(args.key_id, robot.name, now=now_ms())
        print(f"adopted {args.key_id} as {robot.name}: its requests are accepted WITHOUT a")
        print("  signature check (its secret is unknown) while JIBO_UNKNOWN_SIGV4_KEYS=pending;")
        print("  import the real key pair with 'robot add --from-credentials' when you can")

    return run_on_store(args, work)


def run_deny(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        if not await storage.deny_key(args.key_id, now=now_ms()):
            raise ProvisioningError(f"{args.key_id} has never been seen; nothing to deny")
        print(f"denied {args.key_id}")

    return run_on_store(args, work)


def run_setup_script(args: argparse.Namespace) -> int:
    """Print the robot set-up script (:mod:`jibo_cloud.setup_script`)."""
    from jibo_cloud.config import load_config
    from jibo_cloud.setup_script import (
        SetupOptions,
        SetupScriptError,
        ca_certificate,
        render,
        server_address,
        subject_hash,
    )

    server = server_address(args.server)
    ca_file = args.ca_file
    if ca_file is None:
        from jibo_cloud.tls.certs import ca_cert_path

        ca_file = ca_cert_path(load_config(data_dir=args.data_dir))
        if not ca_file.is_file():
            raise SetupScriptError(f"no CA at {ca_file}: run 'certs init' or give --ca-file")
    try:
        pem = ca_certificate(ca_file.read_text(encoding="ascii", errors="replace"))
    except OSError as exc:
        raise SetupScriptError(f"cannot read {ca_file}: {exc.strerror or exc}") from None
    mode = "dry-run" if args.dry_run else "revert" if args.revert else "apply"
    options = SetupOptions(
        server=server, ca_pem=pem, ca_hash=subject_hash(pem),
        regions=tuple(args.region or ("api",)), mode=mode,
        node_tls_checks_off=args.node_tls_checks_off,
    )  # fmt: skip
    if args.node_tls_checks_off:
        print(
            "robot setup-script: WARNING: --node-tls-checks-off turns certificate checks OFF "
            "for the robot's Node services: anyone on its network can pose as this server",
            file=sys.stderr,
        )
    print(render(options), end="")
    return 0
