"""Account_20151111: the owner's account, key pairs, and the hub token (PROTOCOL.md §2.5).

Secrets: an answer carries ``accessKeyId``/``secretAccessKey`` only to a caller who proved
it holds that key pair (a verified SigV4 signature) or who just proved the password
(``Login``), or to the operator creating the account (``Create``). An adopted robot key
(approved without its secret, see identity.py) is never verified and never sees one.

Who may call what is :mod:`jibo_cloud.rest.policy`'s; here: ``Get`` answers only the caller's
own account (403 for any other id), ``Update``/``AcceptTerms`` change only the caller's own.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from typing import Any

import attrs
import trio

from jibo_cloud.errors import ServiceError
from jibo_cloud.rest.context import (
    Call,
    Handler,
    denied,
    new_id,
    not_found,
    require_account,
    storage,
)
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.records import Account, KeyPair
from jibo_cloud.tokens import issue_hub_token

#: Optional account members kept in ``Account.extra`` and returned as they were set.
PUBLIC_EXTRA = (
    "gender", "birthday", "roles", "termsAccepted", "phoneNumber", "messagingAllowed",
    "photoUrl", "campaign",
)  # fmt: skip
PBKDF2_ROUNDS = 120_000
_KEY_ALPHABET = string.ascii_uppercase + string.digits


def new_key_pair(account_id: str, now_ms: int, robot_name: str | None = None) -> KeyPair:
    """A key pair issued by this server (20-character id, 40-character secret, like AWS)."""
    access = "JIBO" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
    return KeyPair(access, secrets.token_urlsafe(30), account_id, now_ms, robot_name)


def account_view(account: Account, key: KeyPair | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": account.id, "email": account.email, "firstName": account.first_name,
        "lastName": account.last_name, "isActive": True, "facebookConnected": False,
    }  # fmt: skip
    view.update({k: account.extra[k] for k in PUBLIC_EXTRA if k in account.extra})
    if key is not None:
        view["accessKeyId"] = key.access_key_id
        view["secretAccessKey"] = key.secret_access_key
    return view


def _hash_password(password: str, salt: bytes) -> str:
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ROUNDS)
    return f"pbkdf2-sha256${PBKDF2_ROUNDS}${salt.hex()}${digest.hex()}"


def _check_password(password: str, stored: str) -> bool:
    try:
        _, rounds, salt, digest = stored.split("$")
        again = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), int(rounds))
    except ValueError:
        return False
    return hmac.compare_digest(again.hex(), digest)


async def _own_key(rt: Runtime, call: Call) -> KeyPair | None:
    """The key pair the caller signed with, if verified (the only secret it may see)."""
    if not call.caller.verified or call.caller.access_key_id is None:
        return None
    return await storage(rt).get_key_pair(call.caller.access_key_id)


async def _own_account(rt: Runtime, call: Call) -> Account:
    account = await storage(rt).get_account(require_account(call))
    if account is None:
        raise not_found("account")
    return account


async def get(rt: Runtime, call: Call) -> list[dict[str, Any]]:
    mine = require_account(call)
    ids = call.get("ids") or [mine]
    if any(i != mine for i in ids):
        raise denied("Account.Get answers only the caller's own account")
    own = await _own_key(rt, call)
    accounts = await storage(rt).list_accounts(list(ids))
    return [account_view(a, own if own and own.account_id == a.id else None) for a in accounts]


async def create(rt: Runtime, call: Call) -> dict[str, Any]:
    st = storage(rt)
    email = str(call.get("email")).strip()
    if "@" not in email:
        raise ServiceError("ValidationException", "email is not an e-mail address")
    if await st.find_account_by_email(email) is not None:
        raise ServiceError("ConflictException", "an account with this email exists", 409)
    password = await trio.to_thread.run_sync(
        _hash_password, str(call.get("password")), secrets.token_bytes(16)
    )
    extra = {k: call.body[k] for k in PUBLIC_EXTRA if call.body.get(k) is not None}
    account = Account(
        id=new_id(), email=email, created=call.now_ms, updated=call.now_ms,
        first_name=call.get("firstName", ""), last_name=call.get("lastName", ""),
        extra={**extra, "password": password},
    )  # fmt: skip
    key = new_key_pair(account.id, call.now_ms)
    await st.create_account(account)
    await st.add_key_pair(key)
    return account_view(account, key)


async def login(rt: Runtime, call: Call) -> dict[str, Any]:
    st = storage(rt)
    account = await st.find_account_by_email(str(call.get("email")))
    stored = account.extra.get("password", "") if account else ""
    ok = bool(stored) and await trio.to_thread.run_sync(
        _check_password, str(call.get("password")), stored
    )
    if account is None or not ok:
        raise ServiceError("NotAuthorizedException", "wrong email or password", 401)
    keys = [k for k in await st.key_pairs_of(account.id) if k.robot_name is None]
    key = keys[0] if keys else new_key_pair(account.id, call.now_ms)
    if not keys:
        await st.add_key_pair(key)
    return account_view(account, key)


async def check_email(rt: Runtime, call: Call) -> dict[str, Any]:
    found = await storage(rt).find_account_by_email(str(call.get("email")))
    return {"exists": found is not None}


async def update(rt: Runtime, call: Call) -> dict[str, Any]:
    account = await _own_account(rt, call)
    extra = dict(account.extra)
    extra.update({k: call.body[k] for k in PUBLIC_EXTRA if call.body.get(k) is not None})
    changed = attrs.evolve(
        account, email=call.get("email", account.email),
        first_name=call.get("firstName", account.first_name),
        last_name=call.get("lastName", account.last_name), extra=extra, updated=call.now_ms,
    )  # fmt: skip
    await storage(rt).update_account(changed)
    return account_view(changed, await _own_key(rt, call))


async def accept_terms(rt: Runtime, call: Call) -> dict[str, Any]:
    account = await _own_account(rt, call)
    changed = attrs.evolve(
        account, extra={**account.extra, "termsAccepted": call.now_ms}, updated=call.now_ms
    )
    await storage(rt).update_account(changed)
    return account_view(changed, await _own_key(rt, call))


async def create_hub_token(rt: Runtime, call: Call) -> dict[str, Any]:
    """§2.5: a JWT with the account id, the robot's friendly id and the key id; ``expires`` ms."""
    account_id = require_account(call)
    token, expires = issue_hub_token(
        rt.config, account_id=account_id, friendly_id=call.caller.robot_name,
        access_key_id=call.caller.access_key_id, now_s=call.now_ms / 1000,
    )  # fmt: skip
    return {"token": token, "expires": expires}


HANDLERS: dict[str, Handler] = {
    "Account_20151111.Get": get,
    "Account_20151111.Create": create,
    "Account_20151111.Login": login,
    "Account_20151111.CheckEmail": check_email,
    "Account_20151111.Update": update,
    "Account_20151111.AcceptTerms": accept_terms,
    "Account_20151111.CreateHubToken": create_hub_token,
    "Account_20151111.CreateAccessToken": create_hub_token,
}
