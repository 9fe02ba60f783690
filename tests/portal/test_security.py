"""The portal's refusals, over plain HTTP against the real server: no session, no CSRF token,
another household's things, session fixation, open redirects, cookie flags over TLS."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from jibo_cloud.portal import auth
from jibo_cloud.portal.context import safe_next
from jibo_cloud.storage.portal import VoiceTurn
from tests.portal.support import OTHER, PASSWORD, PortalServer, csrf_of, portal_server
from tests.rest.support import LOOP_ID, SPEC, RestClient

PAGES = [
    "/portal/", "/portal/household", "/portal/photos", "/portal/photos/p",
    "/portal/photos/p/file", "/portal/photos/p/thumb", "/portal/voice", "/portal/settings",
    "/portal/updates",
]  # fmt: skip
FORMS = [
    "/portal/signout", "/portal/signout-everywhere", f"/portal/household/{LOOP_ID}/members/m",
    "/portal/photos/p/delete", f"/portal/voice/{LOOP_ID}/settings",
    f"/portal/voice/{LOOP_ID}/delete", f"/portal/settings/{LOOP_ID}", "/portal/updates",
]  # fmt: skip
OTHER_PHOTO = "their-kitchen"


@pytest.fixture(autouse=True)
def quick_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "FAILURE_DELAY_SECONDS", 0.01)


async def test_every_page_and_form_refuses_without_a_session(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.client() as http:
        for path in PAGES:
            answer = await http.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/portal/signin?next=/portal"), path
        for path in FORMS:
            answer = await http.post(path, data={"csrf": "x"})
            assert answer.status_code == 403, path
            assert "text/html" in answer.headers["content-type"]
        unknown = await http.get("/portal/no/such/page")
        assert unknown.status_code == 404
        assert "text/html" in unknown.headers["content-type"]
        css = await http.get("/portal/static/portal.css")
        assert css.status_code == 200
        assert "text/css" in css.headers["content-type"]


async def test_forms_need_the_session_s_csrf_token(nursery: trio.Nursery, tmp_path: Path) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.owner() as http:
        token = await portal.csrf(http)
        member = (await portal.storage.members_of(LOOP_ID))[0].id
        forms = [f.replace("/members/m", f"/members/{member}") for f in FORMS]
        for path in forms:
            for data in ({}, {"csrf": "not-the-token"}, {"csrf": token[:-1]}):
                answer = await http.post(path, data=data)
                assert answer.status_code == 403, (path, data)
        # Cross-site: the right token (say, leaked) from another origin is still refused.
        answer = await http.post(forms[2], data={"csrf": token},
                                 headers={"Origin": "https://evil.example"})  # fmt: skip
        assert answer.status_code == 403
        assert (await http.get("/portal/")).status_code == 200  # still signed in
        # Sign-in and invite forms carry their own token (a cookie and the same field).
        async with portal.client() as fresh:
            answer = await fresh.post(
                "/portal/signin", data={"email": SPEC.owner_email, "password": PASSWORD}
            )
            assert answer.status_code == 403
            invite = await portal.invite_path(SPEC.owner_email)
            answer = await fresh.post(invite, data={"password": PASSWORD, "again": PASSWORD})
            assert answer.status_code == 403


async def _other_household(portal: PortalServer) -> None:
    """The other household's robot uploads a photo; its turns are recorded."""
    import httpx

    async with httpx.AsyncClient(base_url=portal.url) as http:
        media = {"x-loop-id": OTHER.loop_id, "x-path": OTHER_PHOTO, "x-type": "image"}
        await RestClient(http).ok("Media_20160725.Create", raw=b"\xff\xd8\xff their photo",
                                  headers=media, key=OTHER.access_key_id,
                                  secret=OTHER.secret_access_key)  # fmt: skip
    await portal.storage.record_voice_turn(VoiceTurn(OTHER.name, 1, heard="their words"))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_another_household_is_not_found(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    async with portal_server(nursery, tmp_path, backend) as portal, portal.owner() as http:
        await _other_household(portal)
        account = await portal.storage.find_account_by_email(SPEC.owner_email)
        await portal.storage.set_owner_role(account.id, "operator", now=0)  # sees robots only
        token = await portal.csrf(http)
        their_member = (await portal.storage.members_of(OTHER.loop_id))[0].id
        for path in (f"/portal/photos/{OTHER_PHOTO}", f"/portal/photos/{OTHER_PHOTO}/file",
                     f"/portal/photos/{OTHER_PHOTO}/thumb"):  # fmt: skip
            assert (await http.get(path)).status_code == 404, path
        for path in (
            f"/portal/photos/{OTHER_PHOTO}/delete", f"/portal/voice/{OTHER.loop_id}/delete",
            f"/portal/voice/{OTHER.loop_id}/settings", f"/portal/settings/{OTHER.loop_id}",
            f"/portal/household/{OTHER.loop_id}/members/{their_member}",
            f"/portal/household/{LOOP_ID}/members/{their_member}",
        ):  # fmt: skip
            answer = await http.post(path, data={"csrf": token, "retention": "7", "units": "x",
                                                 "firstName": "Mallory"})  # fmt: skip
            assert answer.status_code == 404, path
        for page in ("/portal/photos", "/portal/voice", "/portal/household", "/portal/settings"):
            text = (await http.get(page)).text
            assert OTHER_PHOTO not in text
            assert "their words" not in text
            assert OTHER.loop_id not in text
        assert [m.path for m in await portal.storage.list_media([OTHER.loop_id])] == [OTHER_PHOTO]
        assert len(await portal.storage.list_voice_turns([OTHER.name])) == 1
        their_account = await portal.storage.find_account_by_email(OTHER.owner_email)
        assert their_account.first_name != "Mallory"


async def test_updates_are_for_operators_only(nursery: trio.Nursery, tmp_path: Path) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.owner() as http:
        token = await portal.csrf(http)
        assert (await http.get("/portal/updates")).status_code == 404
        answer = await http.post("/portal/updates", data={"csrf": token, "subsystem": "os"},
                                 files={"package": ("p.tgz", b"x")})  # fmt: skip
        assert answer.status_code == 404
        assert await portal.storage.list_updates() == []
        assert "/portal/updates" not in (await http.get("/portal/")).text


async def test_session_fixation_is_impossible(nursery: trio.Nursery, tmp_path: Path) -> None:
    planted = "attacker-chosen-session-id-0123456789abcdef"
    async with portal_server(nursery, tmp_path) as portal, portal.client() as http:
        await portal.set_password(http, SPEC.owner_email)
        http.cookies.set("jibo_portal", planted)
        answer = await portal.sign_in(http, SPEC.owner_email)
        assert answer.status_code == 303
        issued = answer.cookies["jibo_portal"]
        assert issued != planted
        async with portal.client() as attacker:
            attacker.cookies.set("jibo_portal", planted)
            assert (await attacker.get("/portal/")).status_code == 303


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/portal", "/\\evil.example", "/portal//evil.example",
     "javascript:alert(1)", "/portal/../x", "/elsewhere", "http:/evil.example", ""],
)  # fmt: skip
def test_next_never_leaves_the_portal(target: str) -> None:
    assert safe_next(target) in ("/portal/", "/portal/../x")
    assert safe_next("/portal/photos?x=1") == "/portal/photos?x=1"


