"""The clock skill: the time and the date where the robot is, and the time in a named place.

The robot's time zone comes from CONTEXT (the UTC offset of ``runtime.location.iso``); when the
robot did not say, the configured default zone (an IANA name or ``+HH:MM``) is used, else UTC.
A named place ("what time is it in tokyo", entity ``place``) is looked up with
:func:`jibo_cloud.nlu.places.place_zone` (the IANA database's cities and a short table), and
its time read with ``zoneinfo``, so daylight saving is right. The current instant comes from
the injected ``now_ms`` so tests can fix it.
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Callable

import attrs

from jibo_cloud.nlu.places import place_zone
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


def _clock_face(moment: datetime.datetime) -> str:
    """ "8:57 AM": the time as Jibo says it."""
    hour = moment.hour % 12 or 12
    return f"{hour}:{moment.minute:02d} {'AM' if moment.hour < 12 else 'PM'}"


def spoken_time(moment: datetime.datetime) -> str:
    return f"It's {_clock_face(moment)}."


def spoken_date(moment: datetime.datetime) -> str:
    return f"Today is {moment:%A}, {moment:%B} {_ordinal(moment.day)}, {moment.year}."


def spoken_time_in(place: str, moment: datetime.datetime, here: datetime.datetime) -> str:
    """ "In Tokyo, it's 8:57 AM on Tuesday." (the day only when it is not the robot's)."""
    day = "" if moment.date() == here.date() else f" on {moment:%A}"
    return f"In {place}, it's {_clock_face(moment)}{day}."


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
