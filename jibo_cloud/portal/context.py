"""What every portal page shares: who is signed in, their households, CSRF and cookies.

:class:`Portal` is built once per app (:func:`jibo_cloud.portal.site.build_blueprint`) and
closed over by the routes; it holds no request. Route functions read Quart's ``request``
and pass what they need here (STYLE.md: the globals are read only in the route).

Cookies (docs/portal.md, "Security"): the session cookie holds a random token (the storage
keeps its sha-256); it is ``HttpOnly``, ``SameSite=Lax``, and over TLS ``Secure`` with the
``__Host-`` prefix (no ``Domain``, ``Path=/``). Forms before sign-in (sign-in, set password)
carry a double-submit token: a random ``SameSite=Strict`` cookie and the same value in a
hidden field. Forms after sign-in carry the session's own CSRF token.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
from quart import abort

from jibo_cloud.access import note_principal
from jibo_cloud.clientaddr import client_address
from jibo_cloud.portal import auth
from jibo_cloud.portal.auth import (
    IDLE_MS,
    SESSION_MS,
    TOUCH_EVERY_MS,
    Passwords,
    SignInLimits,
    new_token,
    token_hash,
)
from jibo_cloud.runtime import Runtime
from jibo_cloud.storage.portal import OPERATOR, PortalSession
from jibo_cloud.storage.records import Account, Loop, Robot

log = logging.getLogger(__name__)

SESSION_COOKIE = "jibo_portal"
FORM_COOKIE = "jibo_portal_form"
#: Where a signed-in owner lands, and the only prefix a ``next`` may have.
HOME = "/portal/"
_SAFE_NEXT = re.compile(r"/portal(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?")


def cookie_name(base: str, tls: bool) -> str:
    """``__Host-`` cookies must be Secure, Path=/ and have no Domain: only over TLS."""
    return f"__Host-{base}" if tls else base


def safe_next(value: str | None) -> str:
    """A ``next`` target that stays inside the portal on this host, else :data:`HOME`.

    Refuses anything with a scheme or host (``https://evil``, ``//evil``, ``/\\evil``), and
    paths outside ``/portal``: an open redirect would let a phishing link borrow our name.
    """
    if not value or "//" in value or "\\" in value or not _SAFE_NEXT.fullmatch(value):
        return HOME
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return HOME
    return value


def same_origin(headers: Any, host: str) -> bool:
    """A form post's ``Origin`` (when the browser sent one) must be this host."""
    origin = headers.get("origin")
    if origin is None:
        return True
    return bool(urlsplit(str(origin)).netloc.lower() == host.lower())


def see_other(location: str) -> Any:
    """A 303 to ``location`` (a path on this server) as a Quart response."""
    from quart import Response

    return Response("", status=303, headers={"Location": location})


def tokens_match(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@attrs.frozen
class Viewer:
    """The signed-in account of one request."""

    account: Account
    session: PortalSession
    role: str

    @property
    def csrf(self) -> str:
        return self.session.csrf

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR


@attrs.frozen
class Household:
    """A loop the viewer owns, with its robot (None when the loop names none registered)."""

    loop: Loop
    robot: Robot | None


@attrs.define
class Portal:
    """The portal's shared pieces for one server (see the module doc)."""

    runtime: Runtime
    passwords: Passwords = attrs.field(factory=Passwords)
    limits: SignInLimits = attrs.field(factory=SignInLimits)
    #: Seconds every failed sign-in waits before its answer (read when the portal is built).
    failure_delay: float = attrs.field(factory=lambda: auth.FAILURE_DELAY_SECONDS)

    @property
    def storage(self) -> Any:
        return self.runtime.storage

    def now(self) -> int:
        return self.runtime.now_ms()

    def is_tls(self, scheme: str, headers: Any) -> bool:
        if scheme in ("https", "wss"):
            return True
        forwarded = (
            headers.get("x-forwarded-proto", "") if self.runtime.config.trust_forwarded else ""
        )
        return forwarded.split(",")[0].strip().lower() == "https"

    def client(self, peer: str | None, headers: Any) -> str:
        return client_address(peer, {k.lower(): v for k, v in headers.items()}, self.runtime.config)

    async def viewer(self, cookies: Mapping[str, str], tls: bool) -> Viewer | None:
        """The signed-in account of a request with ``cookies``, or None.

        A session outlives neither its absolute expiry nor :data:`IDLE_MS` without a request;
        ``last_seen`` is written at most every :data:`TOUCH_EVERY_MS`.
        """
        token = cookies.get(cookie_name(SESSION_COOKIE, tls))
        if not token or len(token) > 128:
            return None
        now = self.now()
        session = await self.storage.get_portal_session(token_hash(token), now=now, idle_ms=IDLE_MS)
        if session is None:
            return None
        account = await self.storage.get_account(session.account_id)
        credential = await self.storage.get_owner_credential(session.account_id)
        if account is None or credential is None:
            return None
        note_principal(f"account:{account.id}")  # the access log names who it was
        if now - session.last_seen >= TOUCH_EVERY_MS:
            await self.storage.touch_portal_session(session.id_hash, now=now)
        return Viewer(account=account, session=session, role=credential.role)

    async def households(self, viewer: Viewer) -> list[Household]:
        """The loops the viewer owns, oldest first, each with its robot."""
        loops = [lp for lp in await self.storage.loops_of(viewer.account.id)
                 if lp.owner_id == viewer.account.id]  # fmt: skip
        robots = {r.name: r for r in await self.storage.list_robots(viewer.account.id)}
        return [Household(lp, robots.get(lp.robot_name or "")) for lp in loops]

    async def household(self, viewer: Viewer, loop_id: str) -> Household:
        """The viewer's household ``loop_id``; a 404 when it has none of that id (another
        owner's is "not found" too)."""
        for found in await self.households(viewer):
            if found.loop.id == loop_id:
                return found
        abort(404)
        raise AssertionError("unreachable")

    async def robot_names(self, viewer: Viewer) -> list[str]:
        return [h.loop.robot_name for h in await self.households(viewer) if h.loop.robot_name]


def form_token(cookies: Mapping[str, str], tls: bool) -> tuple[str, bool]:
    """The pre-sign-in form token: the cookie's, or a new one (True: set the cookie)."""
    current = cookies.get(cookie_name(FORM_COOKIE, tls))
    if current and 20 <= len(current) <= 128:
        return current, False
    return new_token(), True


def set_cookie(response: Any, base: str, value: str, *, tls: bool, max_age: int | None,
               same_site: str = "Lax") -> None:  # fmt: skip
    response.set_cookie(
        cookie_name(base, tls), value, max_age=max_age, path="/", secure=tls, httponly=True,
        samesite=same_site,
    )  # fmt: skip


def clear_cookie(response: Any, base: str, *, tls: bool) -> None:
    response.delete_cookie(cookie_name(base, tls), path="/", secure=tls, httponly=True)


SESSION_MAX_AGE = SESSION_MS // 1000
