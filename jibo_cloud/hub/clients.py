"""Remote services over HTTP, exactly as PROTOCOL.md §5 describes them.

- :class:`RemoteParser`: ``POST {url}/v1/parse`` with ``{type: "NLU", msgID, ts, data}``;
  the answer's ``data`` (or the body itself) is ``{intent, entities, rules}``.
- :func:`call_remote_skill`: ``POST <skill URL>`` with the §5 request; the reply is forwarded.
- :class:`RemoteHistory`: ``POST {url}/v1/skill/launch`` and ``POST {url}/v1/speech``.

Every request forwards the socket's trace headers (``x-jibo-transid``, ``x-jibo-robotid``,
``x-jibo-logging-config``). A non-2xx answer becomes ``UpstreamError`` with the original's
text ``Request failed with status code <n>``; an unreachable service or a body that is not
JSON also becomes ``UpstreamError``. The hub's own ``trio.fail_after`` enforces the 10 s
limit (§4.4); httpx's timeout is only a backstop.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import httpx

from jibo_cloud.errors import UpstreamError
from jibo_cloud.hub.history import MemoryHistory, StorageHistory
from jibo_cloud.logs import current_trace

#: httpx's own limit, above the hub's 10 s so the hub's timer decides (§4.4).
BACKSTOP_TIMEOUT_SECONDS = 15.0


def trace_headers() -> dict[str, str]:
    """The current socket's trace headers, forwarded to every service (§5)."""
    trace = current_trace()
    return {
        "x-jibo-transid": trace.trans_id,
        "x-jibo-robotid": trace.robot_id,
        "x-jibo-logging-config": json.dumps(dict(trace.levels), separators=(",", ":")),
    }


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=BACKSTOP_TIMEOUT_SECONDS)


async def post_json(
    client: httpx.AsyncClient, service: str, url: str, body: Mapping[str, Any]
) -> Any:
    """POST ``body`` as JSON with the trace headers; return the parsed JSON answer.

    Raises:
        UpstreamError: transport failure, non-2xx status, or a body that is not JSON.
    """
    try:
        response = await client.post(url, json=body, headers=trace_headers())
    except httpx.HTTPError as exc:
        raise UpstreamError(service, f"{type(exc).__name__}: {exc}") from None
    if not 200 <= response.status_code < 300:
        raise UpstreamError(service, f"Request failed with status code {response.status_code}")
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        raise UpstreamError(service, "answer is not JSON") from None


@attrs.define
class RemoteParser:
    """:class:`jibo_cloud.services.Parser` over HTTP (§5)."""

    base_url: str
    now_ms: Callable[[], int]
    client: httpx.AsyncClient = attrs.field(factory=new_client)

    async def parse(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        body = {
            "type": "NLU",
            "msgID": str(uuid.uuid4()),
            "ts": self.now_ms(),
            "data": dict(request),
        }
        url = self.base_url.rstrip("/") + "/v1/parse"
        answer = await post_json(self.client, "parser", url, body)
        data = answer.get("data", answer) if isinstance(answer, Mapping) else None
        if not isinstance(data, Mapping):
            raise UpstreamError("parser", "answer has no NLU object")
        return data

    async def aclose(self) -> None:
        await self.client.aclose()


async def call_remote_skill(
    client: httpx.AsyncClient, url: str, request: Mapping[str, Any]
) -> Mapping[str, Any]:
    """One §5 skill call. The reply must be a JSON object with a string ``type``."""
    answer = await post_json(client, "skill", url, request)
    if not isinstance(answer, Mapping) or not isinstance(answer.get("type"), str):
        raise UpstreamError("skill", "reply is not a message with a type")
    return answer


@attrs.define
class RemoteHistory:
    """:class:`jibo_cloud.services.History` over HTTP (§5).

    §5 defines only the two writes; the proactive history rules need reads, so launches are
    also kept in a local mirror that :meth:`launches` answers from: in memory for one server
    process, in the storage when several share it (each must see the others' launches).
    """

    base_url: str
    now_ms: Callable[[], int]
    client: httpx.AsyncClient = attrs.field(factory=new_client)
    mirror: MemoryHistory | StorageHistory = attrs.field(
        default=attrs.Factory(lambda self: MemoryHistory(now_ms=self.now_ms), takes_self=True)
    )

    async def skill_launched(self, record: Mapping[str, Any]) -> None:
        await self.mirror.skill_launched(record)
        await post_json(self.client, "history", self._url("/v1/skill/launch"), record)

    async def speech(self, record: Mapping[str, Any]) -> None:
        await post_json(self.client, "history", self._url("/v1/speech"), record)

    async def launches(self, robot_id: str) -> Sequence[Mapping[str, Any]]:
        return await self.mirror.launches(robot_id)

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    async def aclose(self) -> None:
        await self.client.aclose()


def open_history(
    history_url: str | None,
    now_ms: Callable[[], int],
    *,
    workers: int = 1,
    storage: Any = None,
) -> MemoryHistory | RemoteHistory | StorageHistory:
    """The history service: remote when ``config.history_url`` is set (reads answered from a
    local mirror); the local one (or the mirror) is in the storage when several server
    processes share it (``workers > 1``: a launch recorded by one must be seen by the
    proactive rules of another), else in memory (no I/O on the turn path)."""
    local: MemoryHistory | StorageHistory = MemoryHistory(now_ms=now_ms)
    if workers > 1 and storage is not None:
        local = StorageHistory(storage=storage, now_ms=now_ms)
    if history_url:
        return RemoteHistory(base_url=history_url, now_ms=now_ms, mirror=local)
    return local
