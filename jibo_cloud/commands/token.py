"""``jibo-cloud token``: print a hub token signed with the server's secret, for tools and tests.

It reads the same configuration and store as ``serve`` for the same data directory, so the
token opens ``/v1/listen`` on that server: the robot must be registered there (``jibo-cloud
robot add``), the token carries its account, and its lifetime is at most
``hub_token_max_seconds`` (the hub refuses anything else).
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from jibo_cloud.commands import add_store_options, run_on_store
from jibo_cloud.config import Config
from jibo_cloud.errors import ConfigError
from jibo_cloud.tokens import HUB_TOKEN_TTL_SECONDS, issue_hub_token


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "token", help="print a hub token for a robot (signed with the server's secret)"
    )
    p.add_argument("--robot", required=True, metavar="NAME", help="the robot's friendly name")
    p.add_argument(
        "--account",
        metavar="ID",
        help="account id claim (default: the robot's account; anything else is refused)",
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

    async def work(config: Config, storage: Any) -> None:
        if args.ttl > config.hub_token_max_seconds:
            raise ConfigError(
                f"--ttl {args.ttl:g} is over the hub's maximum token lifetime"
                f" ({config.hub_token_max_seconds:g} s, JIBO_HUB_TOKEN_MAX_SECONDS)"
            )
        robot = await storage.get_robot(args.robot)
        if robot is None:
            raise ConfigError(
                f"no robot named {args.robot!r} in this store; register it first"
                " (jibo-cloud robot add --name …)"
            )
        if args.account is not None and args.account != robot.account_id:
            raise ConfigError(f"robot {args.robot!r} belongs to another account")
        token, _expires = issue_hub_token(
            config,
            account_id=robot.account_id,
            friendly_id=robot.name,
            access_key_id=None,
            now_s=time.time(),
            ttl_s=args.ttl,
        )
        print(token)

    return run_on_store(args, work)
