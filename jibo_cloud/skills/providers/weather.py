"""Weather from Open-Meteo's forecast API (keyless): now, today and tomorrow at one place.

``GET {base}/v1/forecast?latitude&longitude&current=…&daily=…&temperature_unit=…&timezone=auto``
answers ``{"current": {"temperature_2m", "apparent_temperature", "weather_code", …},
"daily": {"time": [...], "weather_code": [...], "temperature_2m_max": [...],
"temperature_2m_min": [...], "precipitation_probability_max": [...]}}``; weather codes are
WMO codes (the table below follows Open-Meteo's documentation). Answers are cached 10 minutes
per place (rounded to ~1 km) and unit.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import httpx

from jibo_cloud.skills.providers.base import ProviderError, TtlCache, get_json

DEFAULT_URL = "https://api.open-meteo.com"
TIMEOUT_SECONDS = 4.0
CACHE_SECONDS = 600.0

#: WMO weather interpretation codes → how Jibo says them ("It's … right now").
WMO_CODES: Mapping[int, str] = {
    0: "clear",
    1: "mostly clear",
    2: "partly cloudy",
    3: "cloudy",
    45: "foggy",
    48: "foggy with frost",
    51: "drizzling lightly",
    53: "drizzling",
    55: "drizzling heavily",
    56: "freezing drizzle",
    57: "heavy freezing drizzle",
    61: "raining lightly",
    63: "raining",
    65: "raining heavily",
    66: "freezing rain",
    67: "heavy freezing rain",
    71: "snowing lightly",
    73: "snowing",
    75: "snowing heavily",
    77: "snow grains",
    80: "rain showers",
    81: "heavy rain showers",
    82: "violent rain showers",
    85: "snow showers",
    86: "heavy snow showers",
    95: "thunderstorms",
    96: "thunderstorms with hail",
    99: "thunderstorms with heavy hail",
}


class Units(enum.Enum):
    FAHRENHEIT = "fahrenheit"
    CELSIUS = "celsius"


@attrs.frozen
class Place:
    latitude: float = attrs.field(
        validator=attrs.validators.and_(attrs.validators.ge(-90.0), attrs.validators.le(90.0))
    )
    longitude: float = attrs.field(
        validator=attrs.validators.and_(attrs.validators.ge(-180.0), attrs.validators.le(180.0))
    )

    @classmethod
    def parse(cls, text: str) -> Place:
        """``"42.36,-71.06"`` → a Place. Raises ValueError naming the expected form."""
        lat, sep, lon = text.partition(",")
        try:
            if not sep:
                raise ValueError
            return cls(float(lat), float(lon))
        except ValueError:
            raise ValueError(f"expected 'latitude,longitude' in degrees, got {text!r}") from None


@attrs.frozen
class Day:
    date: str
    condition: str
    high: float
    low: float
    #: Chance of rain or snow in percent; None when the provider did not say.
    precipitation_chance: int | None = None


@attrs.frozen
class Forecast:
    units: Units
    temperature: float
    feels_like: float | None
    condition: str
    days: tuple[Day, ...]


def _condition(code: Any) -> str:
    if isinstance(code, bool) or not isinstance(code, int | float):
        raise ProviderError("weather: weather_code is not a number")
    return WMO_CODES.get(int(code), "unsettled")


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ProviderError(f"weather: {name} is not a number")
    return float(value)


def _column(daily: Mapping[str, Any], name: str, length: int) -> Sequence[Any]:
    column = daily.get(name)
    if not isinstance(column, list) or len(column) < length:
        raise ProviderError(f"weather: daily.{name} is missing or short")
    return column


def parse_forecast(body: Any, units: Units) -> Forecast:
    """Open-Meteo's JSON → a Forecast. Raises ProviderError naming the malformed field."""
    if not isinstance(body, Mapping):
        raise ProviderError("weather: the answer is not a JSON object")
    current, daily = body.get("current"), body.get("daily")
    if not isinstance(current, Mapping) or not isinstance(daily, Mapping):
        raise ProviderError("weather: no 'current' or 'daily' block")
    times = daily.get("time")
    if not isinstance(times, list) or not times:
        raise ProviderError("weather: daily.time is missing")
    count = min(len(times), 7)
    codes = _column(daily, "weather_code", count)
    highs = _column(daily, "temperature_2m_max", count)
    lows = _column(daily, "temperature_2m_min", count)
    rain = daily.get("precipitation_probability_max")
    days = tuple(
        Day(
            date=str(times[i]),
            condition=_condition(codes[i]),
            high=_number(highs[i], "temperature_2m_max"),
            low=_number(lows[i], "temperature_2m_min"),
            precipitation_chance=(
                int(rain[i])
                if isinstance(rain, list) and i < len(rain) and isinstance(rain[i], int | float)
                else None
            ),
        )
        for i in range(count)
    )
    feels = current.get("apparent_temperature")
    return Forecast(
        units=units,
        temperature=_number(current.get("temperature_2m"), "current.temperature_2m"),
        feels_like=_number(feels, "current.apparent_temperature") if feels is not None else None,
        condition=_condition(current.get("weather_code")),
        days=days,
    )


@attrs.define
class OpenMeteo:
    """The weather provider (see module docs)."""

    #: The service's long-lived client, from the runtime's ServiceClients (built on first use).
    http: Callable[[], httpx.AsyncClient]
    base_url: str = DEFAULT_URL
    timeout: float = TIMEOUT_SECONDS
    cache: TtlCache[Forecast] = attrs.field(factory=lambda: TtlCache(CACHE_SECONDS))

    async def forecast(self, place: Place, units: Units) -> Forecast:
        """Now, today and the next days at ``place``; raises ProviderError."""
        key = (round(place.latitude, 2), round(place.longitude, 2), units)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        body = await get_json(
            self.http(),
            self.base_url.rstrip("/") + "/v1/forecast",
            service="weather",
            within=self.timeout,
            params={
                "latitude": f"{place.latitude:.4f}",
                "longitude": f"{place.longitude:.4f}",
                "current": "temperature_2m,apparent_temperature,weather_code",
                "daily": "weather_code,temperature_2m_max,temperature_2m_min,"
                "precipitation_probability_max",
                "temperature_unit": units.value,
                "timezone": "auto",
                "forecast_days": 3,
            },
        )
        forecast = parse_forecast(body, units)
        self.cache.put(key, forecast)
        return forecast
