"""The household's Settings reach the robot's turns (docs/portal.md "Settings").

Two households on one real server, each robot talking through the real hub:

- *preferCloudSkills*: the household that prefers the server's clock hears the time from
  the cloud clock skill; the one that does not gets the robot's own clock skill launched,
  whatever the server-wide ``JIBO_PREFER_CLOUD_SKILLS`` says;
- *time zone*: the clock and "how many days until" speak in each household's zone (the report
  skill is wrapped the same way in the registry); a household without one keeps the robot's
  CONTEXT offset.

Zones 25 hours apart (UTC+14 and UTC-11) make the two households' dates differ at every
instant, so a wrong zone cannot pass by luck.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
import trio

from jibo_cloud.skills.clock import spoken_date
from jibo_cloud.skills.daycount import next_occurrence, spoken_count
from jibo_cloud.skills.household import settings_changed
from jibo_cloud.storage.portal import HouseholdSettings
from jibo_cloud.storage.provisioning import RobotSpec
from tests.portal.support import OTHER, PortalServer, portal_server
from tests.rest.support import SPEC
from tests.support import hub_client as hc

EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"
#: What hc.context() sends as the robot's local time: its offset is the robot's zone.
CONTEXT_OFFSET = datetime.timezone(datetime.timedelta(hours=-4))


async def _set(portal: PortalServer, robot: RobotSpec, **value: Any) -> None:
    await portal.storage.put_household_settings(
        HouseholdSettings(loop_id=robot.loop_id or "", value=value)
    )
    settings_changed()  # what a save on the Settings page does


async def _turn(portal: PortalServer, robot: RobotSpec, text: str) -> list[dict[str, Any]]:
    server = portal.server
    token = hc.hub_token(server.config, account=robot.account_id or "", robot=robot.name)
    return await hc.text_turn(server.port, token, text)


def _said(frames: list[dict[str, Any]]) -> str:
    final = frames[-1]
    assert final["type"] == "SKILL_ACTION", final
    return re.sub(r"<[^>]+>", "", hc.spoken(final))


def _dates(zone: datetime.tzinfo, before: float, after: float) -> set[datetime.date]:
    """The local dates in ``zone`` over the turn (a midnight may pass during it)."""
    return {datetime.datetime.fromtimestamp(t, zone).date() for t in (before, after)}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_each_household_chooses_whose_clock_answers(
    nursery: trio.Nursery, tmp_path: Path, backend: str
) -> None:
    # The server prefers its own clock; household B turned that off, A kept it on.
    async with portal_server(nursery, tmp_path, backend, prefer_cloud_skills=("clock",)) as portal:
        await _set(portal, SPEC, preferCloudSkills=["clock"])
        await _set(portal, OTHER, preferCloudSkills=[])
        cloud = await _turn(portal, SPEC, "what time is it")
        robot = await _turn(portal, OTHER, "what time is it")
        # A household that never saved its settings keeps the server's choice.
        await portal.storage.put_household_settings(HouseholdSettings(loop_id=OTHER.loop_id or ""))
        settings_changed()
        unset = await _turn(portal, OTHER, "what time is it")
    assert [f["type"] for f in cloud][-2:] == ["LISTEN", "SKILL_ACTION"]
    assert cloud[-2]["data"]["match"] == {
        "skillID": "cloud-clock",
        "launch": True,
        "onRobot": False,
    }
    assert _said(cloud).startswith("It's ")
    assert robot[-1]["type"] == "LISTEN"
    assert robot[-1]["final"] is True
    assert robot[-1]["data"]["match"] == {"skillID": "@be/clock", "launch": True, "onRobot": True}
    assert unset[-1]["type"] == "SKILL_ACTION"


async def test_clock_days_until_and_report_speak_in_the_household_zone(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path, prefer_cloud_skills=("clock",)) as portal:
        await _set(portal, SPEC, timeZone=EAST)
        await _set(portal, OTHER, timeZone=WEST)
        said: dict[tuple[str, str], str] = {}
        before = datetime.datetime.now(datetime.UTC).timestamp()
        for robot in (SPEC, OTHER):
            for text in ("what is the date", "how many days until christmas"):
                said[robot.name, text] = _said(await _turn(portal, robot, text))
        # The same household without a zone: the robot's CONTEXT offset, as before.
        await _set(portal, OTHER)
        said["none", "what is the date"] = _said(await _turn(portal, OTHER, "what is the date"))
        after = datetime.datetime.now(datetime.UTC).timestamp()

    for name, zone in (
        (SPEC.name, zoneinfo.ZoneInfo(EAST)),
        (OTHER.name, zoneinfo.ZoneInfo(WEST)),
    ):
        days = _dates(zone, before, after)
        assert said[name, "what is the date"] in {
            spoken_date(datetime.datetime.combine(d, datetime.time())) for d in days
        }
        counts: set[str] = set()
        for day in days:
            found = next_occurrence("christmas", day)
            assert found is not None
            counts.add(spoken_count(found[0], found[1], day))
        assert said[name, "how many days until christmas"] in counts
    assert said[SPEC.name, "what is the date"] != said[OTHER.name, "what is the date"]
    fallback = _dates(CONTEXT_OFFSET, before, after)
    assert said["none", "what is the date"] in {
        spoken_date(datetime.datetime.combine(d, datetime.time())) for d in fallback
    }
