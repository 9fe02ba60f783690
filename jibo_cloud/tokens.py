"""Hub tokens: HS256 JWTs issued by ``CreateHubToken`` and checked on every hub socket.

PROTOCOL.md §2.5 and §4.1: the original hub verified a JWT signed with
``ETCO_server_hubTokenSecret`` (HS256, no ``kid``), with claims ``{id: accountId, accessKeyId,
friendlyId?}`` and an optional ``exp``; failures answered the upgrade with 401 and the Node
``jsonwebtoken`` library's ``<ErrorName>: <message>``. We keep those texts so tools written
against the original still recognise them.

Rotation (§8): tokens without ``kid`` are checked against the primary secret; tokens with a
``kid`` against ``config.token_keys[kid]``. New tokens are signed with the primary secret, or
with ``config.signing_kid``'s key when set. Only HS256 is accepted: ``alg: none`` and every
other algorithm are refused before any key is looked at.

Lifetime: a token must carry ``exp``, and neither its whole lifetime (``exp - iat``)
nor what is left of it (``exp - now``) may exceed ``config.hub_token_max_seconds`` (default
24 h): a token without ``exp``, or minted to live a century, is refused even when its
signature is good. That the robot and key pair it names still exist is checked against the
storage by :class:`jibo_cloud.hub.auth.TokenCache` (this module stays free of I/O).

Unlike the original, tokens never carry the robot's ``secretAccessKey``: a JWT is only signed,
not encrypted, and a hub token travels in headers that proxies log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import jwt

from jibo_cloud.config import Config
from jibo_cloud.errors import HandshakeRejected

ALGORITHM = "HS256"
#: How long a hub token lives. The robot refetches one on a 401 (§2.5), so a day is plenty.
HUB_TOKEN_TTL_SECONDS = 24 * 3600.0


@attrs.frozen
class HubIdentity:
    """Who a hub socket belongs to, from its token (or the anonymous defaults, §4.1)."""

    account_id: str
    #: The robot's friendly name (``friendlyId``), when the token names one.
    robot_id: str | None = None
    access_key_id: str | None = None
    #: The key that verified the token (None for the primary secret or no auth).
    kid: str | None = None
    authenticated: bool = True

    @classmethod
    def anonymous(cls) -> HubIdentity:
        """§4.1: with auth disabled the identity defaults to anonymous-account/anonymous-robot."""
        return cls(account_id="anonymous-account", robot_id="anonymous-robot", authenticated=False)


def issue_hub_token(
    config: Config,
    *,
    account_id: str,
    friendly_id: str | None,
    access_key_id: str | None,
    now_s: float,
    ttl_s: float = HUB_TOKEN_TTL_SECONDS,
) -> tuple[str, int]:
    """Sign a hub token.

    Returns:
        ``(token, expires)`` where ``expires`` is epoch milliseconds, as ``CreateHubToken``
        answers it.
    """
    issued = int(now_s)
    # Never longer than the server accepts (a smaller configured maximum wins).
    expires = int(now_s + min(ttl_s, config.hub_token_max_seconds))
    claims: dict[str, Any] = {"id": account_id, "iat": issued, "exp": expires}
    if friendly_id:
        claims["friendlyId"] = friendly_id
    if access_key_id:
        claims["accessKeyId"] = access_key_id
    headers: dict[str, Any] | None = None
    key = config.token_secret
    if config.signing_kid is not None:
        key = config.token_keys[config.signing_kid]
        headers = {"kid": config.signing_kid}
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers=headers)
    return token, expires * 1000


def _reject(reason: str) -> HandshakeRejected:
    return HandshakeRejected(401, reason)


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization: Bearer …`` header (header names lower-case).

    Raises:
        HandshakeRejected: 401 ``Authorization is required`` or
            ``Only bearer scheme is supported`` (§4.1).
    """
    value = headers.get("authorization", "").strip()
    if not value:
        raise _reject("Authorization is required")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer":
        raise _reject("Only bearer scheme is supported")
    token = token.strip()
    if not token:
        raise _reject("JsonWebTokenError: jwt must be provided")
    return token


def verify_hub_token(config: Config, token: str, *, now_s: float) -> HubIdentity:
    """Check a hub token's signature, algorithm and expiry at ``now_s``.

    Raises:
        HandshakeRejected: 401 with the original library's ``<ErrorName>: <message>`` text.
    """
    if not config.token_secret and not config.token_keys:
        raise _reject("No JWT secret set")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise _reject("JsonWebTokenError: jwt malformed") from None
    if header.get("alg") != ALGORITHM:
        raise _reject("JsonWebTokenError: invalid algorithm")
    kid = header.get("kid")
    if kid is None:
        key = config.token_secret
    elif isinstance(kid, str) and kid in config.token_keys:
        key = config.token_keys[kid]
    else:
        raise _reject("JsonWebTokenError: invalid signature")
    try:
        # Expiry is checked below against the injected clock, not pyjwt's wall clock.
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.InvalidSignatureError:
        raise _reject("JsonWebTokenError: invalid signature") from None
    except jwt.InvalidTokenError:
        raise _reject("JsonWebTokenError: jwt malformed") from None
    exp = claims.get("exp")
    if exp is None:
        raise _reject("JsonWebTokenError: jwt has no exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise _reject("JsonWebTokenError: invalid exp value")
    if now_s >= exp:
        raise _reject("TokenExpiredError: jwt expired")
    iat = claims.get("iat")
    lifetime = exp - iat if isinstance(iat, int | float) and not isinstance(iat, bool) else 0
    if max(lifetime, exp - now_s) > config.hub_token_max_seconds:
        raise _reject("TokenExpiredError: jwt lifetime exceeds the maximum")
    nbf = claims.get("nbf")
    if isinstance(nbf, int | float) and now_s < nbf:
        raise _reject("NotBeforeError: jwt not active")
    account = claims.get("id")
    if not isinstance(account, str) or not account:
        raise _reject("JsonWebTokenError: jwt payload has no account id")
    friendly = claims.get("friendlyId")
    access_key = claims.get("accessKeyId")
    return HubIdentity(
        account_id=account,
        robot_id=friendly if isinstance(friendly, str) else None,
        access_key_id=access_key if isinstance(access_key, str) else None,
        kid=kid,
    )


def authenticate_socket(config: Config, headers: Mapping[str, str], *, now_s: float) -> HubIdentity:
    """The whole §4.1 check for a hub socket: the dev switch, the bearer header, the token."""
    if config.disable_auth:
        return HubIdentity.anonymous()
    return verify_hub_token(config, bearer_token(headers), now_s=now_s)
