"""The built-in skills, their manifests, and the handlers the runtime registers.

``MANIFEST_DIR / "skills.json"`` lists our manifests in the format of the original cloud
(``{"skills": [{"baseURL", "configPath"}]}``); ``"baseURL": "inproc:"`` tells the hub's loader
to call ``runtime.skill_handlers[id]`` instead of an HTTP URL.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import httpx

from jibo_cloud.services import SkillHandler
from jibo_cloud.skills import chat, clock, jokes, smalltalk
from jibo_cloud.skills.base import PlanSkill, SkillFunction

MANIFEST_DIR = Path(__file__).parent / "manifests"
SKILLS_LIST = MANIFEST_DIR / "skills.json"


def builtin_handlers(
    *,
    now_ms: Callable[[], int],
    chat_url: str | None = None,
    default_time_zone: str = "",
    rng: random.Random | None = None,
    chat_http: httpx.AsyncClient | None = None,
) -> dict[str, SkillHandler]:
    """Every built-in skill as a SkillHandler, keyed by skill id.

    Args:
        now_ms: the wall clock in epoch ms (``ts`` fields and the clock skill).
        chat_url: an OpenAI-compatible server for the chat skill; None → fallback answers.
        default_time_zone: used when CONTEXT does not carry the robot's offset.
        rng: seed it for repeatable joke and answer picks.
        chat_http: the chat service's long-lived HTTP client (the runtime's; issue 21).
    """
    rng = rng or random.Random()
    skills: dict[str, SkillFunction] = {
        clock.SKILL_ID: clock.ClockSkill(now_ms),
        jokes.SKILL_ID: jokes.JokeSkill(rng),
        smalltalk.SKILL_ID: smalltalk.SmallTalkSkill(rng),
        smalltalk.WEATHER_SKILL_ID: smalltalk.weather_skill,
        chat.SKILL_ID: chat.ChatSkill(chat_url, http=chat_http),
    }
    return {
        skill_id: PlanSkill(skill_id, run, now_ms, default_time_zone=default_time_zone)
        for skill_id, run in skills.items()
    }
