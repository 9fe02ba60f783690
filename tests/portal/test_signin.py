"""Sign-in over plain HTTP against the real server: invites, passwords, sessions, limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from jibo_cloud.portal import auth
from tests.portal.support import OTHER, PASSWORD, csrf_of, portal_server
from tests.rest.support import SPEC


@pytest.fixture(autouse=True)
def quick_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "FAILURE_DELAY_SECONDS", 0.01)


async def test_invite_then_sign_in_then_sign_out(nursery: trio.Nursery, tmp_path: Path) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.client() as http:
        await portal.set_password(http, SPEC.owner_email)
        answer = await portal.sign_in(http, SPEC.owner_email, next_="/portal/photos")
        assert answer.status_code == 303
        assert answer.headers["location"] == "/portal/photos"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Secure" not in cookie  # plain HTTP here; TLS: see test_security
        home = await http.get("/portal/")
        assert home.status_code == 200
        assert SPEC.name in home.text
        assert OTHER.name not in home.text
        out = await http.post("/portal/signout", data={"csrf": csrf_of(home.text)})
        assert out.status_code == 303
        assert (await http.get("/portal/")).status_code == 303


async def test_an_invite_works_once(nursery: trio.Nursery, tmp_path: Path) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.client() as http:
        path = await portal.invite_path(SPEC.owner_email)
        page = await http.get(path)
        token = csrf_of(page.text)
        short = await http.post(path, data={"csrf": token, "password": "short", "again": "short"})
        assert short.status_code == 400
        assert "at least 10" in short.text
        data = {"csrf": token, "password": PASSWORD, "again": PASSWORD}
        assert (await http.post(path, data=data)).status_code == 303
        again = await http.post(path, data=data)
        assert again.status_code == 404
        assert "does not work" in again.text
        assert (await http.get(path)).status_code == 404
        # The access log writes paths, never query strings: the token is not in it.
        log = (portal.server.config.data_dir / "access.log").read_text()
        assert "/portal/invite" in log
        assert path.partition("t=")[2] not in log
        assert PASSWORD not in log


async def test_wrong_passwords_are_limited_per_account(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.client() as http:
        await portal.set_password(http, SPEC.owner_email)
        for _ in range(auth.ACCOUNT_FAILURES):
            wrong = await portal.sign_in(http, SPEC.owner_email, "not the password")
            assert wrong.status_code == 400
            assert "do not match" in wrong.text
        # The right password is refused too until the window ends: guessing is capped.
        limited = await portal.sign_in(http, SPEC.owner_email)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) > 0
        # An unknown address gets the same answer as a wrong password.
        unknown = await portal.sign_in(http, "nobody@example.com", PASSWORD)
        assert unknown.status_code == 400
        assert "do not match" in unknown.text


async def test_sign_out_everywhere_ends_every_session(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with (
        portal_server(nursery, tmp_path) as portal,
        portal.owner() as first,
        portal.client() as second,
    ):
        assert (await portal.sign_in(second, SPEC.owner_email)).status_code == 303
        assert (await second.get("/portal/")).status_code == 200
        token = await portal.csrf(first)
        out = await first.post("/portal/signout-everywhere", data={"csrf": token})
        assert out.status_code == 303
        assert (await second.get("/portal/")).status_code == 303
        assert (await first.get("/portal/")).status_code == 303


async def test_a_new_invite_signs_the_account_out(nursery: trio.Nursery, tmp_path: Path) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.owner() as http:
        assert (await http.get("/portal/")).status_code == 200
        async with portal.client() as other:
            await portal.set_password(other, SPEC.owner_email, "another good password")
        assert (await http.get("/portal/")).status_code == 303


def test_limits_count_per_account_and_per_address() -> None:
    limits = auth.SignInLimits()
    for n in range(auth.ADDRESS_FAILURES):
        assert limits.blocked(f"user{n}@example.com", "203.0.113.7", now=float(n)) == 0.0
        limits.failed(f"user{n}@example.com", "203.0.113.7", now=float(n))
    # Twenty different accounts from one address: the address is refused ...
    assert limits.blocked("someone@example.com", "203.0.113.7", now=30.0) > 0
    # ... another address is not, and an account is only after its own five failures.
    assert limits.blocked("someone@example.com", "198.51.100.1", now=30.0) == 0.0
    for n in range(auth.ACCOUNT_FAILURES):
        limits.failed("Victim@Example.com", f"198.51.100.{n}", now=40.0)
    assert limits.blocked("victim@example.com", "192.0.2.1", now=41.0) > 0
    assert limits.blocked("victim@example.com", "192.0.2.1", now=40.0 + 15 * 60) == 0.0
