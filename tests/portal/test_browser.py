"""The portal in a real browser (headless Chromium through Playwright), against the real
server and a simulated robot: invite → set password → sign in; the robot comes online; a
household member renamed reaches ``ListLoops`` and the robot's notification socket; a photo
the robot uploaded is viewed, downloaded and deleted; a turn through the hub shows in the
voice history with its latency, which is then deleted; an update published beside one the
robot took. Screenshots of each page go to the test's folder, and to ``docs/portal/`` when
``JIBO_PORTAL_SCREENSHOTS=docs`` (how docs/portal.md's pictures are made)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest
import trio
from trio_websocket import WebSocketConnection

from jibo_cloud.portal import auth
from jibo_cloud.portal.recording import record_turn
from jibo_cloud.storage.portal import VoiceTurn
from jibo_cloud.storage.provisioning import publish_update
from tests.portal.browser import BrowserThread, require_browser
from tests.portal.support import PASSWORD, PortalServer, portal_server
from tests.rest.support import ACCOUNT_ID, LOOP_ID, ROBOT_NAME, SPEC, RestClient
from tests.support import hub_client as hc
from tests.support.env import REPO
from tests.support.robot import open_robot_socket

DOCS = REPO / "docs" / "portal"
PHOTO_PATH = "photo-2026-12-05-kitchen"


def png(width: int = 64, height: int = 48) -> bytes:
    """A small real PNG (a colour gradient), made with the standard library."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 4 % 256, y * 5 % 256, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


@pytest.fixture(autouse=True)
def browser_available(monkeypatch: pytest.MonkeyPatch) -> None:
    require_browser()
    monkeypatch.setattr(auth, "FAILURE_DELAY_SECONDS", 0.01)


UNLABELLED = """[...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && !e.hidden)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML)"""


def unlabelled(page: Any) -> list[str]:
    """Form controls a screen reader could not name (every one needs a label)."""
    return list(page.evaluate(UNLABELLED))


def image_width(page: Any, selector: str) -> int:
    """The natural width of a loaded image, waiting for it (polled from here: the portal's
    CSP forbids the string evaluation ``wait_for_function`` uses inside the page)."""
    image = page.locator(selector).first
    for _ in range(100):
        width = int(image.evaluate("img => img.complete ? img.naturalWidth : 0"))
        if width:
            return width
        page.wait_for_timeout(50)
    raise AssertionError(f"{selector} never loaded")


