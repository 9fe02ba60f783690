"""The report skill: weather, news, the speaker's calendar, and all three as a personal report.

Intents are the original report-skill's (``launchPersonalReport``, ``requestWeatherPR``,
``requestNews``, ``requestCalendar``, ``requestCommute``) plus our ``weather`` intent, which
the ``cloud-weather`` skill answers with the same code. Every part asks its provider within
the provider's deadline; a part that fails becomes a short spoken apology (and a log line
naming the provider and the cause, never what was said), so a turn always ends with speech.

The robot's household settings (the portal's Settings page, :mod:`jibo_cloud.skills.household`)
win over the server-wide ones for each turn: news feeds, units, calendars.

Where: the robot's CONTEXT location (``runtime.location.lat/lng``), else the household's
city/region/country geocoded (:mod:`jibo_cloud.skills.providers.geocoding`), else the
configured place (``JIBO_WEATHER_PLACE``). Units: the household's (metric / imperial), else
``JIBO_WEATHER_UNITS`` (``auto`` by default: Fahrenheit when the robot's country, else its
language's region, is the US or one of the few others that use it; Celsius elsewhere).
Who: the speaker CONTEXT names (``runtime.perception.speaker``, a loop user id), else the
only member of a one-person loop; their first name greets them and picks their calendar
(the household's calendar for that member id when the household set calendars).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import trio

from jibo_cloud.skills.base import REQUEST_TYPES, PlanSkill
from jibo_cloud.skills.clock import parse_zone
from jibo_cloud.skills.household import (
    NO_HOUSEHOLD,
    Household,
    HouseholdSettingsCache,
    in_household_zone,
)
from jibo_cloud.skills.providers.base import ProviderError
from jibo_cloud.skills.providers.calendar import Event, IcalCalendars
from jibo_cloud.skills.providers.geocoding import OpenMeteoGeocoder
from jibo_cloud.skills.providers.news import FeedNews
from jibo_cloud.skills.providers.weather import Day, Forecast, OpenMeteo, Place, Units
from protocol.plan import (
    PlanStatus,
    ResponsePlan,
    Speak,
    TurnContext,
    plan_to_skill_reply,
    turn_from_skill_request,
)

log = logging.getLogger(__name__)

SKILL_ID = "report-skill"
WEATHER_SKILL_ID = "cloud-weather"
#: Countries that use Fahrenheit (ISO 3166 codes).
FAHRENHEIT_COUNTRIES = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "BS", "BZ", "KY",
                                  "LR", "PW", "FM", "MH"})  # fmt: skip
HEADLINES = 3

NO_PLACE = (
    "I don't know where I am yet, so I can't check the weather. "
    "Ask the person who runs my server to set my location."
)
PLACE_FAILED = "I couldn't look up where home is just now. Let's try again in a little bit."
WEATHER_FAILED = "I couldn't reach the weather service just now. Let's try again in a little bit."
NEWS_FAILED = "I couldn't get the news just now. Let's try again in a little bit."
CALENDAR_FAILED = "I couldn't open your calendar just now."
NO_CALENDAR = "Nobody has connected a calendar for you yet, so I can't see your plans."
COMMUTE = (
    "I can't check traffic or your commute yet. I don't have a traffic service. "
    "I can tell you the weather, though!"
)


@attrs.frozen
class Speaker:
    user_id: str = ""
    first_name: str = ""
    #: The loop member's birthdate (CONTEXT ``loop.users[].birthdate``, epoch ms), if known.
    birthdate_ms: int | None = None


def _speaker(user_id: object, user: Mapping[str, Any]) -> Speaker:
    born = user.get("birthdate")
    return Speaker(
        str(user_id or ""),
        str(user.get("firstName") or ""),
        born if isinstance(born, int) and not isinstance(born, bool) else None,
    )


def speaker_of(request: Mapping[str, Any]) -> Speaker:
    """Who is talking, from a §5 request's CONTEXT (see module docs)."""
    data = request.get("data")
    runtime = data.get("runtime") if isinstance(data, Mapping) else None
    if not isinstance(runtime, Mapping):
        return Speaker()
    perception, loop = runtime.get("perception"), runtime.get("loop")
    speaker_id = perception.get("speaker") if isinstance(perception, Mapping) else None
    users = loop.get("users") if isinstance(loop, Mapping) else None
    members = [u for u in users if isinstance(u, Mapping)] if isinstance(users, list) else []
    for user in members:
        if speaker_id and user.get("id") == speaker_id:
            return _speaker(speaker_id, user)
    if len(members) == 1:
        return _speaker(members[0].get("id"), members[0])
    return Speaker(str(speaker_id or ""), "")


