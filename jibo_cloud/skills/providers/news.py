"""News headlines from RSS/Atom feeds, parsed by feedparser.

The feeds are the robot's household's (the portal's Settings page) when it named any, else
``JIBO_NEWS_FEEDS`` (default: NPR's and the BBC's top stories). Feeds are
fetched at once, each within the deadline; a feed that fails is logged and skipped, and only
when every feed fails does :meth:`FeedNews.headlines` raise. Headlines are taken in turn from
each feed (so one busy feed does not crowd out the others), cleaned for speech, and cached
15 minutes. Parsing runs in a worker thread: feedparser is pure Python and a large feed
would stall the trio thread for tens of milliseconds.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Sequence
from typing import Any

import attrs
import httpx
import trio

from jibo_cloud.skills.providers.base import ProviderError, TtlCache, get_bytes

log = logging.getLogger(__name__)

DEFAULT_FEEDS = (
    "https://feeds.npr.org/1001/rss.xml",
    "https://feeds.bbci.co.uk/news/rss.xml",
)
TIMEOUT_SECONDS = 4.0
CACHE_SECONDS = 900.0
_TAG = re.compile(r"<[^>]+>")


def clean_title(title: str) -> str:
    """A headline for speech: no markup, entities decoded, single spaces, no trailing dot."""
    text = html.unescape(_TAG.sub(" ", title))
    return " ".join(text.split()).rstrip(".")


def parse_titles(body: bytes) -> list[str]:
    """The entry titles of one RSS/Atom document (synchronous; run it in a thread).

    Raises:
        ProviderError: the document is not a feed (no entries, and feedparser either found
            it malformed or recognised no feed format in it).
    """
    import feedparser  # here, in the worker thread: the server's start does not pay for it

    parsed: Any = feedparser.parse(body)
    entries = parsed.get("entries") or []
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise ProviderError("news: the answer is not an RSS or Atom feed")
    titles = [clean_title(str(e.get("title") or "")) for e in entries]
    return [t for t in titles if t]


def interleave(lists: Sequence[Sequence[str]], count: int) -> list[str]:
    """Take one from each list in turn, skipping repeats, until ``count`` are taken."""
    out: list[str] = []
    seen: set[str] = set()
    for row in range(max((len(x) for x in lists), default=0)):
        for titles in lists:
            if row < len(titles) and titles[row].lower() not in seen:
                seen.add(titles[row].lower())
                out.append(titles[row])
                if len(out) == count:
                    return out
    return out


@attrs.define
class FeedNews:
    """The news provider (see module docs)."""

    #: The service's long-lived client, from the runtime's ServiceClients (built on first use).
    http: Callable[[], httpx.AsyncClient]
    feeds: tuple[str, ...] = DEFAULT_FEEDS
    timeout: float = TIMEOUT_SECONDS
    #: Keyed by (feeds, count): households may name feeds of their own.
    cache: TtlCache[list[str]] = attrs.field(factory=lambda: TtlCache(CACHE_SECONDS, size=64))

    async def _feed(self, index: int, url: str, out: list[list[str]]) -> None:
        try:
            body = await get_bytes(self.http(), url, service="news", within=self.timeout)
            out[index] = await trio.to_thread.run_sync(parse_titles, body or b"")
        except ProviderError as exc:
            log.warning("news feed #%d failed: %s", index + 1, exc)

    async def headlines(self, count: int = 3, feeds: Sequence[str] = ()) -> list[str]:
        """Up to ``count`` headlines from ``feeds`` (a household's; empty: the configured ones).

        Raises:
            ProviderError: no feed answered.
        """
        urls = tuple(feeds) or self.feeds
        key = (urls, count)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        results: list[list[str]] = [[] for _ in urls]
        async with trio.open_nursery() as nursery:
            for i, url in enumerate(urls):
                nursery.start_soon(self._feed, i, url, results)
        titles = interleave(results, count)
        if not titles:
            raise ProviderError(f"news: none of the {len(urls)} feeds gave a headline")
        self.cache.put(key, titles)
        return titles
