"""A robot's household settings (the portal's Settings page), as the skills read them per turn.

The owner's Settings page stores one JSON document per household (loop); the skills look it up
by the robot a turn comes from (``general.robotID``, :attr:`TurnContext.device_id`: the
robot's friendly name, 24-hex id or serial, resolved with ``storage.find_robot``). Whatever
the household set wins over the server-wide ``JIBO_*`` defaults; whatever it left empty falls
back to them (docs/skills.md, "Providers").

Reading the database on every turn would add a query to each answer, so a process keeps what
it read for :data:`CACHE_SECONDS`; the portal calls :func:`settings_changed` after a save,
which empties every cache of the process, so a change is heard on the next turn there (other
processes of a multi-worker server see it within :data:`CACHE_SECONDS`). A storage failure is
logged and answers the server's defaults: a turn never fails because settings are unreadable.
"""

from __future__ import annotations

import logging
import weakref
import zoneinfo
from collections.abc import Mapping
from typing import Any, Protocol

import attrs

from jibo_cloud.skills.providers.base import TtlCache
from protocol.plan import TurnContext

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0

_caches: weakref.WeakSet[HouseholdSettingsCache] = weakref.WeakSet()


class SettingsStorage(Protocol):
    """The two storage reads this module needs (:class:`jibo_cloud.storage.Storage` has both)."""

    async def find_robot(self, key: str) -> Any: ...

    async def household_settings_for_robot(self, robot_name: str) -> Any: ...


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(s.strip() for s in value if isinstance(s, str) and s.strip())


def _fetchable(url: str) -> str:
    """A calendar URL the provider can GET: ``webcal://`` (what apps publish) is https."""
    text = url.strip()
    return "https://" + text[len("webcal://") :] if text.lower().startswith("webcal://") else text


@attrs.frozen
class Household:
    """The settings a household chose; empty values mean "the server's default"."""

    news_feeds: tuple[str, ...] = ()
    #: ``metric`` / ``imperial`` / "" (the server's ``JIBO_WEATHER_UNITS``).
    units: str = ""
    #: Loop member id → iCal URL.
    calendars: Mapping[str, str] = attrs.field(factory=dict)
    chat_url: str = ""
    #: City, region, country as the owner typed them (any may be "").
    city: str = ""
    region: str = ""
    country: str = ""
    time_zone: str = ""
    prefer_cloud_skills: tuple[str, ...] | None = None

    @classmethod
    def from_value(cls, value: Mapping[str, Any]) -> Household:
        """Read the Settings page's document, ignoring anything malformed (kept by hand?)."""
        location = value.get("location")
        place = location if isinstance(location, Mapping) else {}
        calendars = value.get("calendars")
        units = value.get("units")
        prefer = value.get("preferCloudSkills")

        def text(mapping: Mapping[str, Any], key: str) -> str:
            item = mapping.get(key)
            return item.strip() if isinstance(item, str) else ""

        return cls(
            news_feeds=_strings(value.get("newsFeeds")),
            units=units if units in ("metric", "imperial") else "",
            calendars={
                str(k): _fetchable(v)
                for k, v in (calendars.items() if isinstance(calendars, Mapping) else ())
                if isinstance(v, str) and v.strip()
            },
            chat_url=text(value, "chatUrl"),
            city=text(place, "city"),
            region=text(place, "region"),
            country=text(place, "country"),
            time_zone=text(value, "timeZone"),
            prefer_cloud_skills=_strings(prefer) if isinstance(prefer, list) else None,
        )

    @property
    def zone(self) -> str:
        """The household's IANA time zone when it names one this machine knows, else ""
        (the portal checks it on save; a hand-kept or removed zone is not guessed at)."""
        name = self.time_zone
        if not name:
            return ""
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return ""
        return name

    @property
    def place_name(self) -> str:
        """``"Lyon, Auvergne-Rhône-Alpes, France"``; "" when the owner set no city."""
        return (
            ", ".join(p for p in (self.city, self.region, self.country) if p) if self.city else ""
        )


NO_HOUSEHOLD = Household()


@attrs.define(eq=False)  # hashed by identity: the module's WeakSet of caches holds it
class HouseholdSettingsCache:
    """Per-robot settings, read from storage and kept :data:`CACHE_SECONDS` (module docs)."""

    storage: SettingsStorage
    cache: TtlCache[Household] = attrs.field(factory=lambda: TtlCache(CACHE_SECONDS, size=1024))

    def __attrs_post_init__(self) -> None:
        _caches.add(self)

    def cached(self, robot: str) -> Household | None:
        """The household of ``robot`` if this process read it within :data:`CACHE_SECONDS`
        (:data:`NO_HOUSEHOLD` for no robot), None when only :meth:`for_robot` can tell: for
        callers that answer at once when nothing needs reading (the hub's in-process calls)."""
        if not robot:
            return NO_HOUSEHOLD
        return self.cache.get(robot)

    async def for_robot(self, robot: str) -> Household:
        """The household of ``robot`` (any of its ids); :data:`NO_HOUSEHOLD` when unknown."""
        cached = self.cached(robot)
        if cached is not None:
            return cached
        try:
            found = await self.storage.find_robot(robot)
            if found is None:
                household = NO_HOUSEHOLD
            else:
                settings = await self.storage.household_settings_for_robot(found.name)
                household = Household.from_value(settings.value or {})
        except Exception as exc:  # a turn must not fail on its settings
            log.warning("household settings unreadable, using the server's: %s", type(exc).__name__)
            return NO_HOUSEHOLD
        self.cache.put(robot, household)
        return household

    def clear(self) -> None:
        self.cache = TtlCache(self.cache.ttl, size=self.cache.size)


def settings_changed() -> None:
    """Forget every household read by this process (the portal calls it after a save)."""
    for cache in list(_caches):
        cache.clear()


async def in_household_zone(
    households: HouseholdSettingsCache | None, turn: TurnContext
) -> TurnContext:
    """``turn`` with its ``time_zone`` set to the robot's household zone (the portal's
    Settings) when the household set one; otherwise the turn keeps what it had (the robot's
    CONTEXT offset, else ``JIBO_TIME_ZONE``, else UTC). ``households`` None: ``turn``.

    The household's zone wins over the robot's offset: the owner chose it, and a named zone
    knows its daylight-saving changes (a date weeks ahead, a calendar day's window)."""
    if households is None:
        return turn
    return _with_zone(turn, await households.for_robot(turn.device_id))


def in_household_zone_now(
    households: HouseholdSettingsCache | None, turn: TurnContext
) -> TurnContext | None:
    """:func:`in_household_zone` when the household is cached; None when it must be read."""
    if households is None:
        return turn
    household = households.cached(turn.device_id)
    return None if household is None else _with_zone(turn, household)


def _with_zone(turn: TurnContext, household: Household) -> TurnContext:
    zone = household.zone
    return attrs.evolve(turn, time_zone=zone) if zone else turn
