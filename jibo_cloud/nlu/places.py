"""Places an owner names for the time there ("what time is it in tokyo"): their IANA zones.

Names, not I/O: the parser's ``place`` slot (:mod:`jibo_cloud.nlu.template`, typed only, so
the recogniser's grammar does not grow by 558 names) takes exactly these, and the clock skill
(:mod:`jibo_cloud.skills.clock`) reads the zone of the one said. A closed list rather than
any words: a free-text slot would make ``askForTime`` a catch-all intent for the speech
decision (:func:`jibo_cloud.speech.agree.free_text_intents`), and every spoken "what time is
it" would then wait for a grammar pass (seen in the bench: command p50 379 → 875 ms).
"""

from __future__ import annotations

import functools
import zoneinfo

from protocol.plan import normalize_transcript

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
def zone_cities() -> dict[str, tuple[str, str]]:
    """Every IANA zone's own city, as said ("America/Argentina/Buenos_Aires" → "buenos
    aires", "America/Port-au-Prince" → "port au prince"), then :data:`PLACE_ZONES`. Built
    once: the database's ~600 names, read from the tzdata package or the system's."""
    cities: dict[str, tuple[str, str]] = {}
    for key in sorted(zoneinfo.available_timezones()):
        area, _, city = key.rpartition("/")
        if not area or area.split("/")[0] in ("Etc", "SystemV", "US", "Canada", "Brazil"):
            continue
        cities.setdefault(normalize_transcript(city), (city.replace("_", " "), key))
    return {**cities, **PLACE_ZONES}


def place_names() -> list[str]:
    """Every place :func:`place_zone` knows, as said: the parser's ``place`` slot
    (:mod:`jibo_cloud.nlu.template`), so "what time is it in narnia" is no clock question."""
    return sorted({*zone_cities(), *MANY_ZONES})


def place_zone(place: str) -> tuple[str, str] | str | None:
    """(the place as Jibo says it, its IANA zone) for a place an owner named; ``"many"`` for
    a country with several zones; None when unknown."""
    text = normalize_transcript(place.replace(".", ""))
    for word in _AROUND:
        if text.startswith(word) and word.endswith(" "):
            text = text[len(word) :]
        if text.endswith(" " + word.strip()):
            text = text[: -len(word.strip())].strip()
    if text in MANY_ZONES:
        return "many"
    return zone_cities().get(text)
