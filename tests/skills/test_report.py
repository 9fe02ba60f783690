"""The report skill through its §5 contract, against local Open-Meteo, feeds and calendars.

Every outside service is tests/skills/servers.py on 127.0.0.1; nothing reaches the internet.
Deadlines run on trio's virtual clock (``autojump_clock``); cache expiry on ``mock_clock``,
which only moves when the test jumps it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import trio
import trio.testing

from jibo_cloud.config import Config
from jibo_cloud.http_clients import ServiceClients
from jibo_cloud.skills import report
from tests.skills.servers import FakeServices
from tests.skills.test_builtin_skills import NOW_MS, assert_skill_action, esml_of, handlers, request

BOSTON = {"lat": 42.3601, "lng": -71.0589, "countryCode": "US", "iso": "2026-04-27T08:57:22-04:00"}
USERS = [{"firstName": "Alex", "id": "u1"}, {"firstName": "Sam", "id": "u2"}]


def runtime(speaker: str | None = "u1", location: dict[str, Any] | None = None) -> dict:
    return {
        "perception": {"speaker": speaker},
        "loop": {"users": USERS},
        "location": BOSTON if location is None else location,
    }


def config(fake: FakeServices, **overrides: Any) -> Config:
    values: dict[str, Any] = {
        "weather_url": fake.url,
        "news_feeds": (f"{fake.url}/news/rss.xml", f"{fake.url}/news/atom.xml"),
        "calendars": f"Alex={fake.url}/cal/alex.ics,*={fake.url}/cal/home.ics",
        "knowledge_url": fake.url,
    }
    values.update(overrides)
    return Config(**values)


async def ask(
    fake: FakeServices,
    clients: ServiceClients,
    intent: str,
    *,
    skill: str = "report-skill",
    text: str = "",
    entities: dict[str, Any] | None = None,
    rt: dict | None = None,
    **overrides: Any,
) -> dict:
    skills = handlers(config=config(fake, **overrides), http=clients)
    return await skills[skill](
        request(intent, text=text, entities=entities or {}, runtime=rt or runtime())
    )


# --------------------------------------------------------------------------- weather


async def test_weather_now_and_today_in_fahrenheit_for_a_us_robot(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(fake, clients, "requestWeatherPR", entities={"date": "today"})
    assert_skill_action(reply, "report-skill")
    said = esml_of(reply)
    assert "Right now it&apos;s 48 degrees and cloudy. It feels like 41." in said
    assert "Today, expect cloudy, with a high of 55 and a low of 40." in said
    (seen,) = fake.seen("weather")
    query = fake.query(seen)
    assert query["latitude"] == "42.3601"
    assert query["longitude"] == "-71.0589"
    assert query["temperature_unit"] == "fahrenheit"
    assert query["timezone"] == "auto"
    assert seen.headers["user-agent"].startswith("jibo-cloud/")


async def test_weather_in_celsius_outside_the_us_and_by_setting(
    fake: FakeServices, clients: ServiceClients
) -> None:
    berlin = {"lat": 52.52, "lng": 13.405, "countryCode": "DE"}
    reply = await ask(fake, clients, "weather", skill="cloud-weather", rt=runtime(location=berlin))
    assert "Right now it&apos;s 9 degrees and cloudy" in esml_of(reply)
    assert fake.query(fake.seen("weather")[0])["temperature_unit"] == "celsius"
    await ask(fake, clients, "weather", skill="cloud-weather", weather_units="celsius")
    assert fake.query(fake.seen("weather")[1])["temperature_unit"] == "celsius"


async def test_weather_tomorrow_rain_and_weekend(
    fake: FakeServices, clients: ServiceClients
) -> None:
    tomorrow = await ask(fake, clients, "requestWeatherPR", entities={"date": "tomorrow"})
    assert (
        "Tomorrow, expect raining lightly, with a high of 51 and a low of 42, and a 80 percent "
        "chance of rain or snow." in esml_of(tomorrow)
    )
    rain = await ask(
        fake,
        clients,
        "requestWeatherPR",
        text="is it going to rain tomorrow",
        entities={"date": "tomorrow"},
    )
    assert "Probably. There&apos;s a 80 percent chance of rain or snow tomorrow." in esml_of(rain)
    weekend = await ask(fake, clients, "requestWeatherPR", entities={"date": "this weekend"})
    said = esml_of(weekend)
    assert "On Saturday, expect partly cloudy, with a high of 59" in said
    assert "On Sunday, expect snowing lightly" in said


async def test_weather_uses_the_configured_place_when_context_has_none(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(
        fake, clients, "requestWeatherPR", rt=runtime(location={}), weather_place="51.5,-0.12"
    )
    assert "Right now it&apos;s" in esml_of(reply)
    query = fake.query(fake.seen("weather")[0])
    assert (query["latitude"], query["longitude"]) == ("51.5000", "-0.1200")
    assert query["temperature_unit"] == "fahrenheit"  # no country: the locale's region (en-US)


@pytest.mark.parametrize("mode", ["fail", "garbage"])
async def test_weather_failure_is_a_spoken_apology_and_a_log_line(
    fake: FakeServices, clients: ServiceClients, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.modes["weather"] = mode
    with caplog.at_level(logging.WARNING):
        reply = await ask(fake, clients, "requestWeatherPR", text="what's the weather like")
    assert_skill_action(reply, "report-skill")
    apology = report.WEATHER_FAILED.replace("'", "&apos;")
    assert esml_of(reply) == f"<speak><es cat='sad'>{apology}</es></speak>"
    expected = "weather: HTTP 500" if mode == "fail" else "weather: daily.time is missing"
    assert any(expected in r.getMessage() for r in caplog.records)
    assert not any("weather like" in r.getMessage() for r in caplog.records)  # no transcript


async def test_weather_that_hangs_is_cut_at_its_deadline(
    fake: FakeServices, clients: ServiceClients, autojump_clock: trio.testing.MockClock
) -> None:
    fake.modes["weather"] = "slow"
    start = trio.current_time()
    reply = await ask(fake, clients, "requestWeatherPR")
    assert trio.current_time() - start == pytest.approx(4.0)
    assert report.WEATHER_FAILED.replace("'", "&apos;") in esml_of(reply)


async def test_weather_cache_lasts_ten_minutes(
    fake: FakeServices, clients: ServiceClients, mock_clock: trio.testing.MockClock
) -> None:
    skills = handlers(config=config(fake), http=clients)
    for _ in range(3):
        await skills["cloud-weather"](request("weather", runtime=runtime()))
    assert len(fake.seen("weather")) == 1
    mock_clock.jump(599)
    await skills["cloud-weather"](request("weather", runtime=runtime()))
    assert len(fake.seen("weather")) == 1
    mock_clock.jump(2)
    await skills["cloud-weather"](request("weather", runtime=runtime()))
    assert len(fake.seen("weather")) == 2


# --------------------------------------------------------------------------- news


async def test_news_takes_headlines_in_turn_from_each_feed(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(fake, clients, "requestNews")
    assert esml_of(reply) == (
        "<speak><es cat='neutral'>Here are the top headlines. "
        "First: Town opens a library for robots. Next: River cleanup draws a big crowd. "
        "And finally: Scientists find a very patient snail.</es></speak>"
    )  # the Atom feed's repeat of the first headline is skipped


async def test_news_from_the_feeds_that_answer_and_an_apology_when_none_do(
    fake: FakeServices, clients: ServiceClients, caplog: pytest.LogCaptureFixture
) -> None:
    fake.modes["rss.xml"] = "fail"
    fake.modes["atom.xml"] = "garbage"
    with caplog.at_level(logging.WARNING):
        reply = await ask(fake, clients, "requestNews")
    assert report.NEWS_FAILED in esml_of(reply).replace("&apos;", "'")
    messages = [r.getMessage() for r in caplog.records]
    assert "news feed #1 failed: news: HTTP 500" in messages
    assert "news feed #2 failed: news: the answer is not an RSS or Atom feed" in messages

    fake.modes["rss.xml"] = "ok"
    reply = await ask(fake, clients, "requestNews")
    assert "First: Town opens a library for robots." in esml_of(reply)


async def test_news_cache_lasts_fifteen_minutes(
    fake: FakeServices, clients: ServiceClients, mock_clock: trio.testing.MockClock
) -> None:
    skills = handlers(config=config(fake), http=clients)
    await skills["report-skill"](request("requestNews", runtime=runtime()))
    mock_clock.jump(899)
    await skills["report-skill"](request("requestNews", runtime=runtime()))
    assert len(fake.seen("rss.xml")) == 1
    mock_clock.jump(2)
    await skills["report-skill"](request("requestNews", runtime=runtime()))
    assert len(fake.seen("rss.xml")) == 2


# --------------------------------------------------------------------------- calendar


async def test_calendar_reads_the_speaker_s_and_the_household_s(
    fake: FakeServices, clients: ServiceClients
) -> None:
    today = await ask(fake, clients, "requestCalendar", entities={"date": "today"})
    assert esml_of(today) == (
        "<speak><es cat='neutral'>You have 3 things on your calendar for the rest of today: "
        "Grandma&apos;s birthday; at 9:30 AM, Dentist; and at 5:30 PM, Soccer practice."
        "</es></speak>"
    )  # "Already over" (7 AM local) is past; the weekly practice is expanded
    tomorrow = await ask(fake, clients, "requestCalendar", entities={"date": "tomorrow"})
    assert "You have 1 thing on your calendar tomorrow: at 12 PM, Team lunch." in esml_of(tomorrow)


async def test_calendar_for_a_member_without_one_and_an_unknown_speaker(
    fake: FakeServices, clients: ServiceClients
) -> None:
    sam = await ask(fake, clients, "requestCalendar", rt=runtime(speaker="u2"))
    assert "Grandma&apos;s birthday" in esml_of(sam)  # the household's only
    assert "Dentist" not in esml_of(sam)
    nobody = await ask(fake, clients, "requestCalendar", rt=runtime(speaker="u2"), calendars="")
    assert report.NO_CALENDAR.replace("'", "&apos;") in esml_of(nobody)
    assert not fake.seen("alex.ics")


@pytest.mark.parametrize("mode", ["fail", "garbage"])
async def test_calendar_failure_is_a_spoken_apology(
    fake: FakeServices, clients: ServiceClients, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake.modes["alex.ics"] = fake.modes["home.ics"] = mode
    with caplog.at_level(logging.WARNING):
        reply = await ask(fake, clients, "requestCalendar")
    assert report.CALENDAR_FAILED.replace("'", "&apos;") in esml_of(reply)
    assert all(fake.url not in r.getMessage() for r in caplog.records)  # secret URLs
    assert any("calendar #1 of the speaker failed" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- the report


async def test_personal_report_greets_the_speaker_and_strings_the_parts(
    fake: FakeServices, clients: ServiceClients
) -> None:
    reply = await ask(fake, clients, "launchPersonalReport")
    said = esml_of(reply)
    assert said.startswith(
        "<speak><es cat='neutral'>Good morning, Alex! Here&apos;s your personal report. "
        "Right now it&apos;s 48 degrees"
    )
    weather, calendar, news = (said.index(s) for s in ("Right now", "You have 3", "Here are"))
    assert weather < calendar < news


async def test_personal_report_survives_a_hung_provider(
    fake: FakeServices, clients: ServiceClients, autojump_clock: trio.testing.MockClock
) -> None:
    fake.modes["weather"] = "slow"
    start = trio.current_time()
    reply = await ask(fake, clients, "launchPersonalReport")
    assert trio.current_time() - start == pytest.approx(4.0)  # the parts ran at once
    said = esml_of(reply).replace("&apos;", "'")
    assert report.WEATHER_FAILED in said
    assert "You have 3 things" in said
    assert "Here are the top headlines" in said
    assert "cat='neutral'" in said  # the report succeeded in part


async def test_commute_is_answered_honestly(fake: FakeServices, clients: ServiceClients) -> None:
    reply = await ask(fake, clients, "requestCommute")
    assert "I can&apos;t check traffic" in esml_of(reply)
    assert fake.http.requests == []


def test_units_follow_the_country_then_the_locale() -> None:
    assert report.units_for("auto", {"countryCode": "US"}, "en-GB").value == "fahrenheit"
    assert report.units_for("auto", {"countryCode": "CA"}, "en-US").value == "celsius"
    assert report.units_for("auto", {}, "en-US").value == "fahrenheit"
    assert report.units_for("auto", {}, "fr-FR").value == "celsius"
    assert report.units_for("fahrenheit", {"countryCode": "FR"}, "").value == "fahrenheit"


def test_the_speaker_is_named_by_context_or_is_the_only_member() -> None:
    only = {"data": {"runtime": {"loop": {"users": [{"firstName": "Kim", "id": "k"}]}}}}
    assert report.speaker_of(only) == report.Speaker("k", "Kim")
    two = {"data": {"runtime": {"perception": {"speaker": "u2"}, "loop": {"users": USERS}}}}
    assert report.speaker_of(two) == report.Speaker("u2", "Sam")
    unknown = {"data": {"runtime": {"perception": {"speaker": None}, "loop": {"users": USERS}}}}
    assert report.speaker_of(unknown) == report.Speaker("", "")
    assert report.speaker_of({"data": "junk"}) == report.Speaker()


def test_now_is_the_suite_s_monday_morning() -> None:
    import datetime

    moment = datetime.datetime.fromtimestamp(NOW_MS / 1000, tz=datetime.UTC)
    assert moment.strftime("%A %H:%M") == "Monday 12:57"
