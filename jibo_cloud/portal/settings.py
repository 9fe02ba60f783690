"""Settings: per household — location and time zone, units, news feeds, a calendar URL per
member, the chat model endpoint and skill preferences.

Stored in the household's settings document (:class:`~jibo_cloud.storage.portal.HouseholdSettings`
``value``), read by skills with ``storage.household_settings_for_robot(robot_name)``. Each value
is checked before it is kept: a real IANA time zone, ``http(s)`` feed and endpoint URLs,
``https``/``webcal`` calendar URLs, at most :data:`MAX_FEEDS` feeds; a bad one answers the form
again with the reason, nothing saved.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import attrs
from quart import Blueprint, render_template, request

from jibo_cloud.portal.context import Portal, Viewer, see_other
from jibo_cloud.portal.household import member_rows
from jibo_cloud.skills.household import settings_changed

SignedIn = Callable[[Portal], Awaitable[Viewer]]

UNITS = ("metric", "imperial")
#: The robot's own skills whose shared words this server can answer instead
#: (``JIBO_PREFER_CLOUD_SKILLS``, docs/skills.md).
CLOUD_SKILLS = ("clock", "greetings")
MAX_FEEDS = 10
MAX_URL = 500
MAX_TEXT = 100


class SettingsError(ValueError):
    """A setting the form sent cannot be kept; the message is shown to the owner."""


def check_url(value: str, schemes: tuple[str, ...], what: str) -> str:
    text = value.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if len(text) > MAX_URL or parts.scheme not in schemes or not parts.netloc:
        raise SettingsError(f"{what}: use a {' or '.join(schemes)} address ({text[:60]!r})")
    return text


def check_time_zone(value: str) -> str:
    text = value.strip()
    if not text:
        return ""
    if ("/" not in text and text != "UTC") or text not in zoneinfo.available_timezones():
        raise SettingsError(f"time zone: {text[:60]!r} is not a zone like Europe/Paris")
    return text


def _text(value: Any) -> str:
    return "".join(ch for ch in " ".join(str(value or "").split()) if ch.isprintable())[:MAX_TEXT]


def read_form(form: Any, member_ids: list[str]) -> dict[str, Any]:
    """The settings document from the form.

    Raises:
        SettingsError: a value that cannot be kept (the message says which and why).
    """
    units = str(form.get("units", "metric"))
    if units not in UNITS:
        raise SettingsError("units: choose metric or imperial")
    feeds = [line for line in str(form.get("newsFeeds", "")).splitlines() if line.strip()]
    if len(feeds) > MAX_FEEDS:
        raise SettingsError(f"news feeds: at most {MAX_FEEDS}")
    calendars = {}
    for member_id in member_ids:
        url = check_url(str(form.get(f"calendar-{member_id}", "")), ("https", "webcal"),
                        "calendar")  # fmt: skip
        if url:
            calendars[member_id] = url
    return {
        "location": {
            "city": _text(form.get("city")), "region": _text(form.get("region")),
            "country": _text(form.get("country")),
        },
        "timeZone": check_time_zone(str(form.get("timeZone", ""))),
        "units": units,
        "newsFeeds": [check_url(f, ("http", "https"), "news feed") for f in feeds],
        "calendars": calendars,
        "chatUrl": check_url(str(form.get("chatUrl", "")), ("http", "https"), "chat endpoint"),
        "preferCloudSkills": [s for s in CLOUD_SKILLS if form.get(f"prefer-{s}") == "on"],
    }  # fmt: skip


def add_routes(bp: Blueprint, portal: Portal, signed_in: SignedIn) -> None:
    async def page(viewer: Viewer, status: int = 200, **context: Any) -> Any:
        rows = []
        for household in await portal.households(viewer):
            settings = await portal.storage.get_household_settings(household.loop.id)
            rows.append((household, settings.value, await member_rows(portal, viewer, household)))
        body = await render_template(
            "portal/settings.html", viewer=viewer, rows=rows, page="settings", units=UNITS,
            cloud_skills=CLOUD_SKILLS, **context,
        )  # fmt: skip
        return body, status

    @bp.get("/settings")
    async def settings_page() -> Any:
        viewer = await signed_in(portal)
        return await page(viewer, saved=request.args.get("saved") == "1")

    @bp.post("/settings/<loop_id>")
    async def save_settings(loop_id: str) -> Any:
        viewer = await signed_in(portal)
        household = await portal.household(viewer, loop_id)
        members = await member_rows(portal, viewer, household)
        form = await request.form
        try:
            value = read_form(form, [r.member.id for r in members])
        except SettingsError as exc:
            return await page(viewer, 400, error=str(exc), error_loop=loop_id)
        current = await portal.storage.get_household_settings(loop_id)
        await portal.storage.put_household_settings(
            attrs.evolve(current, value=value, updated=portal.now())
        )
        settings_changed()  # this process's skills read the new settings on the next turn
        return see_other("/portal/settings?saved=1")
