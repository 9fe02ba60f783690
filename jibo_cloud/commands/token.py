"""``jibo-cloud token``: print a hub token signed with the server's secret, for tools and tests.

It reads the same configuration as ``serve`` for the same data directory, so the token opens
``/v1/listen`` on that server.
"""

from __future__ import annotations

import argparse
import time

from jibo_cloud.commands import add_store_options
from jibo_cloud.config import load_config
from jibo_cloud.errors import ConfigError
from jibo_cloud.tokens import HUB_TOKEN_TTL_SECONDS, issue_hub_token

#: Account id used when ``--account`` is not given (a development account).
DEFAULT_ACCOUNT = "dev-account"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "token", help="print a hub token for a robot (signed with the server's secret)"
    )
    p.add_argument("--robot", required=True, metavar="NAME", help="the robot's friendly name")
    p.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        metavar="ID",
        help=f"account id claim (default {DEFAULT_ACCOUNT})",
    )
    p.add_argument(
        "--ttl",
        type=float,
        default=HUB_TOKEN_TTL_SECONDS,
        metavar="SECONDS",
        help="lifetime in seconds (default one day)",
    )
    add_store_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.robot.strip():
        raise ConfigError("--robot must not be empty")
    if args.ttl <= 0:
        raise ConfigError("--ttl must be positive")
    config = load_config(data_dir=args.data_dir, database_url=args.database_url)
    token, _expires = issue_hub_token(
        config,
        account_id=args.account,
        friendly_id=args.robot,
        access_key_id=None,
        now_s=time.time(),
        ttl_s=args.ttl,
    )
    print(token)
    return 0
