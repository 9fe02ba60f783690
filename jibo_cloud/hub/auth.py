"""A small cache of verified hub tokens, so each socket does not redo the HS256 check.

A robot sends the same hub token on every socket until it expires (PROTOCOL.md §2.5), and
verifying it with pyjwt costs about 0.2 ms, a noticeable share of a turn. The cache is keyed
by the exact ``Authorization`` header value, holds only tokens that passed
:func:`jibo_cloud.tokens.authenticate_socket`, and re-checks ``exp``/``nbf`` against the
caller's clock on every hit; an expired entry falls through to the full check, which answers
the original ``TokenExpiredError: jwt expired``. Bounded (least recently used dropped).
"""

from __future__ import annotations

import base64
import json
from collections import OrderedDict
from collections.abc import Mapping

import attrs

from jibo_cloud.config import Config
from jibo_cloud.tokens import HubIdentity, authenticate_socket

MAX_ENTRIES = 4096


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
