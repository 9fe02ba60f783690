"""A robot's household settings (the portal's Settings page) win over the server's, per turn.

Real storage (SQLite and PostgreSQL, tests/storage/backends.py), the local feeds, weather,
calendars and chat model of tests/skills/servers.py, the skills through their §5 contract.
The settings cache runs on trio's virtual clock (``autojump_clock``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.http_clients import ServiceClients
from jibo_cloud.skills.household import (
    CACHE_SECONDS,
    Household,
    HouseholdSettingsCache,
    settings_changed,
)
from jibo_cloud.skills.providers.geocoding import TIMEOUT_SECONDS as GEOCODING_TIMEOUT
from jibo_cloud.storage import Storage
from jibo_cloud.storage.records import Account, Loop, Robot
from tests.skills.servers import FakeServices
from tests.skills.test_builtin_skills import NOW_MS, esml_of, handlers, request
from tests.skills.test_report import config, runtime
from tests.storage.backends import BACKENDS, open_test_storage

ROBOT = "Household-Robot-1"
ROBOT_ID = "0123456789abcdef0aaabbbb"
LOOP = "loop-household-1"
#: First of the local Atom feed; the server's RSS feed's first is "Town opens a library …".
ATOM_FIRST = "River cleanup draws a big crowd"
RSS_FIRST = "Town opens a library for robots"


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    async with open_test_storage(request.param, tmp_path) as opened:
        account = "fedcba9876543210fedcba98"
        await opened.create_account(
            Account(id=account, email="owner@example.com", created=NOW_MS, updated=NOW_MS)
        )
        await opened.put_robot(
            Robot(name=ROBOT, robot_id=ROBOT_ID, account_id=account, created=NOW_MS,
                  updated=NOW_MS)
        )  # fmt: skip
        await opened.put_loop(
            Loop(id=LOOP, name="Home", owner_id=account, created=NOW_MS, updated=NOW_MS,
                 robot_id=ROBOT_ID, robot_name=ROBOT)
        )  # fmt: skip
        yield opened


async def save(storage: Storage, **value: Any) -> None:
    current = await storage.get_household_settings(LOOP)
    await storage.put_household_settings(
        type(current)(loop_id=LOOP, value=value, updated=NOW_MS + 1)
    )


def robot_request(intent: str, robot: str = ROBOT_ID, **extra: Any) -> dict:
    req = request(intent, runtime=extra.pop("rt", runtime()), **extra)
    req["data"]["general"]["robotID"] = robot
    return req


def skills(fake: FakeServices, clients: ServiceClients, storage: Storage, **cfg: Any) -> dict:
    server_config = config(fake, news_feeds=(f"{fake.url}/news/rss.xml",), **cfg)
    return handlers(
        config=server_config,
        http=clients,
        households=HouseholdSettingsCache(storage),
        chat_url=None,
    )


async def test_the_household_s_news_feeds_win_over_the_server_s(
    fake: FakeServices, clients: ServiceClients, storage: Storage
) -> None:
    await save(storage, newsFeeds=[f"{fake.url}/news/atom.xml"])
    report = skills(fake, clients, storage)["report-skill"]
    said = esml_of(await report(robot_request("requestNews")))
    assert ATOM_FIRST in said
    assert RSS_FIRST not in said.split(".")[1]  # the Atom feed's own order
    assert not fake.seen("rss.xml")
    # Another robot (no household here), and a robot known by its friendly name.
    other = esml_of(await report(robot_request("requestNews", robot="someone-else")))
    assert f"First: {RSS_FIRST}." in other
    by_name = esml_of(await report(robot_request("requestNews", robot=ROBOT)))
    assert ATOM_FIRST in by_name


async def test_no_feeds_set_means_the_server_s(
    fake: FakeServices, clients: ServiceClients, storage: Storage
) -> None:
    await save(storage, newsFeeds=[], units="metric")
    report = skills(fake, clients, storage)["report-skill"]
    said = esml_of(await report(robot_request("requestNews")))
    assert f"First: {RSS_FIRST}." in said
    assert not fake.seen("atom.xml")


async def test_settings_are_cached_and_a_portal_save_is_heard_next_turn(
    fake: FakeServices, clients: ServiceClients, storage: Storage, autojump_clock: Any
) -> None:
    report = skills(fake, clients, storage)["report-skill"]
    assert f"First: {RSS_FIRST}." in esml_of(await report(robot_request("requestNews")))
    await save(storage, newsFeeds=[f"{fake.url}/news/atom.xml"])
    # Within the cache's life the old settings are still used …
    assert f"First: {RSS_FIRST}." in esml_of(await report(robot_request("requestNews")))
    # … until they expire,
    await trio.sleep(CACHE_SECONDS + 1)
    assert ATOM_FIRST in esml_of(await report(robot_request("requestNews")))
    # or the portal says they changed (its save calls settings_changed).
    await save(storage, newsFeeds=[])
    settings_changed()
    assert f"First: {RSS_FIRST}." in esml_of(await report(robot_request("requestNews")))


@pytest.mark.parametrize(("units", "sent"), [("imperial", "fahrenheit"), ("metric", "celsius")])
async def test_the_household_s_units_win(
    fake: FakeServices, clients: ServiceClients, storage: Storage, units: str, sent: str
) -> None:
    await save(storage, units=units)
    server_units = "celsius" if units == "imperial" else "fahrenheit"
    report = skills(fake, clients, storage, weather_units=server_units)["report-skill"]
    await report(robot_request("requestWeatherPR", entities={"date": "today"}))
    (seen,) = fake.seen("weather")
    assert fake.query(seen)["temperature_unit"] == sent


async def test_the_household_s_calendar_for_the_speaker_wins(
    fake: FakeServices, clients: ServiceClients, storage: Storage
) -> None:
    # The server maps Alex to alex.ics and everyone to home.ics; the household maps Sam (u2)
    # to alex.ics and nobody else, so Sam hears the dentist and Alex hears no calendar.
    await save(storage, calendars={"u2": f"{fake.url}/cal/alex.ics"})
    report = skills(fake, clients, storage)["report-skill"]
    sam = esml_of(await report(robot_request("requestCalendar", rt=runtime("u2"))))
    assert "Dentist" in sam
    assert "Grandma" not in sam
    alex = esml_of(await report(robot_request("requestCalendar", rt=runtime("u1"))))
    assert "Nobody has connected a calendar for you yet" in alex


async def test_the_household_s_chat_endpoint_wins(
    fake: FakeServices, clients: ServiceClients, storage: Storage
) -> None:
    await save(storage, chatUrl=fake.url)
    chat = skills(fake, clients, storage)["cloud-chat"]
    said = esml_of(await chat(robot_request("chat", text="do you like music")))
    assert "The model heard: do you like music" in said
    # A robot without household settings: the server has no chat endpoint, the fallback.
    other = esml_of(await chat(robot_request("chat", robot="someone-else", text="hi there")))
    assert "not sure how to help" in other
    assert len(fake.seen("chat")) == 1


class DownStorage:
    """A storage whose database is down (what StorageUnavailable means to a skill)."""

    async def find_robot(self, key: str) -> Any:
        raise StorageUnavailable("database down")

    async def household_settings_for_robot(self, robot_name: str) -> Any:
        raise StorageUnavailable("database down")


async def test_unreadable_settings_fall_back_to_the_server_s(
    fake: FakeServices, clients: ServiceClients
) -> None:
    report = skills(fake, clients, DownStorage())["report-skill"]  # type: ignore[arg-type]
    said = esml_of(await report(robot_request("requestNews")))
    assert f"First: {RSS_FIRST}." in said


def test_a_settings_document_is_read_leniently() -> None:
    household = Household.from_value(
        {
            "location": {"city": "Lyon", "region": "", "country": "France"},
            "units": "kelvin",
            "newsFeeds": ["https://a.example/rss", 7, " "],
            "calendars": {"m1": "webcal://cal.example/x.ics", "m2": 3},
            "chatUrl": None,
        }
    )
    assert household.units == ""
    assert household.news_feeds == ("https://a.example/rss",)
    assert household.calendars == {"m1": "https://cal.example/x.ics"}
    assert household.chat_url == ""
    assert household.place_name == "Lyon, France"
    assert Household.from_value({"location": "nowhere"}) == Household()


# --------------------------------------------------------------------------- location


def report_with_geocoder(
    fake: FakeServices, clients: ServiceClients, storage: Any, **cfg: Any
) -> Any:
    """The report skill as the registry builds it, its geocoder on the local stand-in."""
    report = skills(fake, clients, storage, **cfg)["report-skill"]
    geocoder = report.run.geocoder
    assert geocoder is not None  # built whenever the skills read household settings
    report.run.geocoder = attrs.evolve(geocoder, base_url=fake.url)
    return report


NO_COORDINATES = {"iso": "2026-04-27T08:57:22+02:00"}


async def test_the_household_s_city_is_geocoded_for_the_weather(
    fake: FakeServices, clients: ServiceClients, storage: Storage
) -> None:
    await save(storage, location={"city": "Lyon", "region": "", "country": "France"})
    report = report_with_geocoder(fake, clients, storage, weather_place="42.36,-71.06")
    rt = runtime(location=NO_COORDINATES)
    for _ in range(2):
        said = esml_of(await report(robot_request("requestWeatherPR", rt=rt)))
        assert "Right now it&apos;s" in said
    (looked_up,) = fake.seen("geocoding")  # the second turn used the cache
    assert fake.query(looked_up)["name"] == "Lyon"
    assert "geocoding" in clients.services
    first = fake.seen("weather")[0]
    assert fake.query(first)["latitude"] == "45.7485"  # France's Lyon, not Mississippi's
    assert fake.query(first)["temperature_unit"] == "celsius"  # FR, from the geocoder


async def test_context_coordinates_win_over_the_household_s_city(
    fake: FakeServices, clients: ServiceClients, storage: Storage
) -> None:
    await save(storage, location={"city": "Lyon", "region": "", "country": "France"})
    report = report_with_geocoder(fake, clients, storage)
    await report(robot_request("requestWeatherPR"))  # BOSTON's lat/lng in CONTEXT
    assert not fake.seen("geocoding")
    assert fake.query(fake.seen("weather")[0])["latitude"] == "42.3601"


async def test_an_unknown_city_is_said_plainly(
    fake: FakeServices, clients: ServiceClients, storage: Storage
) -> None:
    await save(storage, location={"city": "Nowhereville", "region": "", "country": "Atlantis"})
    report = report_with_geocoder(fake, clients, storage)
    reply = await report(robot_request("requestWeatherPR", rt=runtime(location=NO_COORDINATES)))
    assert "I couldn&apos;t find Nowhereville, Atlantis on the map" in esml_of(reply)
    assert not fake.seen("weather")


@pytest.mark.parametrize("mode", ["slow", "fail", "garbage"])
async def test_a_geocoding_failure_is_a_spoken_apology(
    fake: FakeServices,
    clients: ServiceClients,
    storage: Storage,
    mode: str,
    autojump_clock: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake.modes["geocoding"] = mode
    await save(storage, location={"city": "Lyon", "region": "", "country": "France"})
    report = report_with_geocoder(fake, clients, storage)
    started = trio.current_time()
    reply = await report(robot_request("requestWeatherPR", rt=runtime(location=NO_COORDINATES)))
    assert trio.current_time() - started <= GEOCODING_TIMEOUT + 0.5
    assert "I couldn&apos;t look up where home is just now" in esml_of(reply)
    assert "geocoding provider failed" in caplog.text
    assert "Lyon" not in caplog.text
    assert not fake.seen("weather")
