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
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage import BlobStore, Storage


@attrs.frozen
class Caller:
    """Who is calling, from the SigV4 key (or the unknown-key fallback, see identity.py)."""

    account_id: str | None = None
    #: The robot's friendly name when the key belongs to a robot (or the fallback robot).
    robot_name: str | None = None
    access_key_id: str | None = None
    #: True only when a known key pair's signature was verified.
    verified: bool = False


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
    return rt.storage  # type: ignore[no-any-return]


def blobs(rt: Runtime) -> BlobStore:
    return rt.blobs  # type: ignore[no-any-return]


def new_id() -> str:
    """A 24-hex id, the shape of every id the original cloud issued."""
    return secrets.token_hex(12)


def require_account(call: Call) -> str:
    if call.caller.account_id is None:
        raise ServiceError(
            "AccessDeniedException",
            "no account is known for this caller; register the robot with "
            "'jibo-cloud robot add' and sign requests with its key pair",
            403,
        )
    return call.caller.account_id


def not_found(what: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"{what} not found", 404)