@attrs.define
class SpeakerPlanSkill(PlanSkill):
    """A PlanSkill whose turn carries the speaker (``turn.attributes["speaker"]``)."""

    async def __call__(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("type") not in REQUEST_TYPES:
            return await super().__call__(request)  # the ERROR reply for a bad type
        turn = turn_from_skill_request(request, default_time_zone=self.default_time_zone)
        turn = await in_household_zone(self.households, turn)
        turn = attrs.evolve(turn, attributes={**turn.attributes, "speaker": speaker_of(request)})
        plan = await self.run(turn)
        return plan_to_skill_reply(
            plan, skill_id=self.skill_id, msg_id=self.new_id(), now_ms=self.now_ms(), turn=turn
        )


def units_for(setting: str, location: Mapping[str, Any], locale: str) -> Units:
    """The owner's temperature units (see module docs)."""
    if setting in ("fahrenheit", "celsius"):
        return Units(setting)
    country = str(location.get("countryCode") or "").upper()
    if not country and "-" in locale:
        country = locale.rsplit("-", 1)[1].upper()
    return Units.FAHRENHEIT if country in FAHRENHEIT_COUNTRIES else Units.CELSIUS


def not_found(place_name: str) -> str:
    return (
        f"I couldn't find {place_name} on the map, so I can't check the weather. "
        "Check the location on the Settings page."
    )


def household_units(household: Household) -> Units | None:
    """The household's units, None when it left them to the server."""
    if household.units == "metric":
        return Units.CELSIUS
    if household.units == "imperial":
        return Units.FAHRENHEIT
    return None


def household_of(turn: TurnContext) -> Household:
    found = turn.attributes.get("household")
    return found if isinstance(found, Household) else NO_HOUSEHOLD


def place_of(location: Mapping[str, Any], default: Place | None) -> Place | None:
    lat, lng = location.get("lat"), location.get("lng")
    if isinstance(lat, int | float) and isinstance(lng, int | float):
        try:
            return Place(float(lat), float(lng))
        except ValueError:
            pass
    return default


def _degrees(value: float) -> str:
    return f"{round(value)} degree{'s' if abs(round(value)) != 1 else ''}"


def _day_sentence(label: str, day: Day) -> str:
    text = f"{label}, expect {day.condition}, with a high of {round(day.high)} and a low of " + (
        f"{round(day.low)}"
    )
    if day.precipitation_chance is not None and day.precipitation_chance >= 30:
        text += f", and a {day.precipitation_chance} percent chance of rain or snow"
    return text + "."


def weekend_days(forecast: Forecast) -> list[Day]:
    out = []
    for day in forecast.days:
        try:
            weekday = datetime.date.fromisoformat(day.date).weekday()
        except ValueError:
            continue
        if weekday >= 5:
            out.append(day)
        if len(out) == 2:
            break
    return out


def spoken_weather(forecast: Forecast, date: str, transcript: str = "") -> str:
    """What Jibo says about a forecast for ``date`` (today/tonight/tomorrow/this weekend)."""
    today = forecast.days[0]
    if any(w in transcript.split() for w in ("rain", "umbrella", "snow")):
        day = forecast.days[1] if date == "tomorrow" and len(forecast.days) > 1 else today
        when = "tomorrow" if day is not today else "today"
        chance = day.precipitation_chance
        if chance is None:
            return f"{when.capitalize()} looks {day.condition}."
        if chance >= 50:
            return f"Probably. There's a {chance} percent chance of rain or snow {when}."
        return f"Probably not. There's only a {chance} percent chance of rain or snow {when}."
    if date == "tomorrow" and len(forecast.days) > 1:
        return _day_sentence("Tomorrow", forecast.days[1])
    if date == "this weekend":
        days = weekend_days(forecast)
        if days:
            return " ".join(
                _day_sentence(datetime.date.fromisoformat(d.date).strftime("On %A"), d)
                for d in days
            )
    if date == "tonight":
        return f"Tonight, expect {today.condition}, with a low of {round(today.low)}."
    now = f"Right now it's {_degrees(forecast.temperature)} and {forecast.condition}."
    if forecast.feels_like is not None and abs(forecast.feels_like - forecast.temperature) >= 5:
        now += f" It feels like {round(forecast.feels_like)}."
    return f"{now} {_day_sentence('Today', today)}"


def spoken_headlines(titles: list[str]) -> str:
    if len(titles) == 1:
        return f"Here's the top headline. {titles[0]}."
    lead = ["First", "Next", "Then", "After that"]
    parts = [f"{lead[min(i, len(lead) - 1)]}: {t}." for i, t in enumerate(titles[:-1])]
    parts.append(f"And finally: {titles[-1]}.")
    return "Here are the top headlines. " + " ".join(parts)


def _time(moment: datetime.datetime) -> str:
    hour = moment.hour % 12 or 12
    minute = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minute} {'AM' if moment.hour < 12 else 'PM'}"


