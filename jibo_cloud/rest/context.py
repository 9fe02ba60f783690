"""What an operation handler receives: the validated call, who made it, and helpers.

A handler is ``async def handler(rt: Runtime, call: Call) -> answer`` where the answer is
JSON-shaped and is trimmed to the operation's output shape by the dispatcher. Handlers raise
:class:`~jibo_cloud.errors.ServiceError` for anything the robot should see.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from jibo_cloud.errors import ServiceError
from jibo_cloud.rest.models import Operation
from jibo_cloud.rest.signed_urls import OPERATOR_PRINCIPAL, account_principal, sign_url
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import Storage
from jibo_cloud.storage.blobs import Blobs

#: The kinds of principal (docs/security-policy.md): nobody (unsigned), a robot (its key pair,
#: or an adopted key an operator bound to it), an owner (an account's own key pair, issued by
#: ``Account.Create``/``Login``), an operator (a key from ``jibo-cloud operator key``).
NOBODY = "nobody"
ROBOT = "robot"
OWNER = "owner"
OPERATOR = "operator"
KINDS = (NOBODY, ROBOT, OWNER, OPERATOR)


@attrs.frozen
class Caller:
    """Who is calling, from the SigV4 key (see identity.py)."""

    #: One of :data:`KINDS`.
    kind: str = NOBODY
    account_id: str | None = None
    #: The robot's friendly name when a robot is calling.
    robot_name: str | None = None
    access_key_id: str | None = None
    #: True only when a known key pair's signature was verified.
    verified: bool = False
    #: A robot key an operator approved without its secret (``robot approve``): accepted
    #: unverified, so it never receives a secret.
    adopted: bool = False


@attrs.frozen
class Call:
    op: Operation
    #: The validated JSON input; for binary-payload operations, the header-bound members.
    body: Mapping[str, Any]
    #: The raw body (the blob of binary-payload operations).
    raw: bytes
    headers: Mapping[str, str]
    caller: Caller
    #: ``https://api.jibo.com`` as the robot addressed us: upload and download URLs use it.
    base_url: str
    now_ms: int

    def get(self, name: str, default: Any = None) -> Any:
        value = self.body.get(name)
        return default if value is None else value


Handler = Callable[[Runtime, Call], Awaitable[Any]]


def storage(rt: Runtime) -> Storage:
    return rt.storage


def blobs(rt: Runtime) -> Blobs:
    return rt.blobs


def new_id() -> str:
    """A 24-hex id, the shape of every id the original cloud issued."""
    return secrets.token_hex(12)


def denied(message: str) -> ServiceError:
    """403 ``AccessDeniedException``: the caller may not touch this resource."""
    return ServiceError("AccessDeniedException", message, 403)


def require_account(call: Call) -> str:
    if call.caller.account_id is None:
        raise denied(
            "no account is known for this caller; register the robot with "
            "'jibo-cloud robot add' and sign requests with its key pair"
        )
    return call.caller.account_id


async def own_loop_ids(rt: Runtime, call: Call) -> set[str]:
    """The loops of the caller's account (owned or joined); none for an operator."""
    if call.caller.account_id is None:
        return set()
    return {lp.id for lp in await storage(rt).loops_of(call.caller.account_id)}


async def require_loops(rt: Runtime, call: Call, loop_ids: list[str]) -> None:
    """403 unless every one of ``loop_ids`` is a loop of the caller's household."""
    mine = await own_loop_ids(rt, call)
    for loop_id in loop_ids:
        if loop_id not in mine:
            raise denied(f"loop {loop_id[:64]!r} is not one of the caller's loops")


async def require_loop(rt: Runtime, call: Call, loop_id: str) -> str:
    await require_loops(rt, call, [loop_id])
    return loop_id


#: The principal of a URL minted for a caller with neither a household nor the operator's key
#: (an operation the policy opens to anyone): it fits no stored record (uploads.BlobRoutes.fits).
NOBODY_PRINCIPAL = "nobody"


def caller_principal(caller: Caller) -> str:
    """How the access log and the per-principal rate limit name ``caller``: ``robot:<name>``,
    ``account:<id>`` (an owner's key), ``operator``, or ``-`` (nobody was identified)."""
    if caller.kind == OPERATOR:
        return OPERATOR_PRINCIPAL
    if caller.kind == ROBOT and caller.robot_name:
        return f"robot:{caller.robot_name}"
    if caller.account_id is not None:
        return account_principal(caller.account_id)
    return "-"


def url_principal(call: Call) -> str:
    """Who a signed blob URL is minted for: the caller's household, or the operator.

    Only a verified operator key gets the operator's principal (which fits every record); a
    caller with no household gets one that fits none, never the operator's by default.
    """
    if call.caller.kind == OPERATOR:
        return OPERATOR_PRINCIPAL
    if call.caller.account_id is None:
        return NOBODY_PRINCIPAL
    return account_principal(call.caller.account_id)


def signed_url(
    rt: Runtime, call: Call, method: str, path: str, *, principal: str | None = None
) -> str:
    """An upload (``PUT``) or download (``GET``) URL for ``path``, signed for the caller
    (:func:`url_principal`) unless ``principal`` is given."""
    return sign_url(
        rt.config, method, call.base_url, path, principal=principal or url_principal(call),
        now_s=call.now_ms / 1000,
    )  # fmt: skip


def not_found(what: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"{what} not found", 404)
