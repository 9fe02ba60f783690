"""Calendar events from iCal (``.ics``) URLs, one per household member.

A household's calendars (the portal's Settings page: loop member id → URL) are used for its
robot's turns when it set any; otherwise ``JIBO_CALENDARS`` maps members to URLs:
``Alex=https://…/basic.ics,Sam=https://…`` where the key is a loop member's first name
(case-insensitive) or loop user id; the key ``*`` is a household calendar read for anyone.
Google's "secret address in iCal format", Nextcloud's, Fastmail's and Outlook's published
ICS links all work; they are secrets, so they are never
logged (errors name the member's position, not the URL).

icalendar parses the file and recurring-ical-events expands repeating events (RRULE, RDATE,
EXDATE, moved occurrences) into the asked window; both run in a worker thread (a busy
calendar takes tens of milliseconds). A parsed calendar is cached 5 minutes.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import httpx
import trio

from jibo_cloud.skills.providers.base import ProviderError, TtlCache, get_bytes

if TYPE_CHECKING:  # imported where used, in worker threads: the server's start does not pay
    import icalendar

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 4.0
CACHE_SECONDS = 300.0
HOUSEHOLD = "*"


def parse_calendars(text: str) -> dict[str, str]:
    """``"Alex=https://a.ics,*=https://b.ics"`` → ``{"alex": "https://a.ics", "*": …}``.

    Raises:
        ValueError: an entry is not ``member=url`` with an http(s) URL (the message names the
            entry's position, never the URL, which is a secret).
    """
    out: dict[str, str] = {}
    for i, entry in enumerate(filter(None, (e.strip() for e in text.split(","))), start=1):
        member, sep, url = entry.partition("=")
        if not sep or not member.strip() or not url.strip().startswith(("http://", "https://")):
            raise ValueError(f"entry {i} must be member=https://…ics")
        out[member.strip().lower()] = url.strip()
    return out


@attrs.frozen
class Event:
    summary: str
    #: Local start; None for an all-day event.
    start: datetime.datetime | None
    location: str = ""


def _local(value: Any, zone: datetime.tzinfo) -> datetime.datetime | None:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:  # a "floating" time: the robot's own local time
            return value.replace(tzinfo=zone)
        return value.astimezone(zone)
    return None  # a date: an all-day event


def events_between(
    calendar: icalendar.Calendar,
    start: datetime.datetime,
    end: datetime.datetime,
) -> list[Event]:
    """The events overlapping [start, end), all-day ones first, then by start time."""
    import recurring_ical_events

    zone = start.tzinfo or datetime.UTC
    found = []
    for component in recurring_ical_events.of(calendar).between(start, end):
        if component.name != "VEVENT":
            continue
        summary = " ".join(str(component.get("SUMMARY") or "").split())
        if not summary:
            continue
        dtstart = component.get("DTSTART")
        found.append(
            Event(
                summary=summary,
                start=_local(dtstart.dt if dtstart is not None else None, zone),
                location=str(component.get("LOCATION") or ""),
            )
        )
    far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    return sorted(found, key=lambda e: (e.start is not None, e.start or far))


def parse_ics(body: bytes) -> icalendar.Calendar:
    """Parse an iCal document (synchronous; run it in a thread). Raises ProviderError."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(body)
    except ValueError as exc:
        raise ProviderError(f"calendar: not an iCalendar file ({type(exc).__name__})") from None
    if not isinstance(calendar, icalendar.Calendar):
        raise ProviderError("calendar: not an iCalendar file")
    return calendar


@attrs.define
class IcalCalendars:
    """The calendar provider (see module docs)."""

    #: The service's long-lived client, from the runtime's ServiceClients (built on first use).
    http: Callable[[], httpx.AsyncClient]
    #: Lower-cased first name, user id or ``*`` → ICS URL (see :func:`parse_calendars`).
    urls: Mapping[str, str] = attrs.field(factory=dict)
    timeout: float = TIMEOUT_SECONDS
    cache: TtlCache[icalendar.Calendar] = attrs.field(
        factory=lambda: TtlCache(CACHE_SECONDS, size=32)
    )

    def urls_for(
        self, member_id: str, first_name: str, urls: Mapping[str, str] | None = None
    ) -> list[str]:
        """The member's own calendar (by id, then first name), then the household's.

        ``urls``: the robot's household's calendars (member id → URL, from the portal), which
        replace the configured ones when given.
        """
        table = self.urls if urls is None else {k.lower(): v for k, v in urls.items()}
        own = table.get(member_id.lower()) or table.get(first_name.lower())
        shared = table.get(HOUSEHOLD)
        return [u for u in (own, shared) if u]

    async def _calendar(self, url: str) -> icalendar.Calendar:
        cached = self.cache.get(url)
        if cached is not None:
            return cached
        body = await get_bytes(self.http(), url, service="calendar", within=self.timeout)
        calendar = await trio.to_thread.run_sync(parse_ics, body or b"")
        self.cache.put(url, calendar)
        return calendar

    async def events(
        self,
        member_id: str,
        first_name: str,
        start: datetime.datetime,
        end: datetime.datetime,
        household: Mapping[str, str] | None = None,
    ) -> list[Event] | None:
        """The member's events in [start, end); None when no calendar is configured for them.

        ``household``: the robot's household's calendars (see :meth:`urls_for`).

        Raises:
            ProviderError: every configured calendar failed.
        """
        urls = self.urls_for(member_id, first_name, household)
        if not urls:
            return None
        events: list[Event] = []
        failures = []
        for position, url in enumerate(urls, start=1):
            try:
                calendar = await self._calendar(url)
                events += await trio.to_thread.run_sync(events_between, calendar, start, end)
            except ProviderError as exc:
                log.warning("calendar #%d of the speaker failed: %s", position, exc)
                failures.append(exc)
        if len(failures) == len(urls):
            raise failures[0]
        far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
        return sorted(events, key=lambda e: (e.start is not None, e.start or far))
