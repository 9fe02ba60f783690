"""What the owner's web portal keeps (docs/portal.md): sign-in, sessions, voice turns, settings.

- *Credentials*: one row per owner account that may sign in: an argon2 hash (set through a
  one-time invite, never by the server alone) and a role, ``owner`` or ``operator``.
- *Invites*: ``jibo-cloud owner invite`` makes a link holding a random token; only the token's
  sha-256 is kept, so a copy of the database opens nothing. Redeeming one sets the password,
  spends the invite and ends every session of the account, in one transaction.
- *Sessions*: the portal's cookie holds a random id; only its sha-256 is kept, with the
  session's CSRF token, an absolute expiry and an idle expiry (``last_seen``).
- *Voice turns*: per robot, what was heard, the intent, the skill, the latency and the error of
  each turn, kept only while the household has voice history on, deleted after the
  household's retention (default :data:`DEFAULT_RETENTION_DAYS`) by :meth:`purge_voice_turns`.
  Audio is kept only when the household turned it on (the caller stores the blob).
- *Household settings*: one JSON document per loop, plus the voice-history switches as columns.

Shared SQL on both backends (:mod:`jibo_cloud.storage.db`); each public coroutine is one
transaction. Pure storage: no hashing of passwords here (``jibo_cloud.portal.auth`` does it).
"""

# S608: the f-strings below only splice in this module's constant column lists and "?"
# placeholders; every value goes through driver parameters.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from jibo_cloud.storage.batch import Batch
from jibo_cloud.storage.db import QueryBase, Row, Tx

OWNER = "owner"
OPERATOR = "operator"
ROLES = (OWNER, OPERATOR)
#: How long voice turns are kept unless the household chose otherwise.
DEFAULT_RETENTION_DAYS = 30
#: The longest retention a household may choose.
MAX_RETENTION_DAYS = 365
#: Voice turns waiting to be written, per process; beyond it new turns are dropped (and the
#: drop is logged): a storage that far behind has bigger problems than a missing history line.
MAX_PENDING_VOICE_TURNS = 2_000
#: The background writer stores what is pending once per this many seconds: one transaction
#: (on SQLite one sync to disk) per interval instead of one per turn.
VOICE_BATCH_SECONDS = 0.2
#: Longest text kept in a voice turn's fields (what was heard is a sentence, not a speech).
MAX_TURN_TEXT = 500
DAY_MS = 86_400_000

_SESSION = "id_hash, account_id, csrf, created, last_seen, expires, address"
_TURN = "seq, robot_name, at, heard, intent, skill, latency_ms, error, audio_key, audio_length"
_SETTINGS = "loop_id, value, voice_history, voice_retention_days, keep_audio, updated"


@attrs.frozen
class OwnerCredential:
    """Who may sign in: ``password_hash`` is None until an invite was redeemed."""

    account_id: str
    role: str
    created: int
    updated: int
    password_hash: str | None = attrs.field(default=None, repr=False)


@attrs.frozen
class PortalSession:
    """A signed-in browser. ``id_hash`` is the sha-256 of the cookie's random id."""

    id_hash: str = attrs.field(repr=False)
    account_id: str
    csrf: str = attrs.field(repr=False)
    created: int
    last_seen: int
    expires: int
    address: str = ""


@attrs.frozen
class VoiceTurn:
    """One voice turn of a robot, as the owner sees it on the Voice history page.

    ``latency_ms``: from the end of speech to the answer (None when unknown); ``error``: the
    hub's error code or a short reason ('' when the turn succeeded).
    """

    robot_name: str
    at: int
    heard: str = ""
    intent: str = ""
    skill: str = ""
    latency_ms: int | None = None
    error: str = ""
    audio_key: str | None = None
    audio_length: int | None = None
    #: Assigned by the storage (0 before it is stored).
    seq: int = 0


@attrs.frozen
class HouseholdSettings:
    """A loop's settings: ``value`` is the JSON document the Settings page edits."""

    loop_id: str
    value: dict[str, Any] = attrs.field(factory=dict)
    voice_history: bool = True
    voice_retention_days: int = DEFAULT_RETENTION_DAYS
    keep_audio: bool = False
    updated: int = 0


@attrs.frozen
class UpdateDownload:
    """Who took a published package: a robot (or, when its household has several robots and
    the signed URL names only the household, ``robot_name`` is '' and ``account_id`` says
    whose), the first and last download and how many."""

    update_id: str
    account_id: str
    robot_name: str
    first_at: int
    last_at: int
    count: int


def _clip(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:MAX_TURN_TEXT]


