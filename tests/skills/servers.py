"""Local stand-ins for the report and answers skills' outside services.

One real HTTP server (tests/skills/local_http.py: trio + h11 on 127.0.0.1:0) answers like
Open-Meteo (``/v1/forecast``), two news feeds (``/news/rss.xml`` RSS 2.0, ``/news/atom.xml``
Atom), an iCal calendar (``/cal/alex.ics``, ``/cal/home.ics``), Wikipedia's REST summary API
(``/api/rest_v1/page/summary/{title}``) and search (``/w/rest.php/v1/search/page``), and an
OpenAI-compatible chat model (``/v1/chat/completions``) and Open-Meteo's geocoding search
(``/v1/search?name=``: :data:`PLACES`; an unknown name answers without ``results``, as the
service does). The bodies were written by hand
after the services' public documentation (field names and nesting as documented; our own words
as content).

Each route can be switched with :attr:`FakeServices.modes` to ``slow`` (never answers),
``fail`` (HTTP 500) or ``garbage`` (a malformed body of the right content type).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import attrs
import trio

from tests.skills.local_http import LocalHttp, SeenRequest, start_local_http

# --------------------------------------------------------------------------- Open-Meteo

#: Seven days from Monday 2026-04-27 (the suite's NOW_MS day), Fahrenheit.
DAYS = [f"2026-04-{d}" for d in range(27, 31)] + ["2026-05-01", "2026-05-02", "2026-05-03"]


def forecast_body(unit: str = "fahrenheit") -> dict[str, Any]:
    f = unit == "fahrenheit"
    deg = "°F" if f else "°C"

    def t(value: float) -> float:
        return value if f else round((value - 32) * 5 / 9, 1)

    return {
        "latitude": 42.36,
        "longitude": -71.06,
        "generationtime_ms": 0.08,
        "utc_offset_seconds": -14400,
        "timezone": "America/New_York",
        "timezone_abbreviation": "GMT-4",
        "elevation": 9.0,
        "current_units": {
            "time": "iso8601",
            "interval": "seconds",
            "temperature_2m": deg,
            "apparent_temperature": deg,
            "weather_code": "wmo code",
        },
        "current": {
            "time": "2026-04-27T08:45",
            "interval": 900,
            "temperature_2m": t(48.4),
            "apparent_temperature": t(41.0),
            "weather_code": 3,
        },
        "daily_units": {
            "time": "iso8601",
            "weather_code": "wmo code",
            "temperature_2m_max": deg,
            "temperature_2m_min": deg,
            "precipitation_probability_max": "%",
        },
        "daily": {
            "time": DAYS,
            "weather_code": [3, 61, 80, 0, 1, 2, 71],
            "temperature_2m_max": [t(v) for v in (55.2, 51.0, 60.1, 64.0, 66.3, 58.8, 40.0)],
            "temperature_2m_min": [t(v) for v in (39.6, 42.0, 45.5, 47.0, 50.2, 44.1, 30.5)],
            "precipitation_probability_max": [10, 80, 45, 0, 5, 20, 60],
        },
    }


# --------------------------------------------------------------------------- feeds

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
<title>Example Daily</title><link>https://news.example/</link><description>Top stories</description>
<item><title>Town opens a library for robots</title><link>https://news.example/1</link>
<pubDate>Mon, 27 Apr 2026 11:00:00 GMT</pubDate></item>
<item><title><![CDATA[Scientists find a <b>very</b> patient snail]]></title>
<link>https://news.example/2</link></item>
<item><title>Local bakery&#8217;s bread wins a prize.</title><link>https://news.example/3</link></item>
</channel></rss>
"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Second Example</title><id>urn:example:feed</id><updated>2026-04-27T10:00:00Z</updated>
<entry><title>River cleanup draws a big crowd</title><id>urn:example:1</id>
<updated>2026-04-27T09:00:00Z</updated><link href="https://second.example/1"/></entry>
<entry><title type="html">Town opens a library for robots</title><id>urn:example:2</id>
<updated>2026-04-27T08:00:00Z</updated></entry>
</feed>
"""

# --------------------------------------------------------------------------- iCal

