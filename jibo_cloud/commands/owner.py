"""``jibo-cloud owner invite|operator``: who may sign in to the web portal (docs/portal.md).

Owner accounts are the accounts ``robot add --owner EMAIL`` creates (an account owning a
household). ``owner invite EMAIL`` prints a one-time link, good for 24 hours, where the owner
sets a password; a newer invite replaces an older one, and using it signs the account out
everywhere. ``owner operator EMAIL`` gives the account the operator role in the portal (every
account's robots, publishing updates); ``--revoke`` takes it back.
"""

from __future__ import annotations

import argparse
from typing import Any

from jibo_cloud.commands import add_store_options, now_ms, run_on_store
from jibo_cloud.config import Config
from jibo_cloud.errors import JiboCloudError

HELP = "invite owners to the web portal and set the operator role"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("owner", help=HELP)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    invite = actions.add_parser("invite", help="print a one-time link to set a portal password")
    invite.add_argument("email", metavar="EMAIL", help="the owner's e-mail (robot add --owner)")
    invite.add_argument(
        "--base-url", metavar="URL",
        help="how the owner reaches this server, e.g. https://jibo.example.org "
        "(default: http://localhost:PORT)",
    )  # fmt: skip
    add_store_options(invite)
    invite.set_defaults(func=run_invite)
    operator = actions.add_parser("operator", help="give an owner the portal's operator role")
    operator.add_argument("email", metavar="EMAIL")
    operator.add_argument("--revoke", action="store_true", help="make them a plain owner again")
    add_store_options(operator)
    operator.set_defaults(func=run_operator)


async def owner_account(storage: Any, email: str) -> Any:
    """The account of ``email`` if it owns a household.

    Raises:
        JiboCloudError: no such account, or it owns no household (one line, with the fix).
    """
    account = await storage.find_account_by_email(email)
    if account is None:
        raise JiboCloudError(f"no account {email!r}: register its robot with robot add --owner")
    if not any(loop.owner_id == account.id for loop in await storage.loops_of(account.id)):
        raise JiboCloudError(f"{email!r} owns no household: robot add --owner creates one")
    return account


def run_invite(args: argparse.Namespace) -> int:
    from jibo_cloud.portal.auth import INVITE_HOURS, new_invite

    async def work(config: Config, storage: Any) -> None:
        account = await owner_account(storage, args.email)
        token = await new_invite(storage, account.id, now=now_ms())
        base = (args.base_url or f"http://localhost:{config.port}").rstrip("/")
        print(f"{base}/portal/invite?t={token}")
        print(f"give this link to {account.email} only: it sets the portal password once,")
        print(f"  within {INVITE_HOURS} hours, and replaces any earlier invite")

    return run_on_store(args, work)


def run_operator(args: argparse.Namespace) -> int:
    from jibo_cloud.storage.portal import OPERATOR, OWNER

    async def work(config: Config, storage: Any) -> None:
        account = await owner_account(storage, args.email)
        role = OWNER if args.revoke else OPERATOR
        await storage.set_owner_role(account.id, role, now=now_ms())
        print(f"{account.email} is now {'an' if role == OPERATOR else 'a plain'} {role}"
              " in the portal (from their next page)")  # fmt: skip

    return run_on_store(args, work)
