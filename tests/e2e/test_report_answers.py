"""The report and answers skills end to end: a real server and hub, a robot's text turn, a
spoken answer.

The weather comes from the local Open-Meteo stand-in (tests/skills/servers.py) for the
configured place (the hub test CONTEXT carries no coordinates); maths needs no service.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from jibo_cloud.nlu.cloud_phrases import CLOUD_PHRASES
from jibo_cloud.nlu.grammar import RULES
from tests.skills.servers import start_fake_services
from tests.support import hub_client as hc
from tests.support.hub_client import spoken, text_turn
from tests.support.server import start_server


async def test_what_s_the_weather_is_spoken_from_the_provider(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    fake = await start_fake_services(nursery)
    server = await start_server(
        nursery, tmp_path / "data", weather_url=fake.url, weather_place="42.36,-71.06"
    )
    frames = await text_turn(server.port, hc.hub_token(server.config), "what's the weather")
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN", "SKILL_ACTION"]
    assert frames[2]["data"]["match"]["onRobot"] is False
    said = spoken(frames[3])
    assert "Right now it's 48 degrees and cloudy." in said
    assert "Today, expect cloudy, with a high of 55 and a low of 40." in said
    assert frames[3]["final"] is True
    (seen,) = fake.seen("weather")
    assert fake.query(seen)["latitude"] == "42.3600"
    # The server's own client for the weather service, kept by the runtime.
    assert "weather" in server.runtime.http.services
    server.stop()


@pytest.mark.xfail(
    not any(phrase in RULES["launch"] for phrase in CLOUD_PHRASES),
    reason="the parser's launch rule does not include nlu/cloud_phrases.py yet (parser work)",
    strict=True,
)
async def test_what_s_two_plus_two_is_answered(nursery: trio.Nursery, tmp_path: Path) -> None:
    server = await start_server(nursery, tmp_path / "data")
    frames = await text_turn(server.port, hc.hub_token(server.config), "what's two plus two")
    assert frames[-1]["type"] == "SKILL_ACTION"
    assert frames[2]["data"]["match"]["skillID"] == "answer-skill"
    assert "Two plus two is 4." in spoken(frames[-1])
    server.stop()


async def test_a_calculate_intent_from_the_robot_is_answered(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """The robot's own NLU (CLIENT_NLU) routes to the answers skill through the manifests."""
    server = await start_server(nursery, tmp_path / "data")
    frames = await hc.one_turn(
        server.port,
        hc.hub_token(server.config),
        hc.listen("CLIENT_NLU", hotphrase=False),
        hc.client_nlu("calculate", {"expression": "two plus two"}),
        hc.context(),
    )
    assert frames[2]["data"]["match"] == {
        "skillID": "answer-skill",
        "launch": True,
        "onRobot": False,
    }
    assert "Two plus two is 4." in spoken(frames[-1])
    server.stop()


async def test_the_household_s_news_feed_is_read(nursery: trio.Nursery, tmp_path: Path) -> None:
    """The owner named a feed on the portal's Settings page: "what's the news" reads it."""
    from jibo_cloud.storage.portal import HouseholdSettings
    from jibo_cloud.storage.records import Loop

    fake = await start_fake_services(nursery)
    server = await start_server(
        nursery, tmp_path / "data", news_feeds=(f"{fake.url}/news/rss.xml",)
    )
    storage = server.runtime.storage
    now = server.runtime.now_ms()
    await storage.put_loop(
        Loop(id="loop-e2e", name="Home", owner_id=hc.ACCOUNT, created=now, updated=now,
             robot_id=hc.ROBOT_ID, robot_name=hc.ROBOT)
    )  # fmt: skip
    await storage.put_household_settings(
        HouseholdSettings(
            loop_id="loop-e2e", value={"newsFeeds": [f"{fake.url}/news/atom.xml"]}, updated=now
        )
    )
    frames = await text_turn(server.port, hc.hub_token(server.config), "what's the news")
    assert [f["type"] for f in frames] == ["SOS", "EOS", "LISTEN", "SKILL_ACTION"]
    said = spoken(frames[3])
    assert "First: River cleanup draws a big crowd." in said
    assert fake.seen("atom.xml")
    assert not fake.seen("rss.xml")
    server.stop()