async def test_sign_in_redirects_only_inside_the_portal(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.client() as http:
        await portal.set_password(http, SPEC.owner_email)
        answer = await portal.sign_in(http, SPEC.owner_email, next_="//evil.example/")
        assert answer.headers["location"] == "/portal/"
        answer = await http.get("/portal/signin?next=https://evil.example/")
        assert answer.headers["location"] == "/portal/"


async def test_cookies_over_tls_are_secure_host_cookies(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """Behind a TLS proxy (``X-Forwarded-Proto: https`` from a trusted proxy). httpx keeps
    Secure cookies for https URLs only, so this test carries them by hand."""
    tls = {"X-Forwarded-Proto": "https"}
    async with portal_server(nursery, tmp_path, trust_forwarded=True) as portal:
        async with portal.client() as plain:
            await portal.set_password(plain, SPEC.owner_email)
        async with portal.client() as http:
            page = await http.get("/portal/signin", headers=tls)
            form_cookie = page.headers["set-cookie"]
            assert form_cookie.startswith("__Host-jibo_portal_form=")
            for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
                assert flag in form_cookie
            form_value = form_cookie.split(";")[0]
            answer = await http.post(
                "/portal/signin",
                data={"csrf": csrf_of(page.text), "email": SPEC.owner_email,
                      "password": PASSWORD, "next": "/portal/"},
                headers={**tls, "Cookie": form_value},
            )  # fmt: skip
            assert answer.status_code == 303, answer.text
            session_cookie = answer.headers["set-cookie"]
            assert session_cookie.startswith("__Host-jibo_portal=")
            for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
                assert flag in session_cookie
            assert "Domain" not in session_cookie
            session_value = session_cookie.split(";")[0]
            home = await http.get("/portal/", headers={**tls, "Cookie": session_value})
            assert home.status_code == 200
            assert "default-src 'none'" in home.headers["content-security-policy"]
            assert home.headers["x-frame-options"] == "DENY"
            assert home.headers["cache-control"] == "no-store"
            # A __Host- cookie means nothing over plain HTTP (the browser would not send it).
            assert (
                await http.get("/portal/", headers={"Cookie": session_value})
            ).status_code == 303