ALEX_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//jibo-cloud tests//EN\r
BEGIN:VEVENT\r
UID:dentist@example\r
DTSTAMP:20260401T000000Z\r
DTSTART;TZID=America/New_York:20260427T093000\r
DTEND;TZID=America/New_York:20260427T103000\r
SUMMARY:Dentist\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:soccer@example\r
DTSTAMP:20260401T000000Z\r
DTSTART;TZID=America/New_York:20260406T173000\r
DTEND;TZID=America/New_York:20260406T183000\r
RRULE:FREQ=WEEKLY;BYDAY=MO\r
EXDATE;TZID=America/New_York:20260420T173000\r
SUMMARY:Soccer practice\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:early@example\r
DTSTAMP:20260401T000000Z\r
DTSTART:20260427T110000Z\r
DTEND:20260427T113000Z\r
SUMMARY:Already over\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:lunch@example\r
DTSTAMP:20260401T000000Z\r
DTSTART:20260428T160000Z\r
DTEND:20260428T170000Z\r
SUMMARY:Team lunch\r
END:VEVENT\r
END:VCALENDAR\r
"""

HOME_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//jibo-cloud tests//EN\r
BEGIN:VEVENT\r
UID:grandma@example\r
DTSTAMP:20260401T000000Z\r
DTSTART;VALUE=DATE:20260427\r
DTEND;VALUE=DATE:20260428\r
SUMMARY:Grandma's birthday\r
END:VEVENT\r
END:VCALENDAR\r
"""

# --------------------------------------------------------------------------- Wikipedia


def summary_body(title: str, extract: str, kind: str = "standard") -> dict[str, Any]:
    slug = title.replace(" ", "_")
    return {
        "type": kind,
        "title": slug,
        "displaytitle": f'<span class="mw-page-title-main">{title}</span>',
        "namespace": {"id": 0, "text": ""},
        "wikibase_item": "Q1",
        "titles": {"canonical": slug, "normalized": title, "display": title},
        "pageid": 1,
        "lang": "en",
        "dir": "ltr",
        "revision": "1",
        "tid": "00000000-0000-0000-0000-000000000000",
        "timestamp": "2026-04-01T00:00:00Z",
        "description": "test article",
        "description_source": "local",
        "content_urls": {
            "desktop": {"page": f"https://en.wikipedia.org/wiki/{slug}"},
            "mobile": {"page": f"https://en.m.wikipedia.org/wiki/{slug}"},
        },
        "extract": extract,
        "extract_html": f"<p>{extract}</p>",
    }


NOT_FOUND = {
    "type": "https://mediawiki.org/wiki/HyperSwitch/errors/not_found",
    "title": "Not found.",
    "method": "get",
    "detail": "Page or revision not found.",
}

#: Title (as requested, underscores) → summary. Our own sentences.
ARTICLES = {
    "Platypus": summary_body(
        "Platypus",
        "The platypus (Ornithorhynchus anatinus) is an egg-laying mammal from eastern "
        "Australia. It has a bill like a duck and a tail like a beaver. Males have a venomous "
        "spur on each hind leg. It hunts underwater with its eyes closed.",
    ),
    "Eiffel_Tower": summary_body(
        "Eiffel Tower",
        "The Eiffel Tower is a wrought-iron lattice tower in Paris. It is about 330 metres tall.",
    ),
    "Mercury": summary_body("Mercury", "Mercury may refer to:", kind="disambiguation"),
    "President_of_France": summary_body(
        "President of France",
        "The president of France is the head of state of the French Republic.",
    ),
}

#: MediaWiki REST search: query (lower case) → the best page, as ``/w/rest.php/v1/search/page``
#: answers it (``{"pages": [{"id", "key", "title", "excerpt", "matched_title", "description",
#: "thumbnail"}]}``); any other query finds nothing.
SEARCH = {
    "president of france": {
        "id": 2,
        "key": "President_of_France",
        "title": "President of France",
        "excerpt": 'The <span class="searchmatch">president</span> of France is the head of state',
        "matched_title": None,
        "description": "head of state of France",
        "thumbnail": None,
    }
}


# --------------------------------------------------------------------------- the server


