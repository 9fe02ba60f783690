"""What every provider shares: its error type, a bounded TTL cache, and a capped GET.

Time is ``trio.current_time()`` (the virtual clock in tests), never the wall clock.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Mapping
from typing import Any, Generic, TypeVar

import attrs
import httpx
import trio

#: Sent to every provider: Wikipedia's API policy asks clients to name themselves.
USER_AGENT = "jibo-cloud/0.1 (self-hosted server for Jibo robots)"
#: Largest answer a provider may send (a news feed is the biggest: tens of KB usually).
MAX_BODY_BYTES = 2 * 1024 * 1024

V = TypeVar("V")


class ProviderError(Exception):
    """A provider could not answer (timeout, HTTP error, malformed answer).

    The message names the provider and what happened, never what the owner said.
    """


@attrs.define
class TtlCache(Generic[V]):
    """A small LRU cache whose entries expire ``ttl`` seconds (trio time) after they were put.

    Bounded by ``size`` entries: the oldest used entry goes first. Not thread-safe: trio thread.
    """

    ttl: float
    size: int = 256
    _items: collections.OrderedDict[Any, tuple[float, V]] = attrs.field(
        factory=collections.OrderedDict, init=False
    )

    def get(self, key: Any) -> V | None:
        item = self._items.get(key)
        if item is None:
            return None
        expires, value = item
        if trio.current_time() >= expires:
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return value

    def put(self, key: Any, value: V) -> None:
        self._items[key] = (trio.current_time() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


async def get_bytes(
    http: httpx.AsyncClient,
    url: str,
    *,
    service: str,
    within: float,
    params: Mapping[str, str | float | int] | None = None,
    not_found_ok: bool = False,
    limit: int = MAX_BODY_BYTES,
) -> bytes | None:
    """GET ``url`` within ``within`` seconds (a trio deadline over the whole exchange).

    Returns the body, or None for a 404 when ``not_found_ok``.

    Raises:
        ProviderError: timeout, connection error, any other non-2xx status, or a body larger
            than ``limit`` bytes. The message names ``service`` and the cause, not the URL
            (calendar URLs are secrets; knowledge URLs carry what the owner asked).
    """
    body = bytearray()
    with trio.move_on_after(within) as scope:
        try:
            async with http.stream(
                "GET", url, params=params, headers={"user-agent": USER_AGENT}
            ) as response:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise ProviderError(f"{service}: answer larger than {limit} bytes")
                # An error's body is read too (bounded above): the connection stays reusable.
                if response.status_code == 404 and not_found_ok:
                    return None
                if not 200 <= response.status_code < 300:
                    raise ProviderError(f"{service}: HTTP {response.status_code}")
        except httpx.HTTPError as exc:
            raise ProviderError(f"{service}: {type(exc).__name__}") from None
    if scope.cancelled_caught:
        raise ProviderError(f"{service}: no answer within {within:g} s")
    return bytes(body)


async def get_json(
    http: httpx.AsyncClient,
    url: str,
    *,
    service: str,
    within: float,
    params: Mapping[str, str | float | int] | None = None,
    not_found_ok: bool = False,
) -> Any:
    """:func:`get_bytes`, decoded as JSON (None for an allowed 404).

    Raises:
        ProviderError: as :func:`get_bytes`, or the body is not JSON.
    """
    body = await get_bytes(
        http, url, service=service, within=within, params=params, not_found_ok=not_found_ok
    )
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        raise ProviderError(f"{service}: the answer is not JSON") from None
