"""Pages over plain HTTP against the real server (what the browser test does not cover):
recording turns with and without audio, the purge, settings checks, whose names are editable."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from jibo_cloud.portal import auth
from jibo_cloud.portal.purge import Purger
from jibo_cloud.portal.recording import record_turn
from jibo_cloud.storage.portal import DAY_MS, HouseholdSettings, VoiceTurn
from jibo_cloud.storage.records import LoopMember
from tests.portal.support import OTHER, portal_server
from tests.rest.support import LOOP_ID, ROBOT_ID, ROBOT_NAME


@pytest.fixture(autouse=True)
def quick_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "FAILURE_DELAY_SECONDS", 0.01)


async def test_turns_are_recorded_by_any_robot_id_and_audio_only_when_kept(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal:
        rt = portal.server.runtime
        now = rt.now_ms()
        assert await record_turn(rt, VoiceTurn(ROBOT_ID, now, heard="hi"), audio=b"pcm")
        assert not await record_turn(rt, VoiceTurn("no-such-robot", now, heard="hi"))
        (turn,) = await portal.storage.list_voice_turns([ROBOT_NAME])
        assert (turn.robot_name, turn.audio_key) == (ROBOT_NAME, None)
        await portal.storage.put_household_settings(
            HouseholdSettings(LOOP_ID, keep_audio=True, updated=now)
        )
        assert await record_turn(rt, VoiceTurn(ROBOT_NAME, now - 40 * DAY_MS), audio=b"pcm")
        old = (await portal.storage.list_voice_turns([ROBOT_NAME]))[0]
        assert old.audio_key is not None
        assert await rt.blobs.read(old.audio_key) == b"pcm"
        assert await Purger(rt).purge_once() == 1  # older than the default 30 days
        assert await rt.blobs.read(old.audio_key) is None
        assert [t.heard for t in await portal.storage.list_voice_turns([ROBOT_NAME])] == ["hi"]


async def test_voice_switches_from_the_page(nursery: trio.Nursery, tmp_path: Path) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.owner() as http:
        token = await portal.csrf(http, "/portal/voice")
        bad = await http.post(f"/portal/voice/{LOOP_ID}/settings",
                              data={"csrf": token, "retention": "12"})  # fmt: skip
        assert bad.status_code == 400
        done = await http.post(f"/portal/voice/{LOOP_ID}/settings",
                               data={"csrf": token, "retention": "7"})  # fmt: skip
        assert done.status_code == 303
        settings = await portal.storage.get_household_settings(LOOP_ID)
        assert (settings.voice_history, settings.voice_retention_days, settings.keep_audio) == (
            False, 7, False)  # fmt: skip
        turn = VoiceTurn(ROBOT_NAME, portal.server.runtime.now_ms(), heard="not kept")
        assert not await record_turn(portal.server.runtime, turn)


async def test_settings_are_checked_before_they_are_kept(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.owner() as http:
        token = await portal.csrf(http, "/portal/settings")
        (member,) = await portal.storage.members_of(LOOP_ID)
        form = {"csrf": token, "city": "Boston", "country": "USA", "timeZone": "Mars/Olympus",
                "units": "imperial", "newsFeeds": "https://news.example/rss\n",
                f"calendar-{member.id}": "webcal://cal.example/owner.ics",
                "chatUrl": "http://127.0.0.1:11434/v1", "prefer-clock": "on"}  # fmt: skip
        bad = await http.post(f"/portal/settings/{LOOP_ID}", data=form)
        assert bad.status_code == 400
        assert "Mars/Olympus" in bad.text
        assert (await portal.storage.get_household_settings(LOOP_ID)).value == {}
        for field, value in (("newsFeeds", "file:///etc/passwd"), ("chatUrl", "gopher://x")):
            answer = await http.post(f"/portal/settings/{LOOP_ID}",
                                     data={**form, "timeZone": "", field: value})  # fmt: skip
            assert answer.status_code == 400, field
        good = await http.post(f"/portal/settings/{LOOP_ID}",
                               data={**form, "timeZone": "America/New_York"})  # fmt: skip
        assert good.status_code == 303
        value = (await portal.storage.household_settings_for_robot(ROBOT_NAME)).value
        assert value["timeZone"] == "America/New_York"
        assert value["units"] == "imperial"
        assert value["newsFeeds"] == ["https://news.example/rss"]
        assert value["calendars"] == {member.id: "webcal://cal.example/owner.ics"}
        assert value["preferCloudSkills"] == ["clock"]
        assert value["location"]["city"] == "Boston"


async def test_another_owner_in_the_loop_keeps_their_own_name(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    async with portal_server(nursery, tmp_path) as portal, portal.owner() as http:
        other = await portal.storage.find_account_by_email(OTHER.owner_email)
        await portal.storage.put_member(
            LoopMember("e" * 24, LOOP_ID, other.id, "ACTIVE", "MEMBER", 0)
        )
        token = await portal.csrf(http, "/portal/household")
        page = await http.get("/portal/household")
        assert "manages their own name" in page.text
        answer = await http.post(
            f"/portal/household/{LOOP_ID}/members/{'e' * 24}",
            data={"csrf": token, "firstName": "Mallory", "phoneticName": "mal ory"},
        )
        assert answer.status_code == 303
        assert (await portal.storage.get_account(other.id)).first_name != "Mallory"
        members = {m.id: m for m in await portal.storage.members_of(LOOP_ID)}
        assert members["e" * 24].extra["phoneticName"] == "mal ory"
        bad = await http.post(f"/portal/household/{LOOP_ID}/members/{members['e' * 24].id}",
                              data={"csrf": token, "birthday": "not a date"})  # fmt: skip
        assert bad.status_code == 303  # not editable: the birthday is not even read


async def test_the_hub_s_speech_record_becomes_a_voice_turn(
    nursery: trio.Nursery, tmp_path: Path
) -> None:
    """:func:`note_speech` takes the §5 record the listen machine makes (encoded by the
    protocol's own codec) and writes the turn in the background."""
    from jibo_cloud.portal.recording import note_speech
    from protocol.codec import to_json
    from protocol.services import SpeechRecord

    async with portal_server(nursery, tmp_path) as portal:
        rt = portal.server.runtime
        spoken = SpeechRecord(
            robot_id=ROBOT_ID, account_id=None, trans_id="t1", timestamp=rt.now_ms(),
            audio_file_url=None, asr={"text": "what's the weather", "confidence": 0.9},
            nlu={"intent": "requestWeatherPR", "entities": {}, "rules": []},
            match={"skillID": "@be/weather", "launch": True, "onRobot": False},
            skill=None, error=None,
        )  # fmt: skip
        failed = SpeechRecord(
            robot_id=ROBOT_NAME, account_id=None, trans_id="t2", timestamp=rt.now_ms(),
            audio_file_url=None, asr={"text": "blorp", "confidence": 0.2}, nlu=None,
            match=None, skill=None, error={"message": "no parse", "code": "PARSER"},
        )  # fmt: skip
        for record in (spoken, failed):
            note_speech(rt, {**to_json(record), "timings": {"total": 812}})
        note_speech(rt, {"robotID": "unknown-robot", "timestamp": 1})
        note_speech(rt, {"no": "robot"})
        with trio.fail_after(10):
            while len(turns := await portal.storage.list_voice_turns([ROBOT_NAME])) < 2:  # noqa: ASYNC110
                await trio.sleep(0.01)
        by_text = {t.heard: t for t in turns}  # two background writes: either may be first
        spoke, failed_turn = by_text["what's the weather"], by_text["blorp"]
        assert (spoke.intent, spoke.skill, spoke.latency_ms, spoke.error) == (
            "requestWeatherPR", "@be/weather", 812, "")  # fmt: skip
        assert (failed_turn.intent, failed_turn.error) == ("", "PARSER")


async def test_the_server_purges_in_the_background(
    nursery: trio.Nursery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jibo_cloud.portal import purge

    monkeypatch.setattr(purge, "PURGE_EVERY_SECONDS", 0.05)
    async with portal_server(nursery, tmp_path) as portal:
        old = portal.server.runtime.now_ms() - 31 * DAY_MS
        await portal.storage.record_voice_turn(VoiceTurn(ROBOT_NAME, old, heard="old"))
        with trio.fail_after(10):
            while await portal.storage.list_voice_turns([ROBOT_NAME]):  # noqa: ASYNC110
                await trio.sleep(0.02)
