"""The portal's tables (migration 7) on SQLite and PostgreSQL: invites spent once, sessions
that expire, voice turns kept only while the household wants them, and the purge."""

from __future__ import annotations

import attrs
import pytest

from jibo_cloud.storage import Storage
from jibo_cloud.storage.portal import (
    DAY_MS,
    DEFAULT_RETENTION_DAYS,
    MAX_TURN_TEXT,
    HouseholdSettings,
    PortalSession,
    VoiceTurn,
)
from jibo_cloud.storage.provisioning import RobotSpec, add_robot

ROBOT = RobotSpec(
    name="Test-Robot-Name", serial="BOJW-1000-0000-0000-0001", robot_id="a" * 24,
    owner_email="owner@example.com", access_key_id="AKROBOT0001", secret_access_key="s3cret",
)  # fmt: skip
OTHER = RobotSpec(
    name="Other-Robot-Name", serial="BOJW-1000-0000-0000-0002", robot_id="b" * 24,
    owner_email="other@example.com", access_key_id="AKROBOT0002", secret_access_key="s3cret2",
)  # fmt: skip
NOW = 1_800_000_000_000


async def _owner(storage: Storage, spec: RobotSpec = ROBOT) -> tuple[str, str]:
    robot, loop = await add_robot(storage, spec, now_ms=NOW)
    return robot.account_id, loop.id


async def test_an_invite_is_spent_once_and_ends_every_session(storage: Storage) -> None:
    account, _ = await _owner(storage)
    await storage.create_invite(account, "h1", now=NOW, expires=NOW + DAY_MS)
    session = PortalSession("s1", account, "csrf", NOW, NOW, NOW + DAY_MS)
    await storage.create_portal_session(session)
    assert await storage.invite_account("h1", now=NOW + 1) == account
    assert await storage.redeem_invite("h1", "$argon2id$x", now=NOW + 2) == account
    assert await storage.redeem_invite("h1", "$argon2id$y", now=NOW + 3) is None
    assert await storage.invite_account("h1", now=NOW + 3) is None
    credential = await storage.get_owner_credential(account)
    assert credential is not None
    assert credential.password_hash == "$argon2id$x"
    assert credential.role == "owner"
    assert await storage.get_portal_session("s1", now=NOW + 4, idle_ms=DAY_MS) is None


async def test_an_expired_or_replaced_invite_is_refused(storage: Storage) -> None:
    account, _ = await _owner(storage)
    await storage.create_invite(account, "old", now=NOW, expires=NOW + DAY_MS)
    await storage.create_invite(account, "new", now=NOW + 1, expires=NOW + DAY_MS)
    assert await storage.redeem_invite("old", "h", now=NOW + 2) is None
    assert await storage.redeem_invite("new", "h", now=NOW + DAY_MS) is None
    assert await storage.redeem_invite("unknown", "h", now=NOW) is None
    assert await storage.get_owner_credential(account) is None


async def test_roles_and_rehash(storage: Storage) -> None:
    account, _ = await _owner(storage)
    await storage.set_owner_role(account, "operator", now=NOW)
    assert await storage.operator_accounts() == [account]
    credential = await storage.get_owner_credential(account)
    assert credential is not None
    assert credential.password_hash is None
    await storage.create_invite(account, "h", now=NOW, expires=NOW + DAY_MS)
    await storage.redeem_invite("h", "one", now=NOW)
    credential = await storage.get_owner_credential(account)
    assert credential is not None
    assert credential.role == "operator"  # redeeming keeps the role
    assert not await storage.replace_password_hash(account, "other", "two", now=NOW)
    assert await storage.replace_password_hash(account, "one", "two", now=NOW)
    with pytest.raises(ValueError, match="role"):
        await storage.set_owner_role(account, "root", now=NOW)


async def test_sessions_expire_absolutely_and_when_idle(storage: Storage) -> None:
    account, _ = await _owner(storage)
    other, _ = await _owner(storage, OTHER)
    await storage.create_portal_session(PortalSession("a", account, "c", NOW, NOW, NOW + 1000))
    await storage.create_portal_session(PortalSession("b", account, "c", NOW, NOW, NOW + 10**9))
    await storage.create_portal_session(PortalSession("c", other, "c", NOW, NOW, NOW + 10**9))
    assert await storage.get_portal_session("a", now=NOW + 999, idle_ms=500) is None  # idle
    await storage.touch_portal_session("a", now=NOW + 900)
    found = await storage.get_portal_session("a", now=NOW + 999, idle_ms=500)
    assert found is not None
    assert found.account_id == account
    assert await storage.get_portal_session("a", now=NOW + 1000, idle_ms=10**9) is None
    assert await storage.purge_portal_sessions(now=NOW + 1000, idle_ms=10**9) == 1
    assert await storage.delete_account_sessions(account) == 1
    assert await storage.get_portal_session("c", now=NOW, idle_ms=10**9) is not None
    await storage.delete_portal_session("c")
    assert await storage.get_portal_session("c", now=NOW, idle_ms=10**9) is None


