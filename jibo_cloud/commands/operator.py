"""``jibo-cloud operator key|keys|revoke``: key pairs for the operator's REST calls.

An operator key signs (SigV4, like a robot's) the operations only an operator may call over
REST: ``Update.CreateUpdate``/``RemoveUpdate``, ``Account.Create`` and the admin services
(docs/security-policy.md). It belongs to no account and opens no household's data. The secret
is printed once, when the key is made; the store keeps it (SigV4 needs it to verify).
"""

from __future__ import annotations

import argparse
import secrets
import string
from typing import Any

from jibo_cloud.commands import add_store_options, now_ms, run_on_store
from jibo_cloud.config import Config
from jibo_cloud.errors import JiboCloudError
from jibo_cloud.storage.principals import OperatorKey

_ALPHABET = string.ascii_uppercase + string.digits


def new_operator_key(now: int, label: str = "") -> OperatorKey:
    """A fresh operator key pair (20-character id starting ``JIBOOP``, 40-character secret)."""
    access = "JIBOOP" + "".join(secrets.choice(_ALPHABET) for _ in range(14))
    return OperatorKey(access, secrets.token_urlsafe(30), now, label)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("operator", help="operator key pairs for REST calls only an operator makes")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    key = actions.add_parser("key", help="make an operator key pair and print it (once)")
    key.add_argument("--label", default="", help="a note to tell keys apart")
    add_store_options(key)
    key.set_defaults(func=run_key)
    keys = actions.add_parser("keys", help="list operator key ids (never the secrets)")
    add_store_options(keys)
    keys.set_defaults(func=run_keys)
    revoke = actions.add_parser("revoke", help="remove an operator key pair")
    revoke.add_argument("key_id", metavar="KEYID")
    add_store_options(revoke)
    revoke.set_defaults(func=run_revoke)


def run_key(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        key = new_operator_key(now_ms(), args.label)
        await storage.add_operator_key(key)
        print(f"accessKeyId {key.access_key_id}")
        print(f"secretAccessKey {key.secret_access_key}")
        print("keep the secret safe: it publishes software to every robot on this server")

    return run_on_store(args, work)


def run_keys(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        found = await storage.list_operator_keys()
        if not found:
            print("no operator keys (make one with: jibo-cloud operator key)")
        for k in found:
            print(f"{k.access_key_id}\tcreated={k.created}\tlabel={k.label or '-'}")

    return run_on_store(args, work)


def run_revoke(args: argparse.Namespace) -> int:
    async def work(config: Config, storage: Any) -> None:
        if not await storage.remove_operator_key(args.key_id):
            raise JiboCloudError(f"no operator key {args.key_id}")
        print(f"revoked {args.key_id}")

    return run_on_store(args, work)