#: Open-Meteo geocoding results (its documented shape, trimmed): two Lyons, the US one first.
PLACES: list[dict[str, Any]] = [
    {"id": 4432639, "name": "Lyon", "latitude": 34.21, "longitude": -90.54,
     "timezone": "America/Chicago", "country_code": "US", "country": "United States",
     "admin1": "Mississippi"},
    {"id": 2996944, "name": "Lyon", "latitude": 45.74846, "longitude": 4.84671,
     "elevation": 173.0, "feature_code": "PPLA", "timezone": "Europe/Paris",
     "country_code": "FR", "country": "France", "admin1": "Auvergne-Rhône-Alpes"},
]  # fmt: skip


@attrs.define
class FakeServices:
    """The running fake (see module docs); ``modes`` maps a route name to a behaviour."""

    http: LocalHttp
    modes: dict[str, str] = attrs.field(factory=dict)

    @property
    def url(self) -> str:
        return self.http.url

    def seen(self, route: str) -> list[SeenRequest]:
        return [r for r in self.http.requests if _route(r.path) == route]

    def query(self, request: SeenRequest) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}


def _route(path: str) -> str:
    p = urlsplit(path).path
    if p == "/v1/forecast":
        return "weather"
    if p.startswith("/news/"):
        return p.removeprefix("/news/")
    if p.startswith("/cal/"):
        return p.removeprefix("/cal/")
    if p.startswith("/api/rest_v1/page/summary/"):
        return "wiki"
    if p == "/w/rest.php/v1/search/page":
        return "search"
    if p == "/v1/chat/completions":
        return "chat"
    if p == "/v1/search":
        return "geocoding"
    return "unknown"


GARBAGE = {
    "weather": b'{"current": {"temperature_2m": "warm"}, "daily": {}}',
    "rss.xml": b"<html><body>Not a feed</body></html>",
    "atom.xml": b"\x00\x01 not xml",
    "alex.ics": b"BEGIN:VCALENDAR\r\nthis is not ical\r\n",
    "home.ics": b"hello",
    "wiki": b"[1, 2, 3]",
    "search": b'{"pages": "none"}',
    "chat": b'{"no": "choices"}',
    "geocoding": b'{"results": "Lyon"}',
}


async def start_fake_services(nursery: trio.Nursery) -> FakeServices:
    fake: FakeServices | None = None

    async def handle(request: SeenRequest) -> tuple[int, bytes]:
        assert fake is not None
        route = _route(request.path)
        mode = fake.modes.get(route, "ok")
        if mode == "slow":
            await trio.sleep_forever()
        if mode == "fail":
            return 500, b'{"error": true, "reason": "internal"}'
        if mode == "garbage":
            return 200, GARBAGE.get(route, b"?")
        if route == "weather":
            unit = fake.query(request).get("temperature_unit", "celsius")
            return 200, json.dumps(forecast_body(unit)).encode()
        if route == "rss.xml":
            return 200, RSS
        if route == "atom.xml":
            return 200, ATOM
        if route == "alex.ics":
            return 200, ALEX_ICS
        if route == "home.ics":
            return 200, HOME_ICS
        if route == "wiki":
            title = unquote(urlsplit(request.path).path.rsplit("/", 1)[1])
            if title in ARTICLES:
                return 200, json.dumps(ARTICLES[title]).encode()
            return 404, json.dumps({**NOT_FOUND, "uri": request.path}).encode()
        if route == "search":
            found = SEARCH.get(fake.query(request).get("q", "").lower())
            return 200, json.dumps({"pages": [found] if found else []}).encode()
        if route == "geocoding":
            name = fake.query(request).get("name", "").casefold()
            found = [r for r in PLACES if str(r["name"]).casefold() == name]
            body = (
                {"results": found, "generationtime_ms": 0.4}
                if found
                else {"generationtime_ms": 0.2}
            )
            return 200, json.dumps(body).encode()
        if route == "chat":
            said = json.loads(request.body)["messages"][1]["content"]
            answer = {"choices": [{"message": {"content": f"The model heard: {said}"}}]}
            return 200, json.dumps(answer).encode()
        return 404, b"{}"

    fake = FakeServices(await start_local_http(nursery, handle))
    return fake
