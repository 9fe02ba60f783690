"""Built-in skills through their §5 JSON contract, as the hub calls them."""

from __future__ import annotations

import datetime
import itertools
import json
import random
from typing import Any

import pytest
import trio

from jibo_cloud.skills import chat, jokes, smalltalk
from jibo_cloud.skills.registry import MANIFEST_DIR, SKILLS_LIST, builtin_handlers
from tests.skills.local_http import SeenRequest, json_reply, start_local_http

# 2026-04-27T12:57:22Z = 08:57 in Boston (-04:00).
NOW_MS = int(datetime.datetime(2026, 4, 27, 12, 57, 22, tzinfo=datetime.UTC).timestamp() * 1000)


def request(
    intent: str | None, *, text: str = "", kind: str = "LISTEN_LAUNCH", **extra: Any
) -> dict:
    nlu: dict[str, Any] = {
        "intent": intent,
        "entities": extra.pop("entities", {}),
        "rules": ["launch"],
    }
    runtime = extra.pop("runtime", {"loop": {"users": [{"firstName": "Alex"}]}})
    return {
        "type": kind,
        "msgID": "mid-req",
        "ts": NOW_MS,
        "data": {
            "general": {"accountID": "a", "robotID": "r", "lang": "en-US", "release": "1.9.2"},
            "runtime": runtime,
            "skill": {"id": "x"},
            "result": {"nlu": nlu, "asr": {"text": text, "confidence": 0.9}},
        },
    }


def handlers(**kwargs: Any) -> dict:
    return builtin_handlers(now_ms=lambda: NOW_MS, rng=random.Random(7), **kwargs)


def esml_of(reply: dict) -> str:
    return reply["data"]["action"]["config"]["jcp"]["config"]["play"]["esml"]


def assert_skill_action(reply: dict, skill_id: str) -> None:
    assert reply["type"] == "SKILL_ACTION"
    assert reply["msgID"].startswith("mid-")
    assert reply["ts"] == NOW_MS
    assert reply["data"]["skill"]["id"] == skill_id
    assert reply["data"]["action"]["type"] == "JCP"
    assert reply["data"]["final"] is True
    assert reply["data"]["fireAndForget"] is False
    assert esml_of(reply).startswith("<speak>")
    assert esml_of(reply).endswith("</speak>")


BOSTON = {"location": {"iso": "2026-04-27T08:57:22.855-04:00"}}


async def test_clock_tells_the_time_in_the_robot_s_zone() -> None:
    reply = await handlers()["cloud-clock"](request("askForTime", runtime=BOSTON))
    assert_skill_action(reply, "cloud-clock")
    assert esml_of(reply) == "<speak><es cat='neutral'>It&apos;s 8:57 AM.</es></speak>"


async def test_clock_tells_the_date_and_uses_the_default_zone_without_context() -> None:
    reply = await handlers()["cloud-clock"](request("askForDate", runtime=BOSTON))
    assert "Monday, April 27th, 2026" in esml_of(reply)
    tokyo = await handlers(default_time_zone="Asia/Tokyo")["cloud-clock"](request("askForTime"))
    assert "9:57 PM" in esml_of(tokyo)
    utc = await handlers()["cloud-clock"](request("askForTime"))
    assert "12:57 PM" in esml_of(utc)


@pytest.mark.parametrize(
    ("place", "said"),
    [
        # 12:57 UTC on Monday 2026-04-27; the robot is in Boston (08:57, daylight time).
        ("tokyo", "In Tokyo, it&apos;s 9:57 PM."),
        ("london right now", "In London, it&apos;s 1:57 PM."),  # BST, not GMT
        ("new york city", "In New York, it&apos;s 8:57 AM."),
        ("kolkata", "In Kolkata, it&apos;s 6:27 PM."),  # a half-hour zone
        ("auckland", "In Auckland, it&apos;s 12:57 AM on Tuesday."),  # tomorrow there
        ("the uk", "In the UK, it&apos;s 1:57 PM."),
        ("Buenos Aires", "In Buenos Aires, it&apos;s 9:57 AM."),
    ],
)
async def test_clock_tells_the_time_in_a_named_place(place: str, said: str) -> None:
    entities = {"domain": "clock", "place": place}
    reply = await handlers()["cloud-clock"](
        request("askForTime", entities=entities, runtime=BOSTON)
    )
    assert_skill_action(reply, "cloud-clock")
    assert esml_of(reply) == f"<speak><es cat='neutral'>{said}</es></speak>"


async def test_clock_asks_for_a_city_and_never_says_back_an_unknown_place() -> None:
    skill = handlers()["cloud-clock"]
    many = await skill(request("askForTime", entities={"domain": "clock", "place": "australia"}))
    assert "more than one time zone" in esml_of(many)
    unknown = await skill(
        request("askForTime", entities={"domain": "clock", "place": "narnia <b>"})
    )
    assert "don&apos;t know that place" in esml_of(unknown)
    assert "narnia" not in esml_of(unknown).lower()
    # An empty place is the robot's own time, as before.
    here = await skill(
        request("askForTime", entities={"domain": "clock", "place": " "}, runtime=BOSTON)
    )
    assert "8:57 AM" in esml_of(here)


async def test_jokes_come_from_our_collection_and_do_not_repeat_back_to_back() -> None:
    skill = handlers()["cloud-jokes"]
    told = []
    for _ in range(6):
        reply = await skill(request("tellJoke"))
        assert_skill_action(reply, "cloud-jokes")
        told.append(esml_of(reply))
    assert all(a != b for a, b in itertools.pairwise(told))
    setups = {setup for setup, _ in jokes.JOKES}
    assert all(any(setup in esml for setup in setups) for esml in told)