async def test_voice_turns_follow_the_household_switches(storage: Storage) -> None:
    _, loop = await _owner(storage)
    await _owner(storage, OTHER)
    turn = VoiceTurn(
        ROBOT.name,
        NOW,
        heard="what time is it\x00",
        intent="askForTime",
        skill="@be/clock",
        latency_ms=420,
        audio_key="audio/1",
        audio_length=3,
    )
    assert await storage.record_voice_turn(turn)  # on by default, audio not kept by default
    await storage.record_voice_turn(VoiceTurn(OTHER.name, NOW, heard="hello"))
    (kept,) = await storage.list_voice_turns([ROBOT.name])
    assert (kept.heard, kept.intent, kept.skill, kept.latency_ms) == (
        "what time is it ", "askForTime", "@be/clock", 420)  # fmt: skip
    assert kept.audio_key is None
    await storage.put_household_settings(HouseholdSettings(loop, voice_history=False, updated=NOW))
    assert not await storage.record_voice_turn(turn)
    await storage.put_household_settings(HouseholdSettings(loop, keep_audio=True, updated=NOW))
    assert await storage.record_voice_turn(attrs.evolve(turn, heard="x" * 2000))
    newest = (await storage.list_voice_turns([ROBOT.name]))[0]
    assert newest.audio_key == "audio/1"
    assert len(newest.heard) == MAX_TURN_TEXT
    assert await storage.delete_voice_turns([ROBOT.name]) == ["audio/1"]
    assert await storage.list_voice_turns([ROBOT.name]) == []
    assert [t.heard for t in await storage.list_voice_turns([OTHER.name])] == ["hello"]


async def test_the_purge_honours_each_household_s_retention(storage: Storage) -> None:
    _, loop = await _owner(storage)
    await _owner(storage, OTHER)
    await storage.put_household_settings(
        HouseholdSettings(loop, voice_retention_days=2, keep_audio=True, updated=NOW)
    )
    for days in (0, 1, 3, DEFAULT_RETENTION_DAYS + 1):
        at = NOW - days * DAY_MS
        await storage.record_voice_turn(
            VoiceTurn(ROBOT.name, at, heard=f"r{days}", audio_key=f"k{days}", audio_length=1)
        )
        await storage.record_voice_turn(VoiceTurn(OTHER.name, at, heard=f"o{days}"))
    removed = await storage.purge_voice_turns(now=NOW)
    assert sorted(removed) == ["k3", f"k{DEFAULT_RETENTION_DAYS + 1}"]
    assert [t.heard for t in await storage.list_voice_turns([ROBOT.name])] == ["r1", "r0"]
    assert [t.heard for t in await storage.list_voice_turns([OTHER.name])] == ["o3", "o1", "o0"]
    # Audio stops being kept: the purge drops the audio of the turns that stay.
    await storage.put_household_settings(
        HouseholdSettings(loop, voice_retention_days=2, keep_audio=False, updated=NOW)
    )
    assert sorted(await storage.purge_voice_turns(now=NOW)) == ["k0", "k1"]
    assert all(t.audio_key is None for t in await storage.list_voice_turns([ROBOT.name]))


async def test_settings_round_trip_and_bounds(storage: Storage) -> None:
    _, loop = await _owner(storage)
    assert await storage.get_household_settings(loop) == HouseholdSettings(loop)
    value = {"timeZone": "Europe/Paris", "units": "metric", "newsFeeds": ["https://a.example/"]}
    await storage.put_household_settings(HouseholdSettings(loop, value, updated=NOW))
    assert (await storage.get_household_settings(loop)).value == value
    assert (await storage.household_settings_for_robot(ROBOT.name)).value == value
    with pytest.raises(ValueError, match="retention"):
        await storage.put_household_settings(HouseholdSettings(loop, voice_retention_days=0))


async def test_presence_reads_open_notification_sessions(storage: Storage) -> None:
    await _owner(storage)
    await storage.record_sessions([("open", "s1", ROBOT.name, "notification", NOW)],
                                  instance_id="i1")  # fmt: skip
    assert await storage.open_notification_robots([ROBOT.name, OTHER.name]) == {ROBOT.name: NOW}
    await storage.record_sessions([("close", "s1", "", "", NOW + 1)], instance_id="i1")
    assert await storage.open_notification_robots([ROBOT.name]) == {}