def shoot(page: Any, folder: Path, name: str) -> None:
    """A screenshot for the docs (kept small: the viewport, not the whole page)."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("JIBO_PORTAL_SCREENSHOTS") == "docs":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name)


async def _robot_socket(portal: PortalServer, http: httpx.AsyncClient,
                        task_status: Any = trio.TASK_STATUS_IGNORED) -> None:  # fmt: skip
    """The simulated robot: a robot token, then its notification socket, held open; every
    frame it gets goes to the channel handed back through ``task_status``."""
    token = (await RestClient(http).ok("Notification_20150505.NewRobotToken",
                                       {"deviceId": ROBOT_NAME}))["token"]  # fmt: skip
    send, receive = trio.open_memory_channel[dict[str, Any]](16)
    async with open_robot_socket(portal.server.port, f"/{token}",
                                 host="api-socket.jibo.com") as ws:  # fmt: skip
        task_status.started(receive)
        await _pump(ws, send)


async def _pump(ws: WebSocketConnection, send: trio.MemorySendChannel[dict[str, Any]]) -> None:
    while True:
        await send.send(json.loads(await ws.get_message()))


async def test_an_owner_s_first_evening(nursery: trio.Nursery, tmp_path: Path) -> None:
    shots = tmp_path / "shots"
    shots.mkdir()
    async with (
        portal_server(nursery, tmp_path) as portal,
        httpx.AsyncClient(base_url=portal.url, timeout=20) as http,
        BrowserThread(tmp_path / "artifacts", width=900, height=760) as browser,
    ):
        base = portal.url
        invite = base + await portal.invite_path(SPEC.owner_email)

        def set_password_and_sign_in(page: Any) -> str:
            page.goto(invite)
            assert unlabelled(page) == []
            page.get_by_label("New password").fill(PASSWORD)
            page.get_by_label("The same password again").fill(PASSWORD)
            shoot(page, shots, "1-invite")
            page.get_by_role("button", name="Set password").click()
            page.get_by_text("Your password is set").wait_for()
            assert unlabelled(page) == []
            page.get_by_label("E-mail").fill(SPEC.owner_email)
            page.get_by_label("Password").fill(PASSWORD)
            shoot(page, shots, "2-sign-in")
            page.get_by_role("button", name="Sign in").click()
            page.get_by_role("heading", name="Your robots").wait_for()
            return str(page.locator(f"#robot-{ROBOT_NAME} [data-robot-status]").inner_text())

        assert await browser.step("sign-in", set_password_and_sign_in) == "Offline"

        # The simulated robot boots: a robot token, then its notification socket.
        frames = await nursery.start(_robot_socket, portal, http)
        with trio.fail_after(10):  # the server notes the open socket just after accepting it
            while not await portal.storage.open_notification_robots([ROBOT_NAME]):  # noqa: ASYNC110
                await trio.sleep(0.02)

        def robot_online(page: Any) -> str:
            page.reload()
            status = page.locator(f"#robot-{ROBOT_NAME} [data-robot-status]")
            shoot(page, shots, "3-home")
            return str(status.inner_text())

        assert await browser.step("robot-online", robot_online) == "Online"

        def rename_member(page: Any) -> None:
            page.get_by_role("link", name="Household").click()
            assert unlabelled(page) == []
            owner_form = page.locator(".member").first
            owner_form.get_by_label("First name").fill("Alexandra")
            owner_form.get_by_label("Said as").fill("al ex an dra")
            owner_form.get_by_label("Birthday").fill("1990-01-01")
            owner_form.get_by_role("button", name="Save").click()
            page.get_by_text("Saved.").wait_for()
            shoot(page, shots, "4-household")

        await browser.step("household", rename_member)
        with trio.fail_after(10):
            update = await frames.receive()
        assert update["eventKey"] == "LoopUpdated"
        assert update["id"] == LOOP_ID
        (loop,) = await RestClient(http).ok("Loop_20160324.ListLoops", {})
        (owner,) = [m for m in loop["members"] if m["type"] == "OWNER"]
        assert owner["account"]["firstName"] == "Alexandra"
        assert owner["phoneticName"] == "al ex an dra"
        assert owner["account"]["birthday"] == 631152000000
        assert update["members"] == loop["members"]

        # The robot takes a picture and uploads it through the Media service.
        media = {"x-loop-id": LOOP_ID, "x-path": PHOTO_PATH, "x-type": "image"}
        await RestClient(http).ok("Media_20160725.Create", raw=png(), headers=media)

        def view_download_delete(page: Any) -> tuple[int, bytes]:
            page.get_by_role("link", name="Photos").click()
            assert image_width(page, ".gallery img") == 64
            shoot(page, shots, "5-photos")
            page.locator(".gallery img").first.click()
            width = image_width(page, "img.full")
            with page.expect_download() as download:
                page.get_by_role("link", name="Download").click()
            data = Path(download.value.path()).read_bytes()
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_role("button", name="Delete photo").click()
            page.get_by_text("The photo was deleted.").wait_for()
            return width, data

        width, downloaded = await browser.step("photos", view_download_delete)
        assert width == 64
        assert downloaded == png()
        assert await portal.storage.list_media([LOOP_ID]) == []

        # A turn through the real hub (the robot asks the time, typed), and one the parser
        # failed, recorded the way the hub records them.
        now = portal.server.runtime.now_ms()
        turn = VoiceTurn(ROBOT_NAME, now - 60_000, heard="tell me a jock", intent="", skill="",
                         latency_ms=10_004, error="PARSER")  # fmt: skip
        assert await record_turn(portal.server.runtime, turn, audio=b"RIFF....")
        token = hc.hub_token(portal.server.config, account=ACCOUNT_ID, robot=ROBOT_NAME)
        await hc.text_turn(portal.server.port, token, "what time is it")
        with trio.fail_after(10):
            while len(turns := await portal.storage.list_voice_turns([ROBOT_NAME])) < 2:  # noqa: ASYNC110
                await trio.sleep(0.02)
        (heard,) = [t for t in turns if t.heard == "what time is it"]
        assert heard.latency_ms is not None

        def delete_history(page: Any) -> int:
            page.get_by_role("link", name="Voice history").click()
            page.get_by_role("cell", name="tell me a jock").wait_for()
            page.get_by_role("cell", name=f"{heard.latency_ms} ms", exact=True).wait_for()
            shoot(page, shots, "6-voice")
            assert unlabelled(page) == []
            rows = page.locator("tr.turn").count()
            page.once("dialog", lambda dialog: dialog.accept())
            page.get_by_role("button", name="Delete all voice history").click()
            page.get_by_text("No voice turns kept.").wait_for()
            return int(rows)

        assert await browser.step("voice", delete_history) == 2
        assert await portal.storage.list_voice_turns([ROBOT_NAME]) == []

        account = await portal.storage.find_account_by_email(SPEC.owner_email)
        await portal.storage.set_owner_role(account.id, "operator", now=now)
        package = tmp_path / "be-10.0.19.tgz"
        package.write_bytes(b"package bytes")
        # The robot took the previous update (its signed URL names it).
        await publish_update(portal.storage, portal.server.runtime.blobs, subsystem="@be/be",
                             from_version="10.0.17", to_version="10.0.18", data=b"previous",
                             now_ms=now - 86_400_000)  # fmt: skip
        offered = await RestClient(http).ok(
            "Update_20160301.GetUpdateFrom", {"fromVersion": "10.0.17", "subsystem": "@be/be"}
        )
        assert (await RestClient(http).get(offered["url"])).content == b"previous"
        with trio.fail_after(10):
            while not await portal.storage.list_update_downloads():  # noqa: ASYNC110
                await trio.sleep(0.02)

        def publish(page: Any) -> tuple[str, str]:
            page.goto(base + "/portal/")
            page.get_by_role("link", name="Updates").click()
            assert unlabelled(page) == []
            page.get_by_label("Subsystem").fill("@be/be")
            page.get_by_label("From version").fill("10.0.18")
            page.get_by_label("To version").fill("10.0.19")
            page.get_by_label("Package file").set_input_files(str(package))
            page.get_by_role("button", name="Publish").click()
            page.get_by_text("Published.").wait_for()
            shoot(page, shots, "7-updates")
            rows = page.locator("tr.update")
            return str(rows.first.inner_text()), str(rows.last.inner_text())

        taken, row = await browser.step("updates", publish)
        assert ROBOT_NAME in taken
        assert "10.0.18" in taken
        assert "@be/be" in row
        assert "10.0.19" in row
        assert "No robot yet" in row
        (published,) = [u for u in await portal.storage.list_updates("@be/be")
                        if u.to_version == "10.0.19"]  # fmt: skip
        assert published.length == len(b"package bytes")

        def keyboard_and_phone(page: Any) -> str:
            page.goto(base + "/portal/settings")
            assert unlabelled(page) == []
            page.set_viewport_size({"width": 390, "height": 760})
            page.goto(base + "/portal/")
            shoot(page, shots, "8-phone")
            page.keyboard.press("Tab")
            return str(page.evaluate("document.activeElement.textContent"))

        assert await browser.step("phone", keyboard_and_phone) == "Skip to content"