@pytest.mark.parametrize(
    ("intent", "entities", "expected"),
    [
        ("hello", {"greeting": "morning"}, "Good morning Alex!"),
        ("whatCanYouDo", {}, "what time it is"),
        ("whoAreYou", {}, "Jibo"),
    ],
)
async def test_small_talk(intent: str, entities: dict, expected: str) -> None:
    reply = await handlers()["cloud-smalltalk"](request(intent, entities=entities))
    assert_skill_action(reply, "cloud-smalltalk")
    assert expected.replace("'", "&apos;") in esml_of(reply)


async def test_greeting_without_a_known_name_reads_naturally() -> None:
    reply = await handlers()["cloud-smalltalk"](
        request("hello", entities={"greeting": "evening"}, runtime={})
    )
    assert "Good evening!" in esml_of(reply)


async def test_weather_without_a_place_says_so_and_calls_nobody() -> None:
    # The weather is real (tests/skills/test_report.py); with no CONTEXT
    # location and no JIBO_WEATHER_PLACE there is nothing to ask, and Jibo says why.
    reply = await handlers()["cloud-weather"](request("weather"))
    assert_skill_action(reply, "cloud-weather")
    assert "I don&apos;t know where I am yet" in esml_of(reply)


async def test_chat_without_a_service_is_the_fallback() -> None:
    reply = await handlers()["cloud-chat"](
        request("chat", entities={"utterance": "why is the sky blue"})
    )
    assert_skill_action(reply, "cloud-chat")
    assert "not sure how to help" in esml_of(reply)


async def test_unknown_request_type_is_a_clear_skill_error() -> None:
    reply = await handlers()["cloud-clock"]({"type": "BOGUS", "data": {}})
    assert reply["type"] == "ERROR"
    assert "BOGUS" in reply["data"]["message"]


async def test_chat_calls_an_openai_compatible_server(nursery: trio.Nursery) -> None:
    async def answer(req: SeenRequest) -> tuple[int, bytes]:
        return json_reply(
            200,
            {
                "choices": [
                    {"message": {"role": "assistant", "content": "**Rayleigh** scattering!"}}
                ]
            },
        )

    server = await start_local_http(nursery, answer)
    skill = handlers(chat_url=server.url + "#model=tiny")["cloud-chat"]
    reply = await skill(
        request("chat", text="why is the sky blue", entities={"utterance": "why is the sky blue"})
    )
    assert_skill_action(reply, "cloud-chat")
    assert esml_of(reply) == "<speak><es cat='neutral'>Rayleigh scattering!</es></speak>"
    (seen,) = server.requests
    assert (seen.method, seen.path) == ("POST", "/v1/chat/completions")
    body = seen.json()
    assert body["model"] == "tiny"
    assert body["messages"][0]["role"] == "system"
    assert "Jibo" in body["messages"][0]["content"]
    assert "Alex" in body["messages"][0]["content"]
    assert body["messages"][1] == {"role": "user", "content": "why is the sky blue"}


@pytest.mark.parametrize("failure", ["status", "shape"])
async def test_chat_failures_are_a_spoken_apology(nursery: trio.Nursery, failure: str) -> None:
    async def broken(req: SeenRequest) -> tuple[int, bytes]:
        return (
            json_reply(503, {"error": "busy"}) if failure == "status" else json_reply(200, {"x": 1})
        )

    server = await start_local_http(nursery, broken)
    reply = await handlers(chat_url=server.url + "/v1")["cloud-chat"](
        request("chat", entities={"utterance": "hello there"})
    )
    assert_skill_action(reply, "cloud-chat")
    assert "Sorry" in esml_of(reply)
    assert server.requests[0].path == "/v1/chat/completions"


async def test_chat_timeout_is_a_spoken_apology(nursery: trio.Nursery, autojump_clock: Any) -> None:
    async def hang(req: SeenRequest) -> tuple[int, bytes]:
        await trio.sleep_forever()
        raise AssertionError

    server = await start_local_http(nursery, hang)
    start = trio.current_time()
    reply = await handlers(chat_url=server.url)["cloud-chat"](
        request("chat", entities={"utterance": "hi"})
    )
    assert trio.current_time() - start == pytest.approx(chat.CHAT_TIMEOUT_SECONDS)
    assert "Sorry" in esml_of(reply)
    nursery.cancel_scope.cancel()


def test_endpoint_accepts_base_v1_or_full_urls() -> None:
    assert chat.endpoint("http://h:1", "/chat/completions") == (
        "http://h:1/v1/chat/completions",
        "default",
    )
    assert (
        chat.endpoint("http://h:1/v1/", "/chat/completions")[0] == "http://h:1/v1/chat/completions"
    )
    full = "http://h:1/v1/chat/completions#model=m"
    assert chat.endpoint(full, "/chat/completions") == ("http://h:1/v1/chat/completions", "m")


def test_spoken_strips_markdown_and_bounds_length() -> None:
    assert chat.spoken("# Hi *there*") == "Hi there"
    assert len(chat.spoken("Word. " * 200)) <= chat.MAX_SPOKEN_CHARS


def test_manifests_list_every_handler_with_inproc_urls() -> None:
    listing = json.loads(SKILLS_LIST.read_text())
    ids = set()
    for entry in listing["skills"]:
        assert entry["baseURL"] == "inproc:"
        manifest = json.loads((MANIFEST_DIR / entry["configPath"]).read_text())
        assert manifest["onRobot"] is False
        assert manifest["intents"], manifest["id"]
        ids.add(manifest["id"])
    assert ids == set(handlers())
    assert smalltalk.SKILL_ID in ids
