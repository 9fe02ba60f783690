"""The providers' shared pieces and parsers, and their settings."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import trio
import trio.testing

from jibo_cloud.config import load_config
from jibo_cloud.errors import ConfigError
from jibo_cloud.skills.providers import knowledge, news, weather
from jibo_cloud.skills.providers.base import ProviderError, TtlCache, get_bytes
from jibo_cloud.skills.providers.calendar import parse_calendars
from tests.skills.local_http import SeenRequest, start_local_http
from tests.skills.servers import ATOM, RSS, forecast_body


async def test_ttl_cache_expires_and_stays_bounded(
    autojump_clock: trio.testing.MockClock,
) -> None:
    cache: TtlCache[int] = TtlCache(ttl=10.0, size=3)
    for key in "abcd":
        cache.put(key, ord(key))
    assert len(cache) == 3
    assert cache.get("a") is None  # the oldest went first
    assert cache.get("b") == ord("b")  # …and b is now the most recently used
    cache.put("e", 5)
    assert cache.get("c") is None
    assert cache.get("b") == ord("b")
    await trio.sleep(10.0)
    assert cache.get("b") is None
    assert len(cache) == 2


async def test_a_body_over_the_limit_is_refused(nursery: trio.Nursery) -> None:
    async def big(_: SeenRequest) -> tuple[int, bytes]:
        return 200, b"x" * 5000

    server = await start_local_http(nursery, big)
    async with httpx.AsyncClient() as client:
        with pytest.raises(ProviderError, match="news: answer larger than 1000 bytes"):
            await get_bytes(client, server.url, service="news", within=2.0, limit=1000)
        body = await get_bytes(client, server.url, service="news", within=2.0)
    assert body == b"x" * 5000


async def test_a_closed_port_is_a_provider_error() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ProviderError, match=r"^weather: ConnectError$"):
            await get_bytes(client, "http://127.0.0.1:9/", service="weather", within=2.0)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b.pop("current"), "no 'current' or 'daily' block"),
        (lambda b: b["daily"].update(time=[]), "daily.time is missing"),
        (lambda b: b["daily"].update(temperature_2m_max=[1]), "temperature_2m_max is missing"),
        (lambda b: b["current"].update(weather_code="3"), "weather_code is not a number"),
        (lambda b: b["daily"]["temperature_2m_min"].__setitem__(0, None), "is not a number"),
        (lambda b: b["current"].update(temperature_2m=float("nan")), "is not a number"),
    ],
)
def test_malformed_forecasts_are_named(mutate: Any, message: str) -> None:
    body = forecast_body()
    mutate(body)
    with pytest.raises(ProviderError, match=message):
        weather.parse_forecast(body, weather.Units.FAHRENHEIT)


def test_a_forecast_and_its_unknown_codes() -> None:
    body = forecast_body()
    body["current"]["weather_code"] = 42  # not a WMO code we know
    forecast = weather.parse_forecast(body, weather.Units.FAHRENHEIT)
    assert forecast.condition == "unsettled"
    assert len(forecast.days) == 7
    assert forecast.days[1] == weather.Day("2026-04-28", "raining lightly", 51.0, 42.0, 80)


def test_places() -> None:
    assert weather.Place.parse("42.36, -71.06") == weather.Place(42.36, -71.06)
    for bad in ("42.36", "north,south", "95,0", "0,181"):
        with pytest.raises(ValueError, match="latitude,longitude"):
            weather.Place.parse(bad)


def test_feed_titles_are_cleaned_for_speech() -> None:
    assert news.parse_titles(RSS) == [
        "Town opens a library for robots",
        "Scientists find a very patient snail",
        "Local bakery\u2019s bread wins a prize",
    ]
    assert news.parse_titles(ATOM)[0] == "River cleanup draws a big crowd"
    with pytest.raises(ProviderError):
        news.parse_titles(b"<html><body>hello</body></html>")


def test_knowledge_titles_and_speakable_extracts() -> None:
    assert knowledge.titles_for("the eiffel tower") == ["Eiffel tower", "Eiffel Tower"]
    assert knowledge.titles_for("Ada Lovelace") == ["Ada Lovelace"]
    assert knowledge.titles_for("the ") == []
    long = "First sentence is here. " + "Second sentence goes on. " * 30
    spoken = knowledge.speakable(long, limit=60)
    assert spoken == "First sentence is here. Second sentence goes on."
    assert knowledge.speakable("Paris (French pronunciation: [paʁi]) is a city.") == (
        "Paris is a city."
    )
    with pytest.raises(ProviderError):
        knowledge.parse_summary({"title": "no type"})
    assert knowledge.parse_summary({"type": "standard", "extract": "  "}) is None


def test_calendar_settings_never_echo_a_url() -> None:
    assert parse_calendars("Alex=https://a.example/x.ics, *=http://b/y.ics") == {
        "alex": "https://a.example/x.ics",
        "*": "http://b/y.ics",
    }
    with pytest.raises(ValueError, match="entry 2") as info:
        parse_calendars("Alex=https://a.example/secret.ics,Sam=ftp://secret")
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JIBO_WEATHER_PLACE", "boston", "JIBO_WEATHER_PLACE must be 'latitude,longitude'"),
        ("JIBO_WEATHER_UNITS", "kelvin", "JIBO_WEATHER_UNITS must be auto, fahrenheit or"),
        ("JIBO_CALENDARS", "Alex=https://x/secret.ics,oops", "JIBO_CALENDARS entry 2 must be"),
    ],
)
def test_provider_settings_are_checked(tmp_path: Any, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_config(data_dir=tmp_path, env={name: value}, token_secret="s" * 32)
    assert "secret.ics" not in str(info.value)


def test_provider_settings_are_read(tmp_path: Any) -> None:
    config = load_config(
        data_dir=tmp_path,
        token_secret="s" * 32,
        env={
            "JIBO_WEATHER_URL": "http://meteo.lan:8080",
            "JIBO_WEATHER_PLACE": "42.36,-71.06",
            "JIBO_WEATHER_UNITS": "Celsius",
            "JIBO_NEWS_FEEDS": "https://a/rss, https://b/atom",
            "JIBO_CALENDARS": "Alex=https://cal/a.ics",
            "JIBO_KNOWLEDGE_URL": "http://wiki.lan",
            "JIBO_WORDNET_DIR": str(tmp_path),
        },
    )
    assert config.weather_url == "http://meteo.lan:8080"
    assert config.weather_place == "42.36,-71.06"
    assert config.weather_units == "celsius"
    assert config.news_feeds == ("https://a/rss", "https://b/atom")
    assert config.calendars == "Alex=https://cal/a.ics"
    assert "cal/a.ics" not in repr(config)
    assert config.knowledge_url == "http://wiki.lan"
    assert config.wordnet_dir == tmp_path
