"""Sign-in for the owner's portal: passwords, invites, sessions, CSRF tokens and sign-in limits.

No Quart here (the command line uses it too): the routes in :mod:`jibo_cloud.portal.signin`
pass in what they read from the request.

- Passwords: argon2id (``argon2-cffi``'s defaults: 64 MiB, 3 passes), hashed in a worker
  thread behind a limiter of :data:`HASH_SLOTS`, so sign-ins never stall the event loop and
  a burst of them cannot take all the memory. An unknown e-mail is checked against a dummy
  hash, so a wrong address takes as long as a wrong password.
- Invites and sessions are random tokens (``secrets.token_urlsafe``); only their sha-256 is
  stored, so the database opens nothing.
- Failed sign-ins are limited per account and per client address
  (:class:`jibo_cloud.ratelimit.FailureWindows`) and each one is answered only after
  :data:`FAILURE_DELAY_SECONDS`.
"""

from __future__ import annotations

import hashlib
import secrets

import argon2
import attrs
import trio

from jibo_cloud.ratelimit import FailureWindows
from jibo_cloud.storage.portal import PortalSession

#: How long an invite link works.
INVITE_HOURS = 24
INVITE_MS = INVITE_HOURS * 3_600_000
#: A session ends this long after sign-in whatever happens ...
SESSION_MS = 14 * 86_400_000
#: ... or after this long without a request.
IDLE_MS = 2 * 86_400_000
#: ``last_seen`` is written at most this often per session (not on every page).
TOUCH_EVERY_MS = 5 * 60_000
#: Concurrent argon2 computations (each takes 64 MiB for ~50 ms).
HASH_SLOTS = 2
#: Shortest password accepted (NIST SP 800-63B: at least 8; we ask a little more).
MIN_PASSWORD = 10
MAX_PASSWORD = 256
#: Failed sign-ins per account, and per client address, before the rest of the window is
#: refused (429), and the window.
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
FAILURE_WINDOW_SECONDS = 15 * 60.0
#: Every failed sign-in is answered this late (slows guessing even below the limits).
FAILURE_DELAY_SECONDS = 1.0


def token_hash(token: str) -> str:
    """What the storage keeps of an invite or session token."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@attrs.define
class Passwords:
    """argon2id hashing in worker threads, at most :data:`HASH_SLOTS` at once (per server)."""

    hasher: argon2.PasswordHasher = attrs.field(factory=argon2.PasswordHasher)
    limiter: trio.CapacityLimiter = attrs.field(factory=lambda: trio.CapacityLimiter(HASH_SLOTS))
    #: A hash of nothing anyone knows, made on first use: an unknown account costs as much.
    _dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await trio.to_thread.run_sync(self.hasher.hash, password, limiter=self.limiter)

    def _verify(self, stored: str | None, password: str) -> bool:
        if self._dummy is None:
            self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        try:
            return self.hasher.verify(stored or self._dummy, password) and stored is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; None (no password set yet) takes as long
        and fails."""
        return await trio.to_thread.run_sync(self._verify, stored, password, limiter=self.limiter)

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self.hasher.check_needs_rehash(stored)
        except argon2.exceptions.InvalidHashError:
            return False


def password_problem(password: str, again: str) -> str | None:
    """Why a new password is refused, in words for the form; None when it is fine."""
    if password != again:
        return "The two passwords differ."
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    return None


async def new_invite(storage: object, account_id: str, *, now: int) -> str:
    """Store a fresh invite for the account; returns the token for the link (shown once)."""
    token = new_token()
    await storage.create_invite(  # type: ignore[attr-defined]
        account_id, token_hash(token), now=now, expires=now + INVITE_MS
    )
    return token


def new_session(account_id: str, *, now: int, address: str) -> tuple[str, PortalSession]:
    """A fresh session: the cookie's token (never stored) and the row to store."""
    token = new_token()
    return token, PortalSession(
        id_hash=token_hash(token), account_id=account_id, csrf=new_token(), created=now,
        last_seen=now, expires=now + SESSION_MS, address=address,
    )  # fmt: skip


@attrs.define
class SignInLimits:
    """Failed sign-ins per account (lower-cased e-mail) and per client address."""

    accounts: FailureWindows = attrs.field(
        factory=lambda: FailureWindows(limit=ACCOUNT_FAILURES, window=FAILURE_WINDOW_SECONDS)
    )
    addresses: FailureWindows = attrs.field(
        factory=lambda: FailureWindows(limit=ADDRESS_FAILURES, window=FAILURE_WINDOW_SECONDS)
    )

    def blocked(self, email: str, address: str, now: float) -> float:
        """Seconds until this e-mail and address may try again (0.0: now)."""
        return max(self.accounts.blocked(email.lower(), now), self.addresses.blocked(address, now))

    def failed(self, email: str, address: str, now: float) -> None:
        self.accounts.record(email.lower(), now)
        self.addresses.record(address, now)