def _session(r: Row) -> PortalSession:
    return PortalSession(
        id_hash=r[0], account_id=r[1], csrf=r[2], created=int(r[3]), last_seen=int(r[4]),
        expires=int(r[5]), address=r[6],
    )  # fmt: skip


def _turn(r: Row) -> VoiceTurn:
    return VoiceTurn(
        seq=int(r[0]), robot_name=r[1], at=int(r[2]), heard=r[3], intent=r[4], skill=r[5],
        latency_ms=None if r[6] is None else int(r[6]), error=r[7], audio_key=r[8],
        audio_length=None if r[9] is None else int(r[9]),
    )  # fmt: skip


def _settings(r: Row) -> HouseholdSettings:
    return HouseholdSettings(
        loop_id=r[0], value=json.loads(r[1]), voice_history=bool(r[2]),
        voice_retention_days=int(r[3]), keep_audio=bool(r[4]), updated=int(r[5]),
    )  # fmt: skip


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def _robot_settings(tx: Tx, robot_name: str) -> HouseholdSettings | None:
    """The settings of the (oldest) loop naming ``robot_name``; None: no such loop or no row."""
    rows = tx.execute(
        f"SELECT {', '.join('s.' + c.strip() for c in _SETTINGS.split(','))}"
        " FROM household_settings s JOIN loops l ON l.id = s.loop_id"
        " WHERE l.robot_name = ? ORDER BY l.created, l.id LIMIT 1",
        (robot_name,),
    )
    return _settings(rows[0]) if rows else None


