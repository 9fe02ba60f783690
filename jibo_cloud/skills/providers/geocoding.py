"""Where a household is: its city/region/country (the portal's Settings) → coordinates.

Open-Meteo's geocoding API (``/v1/search?name=…``, keyless, the same service family as the
forecast) answers ``{"results": [{"latitude", "longitude", "timezone", "country_code",
"country", "admin1", …}]}``, or no ``results`` when nothing matched. It searches by name
only, so we ask for a few candidates and keep the first whose country and region match
what the owner typed (by name or ISO code), else the first. Answers, misses included, are
cached a day: a town does not move, and a turn should not wait on a lookup twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

from jibo_cloud.skills.providers.base import ProviderError, TtlCache, get_json
from jibo_cloud.skills.providers.weather import Place

#: The service name of the shared client (:class:`jibo_cloud.http_clients.ServiceClients`).
GEOCODING = "geocoding"
BASE_URL = "https://geocoding-api.open-meteo.com"
TIMEOUT_SECONDS = 3.0
CACHE_SECONDS = 86_400.0
CANDIDATES = 10


@attrs.frozen
class Located:
    place: Place
    #: ISO 3166 code (``FR``), "" when the answer had none.
    country_code: str = ""
    time_zone: str = ""


def _matches(result: Mapping[str, Any], wanted: str, *keys: str) -> bool:
    if not wanted:
        return True
    return any(str(result.get(k) or "").casefold() == wanted.casefold() for k in keys)


def pick(results: list[Any], region: str, country: str) -> Located | None:
    """The best candidate (see module docs); None when there is none usable."""
    usable = [r for r in results if isinstance(r, Mapping)]
    ranked = [
        r
        for r in usable
        if _matches(r, country, "country", "country_code") and _matches(r, region, "admin1")
    ] + usable
    for result in ranked:
        lat, lng = result.get("latitude"), result.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lng, int | float):
            continue
        try:
            place = Place(float(lat), float(lng))
        except ValueError:
            continue
        return Located(
            place, str(result.get("country_code") or "").upper(), str(result.get("timezone") or "")
        )
    return None


@attrs.define
class OpenMeteoGeocoder:
    """The geocoding provider (see module docs)."""

    #: The service's long-lived client, from the runtime's ServiceClients (built on first use).
    http: Callable[[], httpx.AsyncClient]
    base_url: str = BASE_URL
    timeout: float = TIMEOUT_SECONDS
    cache: TtlCache[tuple[Located | None]] = attrs.field(
        factory=lambda: TtlCache(CACHE_SECONDS, size=256)
    )

    async def locate(self, city: str, region: str = "", country: str = "") -> Located | None:
        """Where ``city`` is; None when the service knows no such place.

        Raises:
            ProviderError: timeout, HTTP error or a malformed answer.
        """
        key = (city.casefold(), region.casefold(), country.casefold())
        cached = self.cache.get(key)
        if cached is not None:
            return cached[0]
        body = await get_json(
            self.http(),
            self.base_url.rstrip("/") + "/v1/search",
            service="geocoding",
            within=self.timeout,
            params={"name": city, "count": CANDIDATES, "language": "en", "format": "json"},
        )
        if not isinstance(body, Mapping):
            raise ProviderError("geocoding: the answer is not an object")
        results = body.get("results") or []
        if not isinstance(results, list):
            raise ProviderError("geocoding: results is not a list")
        found = pick(results, region, country)
        self.cache.put(key, (found,))
        return found
