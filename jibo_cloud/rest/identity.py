"""Who is calling: verify the SigV4 signature and name the principal.

- A robot's key pair (imported by ``robot add``) → a *robot*; an account's own key pair (issued
  by ``Account.Create``/``Login``) → an *owner*; an operator key (``jibo-cloud operator key``)
  → the *operator*. Each must sign correctly, as AWS enforces it (:mod:`jibo_cloud.sigv4`):
  ``x-amz-target`` signed, the body matching its hash, the date within 15 minutes. The two
  token calls robots sign without ``x-amz-target`` and over the empty-body hash are let through
  only for their own target and their own small body (:func:`leniency_for`).
- No ``Authorization`` at all → *nobody* (the dispatcher refuses it everything but
  ``Account.Login``, with ``MissingAuthenticationTokenException``).
- A key we do not know is never someone else. ``unknown_sigv4_keys = reject``: 403
  ``UnrecognizedClientException``. ``pending``: the key id is recorded (robot name claimed in
  ``x-jibo-robotid``, client address, first/last seen, count) and refused the same way until an
  operator approves it with ``jibo-cloud robot approve KEYID --robot NAME``; from then on it is
  that robot, *adopted*: accepted without a signature check (we never had its secret), and never
  given a secret. ``robot deny`` refuses it again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping

from jibo_cloud import sigv4
from jibo_cloud.errors import ServiceError
from jibo_cloud.logs import current_trace
from jibo_cloud.rest.context import OPERATOR, OWNER, ROBOT, Caller, storage
from jibo_cloud.rest.models import Operation
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.principals import APPROVED

log = logging.getLogger(__name__)

#: The token calls robots sign without ``x-amz-target`` over the empty-body hash (PROTOCOL.md
#: §2.1, ``shared/fixtures/http/``), and the body members each may then carry.
TOKEN_CALLS: Mapping[str, frozenset[str]] = {
    "Notification_20150505.NewRobotToken": frozenset({"deviceId"}),
    "Account_20151111.CreateHubToken": frozenset(),
}
#: Longest body a token call may send unbound by the signature.
MAX_TOKEN_BODY = 512


def unsigned() -> ServiceError:
    return ServiceError("MissingAuthenticationTokenException", "the request is not signed", 403)


def _unrecognized(message: str = "The security token included in the request is invalid.") -> (
    ServiceError
):  # fmt: skip
    return ServiceError("UnrecognizedClientException", message, 403)


def _token_body_ok(body: bytes, allowed: frozenset[str]) -> bool:
    """A token call's body, unbound by the signature, is harmless: nothing, ``{}``, or only its
    own members as short strings (``{"deviceId": "<name>"}``; the handler checks the name)."""
    if not body.strip():
        return True
    if len(body) > MAX_TOKEN_BODY:
        return False
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return isinstance(value, dict) and all(
        k in allowed and isinstance(v, str) for k, v in value.items()
    )


def leniency_for(op: Operation | None, body: bytes) -> sigv4.Leniency:
    """The robot quirks ``op`` may use (see the module docstring)."""
    if op is None:
        return sigv4.STRICT
    allowed = TOKEN_CALLS.get(op.target)
    if allowed is not None:
        return sigv4.Leniency(unsigned_target=True, empty_hash_body=_token_body_ok(body, allowed))
    if op.payload_member is not None:
        return sigv4.Leniency(unsigned_payload=True)
    return sigv4.STRICT


def _check(
    req: sigv4.SignedRequest, auth: sigv4.Authorization, secret: str, now_s: float,
    op: Operation | None,
) -> None:  # fmt: skip
    try:
        sigv4.verify(req, auth, secret, now_s=now_s, leniency=leniency_for(op, req.body))
    except sigv4.SignatureError as exc:
        log.warning("SigV4 check failed for key %s: %s", auth.access_key_id, exc.code)
        raise ServiceError(exc.code, exc.message, 403) from None


async def identify(
    rt: Runtime, req: sigv4.SignedRequest, *, now_s: float, op: Operation | None = None
) -> Caller:
    """The caller of ``req`` (for operation ``op``); ``Caller()`` (nobody) when unsigned.

    Raises:
        ServiceError: 403 with the AWS error type for a bad signature or an unknown key.
    """
    header = req.headers.get("authorization")
    if not header:
        return Caller()
    try:
        auth = sigv4.parse_authorization(header)
    except sigv4.SignatureError as exc:
        raise ServiceError(exc.code, exc.message, 403) from None
    st = storage(rt)
    key = await st.cached_key_pair(auth.access_key_id, int(now_s * 1000))
    if key is not None:
        _check(req, auth, key.secret_access_key, now_s, op)
        return Caller(
            kind=ROBOT if key.robot_name else OWNER, account_id=key.account_id,
            robot_name=key.robot_name, access_key_id=key.access_key_id, verified=True,
        )  # fmt: skip
    operator = await st.get_operator_key(auth.access_key_id)
    if operator is not None:
        _check(req, auth, operator.secret_access_key, now_s, op)
        return Caller(kind=OPERATOR, access_key_id=operator.access_key_id, verified=True)
    return await _unknown_key(rt, req, auth.access_key_id, now_s)


async def _unknown_key(
    rt: Runtime, req: sigv4.SignedRequest, access_key_id: str, now_s: float
) -> Caller:
    st = storage(rt)
    if rt.config.unknown_sigv4_keys != "pending":
        raise _unrecognized()
    known = await st.get_pending_key(access_key_id)
    if known is not None and known.status == APPROVED and known.robot_name:
        robot = await st.get_robot(known.robot_name)
        if robot is not None:
            return Caller(
                kind=ROBOT, account_id=robot.account_id, robot_name=robot.name,
                access_key_id=access_key_id, verified=False, adopted=True,
            )  # fmt: skip
    seen = await st.note_unknown_key(
        access_key_id, claimed_robot=req.headers.get("x-jibo-robotid", ""),
        address=current_trace().client, now=int(now_s * 1000),
    )  # fmt: skip
    if seen.count == 1:
        log.warning(
            "unknown SigV4 key %s recorded for approval (robot %r); see 'jibo-cloud robot "
            "pending'", access_key_id, seen.claimed_robot or "-",
        )  # fmt: skip
    raise _unrecognized(
        "this key is not known; it is recorded and waits for the operator's approval"
    )


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
