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

from jibo_cloud.config import Config
from jibo_cloud.http_clients import CALENDAR, KNOWLEDGE, NEWS, WEATHER, ServiceClients
from jibo_cloud.services import SkillHandler
from jibo_cloud.skills import answers, chat, clock, jokes, personality, report, smalltalk
from jibo_cloud.skills.base import PlanSkill, SkillFunction
from jibo_cloud.skills.household import HouseholdSettingsCache
from jibo_cloud.skills.providers.calendar import IcalCalendars, parse_calendars
from jibo_cloud.skills.providers.geocoding import GEOCODING, OpenMeteoGeocoder
from jibo_cloud.skills.providers.knowledge import WikipediaSummaries
from jibo_cloud.skills.providers.news import DEFAULT_FEEDS, FeedNews
from jibo_cloud.skills.providers.weather import OpenMeteo, Place

MANIFEST_DIR = Path(__file__).parent / "manifests"
SKILLS_LIST = MANIFEST_DIR / "skills.json"


def builtin_handlers(
    *,
    now_ms: Callable[[], int],
    chat_url: str | None = None,
    default_time_zone: str = "",
    rng: random.Random | None = None,
    chat_http: httpx.AsyncClient | None = None,
    config: Config | None = None,
    http: ServiceClients | None = None,
    households: HouseholdSettingsCache | None = None,
) -> dict[str, SkillHandler]:
    """Every built-in skill as a SkillHandler, keyed by skill id.

    Args:
        now_ms: the wall clock in epoch ms (``ts`` fields and the clock skill).
        chat_url: an OpenAI-compatible server for the chat skill; None → fallback answers.
        default_time_zone: used when CONTEXT does not carry the robot's offset.
        rng: seed it for repeatable joke and answer picks.
        chat_http: the chat service's long-lived HTTP client (the runtime's).
        config: the report and answers providers' settings (defaults when None).
        http: the runtime's per-service clients (the providers take theirs from it; without
            it, tests and tools, a registry of their own is built: one client per service).
        households: each robot's household settings (the portal's Settings page), which win
            over ``config``: the runtime's one cache, which the hub's parse calls read too;
            None: ``config`` only.
    """
    rng = rng or random.Random()
    chat_skill = chat.ChatSkill(chat_url, http=chat_http, household=households)
    skills: dict[str, SkillFunction] = {
        clock.SKILL_ID: clock.ClockSkill(now_ms),
        jokes.SKILL_ID: jokes.JokeSkill(rng),
        smalltalk.SKILL_ID: smalltalk.SmallTalkSkill(rng),
        personality.SKILL_ID: personality.PersonalitySkill(rng),
        chat.SKILL_ID: chat_skill,
    }
    handlers: dict[str, SkillHandler] = {
        skill_id: PlanSkill(
            skill_id,
            run,
            now_ms,
            default_time_zone=default_time_zone,
            # The clock speaks in the household's time zone when it set one.
            households=households if skill_id == clock.SKILL_ID else None,
        )
        for skill_id, run in skills.items()
    }
    handlers.update(
        _report_and_answers(
            config or Config(),
            http or ServiceClients(),
            now_ms,
            chat_skill,
            default_time_zone,
            households,
        )
    )
    return handlers


def _report_and_answers(
    config: Config,
    http: ServiceClients,
    now_ms: Callable[[], int],
    chat_skill: chat.ChatSkill,
    default_time_zone: str,
    household: HouseholdSettingsCache | None,
) -> dict[str, SkillHandler]:
    """The report skill (also answering ``cloud-weather``) and the answers skill.

    Each provider takes its service's client from ``http`` when it first calls out: one
    long-lived client per service, and none built for a service never used.
    """
    calendars = parse_calendars(config.calendars)
    report_skill = report.ReportSkill(
        weather=OpenMeteo(lambda: http.get(WEATHER), base_url=config.weather_url),
        news=FeedNews(lambda: http.get(NEWS), feeds=config.news_feeds or DEFAULT_FEEDS),
        calendars=IcalCalendars(lambda: http.get(CALENDAR), calendars),
        now_ms=now_ms,
        default_place=Place.parse(config.weather_place) if config.weather_place else None,
        units=config.weather_units,
        household=household,
        geocoder=OpenMeteoGeocoder(lambda: http.get(GEOCODING)) if household else None,
    )
    dictionary = answers.Dictionary(config.wordnet_dir)
    dictionary.check()
    answer_skill = answers.AnswersSkill(
        knowledge=WikipediaSummaries(lambda: http.get(KNOWLEDGE), base_url=config.knowledge_url),
        now_ms=now_ms,
        dictionary=dictionary,
        chat=chat_skill if chat_skill.chat_url else None,
    )
    return {
        # The report's calendar day and greeting, and "days until", in the household's zone.
        skill_id: report.SpeakerPlanSkill(
            skill_id, run, now_ms, default_time_zone=default_time_zone, households=household
        )
        for skill_id, run in (
            (report.SKILL_ID, report_skill),
            (report.WEATHER_SKILL_ID, report_skill),
            (answers.SKILL_ID, answer_skill),
        )
    }