class PortalQueries(QueryBase):
    """Mixed into :class:`jibo_cloud.storage.Storage`: the portal's tables (migrations 7, 9)."""

    #: Voice turns waiting for the background writer (:meth:`note_voice_turn`), per storage
    #: object: created on first use.
    _voice_batch: Batch[VoiceTurn] | None = None

    # ---------------------------------------------------------------- credentials

    async def get_owner_credential(self, account_id: str) -> OwnerCredential | None:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT account_id, role, created, updated, password_hash"
                " FROM owner_credentials WHERE account_id = ?",
                (account_id,),
            )
        )
        if not rows:
            return None
        r = rows[0]
        return OwnerCredential(r[0], r[1], int(r[2]), int(r[3]), r[4])

    async def set_owner_role(self, account_id: str, role: str, *, now: int) -> None:
        """Give the account ``role`` (creating its credential row, without a password)."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        await self._write(
            lambda tx: tx.execute(
                "INSERT INTO owner_credentials (account_id, password_hash, role, created, updated)"
                " VALUES (?, NULL, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET"
                " role = excluded.role, updated = excluded.updated",
                (account_id, role, now, now),
            )
        )

    async def operator_accounts(self) -> list[str]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT account_id FROM owner_credentials WHERE role = ? ORDER BY account_id",
                (OPERATOR,),
            )
        )
        return [str(r[0]) for r in rows]

    # ---------------------------------------------------------------- invites

    async def create_invite(
        self, account_id: str, token_hash: str, *, now: int, expires: int
    ) -> None:
        """Store an invite (its token's sha-256); earlier unused invites of the account stop
        working, so only the newest link printed is good."""

        def fn(tx: Tx) -> None:
            tx.execute(
                "UPDATE owner_invites SET used = ? WHERE account_id = ? AND used IS NULL",
                (now, account_id),
            )
            tx.execute(
                "INSERT INTO owner_invites (token_hash, account_id, created, expires, used)"
                " VALUES (?, ?, ?, ?, NULL)",
                (token_hash, account_id, now, expires),
            )

        await self._write(fn)

    async def invite_account(self, token_hash: str, *, now: int) -> str | None:
        """The account of a usable invite (not spent, not expired), or None."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT account_id FROM owner_invites"
                " WHERE token_hash = ? AND used IS NULL AND expires > ?",
                (token_hash, now),
            )
        )
        return str(rows[0][0]) if rows else None

    async def redeem_invite(self, token_hash: str, password_hash: str, *, now: int) -> str | None:
        """Spend a usable invite: set the account's password and end all its sessions.

        Returns:
            The account id, or None when the invite is unknown, spent or expired (nothing
            changes then). Two browsers redeeming one invite at once: one wins.
        """

        def fn(tx: Tx) -> str | None:
            tx.execute(
                "UPDATE owner_invites SET used = ?"
                " WHERE token_hash = ? AND used IS NULL AND expires > ?",
                (now, token_hash, now),
            )
            if tx.rowcount() != 1:
                return None
            account_id = str(
                tx.execute("SELECT account_id FROM owner_invites WHERE token_hash = ?",
                           (token_hash,))[0][0]
            )  # fmt: skip
            tx.execute(
                "INSERT INTO owner_credentials (account_id, password_hash, role, created, updated)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET"
                " password_hash = excluded.password_hash, updated = excluded.updated",
                (account_id, password_hash, OWNER, now, now),
            )
            tx.execute("DELETE FROM portal_sessions WHERE account_id = ?", (account_id,))
            return account_id

        return await self._write(fn)

    async def replace_password_hash(self, account_id: str, old: str, new: str, *, now: int) -> bool:
        """Swap a hash for a rehash of the same password (argon2 parameters raised); only if
        the stored hash is still ``old``."""

        def fn(tx: Tx) -> bool:
            tx.execute(
                "UPDATE owner_credentials SET password_hash = ?, updated = ?"
                " WHERE account_id = ? AND password_hash = ?",
                (new, now, account_id, old),
            )
            return tx.rowcount() == 1

        return bool(await self._write(fn))

    # ---------------------------------------------------------------- sessions

    async def create_portal_session(self, session: PortalSession) -> None:
        s = session
        await self._write(
            lambda tx: tx.execute(
                f"INSERT INTO portal_sessions ({_SESSION}) VALUES ({_marks(7)})",
                (s.id_hash, s.account_id, s.csrf, s.created, s.last_seen, s.expires, s.address),
            )
        )

    async def get_portal_session(
        self, id_hash: str, *, now: int, idle_ms: int
    ) -> PortalSession | None:
        """The session, unless it expired (absolutely, or idle for ``idle_ms``)."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_SESSION} FROM portal_sessions"
                " WHERE id_hash = ? AND expires > ? AND last_seen > ?",
                (id_hash, now, now - idle_ms),
            )
        )
        return _session(rows[0]) if rows else None

    async def touch_portal_session(self, id_hash: str, *, now: int) -> None:
        await self._write(
            lambda tx: tx.execute(
                "UPDATE portal_sessions SET last_seen = ? WHERE id_hash = ?", (now, id_hash)
            )
        )

    async def delete_portal_session(self, id_hash: str) -> None:
        await self._write(
            lambda tx: tx.execute("DELETE FROM portal_sessions WHERE id_hash = ?", (id_hash,))
        )

    async def delete_account_sessions(self, account_id: str) -> int:
        """End every session of the account ("sign out everywhere"); returns how many."""

        def fn(tx: Tx) -> int:
            tx.execute("DELETE FROM portal_sessions WHERE account_id = ?", (account_id,))
            return tx.rowcount()

        return int(await self._write(fn))

    async def purge_portal_sessions(self, *, now: int, idle_ms: int) -> int:
        """Delete expired sessions and spent or expired invites; returns the sessions removed."""

        def fn(tx: Tx) -> int:
            tx.execute(
                "DELETE FROM portal_sessions WHERE expires <= ? OR last_seen <= ?",
                (now, now - idle_ms),
            )
            removed = tx.rowcount()
            tx.execute(
                "DELETE FROM owner_invites WHERE expires <= ? OR used IS NOT NULL", (now - DAY_MS,)
            )
            return removed

        return int(await self._write(fn))

    # ---------------------------------------------------------------- voice turns

    async def record_voice_turn(self, turn: VoiceTurn) -> bool:
        """Keep ``turn`` if its robot's household has voice history on (the default).

        The household's switch is read in the same transaction, so a turn finishing as the
        owner turns history off is not kept. Text fields are clipped to
        :data:`MAX_TURN_TEXT`; ``audio_key`` is kept only if the household keeps audio (the
        caller checks :meth:`voice_settings_for_robot` before storing audio at all).

        Returns:
            True when the turn was stored.
        """
        t = turn

        def fn(tx: Tx) -> bool:
            settings = _robot_settings(tx, t.robot_name)
            if settings is not None and not settings.voice_history:
                return False
            keep_audio = settings is not None and settings.keep_audio
            tx.execute(
                "INSERT INTO voice_turns (robot_name, at, heard, intent, skill, latency_ms,"
                " error, audio_key, audio_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (t.robot_name, t.at, _clip(t.heard), _clip(t.intent), _clip(t.skill),
                 t.latency_ms, _clip(t.error), t.audio_key if keep_audio else None,
                 t.audio_length if keep_audio else None),
            )  # fmt: skip
            return True

        return bool(await self._write(fn))

    async def record_voice_turns(self, turns: Sequence[VoiceTurn]) -> int:
        """Keep ``turns`` in one transaction; returns how many were kept.

        Unlike :meth:`record_voice_turn`, a turn's ``robot_name`` may be any of the robot's
        ids (friendly name, 24-hex id or serial, whatever the hub knew): it is looked up here,
        once per distinct id; a turn of an unregistered robot, or of a household with voice
        history off, is skipped. Audio is never kept on this path.
        """
        batch = list(turns)

        def fn(tx: Tx) -> int:
            names: dict[str, str | None] = {}
            settings: dict[str, HouseholdSettings | None] = {}
            rows: list[tuple[Any, ...]] = []
            for t in batch:
                if t.robot_name not in names:
                    found_robot = tx.execute(
                        "SELECT name FROM robots WHERE name = ? OR robot_id = ? OR serial = ?"
                        " ORDER BY created LIMIT 1",
                        (t.robot_name, t.robot_name, t.robot_name),
                    )
                    names[t.robot_name] = str(found_robot[0][0]) if found_robot else None
                name = names[t.robot_name]
                if name is None:
                    continue
                if name not in settings:
                    settings[name] = _robot_settings(tx, name)
                found = settings[name]
                if found is not None and not found.voice_history:
                    continue
                rows.append((name, t.at, _clip(t.heard), _clip(t.intent), _clip(t.skill),
                             t.latency_ms, _clip(t.error)))  # fmt: skip
            if rows:
                tx.execute_many(
                    "INSERT INTO voice_turns (robot_name, at, heard, intent, skill, latency_ms,"
                    " error, audio_key, audio_length) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                    rows,
                )
            return len(rows)

        return int(await self._write(fn)) if batch else 0

    def note_voice_turn(self, turn: VoiceTurn) -> bool:
        """Keep ``turn`` (without audio) for the background writer, which stores pending turns
        with :meth:`record_voice_turns` every :data:`VOICE_BATCH_SECONDS`; returns at once,
        never raises. False when it was dropped (:data:`MAX_PENDING_VOICE_TURNS` wait)."""
        if self._voice_batch is None:
            self._voice_batch = Batch(
                "voice turns", self.record_voice_turns, MAX_PENDING_VOICE_TURNS,
                delay=VOICE_BATCH_SECONDS,
            )  # fmt: skip
        return self._voice_batch.add(turn)

    async def flush_voice_turns(self) -> int:
        """Write the turns :meth:`note_voice_turn` holds now (shutdown, tests); how many.

        Raises:
            StorageUnavailable: the storage cannot be reached (those turns are dropped).
        """
        return await self._voice_batch.flush() if self._voice_batch is not None else 0

    async def voice_settings_for_robot(self, robot_name: str) -> HouseholdSettings:
        """The settings of the robot's household (defaults when it has none yet)."""
        found = await self.db.read(lambda tx: _robot_settings(tx, robot_name))
        return found if found is not None else HouseholdSettings(loop_id="")

    async def list_voice_turns(
        self, robot_names: Sequence[str], *, limit: int = 200
    ) -> list[VoiceTurn]:
        """The newest ``limit`` turns of ``robot_names``, newest first."""
        if not robot_names:
            return []
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_TURN} FROM voice_turns WHERE robot_name IN ({_marks(len(robot_names))})"
                " ORDER BY seq DESC LIMIT ?",
                (*robot_names, limit),
            )
        )
        return [_turn(r) for r in rows]

    async def delete_voice_turns(self, robot_names: Sequence[str]) -> list[str]:
        """Delete every turn of ``robot_names``; returns the audio blob keys to delete."""
        if not robot_names:
            return []
        marks = _marks(len(robot_names))

        def fn(tx: Tx) -> list[str]:
            keys = tx.execute(
                f"SELECT audio_key FROM voice_turns WHERE robot_name IN ({marks})"
                " AND audio_key IS NOT NULL",
                tuple(robot_names),
            )
            tx.execute(f"DELETE FROM voice_turns WHERE robot_name IN ({marks})",
                       tuple(robot_names))  # fmt: skip
            return [str(r[0]) for r in keys]

        return await self._write(fn)

    async def purge_voice_turns(self, *, now: int) -> list[str]:
        """Delete turns older than their household's retention (robots without settings:
        :data:`DEFAULT_RETENTION_DAYS`) and every audio key of a household that stopped
        keeping audio. Returns the audio blob keys to delete."""

        def fn(tx: Tx) -> list[str]:
            custom = tx.execute(
                "SELECT l.robot_name, s.voice_retention_days, s.keep_audio"
                " FROM household_settings s JOIN loops l ON l.id = s.loop_id"
                " WHERE l.robot_name IS NOT NULL"
            )
            keys: list[str] = []
            named: list[str] = []
            for robot_name, days, keep_audio in custom:
                named.append(str(robot_name))
                cutoff = now - int(days) * DAY_MS
                keys += [str(r[0]) for r in tx.execute(
                    "SELECT audio_key FROM voice_turns WHERE robot_name = ? AND at < ?"
                    " AND audio_key IS NOT NULL", (robot_name, cutoff))]  # fmt: skip
                tx.execute("DELETE FROM voice_turns WHERE robot_name = ? AND at < ?",
                           (robot_name, cutoff))  # fmt: skip
                if not keep_audio:
                    keys += [str(r[0]) for r in tx.execute(
                        "SELECT audio_key FROM voice_turns WHERE robot_name = ?"
                        " AND audio_key IS NOT NULL", (robot_name,))]  # fmt: skip
                    tx.execute(
                        "UPDATE voice_turns SET audio_key = NULL, audio_length = NULL"
                        " WHERE robot_name = ? AND audio_key IS NOT NULL",
                        (robot_name,),
                    )
            cutoff = now - DEFAULT_RETENTION_DAYS * DAY_MS
            skip = f" AND robot_name NOT IN ({_marks(len(named))})" if named else ""
            keys += [str(r[0]) for r in tx.execute(
                f"SELECT audio_key FROM voice_turns WHERE at < ?{skip} AND audio_key IS NOT NULL",
                (cutoff, *named))]  # fmt: skip
            tx.execute(f"DELETE FROM voice_turns WHERE at < ?{skip}", (cutoff, *named))
            return keys

        return await self._write(fn)

    # ---------------------------------------------------------------- household settings

    async def get_household_settings(self, loop_id: str) -> HouseholdSettings:
        """The loop's settings (defaults when none were saved)."""
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_SETTINGS} FROM household_settings WHERE loop_id = ?", (loop_id,)
            )
        )
        return _settings(rows[0]) if rows else HouseholdSettings(loop_id=loop_id)

    async def put_household_settings(self, settings: HouseholdSettings) -> None:
        s = settings
        if not 1 <= s.voice_retention_days <= MAX_RETENTION_DAYS:
            raise ValueError(f"retention must be 1 to {MAX_RETENTION_DAYS} days")
        await self._write(
            lambda tx: tx.execute(
                f"INSERT INTO household_settings ({_SETTINGS}) VALUES ({_marks(6)})"
                " ON CONFLICT (loop_id) DO UPDATE SET value = excluded.value,"
                " voice_history = excluded.voice_history,"
                " voice_retention_days = excluded.voice_retention_days,"
                " keep_audio = excluded.keep_audio, updated = excluded.updated",
                (
                    s.loop_id,
                    json.dumps(s.value, separators=(",", ":"), sort_keys=True),
                    int(s.voice_history),
                    s.voice_retention_days,
                    int(s.keep_audio),
                    s.updated,
                ),
            )
        )

    async def household_settings_for_robot(self, robot_name: str) -> HouseholdSettings:
        """What skills read: the settings of the robot's household (defaults if none)."""
        return await self.voice_settings_for_robot(robot_name)

    # ---------------------------------------------------------------- presence

    async def open_notification_robots(self, robot_names: Sequence[str]) -> dict[str, int]:
        """Robots among ``robot_names`` with an open notification session, in any process:
        ``{robot: opened}`` (the newest open session's start)."""
        if not robot_names:
            return {}
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT robot_name, MAX(opened) FROM sessions WHERE closed IS NULL"
                f" AND kind = 'notification' AND robot_name IN ({_marks(len(robot_names))})"
                " GROUP BY robot_name",
                tuple(robot_names),
            )
        )
        return {str(r[0]): int(r[1]) for r in rows}

    # ---------------------------------------------------------------- update downloads

    async def record_update_download(
        self, update_id: str, account_id: str, robot_name: str, *, now: int
    ) -> None:
        """Note a download of ``update_id`` (migration 9): one row per package and robot,
        bounded by robots x packages, upserted at each download."""
        await self._write(
            lambda tx: tx.execute(
                "INSERT INTO update_downloads (update_id, account_id, robot_name, first_at,"
                " last_at, count) VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (update_id, account_id,"
                " robot_name) DO UPDATE SET last_at = excluded.last_at,"
                " count = update_downloads.count + 1",
                (update_id, account_id, robot_name, now, now),
            )
        )

    async def list_update_downloads(self) -> list[UpdateDownload]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT update_id, account_id, robot_name, first_at, last_at, count"
                " FROM update_downloads ORDER BY update_id, last_at DESC, robot_name"
            )
        )
        return [UpdateDownload(str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]), int(r[5]))
                for r in rows]  # fmt: skip
