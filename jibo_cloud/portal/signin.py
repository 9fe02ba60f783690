"""Sign in, set a password from an invite, sign out, sign out everywhere.

- ``GET/POST /portal/signin``: e-mail and password. A failure waits
  ``Portal.failure_delay`` and answers 400 with the same words whatever was wrong; past the
  per-account or per-address limit the form answers 429 with ``Retry-After``. Success makes a
  brand-new session (the id never comes from the browser: no fixation) and redirects to
  ``next`` if it stays inside the portal.
- ``GET/POST /portal/invite?t=<token>``: set the password once; the invite is then spent and
  every earlier session of the account ends. The token rides in the query string because the
  access log never writes query strings (a path would be logged).
- ``POST /portal/signout`` and ``/portal/signout-everywhere`` (CSRF-checked).
"""

from __future__ import annotations

import math
from typing import Any

import trio
from quart import Blueprint, Response, abort, render_template, request

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.portal.auth import new_session, password_problem, token_hash
from jibo_cloud.portal.context import (
    FORM_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    Portal,
    clear_cookie,
    cookie_name,
    form_token,
    safe_next,
    see_other,
    set_cookie,
    tokens_match,
)

MAX_EMAIL = 254
#: Longer passwords are cut here before hashing (a set password is at most 256 characters).
MAX_PASSWORD_SENT = 1024
FAILED = "That e-mail and password do not match an owner of this server."


def add_routes(bp: Blueprint, portal: Portal) -> None:
    async def form_page(template: str, status: int = 200, **context: Any) -> Response:
        tls = portal.is_tls(request.scheme, request.headers)
        token, fresh = form_token(request.cookies, tls)
        body = await render_template(template, form_csrf=token, viewer=None, **context)
        response = Response(body, status=status, content_type="text/html; charset=utf-8")
        if fresh:
            set_cookie(response, FORM_COOKIE, token, tls=tls, max_age=None, same_site="Strict")
        return response

    def form_checked(form: Any) -> bool:
        tls = portal.is_tls(request.scheme, request.headers)
        expected = request.cookies.get(cookie_name(FORM_COOKIE, tls))
        return tokens_match(expected, form.get("csrf"))

    @bp.get("/signin")
    async def signin_form() -> Any:
        tls = portal.is_tls(request.scheme, request.headers)
        if await portal.viewer(request.cookies, tls) is not None:
            return see_other(safe_next(request.args.get("next")))
        return await form_page("portal/signin.html", next=safe_next(request.args.get("next")))

    @bp.post("/signin")
    async def signin() -> Any:
        form = await request.form
        if not form_checked(form):
            abort(403)
        tls = portal.is_tls(request.scheme, request.headers)
        address = portal.client(request.remote_addr, request.headers)
        email = str(form.get("email", "")).strip()[:MAX_EMAIL]
        password = str(form.get("password", ""))[:MAX_PASSWORD_SENT]
        target = safe_next(form.get("next"))
        wait = portal.limits.blocked(email, address, trio.current_time())
        if wait > 0:
            response = await form_page(
                "portal/signin.html", 429, next=target, email=email,
                error="Too many failed sign-ins. Wait a few minutes, then try again.",
            )  # fmt: skip
            response.headers["Retry-After"] = str(math.ceil(wait))
            return response
        account = await portal.storage.find_account_by_email(email) if email else None
        credential = (
            await portal.storage.get_owner_credential(account.id) if account is not None else None
        )
        stored = credential.password_hash if credential is not None else None
        if not await portal.passwords.verify(stored, password) or account is None:
            portal.limits.failed(email, address, trio.current_time())
            await trio.sleep(portal.failure_delay)
            return await form_page(
                "portal/signin.html", 400, next=target, email=email, error=FAILED
            )
        assert stored is not None
        if portal.passwords.needs_rehash(stored):
            rehashed = await portal.passwords.hash(password)
            await portal.storage.replace_password_hash(account.id, stored, rehashed,
                                                       now=portal.now())  # fmt: skip
        token, session = new_session(account.id, now=portal.now(), address=address)
        await portal.storage.create_portal_session(session)
        response = see_other(target)
        set_cookie(response, SESSION_COOKIE, token, tls=tls, max_age=SESSION_MAX_AGE)
        return response

    @bp.get("/invite")
    async def invite_form() -> Response:
        token = str(request.args.get("t", ""))[:128]
        account_id = await portal.storage.invite_account(token_hash(token), now=portal.now())
        if account_id is None:
            return await form_page("portal/invite_gone.html", 404)
        account = await portal.storage.get_account(account_id)
        return await form_page("portal/invite.html", email=account.email if account else "")

    @bp.post("/invite")
    async def invite() -> Any:
        token = str(request.args.get("t", ""))[:128]
        form = await request.form
        if not form_checked(form):
            abort(403)
        account_id = await portal.storage.invite_account(token_hash(token), now=portal.now())
        if account_id is None:
            return await form_page("portal/invite_gone.html", 404)
        account = await portal.storage.get_account(account_id)
        email = account.email if account else ""
        password, again = str(form.get("password", "")), str(form.get("again", ""))
        problem = password_problem(password, again)
        if problem is not None:
            return await form_page("portal/invite.html", 400, email=email, error=problem)
        hashed = await portal.passwords.hash(password)
        if await portal.storage.redeem_invite(token_hash(token), hashed, now=portal.now()) is None:
            return await form_page("portal/invite_gone.html", 404)
        response = see_other("/portal/signin?done=1")
        clear_cookie(response, SESSION_COOKIE, tls=portal.is_tls(request.scheme, request.headers))
        return response

    async def signed_in_post() -> tuple[Any, bool]:
        tls = portal.is_tls(request.scheme, request.headers)
        viewer = await portal.viewer(request.cookies, tls)
        form = await request.form
        if viewer is None or not tokens_match(viewer.csrf, form.get("csrf")):
            abort(403)
        return viewer, tls

    @bp.post("/signout")
    async def signout() -> Any:
        viewer, tls = await signed_in_post()
        await portal.storage.delete_portal_session(viewer.session.id_hash)
        response = see_other("/portal/signin")
        clear_cookie(response, SESSION_COOKIE, tls=tls)
        return response

    @bp.post("/signout-everywhere")
    async def signout_everywhere() -> Any:
        viewer, tls = await signed_in_post()
        try:
            await portal.storage.delete_account_sessions(viewer.account.id)
        except StorageUnavailable:
            abort(503)
        response = see_other("/portal/signin?everywhere=1")
        clear_cookie(response, SESSION_COOKIE, tls=tls)
        return response
