"""A small cache of verified hub tokens, so each socket does not redo the HS256 check.

A robot sends the same hub token on every socket until it expires (PROTOCOL.md §2.5), and
verifying it with pyjwt costs about 0.2 ms, a noticeable share of a turn. The cache is keyed
by the exact ``Authorization`` header value, holds only tokens that passed
:func:`jibo_cloud.tokens.authenticate_socket`, and re-checks ``exp``/``nbf`` against the
caller's clock on every hit; an expired entry falls through to the full check, which answers
the original ``TokenExpiredError: jwt expired``. Bounded (least recently used dropped).

A good signature is not enough (a deleted robot's token used to open the hub):
:meth:`TokenCache.authenticate` also asks the storage whether the robot the token names still
exists in the token's account and whether its key pair (``accessKeyId``) still exists and
belongs to that robot. The answer, good or bad, is kept :data:`ROBOT_CHECK_SECONDS` per
(account, robot, key), so a socket costs no storage round trip while its robot reconnects,
and a removed robot or key pair is refused at most that long after its removal.
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import attrs

from jibo_cloud.config import Config
from jibo_cloud.errors import HandshakeRejected, StorageUnavailable
from jibo_cloud.tokens import HubIdentity, authenticate_socket

MAX_ENTRIES = 4096
#: How long a robot/key-pair check is reused (seconds): the longest a removed robot's or
#: key pair's token keeps opening sockets.
ROBOT_CHECK_SECONDS = 30.0
NO_ROBOT = "JsonWebTokenError: jwt names no robot"
ROBOT_GONE = "JsonWebTokenError: robot no longer exists"
KEY_GONE = "JsonWebTokenError: key pair no longer exists"


async def robot_problem(storage: Any, identity: HubIdentity) -> str | None:
    """Why the robot named by a verified token may not open a socket, or None.

    The robot is the token's ``friendlyId`` (else the key pair's robot); it must exist in
    the token's account. A token naming a key pair (``accessKeyId``) needs that key pair to
    exist, in the same account, for the same robot. Reads only: ``get_key_pair``,
    ``get_robot``.
    """
    robot_name = identity.robot_id
    if identity.access_key_id is not None:
        key = await storage.get_key_pair(identity.access_key_id)
        if key is None or key.account_id != identity.account_id:
            return KEY_GONE
        if key.robot_name and robot_name and key.robot_name != robot_name:
            return KEY_GONE
        robot_name = robot_name or key.robot_name
    if not robot_name:
        return NO_ROBOT
    robot = await storage.get_robot(robot_name)
    if robot is None or robot.account_id != identity.account_id:
        return ROBOT_GONE
    return None


def _claims(header_value: str) -> Mapping[str, object]:
    """The (already verified) token's claims, read without a second signature check."""
    try:
        payload = header_value.split(" ", 1)[1].strip().split(".")[1]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        claims = json.loads(raw)
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


@attrs.define
class TokenCache:
    max_entries: int = MAX_ENTRIES
    _entries: OrderedDict[str, tuple[HubIdentity, float | None, float | None]] = attrs.field(
        factory=OrderedDict
    )
    #: (account, robot, key) -> (refusal reason or None, when checked).
    _robots: OrderedDict[tuple[str, str | None, str | None], tuple[str | None, float]] = (
        attrs.field(factory=OrderedDict)
    )

    def admit_cached(
        self, config: Config, headers: Mapping[str, str], *, now_s: float
    ) -> HubIdentity | None:
        """:meth:`admit` when the caches answer it (no I/O, no checkpoint), else None.

        Raises:
            HandshakeRejected: as :meth:`admit`.
        """
        identity = self.authenticate(config, headers, now_s=now_s)
        if not identity.authenticated:
            return identity
        cached = self._robots.get((identity.account_id, identity.robot_id, identity.access_key_id))
        if cached is None or not 0 <= now_s - cached[1] < ROBOT_CHECK_SECONDS:
            return None
        if cached[0] is not None:
            raise HandshakeRejected(401, cached[0])
        return identity

    async def admit(
        self, config: Config, storage: Any, headers: Mapping[str, str], *, now_s: float
    ) -> HubIdentity:
        """The whole check for a hub socket: the token (:meth:`authenticate`), then its
        robot and key pair in the storage (cached :data:`ROBOT_CHECK_SECONDS`).

        Raises:
            HandshakeRejected: 401 with the reason; 503 when the storage is unreachable.
        """
        identity = self.authenticate(config, headers, now_s=now_s)
        if not identity.authenticated:  # JIBO_DISABLE_AUTH: nothing to look up
            return identity
        key = (identity.account_id, identity.robot_id, identity.access_key_id)
        cached = self._robots.get(key)
        if cached is not None and 0 <= now_s - cached[1] < ROBOT_CHECK_SECONDS:
            reason = cached[0]
        else:
            try:
                reason = await robot_problem(storage, identity)
            except StorageUnavailable:
                raise HandshakeRejected(503, "Service Unavailable") from None
            self._robots[key] = (reason, now_s)
            self._robots.move_to_end(key)
            while len(self._robots) > self.max_entries:
                self._robots.popitem(last=False)
        if reason is not None:
            raise HandshakeRejected(401, reason)
        return identity

    def authenticate(
        self, config: Config, headers: Mapping[str, str], *, now_s: float
    ) -> HubIdentity:
        """Same answer as :func:`authenticate_socket`, faster for a token seen before.

        Raises:
            HandshakeRejected: as :func:`authenticate_socket`.
        """
        if config.disable_auth:
            return authenticate_socket(config, headers, now_s=now_s)
        key = headers.get("authorization", "")
        entry = self._entries.get(key)
        if entry is not None:
            identity, expires, not_before = entry
            if (expires is None or now_s < expires) and (not_before is None or now_s >= not_before):
                self._entries.move_to_end(key)
                return identity
            del self._entries[key]
        identity = authenticate_socket(config, headers, now_s=now_s)
        claims = _claims(key)
        exp, nbf = claims.get("exp"), claims.get("nbf")
        self._entries[key] = (
            identity,
            float(exp) if isinstance(exp, int | float) else None,
            float(nbf) if isinstance(nbf, int | float) else None,
        )
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return identity
