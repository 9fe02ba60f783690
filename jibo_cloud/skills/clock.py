"""The clock skill: the time and the date where the robot is, and the time in a named place.

The robot's time zone comes from CONTEXT (the UTC offset of ``runtime.location.iso``); when the
robot did not say, the configured default zone (an IANA name or ``+HH:MM``) is used, else UTC.
A named place ("what time is it in tokyo", entity ``place``) is looked up among the IANA
database's cities (``zoneinfo``, so daylight saving is right) and a short table of countries,
states and cities that are not a zone's own name. The current instant comes from the injected
``now_ms`` so tests can fix it.
"""

from __future__ import annotations

import datetime
import functools
import zoneinfo
from collections.abc import Callable

import attrs

from protocol.plan import PlanStatus, ResponsePlan, TurnContext, say

SKILL_ID = "cloud-clock"


def parse_zone(name: str) -> datetime.tzinfo:
    """``America/New_York``, ``-04:00`` or ``+0530`` → a tzinfo; unknown or empty → UTC."""
    text = name.strip()
    if text[:1] in "+-" and len(text) >= 5:
        digits = text[1:].replace(":", "")
        if digits.isdigit() and len(digits) == 4:
            delta = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return datetime.timezone(-delta if text[0] == "-" else delta)
    if text:
        try:
            return zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return datetime.UTC


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def spoken_time(moment: datetime.datetime) -> str:
    hour = moment.hour % 12 or 12
    return f"It's {hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}."


def spoken_date(moment: datetime.datetime) -> str:
    return f"Today is {moment:%A}, {moment:%B} {_ordinal(moment.day)}, {moment.year}."


#: Places owners name that are not an IANA zone's own city: countries and states with one
#: zone, and big cities that share a zone with another's name. (spoken name, zone).
PLACE_ZONES: dict[str, tuple[str, str]] = {
    "new york city": ("New York", "America/New_York"),
    "nyc": ("New York", "America/New_York"),
    "boston": ("Boston", "America/New_York"),
    "washington": ("Washington", "America/New_York"),
    "washington dc": ("Washington", "America/New_York"),
    "miami": ("Miami", "America/New_York"),
    "atlanta": ("Atlanta", "America/New_York"),
    "florida": ("Florida", "America/New_York"),
    "texas": ("Texas", "America/Chicago"),
    "dallas": ("Dallas", "America/Chicago"),
    "houston": ("Houston", "America/Chicago"),
    "colorado": ("Colorado", "America/Denver"),
    "arizona": ("Arizona", "America/Phoenix"),
    "california": ("California", "America/Los_Angeles"),
    "san francisco": ("San Francisco", "America/Los_Angeles"),
    "seattle": ("Seattle", "America/Los_Angeles"),
    "las vegas": ("Las Vegas", "America/Los_Angeles"),
    "hawaii": ("Hawaii", "Pacific/Honolulu"),
    "alaska": ("Alaska", "America/Anchorage"),
    "england": ("England", "Europe/London"),
    "uk": ("the UK", "Europe/London"),
    "the uk": ("the UK", "Europe/London"),
    "britain": ("Britain", "Europe/London"),
    "scotland": ("Scotland", "Europe/London"),
    "ireland": ("Ireland", "Europe/Dublin"),
    "france": ("France", "Europe/Paris"),
    "germany": ("Germany", "Europe/Berlin"),
    "italy": ("Italy", "Europe/Rome"),
    "spain": ("Spain", "Europe/Madrid"),
    "netherlands": ("the Netherlands", "Europe/Amsterdam"),
    "sweden": ("Sweden", "Europe/Stockholm"),
    "norway": ("Norway", "Europe/Oslo"),
    "poland": ("Poland", "Europe/Warsaw"),
    "greece": ("Greece", "Europe/Athens"),
    "turkey": ("Turkey", "Europe/Istanbul"),
    "israel": ("Israel", "Asia/Jerusalem"),
    "egypt": ("Egypt", "Africa/Cairo"),
    "kenya": ("Kenya", "Africa/Nairobi"),
    "nigeria": ("Nigeria", "Africa/Lagos"),
    "south africa": ("South Africa", "Africa/Johannesburg"),
    "india": ("India", "Asia/Kolkata"),
    "mumbai": ("Mumbai", "Asia/Kolkata"),
    "delhi": ("Delhi", "Asia/Kolkata"),
    "new delhi": ("New Delhi", "Asia/Kolkata"),
    "bangalore": ("Bangalore", "Asia/Kolkata"),
    "china": ("China", "Asia/Shanghai"),
    "beijing": ("Beijing", "Asia/Shanghai"),
    "japan": ("Japan", "Asia/Tokyo"),
    "korea": ("Korea", "Asia/Seoul"),
    "south korea": ("South Korea", "Asia/Seoul"),
    "philippines": ("the Philippines", "Asia/Manila"),
    "thailand": ("Thailand", "Asia/Bangkok"),
    "vietnam": ("Vietnam", "Asia/Ho_Chi_Minh"),
    "new zealand": ("New Zealand", "Pacific/Auckland"),
    "argentina": ("Argentina", "America/Argentina/Buenos_Aires"),
    "peru": ("Peru", "America/Lima"),
    "colombia": ("Colombia", "America/Bogota"),
    "rio": ("Rio", "America/Sao_Paulo"),
    "rio de janeiro": ("Rio de Janeiro", "America/Sao_Paulo"),
}
#: Countries with several zones: Jibo asks for a city instead of guessing one.
MANY_ZONES = frozenset(
    {"america", "the us", "us", "usa", "the usa", "united states", "the united states",
     "canada", "australia", "russia", "brazil", "mexico", "indonesia", "the world"}
)  # fmt: skip
#: Words around the place that are not its name ("in london right now").
_AROUND = ("the ", "right now", "now", "today", "at the moment")


