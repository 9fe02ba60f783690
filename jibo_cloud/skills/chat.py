"""The chat skill: open conversation through an OpenAI-compatible chat endpoint, or a fallback.

With ``config.chat_url`` set, the owner's words go to ``/v1/chat/completions`` (llama.cpp's
server, LocalAI, vLLM, Ollama's OpenAI API all speak it) with a persona prompt, and the first
choice is spoken. A slow or failing service gives a graceful spoken apology, never an ERROR:
the robot should always say something. Without a chat service this is the fallback skill for
anything the embedded parser did not recognise.

``chat_url`` may be a base URL (``http://gpu:8080``), end in ``/v1``, or be the full endpoint;
a ``#model=NAME`` fragment picks the model (default ``default``). A household's own chat
endpoint (the portal's Settings page) wins over the server's for its robot's turns.

The HTTP client is the runtime's one client for the chat service
(:class:`jibo_cloud.http_clients.ServiceClients`), passed in as ``http``: building one per
request cost ~75 ms of CPU on the trio thread and reused no connection. Without one (tests,
tools) the skill builds its own on first use and keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urldefrag

import attrs
import httpx
import trio

from jibo_cloud.http_clients import new_service_client
from jibo_cloud.skills.household import HouseholdSettingsCache
from protocol.plan import PlanStatus, ResponsePlan, Speak, TurnContext

log = logging.getLogger(__name__)

SKILL_ID = "cloud-chat"
#: Below the hub's 10 s skill timeout (PROTOCOL.md §4.4), so the apology still gets through.
CHAT_TIMEOUT_SECONDS = 8.0
MAX_SPOKEN_CHARS = 400

PERSONA = (
    "You are Jibo, a friendly, curious and playful social robot who lives with a family. "
    "Answer in one or two short sentences that sound natural when spoken aloud. "
    "Never use lists, markdown, emoji or URLs. If you do not know something, say so kindly."
)
FALLBACK = "I'm not sure how to help with that yet. You can ask me what I can do."
APOLOGY = "Sorry, my thoughts are a little slow right now. Can you ask me again in a bit?"


def endpoint(url: str, path: str) -> tuple[str, str]:
    """(full endpoint URL, model) for an OpenAI-compatible base URL (see module docs)."""
    base, fragment = urldefrag(url)
    model = fragment.removeprefix("model=") if fragment.startswith("model=") else "default"
    base = base.rstrip("/")
    if base.endswith(path):
        return base, model
    if base.endswith("/v1"):
        return base + path, model
    return base + "/v1" + path, model


def spoken(text: str) -> str:
    """Clean a model's answer for speech: no markdown marks, bounded length."""
    cleaned = " ".join(text.replace("*", "").replace("#", "").replace("`", "").split())
    if len(cleaned) > MAX_SPOKEN_CHARS:
        cut = cleaned[:MAX_SPOKEN_CHARS]
        cleaned = cut[: cut.rfind(".") + 1] or cut
    return cleaned


def _first_choice(body: Mapping[str, Any]) -> str:
    try:
        return str(body["choices"][0]["message"]["content"])
    except (KeyError, IndexError, TypeError):
        raise ValueError("no choices[0].message.content in the chat answer") from None


@attrs.define
class ChatSkill:
    chat_url: str | None = None
    timeout: float = CHAT_TIMEOUT_SECONDS
    persona: str = PERSONA
    #: The chat service's long-lived client (the runtime's); None: built once, on first use.
    http: httpx.AsyncClient | None = None
    #: The robots' household settings (their ``chatUrl``); None: the server's endpoint only.
    household: HouseholdSettingsCache | None = None

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = new_service_client()
        return self.http

    async def ask(self, utterance: str, names: tuple[str, ...], chat_url: str | None = None) -> str:
        """One completion from ``chat_url`` (default: the server's); raises httpx.HTTPError /
        ValueError on a bad answer."""
        base = chat_url or self.chat_url
        assert base is not None
        url, model = endpoint(base, "/chat/completions")
        system = self.persona + (f" You are talking with {names[0]}." if names else "")
        payload = {
            "model": model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": utterance},
            ],
            "max_tokens": 120,
            "temperature": 0.7,
        }
        # The deadline is the caller's trio cancel scope (virtual-clock testable), not httpx's.
        response = await self._client().post(url, json=payload)
        response.raise_for_status()
        return spoken(_first_choice(response.json()))

    async def __call__(self, turn: TurnContext) -> ResponsePlan:
        utterance = str(turn.entities.get("utterance") or turn.raw_transcript or "").strip()
        chat_url = self.chat_url
        if self.household is not None and utterance:
            chat_url = (await self.household.for_robot(turn.device_id)).chat_url or chat_url
        if not chat_url or not utterance:
            return ResponsePlan(
                intent=turn.intent,
                status=PlanStatus.NO_MATCH,
                topic="fallback",
                actions=(Speak(text=FALLBACK, category="confused"),),
            )
        answer = ""
        failure = ""
        with trio.move_on_after(self.timeout) as scope:
            try:
                answer = await self.ask(utterance, turn.user_names, chat_url)
            except (httpx.HTTPError, ValueError) as exc:
                failure = f"{type(exc).__name__}: {exc}"
        if scope.cancelled_caught:
            failure = f"timed out after {self.timeout} s"
        if failure or not answer:
            log.warning("chat service failed: %s", failure or "empty answer")
            return ResponsePlan(
                intent=turn.intent,
                status=PlanStatus.FAILED,
                topic="chat",
                actions=(Speak(text=APOLOGY, category="sad"),),
                diagnostics={"error": failure or "empty answer"},
            )
        return ResponsePlan(intent=turn.intent, topic="chat", actions=(Speak(text=answer),))