def spoken_events(events: list[Event], label: str) -> str:
    if not events:
        return f"Your calendar is clear {label}."
    items = [f"at {_time(e.start)}, {e.summary}" if e.start else e.summary for e in events[:5]]
    count = f"{len(events)} thing{'s' if len(events) != 1 else ''}"
    if len(items) > 1:
        items[-1] = "and " + items[-1]
    more = " and more" if len(events) > 5 else ""
    return f"You have {count} on your calendar {label}: {'; '.join(items)}{more}."


def window(date: str, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime, str]:
    """(start, end, how to say it) of a calendar question about ``date``."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day = datetime.timedelta(days=1)
    if date == "tomorrow":
        return midnight + day, midnight + 2 * day, "tomorrow"
    if date == "this weekend":
        saturday = midnight + datetime.timedelta(days=(5 - now.weekday()) % 7)
        start = max(now, saturday) if now.weekday() >= 5 else saturday
        return start, saturday + 2 * day, "this weekend"
    if date == "tonight":
        return now, midnight + day, "tonight"
    return now, midnight + day, "for the rest of today"


@attrs.define
class ReportSkill:
    """The report skill (see module docs)."""

    weather: OpenMeteo
    news: FeedNews
    calendars: IcalCalendars
    now_ms: Callable[[], int]
    default_place: Place | None = None
    #: ``auto`` / ``fahrenheit`` / ``celsius``.
    units: str = "auto"
    #: The robots' household settings; None (tools, some tests): the server's settings only.
    household: HouseholdSettingsCache | None = None
    #: Turns a household's city into coordinates; None: households' places are not used.
    geocoder: OpenMeteoGeocoder | None = None

    def _local_now(self, turn: TurnContext) -> datetime.datetime:
        utc = datetime.datetime.fromtimestamp(self.now_ms() / 1000, tz=datetime.UTC)
        return utc.astimezone(parse_zone(turn.time_zone))

    async def weather_part(self, turn: TurnContext) -> tuple[str, bool]:
        """(sentence, ok) about the weather for the turn's date."""
        location = turn.attributes.get("location") or {}
        place = place_of(location, None)
        household = household_of(turn)
        if place is None and household.city and self.geocoder is not None:
            try:
                found = await self.geocoder.locate(
                    household.city, household.region, household.country
                )
            except ProviderError as exc:
                log.warning("geocoding provider failed: %s", exc)
                return PLACE_FAILED, False
            if found is None:
                log.warning("geocoding: the household's place is unknown to the service")
                return not_found(household.place_name), False
            place = found.place
            location = {"countryCode": found.country_code, **location}
        place = place or self.default_place
        if place is None:
            log.warning("weather: no CONTEXT location and no JIBO_WEATHER_PLACE")
            return NO_PLACE, False
        units = household_units(household_of(turn)) or units_for(self.units, location, turn.locale)
        try:
            forecast = await self.weather.forecast(place, units)
        except ProviderError as exc:
            log.warning("weather provider failed: %s", exc)
            return WEATHER_FAILED, False
        date = str(turn.entities.get("date") or "today")
        return spoken_weather(forecast, date, turn.normalized_transcript), True

    async def news_part(self, turn: TurnContext) -> tuple[str, bool]:
        feeds = household_of(turn).news_feeds
        try:
            return spoken_headlines(await self.news.headlines(HEADLINES, feeds)), True
        except ProviderError as exc:
            log.warning("news provider failed: %s", exc)
            return NEWS_FAILED, False

    async def calendar_part(self, turn: TurnContext, *, quiet: bool = False) -> tuple[str, bool]:
        """(sentence, ok); ``quiet``: say nothing when no calendar is configured."""
        speaker: Speaker = turn.attributes.get("speaker") or Speaker()
        start, end, label = window(str(turn.entities.get("date") or "today"), self._local_now(turn))
        try:
            events = await self.calendars.events(
                speaker.user_id,
                speaker.first_name,
                start,
                end,
                household_of(turn).calendars or None,
            )
        except ProviderError as exc:
            log.warning("calendar provider failed: %s", exc)
            return CALENDAR_FAILED, False
        if events is None:
            return ("" if quiet else NO_CALENDAR), not quiet
        return spoken_events(events, label), True

    def _greeting(self, turn: TurnContext) -> str:
        speaker: Speaker = turn.attributes.get("speaker") or Speaker()
        hour = self._local_now(turn).hour
        part = "morning" if hour < 12 else "afternoon" if hour < 18 else "evening"
        name = f", {speaker.first_name}" if speaker.first_name else ""
        return f"Good {part}{name}! Here's your personal report."

    async def personal_report(self, turn: TurnContext) -> tuple[str, bool]:
        """Weather, calendar and news at once, each within its own deadline."""
        parts: dict[str, tuple[str, bool]] = {}

        async def run(name: str, part: Callable[[], Awaitable[tuple[str, bool]]]) -> None:
            parts[name] = await part()

        today = attrs.evolve(turn, entities={"date": "today"})
        async with trio.open_nursery() as nursery:
            nursery.start_soon(run, "weather", lambda: self.weather_part(today))
            nursery.start_soon(run, "calendar", lambda: self.calendar_part(today, quiet=True))
            nursery.start_soon(run, "news", lambda: self.news_part(today))
        ordered = [parts[n] for n in ("weather", "calendar", "news")]
        text = " ".join([self._greeting(turn), *(t for t, _ in ordered if t)])
        return text, any(ok for _, ok in ordered)

    async def __call__(self, turn: TurnContext) -> ResponsePlan:
        intent = turn.intent or ""
        if self.household is not None and intent != "requestCommute":
            household = await self.household.for_robot(turn.device_id)
            turn = attrs.evolve(turn, attributes={**turn.attributes, "household": household})
        if intent == "requestCommute":
            text, ok, topic = COMMUTE, True, "commute"
        elif intent == "requestNews":
            (text, ok), topic = await self.news_part(turn), "news"
        elif intent == "requestCalendar":
            (text, ok), topic = await self.calendar_part(turn), "calendar"
        elif intent in ("requestWeatherPR", "weather"):
            (text, ok), topic = await self.weather_part(turn), "weather"
        else:  # launchPersonalReport, and a proactive launch of the report
            (text, ok), topic = await self.personal_report(turn), "report"
        return ResponsePlan(
            intent=turn.intent,
            topic=topic,
            status=PlanStatus.SUCCEEDED if ok else PlanStatus.FAILED,
            actions=(Speak(text=text, category="neutral" if ok else "sad"),),
        )
