"""Short encyclopedia answers from Wikipedia's REST summary API.

``GET {base}/api/rest_v1/page/summary/{title}`` answers ``{"type": "standard" |
"disambiguation" | …, "title", "description", "extract"}`` and follows redirects, so a
spoken subject ("abraham lincoln") usually finds its article once its first letter is upper
case; when it does not, the title-cased form is tried ("Eiffel Tower"), then the best match
of MediaWiki's REST search (``GET {base}/w/rest.php/v1/search/page?q=…&limit=1`` answers
``{"pages": [{"key", "title", "excerpt", …}]}``). A disambiguation page or no article is "no
answer" (None), not an error. Answers (and misses) are cached a day, bounded in number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import attrs
import httpx
import trio

from jibo_cloud.skills.providers.base import ProviderError, TtlCache, get_json

DEFAULT_URL = "https://en.wikipedia.org"
TIMEOUT_SECONDS = 3.0
CACHE_SECONDS = 24 * 3600.0
MAX_SPOKEN_CHARS = 320
_ARTICLE = re.compile(r"^(?:the|a|an)(?: |$)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@attrs.frozen
class Summary:
    title: str
    extract: str


def titles_for(subject: str) -> list[str]:
    """Article titles to try for a spoken subject, best first (see module docs)."""
    text = _ARTICLE.sub("", " ".join(subject.split()))
    if not text:
        return []
    first = text[0].upper() + text[1:]
    titled = " ".join(w[:1].upper() + w[1:] for w in text.split())
    return list(dict.fromkeys([first, titled]))


def speakable(extract: str, limit: int = MAX_SPOKEN_CHARS) -> str:
    """The first sentences of an extract that fit in ``limit`` characters (at least one)."""
    sentences = _SENTENCE_END.split(" ".join(extract.split()))
    out = ""
    for sentence in sentences:
        if out and len(out) + 1 + len(sentence) > limit:
            break
        out = f"{out} {sentence}".strip()
    if len(out) > limit:
        cut = out[:limit]
        out = cut[: cut.rfind(" ")] + "…" if " " in cut else cut
    # Pronunciation guides in brackets read badly aloud.
    return re.sub(r"\s*\([^()]*\)", "", out).replace(" ,", ",")


def parse_summary(body: Any) -> Summary | None:
    """A summary answer → Summary, or None for a disambiguation or empty page.

    Raises:
        ProviderError: the answer is not the summary shape.
    """
    if not isinstance(body, Mapping) or not isinstance(body.get("type"), str):
        raise ProviderError("knowledge: the answer is not a page summary")
    if body["type"] != "standard":
        return None
    extract = body.get("extract")
    if not isinstance(extract, str):
        raise ProviderError("knowledge: the summary has no extract")
    if not extract.strip():
        return None
    return Summary(title=str(body.get("title") or ""), extract=speakable(extract))


@attrs.define
class WikipediaSummaries:
    """The knowledge provider (see module docs)."""

    #: The service's long-lived client, from the runtime's ServiceClients (built on first use).
    http: Callable[[], httpx.AsyncClient]
    base_url: str = DEFAULT_URL
    timeout: float = TIMEOUT_SECONDS
    cache: TtlCache[Summary | bool] = attrs.field(
        factory=lambda: TtlCache(CACHE_SECONDS, size=1024)
    )

    def _left(self, deadline: float) -> float:
        return max(0.0, deadline - trio.current_time())

    async def _summary_of(self, title: str, deadline: float) -> Summary | None:
        url = (
            self.base_url.rstrip("/")
            + "/api/rest_v1/page/summary/"
            + quote(title.replace(" ", "_"), safe="")
        )
        body = await get_json(
            self.http(), url, service="knowledge", within=self._left(deadline), not_found_ok=True
        )
        return None if body is None else parse_summary(body)

    async def _search(self, subject: str, deadline: float) -> str | None:
        """The best matching article's title (MediaWiki's REST search), or None."""
        body = await get_json(
            self.http(),
            self.base_url.rstrip("/") + "/w/rest.php/v1/search/page",
            service="knowledge",
            within=self._left(deadline),
            params={"q": subject, "limit": 1},
        )
        pages = body.get("pages") if isinstance(body, Mapping) else None
        if not isinstance(pages, list):
            raise ProviderError("knowledge: the search answer has no 'pages' list")
        first = pages[0] if pages else None
        title = first.get("key") or first.get("title") if isinstance(first, Mapping) else None
        return str(title) if title else None

    async def summary(self, subject: str) -> Summary | None:
        """A short answer about ``subject``; None when Wikipedia has no plain article on it.

        The spoken subject is tried as a title (see :func:`titles_for`); when that finds no
        plain article, the best match of a full-text search is read ("the president of
        france" → "President of France"). One deadline, :attr:`timeout`, covers them all.

        Raises:
            ProviderError: timeout, HTTP error or a malformed answer.
        """
        key = subject.lower().strip()
        cached = self.cache.get(key)
        if cached is not None:
            return cached if isinstance(cached, Summary) else None
        deadline = trio.current_time() + self.timeout
        found: Summary | None = None
        tried = titles_for(subject)
        for title in tried:
            found = await self._summary_of(title, deadline)
            if found is not None:
                break
        if found is None and tried:
            best = await self._search(_ARTICLE.sub("", subject.strip()), deadline)
            if best and best.replace("_", " ") not in tried:
                found = await self._summary_of(best, deadline)
        self.cache.put(key, found if found is not None else False)
        return found