@functools.cache
def _zone_cities() -> dict[str, tuple[str, str]]:
    """Every IANA zone's own city ("America/Argentina/Buenos_Aires" → "buenos aires"), then
    :data:`PLACE_ZONES`. Built once: the database's ~600 names, read from the tzdata package
    or the system's."""
    cities: dict[str, tuple[str, str]] = {}
    for key in sorted(zoneinfo.available_timezones()):
        area, _, city = key.rpartition("/")
        if not area or area.split("/")[0] in ("Etc", "SystemV", "US", "Canada", "Brazil"):
            continue
        cities.setdefault(city.replace("_", " ").lower(), (city.replace("_", " "), key))
    return {**cities, **PLACE_ZONES}


def place_zone(place: str) -> tuple[str, str] | str | None:
    """(the place as Jibo says it, its IANA zone) for a place an owner named; ``"many"`` for
    a country with several zones; None when unknown."""
    text = " ".join(place.lower().replace(".", "").split())
    for word in _AROUND:
        if text.startswith(word) and word.endswith(" "):
            text = text[len(word) :]
        if text.endswith(" " + word.strip()):
            text = text[: -len(word.strip())].strip()
    if text in MANY_ZONES:
        return "many"
    return _zone_cities().get(text)


def spoken_time_in(place: str, moment: datetime.datetime, here: datetime.datetime) -> str:
    """ "In Tokyo, it's 8:57 AM on Tuesday." (the day only when it is not the robot's)."""
    hour = moment.hour % 12 or 12
    clock = f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"
    day = "" if moment.date() == here.date() else f" on {moment:%A}"
    return f"In {place}, it's {clock}{day}."


@attrs.define
class ClockSkill:
    now_ms: Callable[[], int]

    def local_now(self, turn: TurnContext) -> datetime.datetime:
        utc = datetime.datetime.fromtimestamp(self.now_ms() / 1000, tz=datetime.UTC)
        return utc.astimezone(parse_zone(turn.time_zone))

    async def __call__(self, turn: TurnContext) -> ResponsePlan:
        return self.plan_now(turn)

    def plan_now(self, turn: TurnContext) -> ResponsePlan:
        """The answer, without waiting for anything (:class:`PlanSkill` calls it inline)."""
        now = self.local_now(turn)
        if turn.intent == "askForDate":
            return say(spoken_date(now), intent=turn.intent, topic="clock")
        place = turn.entities.get("place")
        if turn.intent == "askForTime" and isinstance(place, str) and place.strip():
            return self._time_in(place, now, turn)
        if turn.intent == "askForTime":
            return say(spoken_time(now), intent=turn.intent, topic="clock")
        return say(
            "I can tell you the time or the date.",
            intent=turn.intent,
            topic="clock",
            status=PlanStatus.NO_MATCH,
        )

    def _time_in(self, place: str, now: datetime.datetime, turn: TurnContext) -> ResponsePlan:
        """The time in a named place; the place is never said back unless we know it (its
        name then comes from our table, not from what was heard)."""
        found = place_zone(place)
        if isinstance(found, str):  # "many"
            text = "There's more than one time zone there. Ask me about a city, like Chicago."
            return say(text, intent=turn.intent, topic="clock", status=PlanStatus.NO_MATCH)
        if found is None:
            text = "I don't know that place's time zone yet. Try a big city, like Tokyo or London."
            return say(text, intent=turn.intent, topic="clock", status=PlanStatus.NO_MATCH)
        spoken, zone = found
        there = now.astimezone(zoneinfo.ZoneInfo(zone))
        return say(spoken_time_in(spoken, there, now), intent=turn.intent, topic="clock")
