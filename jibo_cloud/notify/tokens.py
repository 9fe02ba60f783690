"""Robot tokens of the notification socket (``NewRobotToken``, PROTOCOL.md §3): how they are
made, stored and counted. Pure functions, no I/O."""

from __future__ import annotations

import hashlib
import secrets

#: Robot tokens live a week; the robot asks for a new one on every reconnect anyway.
ROBOT_TOKEN_TTL_MS = 7 * 24 * 3600 * 1000
#: The plain-text reason of the 401 refusing a token we did not issue (or one expired/revoked).
REJECT_REASON = "Authorization is required"


def hash_token(token: str) -> str:
    """Tokens are stored as their sha-256, so a database leak does not leak live tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_key(token_hash: str) -> int:
    """A small key for counting a token's sockets (64 bits of its hash: an ``int`` costs less
    per idle socket than the 64-character hex string)."""
    return int(token_hash[:16], 16)


def new_robot_token() -> str:
    return secrets.token_urlsafe(32)
