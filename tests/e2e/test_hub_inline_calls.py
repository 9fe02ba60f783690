"""In-process answers made inline (docs/hub.md "Where a turn's CPU goes"): the embedded
parser's template parse and a built-in skill's ``answer_now`` are performed by the driver
itself, without a task or a timer, and the robot gets exactly what the task path gives it;
anything that must wait (a household not read yet, the semantic pass, a skill with no
``answer_now``) still goes through a task."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import trio

from jibo_cloud.hub.calls import parse_now
from jibo_cloud.nlu.parser import EmbeddedParser
from jibo_cloud.skills import clock, jokes
from jibo_cloud.skills.base import PlanSkill
from jibo_cloud.skills.household import HouseholdSettingsCache
from tests.support import hub_client as hc
from tests.support.server import start_server

NOW = 1_800_000_000_000


def _request(intent: str, robot: str = "Robot-Inline") -> dict[str, Any]:
    return {
        "type": "LISTEN_LAUNCH", "msgID": "mid-1", "ts": NOW,
        "data": {"general": {"robotID": robot, "accountID": "acct"},
                 "nlu": {"intent": intent, "entities": {}, "rules": ["launch"]},
                 "asr": {"text": "what time is it", "confidence": 1}, "runtime": {}},
    }  # fmt: skip


class _Settings:
    """Household settings storage with one robot whose household chose a zone."""

    def __init__(self) -> None:
        self.reads = 0

    async def find_robot(self, key: str) -> Any:
        self.reads += 1

        class Robot:
            name = key

        return Robot()

    async def household_settings_for_robot(self, name: str) -> Any:
        class Settings:
            value = {"timeZone": "Pacific/Kiritimati"}

        return Settings()


async def test_a_skill_answers_now_only_when_nothing_must_be_read() -> None:
    joke_now = PlanSkill(jokes.SKILL_ID, jokes.JokeSkill(random.Random(7)), lambda: NOW)
    joke_task = PlanSkill(jokes.SKILL_ID, jokes.JokeSkill(random.Random(7)), lambda: NOW)
    now, waited = joke_now.answer_now(_request("tellJoke")), await joke_task(_request("tellJoke"))
    assert now is not None
    assert now["type"] == "SKILL_ACTION"
    assert {**now, "msgID": ""} == {**waited, "msgID": ""}
    refused = joke_now.answer_now({**_request("tellJoke"), "type": "NOPE"})
    assert refused is not None
    assert refused["type"] == "ERROR"

    async def waits(turn: Any) -> Any:  # a skill function with no plan_now
        raise AssertionError("not called")

    assert PlanSkill("slow", waits, lambda: NOW).answer_now(_request("x")) is None
    storage = _Settings()
    households = HouseholdSettingsCache(storage)  # type: ignore[arg-type]
    clock_skill = PlanSkill(
        clock.SKILL_ID, clock.ClockSkill(lambda: NOW), lambda: NOW, households=households
    )
    assert clock_skill.answer_now(_request("askForTime")) is None  # the zone is not read yet
    await households.for_robot("Robot-Inline")
    answered = clock_skill.answer_now(_request("askForTime"))
    assert answered is not None
    assert answered == {**await clock_skill(_request("askForTime")), "msgID": answered["msgID"]}
    assert storage.reads == 1


async def test_the_parser_answers_now_unless_it_must_wait(tmp_path: Path) -> None:
    from tests.hub.support import make_runtime

    runtime = make_runtime(tmp_path)
    runtime.parser = EmbeddedParser(semantic=None)
    request = {"text": "tell me a joke", "rules": ["launch"]}
    assert parse_now(runtime, request, "Robot-Inline") == await runtime.parser.parse(request)
    storage = _Settings()
    runtime.households = HouseholdSettingsCache(storage)  # type: ignore[arg-type]
    assert parse_now(runtime, request, "Robot-Inline") is None  # its household is not read
    await runtime.households.for_robot("Robot-Inline")
    assert parse_now(runtime, request, "Robot-Inline") is not None

    class Remote:
        async def parse(self, request: Any) -> Any:
            return {}

    runtime.parser = Remote()  # type: ignore[assignment]
    assert parse_now(runtime, request, "Robot-Inline") is None


async def test_the_robot_gets_the_same_turn_inline_and_through_tasks(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    server = await start_server(nursery, tmp_path / "data")
    token = hc.hub_token(server.config)
    import jibo_cloud.hub.listen as listen

    saved = listen.parse_now, listen.skill_now
    answered: list[bool] = []

    def spy(fn: Any) -> Any:
        def wrapped(*args: Any) -> Any:
            result = fn(*args)
            answered.append(result is not None)
            return result

        return wrapped

    try:
        with trio.fail_after(20):
            # A robot's first turn reads its household (the parse goes through a task and
            # caches it); from the next turn on, the parse is answered inline too.
            await hc.text_turn(server.port, token, "tell me a joke")
            listen.parse_now, listen.skill_now = spy(saved[0]), spy(saved[1])
            inline = await hc.text_turn(server.port, token, "tell me a joke")
            # The same server with the inline paths refused: the parse and the skill as tasks.
            listen.parse_now = listen.skill_now = lambda *a: None  # type: ignore[assignment]
            tasks = await hc.text_turn(server.port, token, "tell me a joke")
    finally:
        listen.parse_now, listen.skill_now = saved
    assert answered == [True, True]  # the parse, then the skill, both inline
    shape = [(f["type"], f.get("final")) for f in inline]
    assert shape == [(f["type"], f.get("final")) for f in tasks]
    assert shape[-1] == ("SKILL_ACTION", True)
    assert inline[-1]["data"]["skill"]["id"] == tasks[-1]["data"]["skill"]["id"] == "cloud-jokes"
