"""Who is calling: verify the robot's SigV4 signature, or apply the unknown-key policy.

- A key pair we know (imported from the robot's credentials by ``robot add``, or issued by
  ``Account.Create``/``Login``) must sign correctly: a bad signature, a stale date or a
  tampered body is a 403 whatever the policy.
- A key we do not know, or no ``Authorization`` at all, follows ``config.unknown_sigv4_keys``:
  ``reject`` answers 403 ``UnrecognizedClientException``; ``accept`` logs the key id and
  treats the caller as the oldest registered robot (a home server usually has one), unverified.
  Unverified callers never receive secrets (see the Account handlers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from jibo_cloud import sigv4
from jibo_cloud.errors import ServiceError
from jibo_cloud.rest.context import Caller, storage
from jibo_cloud.runtime import Runtime

log = logging.getLogger(__name__)


async def _fallback(rt: Runtime, why: str, access_key_id: str | None) -> Caller:
    if rt.config.unknown_sigv4_keys == "reject":
        if access_key_id is None:
            raise ServiceError(
                "MissingAuthenticationTokenException", "the request is not signed", 403
            )
        raise ServiceError(
            "UnrecognizedClientException", "The security token included in the request is invalid.",
            403,
        )  # fmt: skip
    log.info("accepting %s (access key id %s) as the default robot", why, access_key_id or "-")
    robots = await storage(rt).list_robots()
    if not robots:
        return Caller(access_key_id=access_key_id)
    robot = robots[0]
    return Caller(account_id=robot.account_id, robot_name=robot.name, access_key_id=access_key_id)


async def identify(rt: Runtime, req: sigv4.SignedRequest, *, now_s: float) -> Caller:
    """The caller of ``req``.

    Raises:
        ServiceError: 403 with the AWS error type for a bad signature or a rejected key.
    """
    header = req.headers.get("authorization")
    if not header:
        return await _fallback(rt, "an unsigned request", None)
    try:
        auth = sigv4.parse_authorization(header)
    except sigv4.SignatureError as exc:
        raise ServiceError(exc.code, exc.message, 403) from None
    key = await storage(rt).cached_key_pair(auth.access_key_id, int(now_s * 1000))
    if key is None:
        return await _fallback(rt, "an unknown key", auth.access_key_id)
    try:
        sigv4.verify(req, auth, key.secret_access_key, now_s=now_s)
    except sigv4.SignatureError as exc:
        log.warning("SigV4 check failed for key %s: %s", auth.access_key_id, exc.code)
        raise ServiceError(exc.code, exc.message, 403) from None
    robot_name = key.robot_name
    if robot_name is None:
        robots = await storage(rt).list_robots(key.account_id)
        robot_name = robots[0].name if robots else None
    return Caller(
        account_id=key.account_id, robot_name=robot_name, access_key_id=key.access_key_id,
        verified=True,
    )  # fmt: skip


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
