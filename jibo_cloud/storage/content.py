"""Queries for what robots store: updates, media, uploads, backups, key requests, documents.

``documents`` is a small keyed JSON table for the records that are only ever read whole
(settings, holidays, person properties, provisioning records, and the writes of
operations no robot flow needs; host mappings have their own table, :mod:`.hosts`):
``(kind, scope, key) → value``.
"""

# S608: the f-strings below only splice in this module's constant column lists and "?"
# placeholders; every value goes through driver parameters.
# ruff: noqa: S608

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jibo_cloud.storage.db import QueryBase, Row, Tx
from jibo_cloud.storage.identity import dumps
from jibo_cloud.storage.records import Backup, KeyRequest, Media, UpdateRecord, Upload

_UPDATE = (
    "id, created, account_id, subsystem, from_version, to_version, changes, filter, url,"
    " sha_hash, length, blob_key, dependencies"
)
_MEDIA = (
    "path, loop_id, account_id, type, reference, is_encrypted, is_deleted, meta, blob_key,"
    " length, sha256, created"
)
_UPLOAD = (
    "id, kind, account_id, robot_name, meta, blob_key, length, sha256, content_type, created,"
    " completed"
)
_BACKUP = "id, loop_id, account_id, blob_key, length, sha256, created, modified"
_KEYREQ = "id, kind, account_id, loop_id, public_key, encrypted_key, key_hash, blob_key, created"


def _marks(n: int) -> str:
    return ", ".join("?" for _ in range(n))


def _update(r: Row) -> UpdateRecord:
    return UpdateRecord(
        id=r[0], created=int(r[1]), account_id=r[2], subsystem=r[3], from_version=r[4],
        to_version=r[5], changes=r[6], filter=r[7], url=r[8], sha_hash=r[9], length=int(r[10]),
        blob_key=r[11], dependencies=json.loads(r[12]),
    )  # fmt: skip


def _media(r: Row) -> Media:
    return Media(
        path=r[0], loop_id=r[1], account_id=r[2], type=r[3], reference=r[4],
        is_encrypted=bool(r[5]), is_deleted=bool(r[6]), meta=json.loads(r[7]), blob_key=r[8],
        length=int(r[9]), sha256=r[10], created=int(r[11]),
    )  # fmt: skip


def _upload(r: Row) -> Upload:
    return Upload(
        id=r[0], kind=r[1], account_id=r[2], robot_name=r[3], meta=json.loads(r[4]),
        blob_key=r[5], length=r[6], sha256=r[7], content_type=r[8], created=int(r[9]),
        completed=r[10],
    )  # fmt: skip


def _backup(r: Row) -> Backup:
    return Backup(
        id=r[0], loop_id=r[1], account_id=r[2], blob_key=r[3], length=r[4], sha256=r[5],
        created=int(r[6]), modified=r[7],
    )  # fmt: skip


def _keyreq(r: Row) -> KeyRequest:
    return KeyRequest(
        id=r[0], kind=r[1], account_id=r[2], loop_id=r[3], public_key=r[4], encrypted_key=r[5],
        key_hash=r[6], blob_key=r[7], created=int(r[8]),
    )  # fmt: skip


class ContentQueries(QueryBase):
    """Mixed into the storage next to :class:`IdentityQueries`."""

    # ---------------------------------------------------------------- updates

    async def add_update(self, u: UpdateRecord) -> None:
        await self._write(
            lambda tx: tx.execute(
                f"INSERT INTO updates ({_UPDATE}) VALUES ({_marks(13)})",
                (u.id, u.created, u.account_id, u.subsystem, u.from_version, u.to_version,
                 u.changes, u.filter, u.url, u.sha_hash, u.length, u.blob_key,
                 dumps(u.dependencies)),
            )
        )  # fmt: skip

    async def list_updates(self, subsystem: str | None = None) -> list[UpdateRecord]:
        where, params = ("WHERE subsystem = ?", (subsystem,)) if subsystem else ("", ())
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_UPDATE} FROM updates {where} ORDER BY created, id", params
            )
        )
        return [_update(r) for r in rows]

    async def get_update(self, update_id: str) -> UpdateRecord | None:
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_UPDATE} FROM updates WHERE id = ?", (update_id,))
        )
        return _update(rows[0]) if rows else None

    async def remove_update(self, update_id: str) -> bool:
        def fn(tx: Tx) -> bool:
            tx.execute("DELETE FROM updates WHERE id = ?", (update_id,))
            return tx.rowcount() > 0

        return bool(await self._write(fn))

    # ---------------------------------------------------------------- media

    def _for_update(self) -> str:
        """Row lock for read-then-write in one transaction (SQLite's one writer locks already)."""
        return " FOR UPDATE" if self.db.dialect == "postgres" else ""

    async def put_media(self, m: Media) -> str | None:
        """Store ``m`` (replacing the record at its path); returns the replaced record's blob
        key when it differs from ``m``'s, for the caller to delete the old file."""
        lock = self._for_update()

        def fn(tx: Tx) -> str | None:
            old = tx.execute(f"SELECT blob_key FROM media WHERE path = ?{lock}", (m.path,))
            tx.execute(
                f"INSERT INTO media ({_MEDIA}) VALUES ({_marks(12)})"
                " ON CONFLICT (path) DO UPDATE SET loop_id = excluded.loop_id,"
                " account_id = excluded.account_id, type = excluded.type,"
                " reference = excluded.reference, is_encrypted = excluded.is_encrypted,"
                " is_deleted = 0, meta = excluded.meta, blob_key = excluded.blob_key,"
                " length = excluded.length, sha256 = excluded.sha256",
                (m.path, m.loop_id, m.account_id, m.type, m.reference, int(m.is_encrypted),
                 int(m.is_deleted), dumps(m.meta), m.blob_key, m.length, m.sha256, m.created),
            )  # fmt: skip
            replaced = old[0][0] if old else None
            return replaced if replaced and replaced != m.blob_key else None

        return await self._write(fn)

    async def get_media(self, paths: Sequence[str]) -> list[Media]:
        if not paths:
            return []
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_MEDIA} FROM media WHERE path IN ({_marks(len(paths))})"
                " ORDER BY created, path",
                tuple(paths),
            )
        )
        return [_media(r) for r in rows]

    async def list_media(
        self, loop_ids: Sequence[str], *, after: int | None = None, before: int | None = None
    ) -> list[Media]:
        if not loop_ids:
            return []
        sql = f"SELECT {_MEDIA} FROM media WHERE is_deleted = 0 AND loop_id IN"
        sql += f" ({_marks(len(loop_ids))})"
        params: list[Any] = list(loop_ids)
        if after is not None:
            sql += " AND created > ?"
            params.append(after)
        if before is not None:
            sql += " AND created < ?"
            params.append(before)
        rows = await self.db.read(lambda tx: tx.execute(sql + " ORDER BY created, path", params))
        return [_media(r) for r in rows]

    async def mark_media_deleted(self, paths: Sequence[str]) -> list[str]:
        """Mark ``paths`` removed; returns the blob keys of the records that were live, for
        the caller to delete their files (a removed photo must not stay on disk)."""
        if not paths:
            return []
        marks = _marks(len(paths))
        lock = self._for_update()

        def fn(tx: Tx) -> list[str]:
            rows = tx.execute(
                f"SELECT blob_key FROM media WHERE is_deleted = 0 AND path IN ({marks}){lock}",
                tuple(paths),
            )
            tx.execute(f"UPDATE media SET is_deleted = 1 WHERE path IN ({marks})", tuple(paths))
            return [str(r[0]) for r in rows if r[0]]

        return await self._write(fn)

    # ---------------------------------------------------------------- uploads and backups

    async def add_upload(self, u: Upload) -> None:
        await self._write(
            lambda tx: tx.execute(
                f"INSERT INTO uploads ({_UPLOAD}) VALUES ({_marks(11)})",
                (u.id, u.kind, u.account_id, u.robot_name, dumps(u.meta), u.blob_key, u.length,
                 u.sha256, u.content_type, u.created, u.completed),
            )
        )  # fmt: skip

    async def get_upload(self, upload_id: str) -> Upload | None:
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_UPLOAD} FROM uploads WHERE id = ?", (upload_id,))
        )
        return _upload(rows[0]) if rows else None

    async def complete_upload(
        self, upload_id: str, *, blob_key: str, length: int, sha256: str,
        content_type: str | None, now: int,
    ) -> str | None:  # fmt: skip
        """Record the slot's body; returns the blob key it replaced (a re-PUT), if any."""
        lock = self._for_update()

        def fn(tx: Tx) -> str | None:
            old = tx.execute(f"SELECT blob_key FROM uploads WHERE id = ?{lock}", (upload_id,))
            tx.execute(
                "UPDATE uploads SET blob_key = ?, length = ?, sha256 = ?, content_type = ?,"
                " completed = ? WHERE id = ?",
                (blob_key, length, sha256, content_type, now, upload_id),
            )
            replaced = old[0][0] if old else None
            return replaced if replaced and replaced != blob_key else None

        return await self._write(fn)

    async def add_backup(self, b: Backup) -> None:
        await self._write(
            lambda tx: tx.execute(
                f"INSERT INTO backups ({_BACKUP}) VALUES ({_marks(8)})",
                (b.id, b.loop_id, b.account_id, b.blob_key, b.length, b.sha256, b.created,
                 b.modified),
            )
        )  # fmt: skip

    async def complete_backup(
        self, backup_id: str, *, blob_key: str, length: int, sha256: str, now: int
    ) -> str | None:
        """Record the backup's body; returns the blob key it replaced (a re-upload), if any."""
        lock = self._for_update()

        def fn(tx: Tx) -> str | None:
            old = tx.execute(f"SELECT blob_key FROM backups WHERE id = ?{lock}", (backup_id,))
            tx.execute(
                "UPDATE backups SET blob_key = ?, length = ?, sha256 = ?, modified = ?"
                " WHERE id = ?",
                (blob_key, length, sha256, now, backup_id),
            )
            replaced = old[0][0] if old else None
            return replaced if replaced and replaced != blob_key else None

        return await self._write(fn)

    async def household_usage(self, account_id: str) -> int:
        """Bytes stored for one household (account): live media, uploads and backups.

        Key blobs (``Key.ShareBinary``) have no length column and are small; they are not
        counted. Read before an upload is accepted (:mod:`jibo_cloud.rest.uploads`).
        """
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT (SELECT COALESCE(SUM(length), 0) FROM media"
                "        WHERE account_id = ? AND is_deleted = 0)"
                " + (SELECT COALESCE(SUM(length), 0) FROM uploads WHERE account_id = ?)"
                " + (SELECT COALESCE(SUM(length), 0) FROM backups WHERE account_id = ?)",
                (account_id, account_id, account_id),
            )
        )
        return int(rows[0][0] or 0)

    async def get_backup(self, backup_id: str) -> Backup | None:
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_BACKUP} FROM backups WHERE id = ?", (backup_id,))
        )
        return _backup(rows[0]) if rows else None

    async def list_backups(self, loop_id: str) -> list[Backup]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_BACKUP} FROM backups WHERE loop_id = ? AND blob_key IS NOT NULL"
                " ORDER BY created, id",
                (loop_id,),
            )
        )
        return [_backup(r) for r in rows]

    # ---------------------------------------------------------------- key requests

    async def put_key_request(self, k: KeyRequest) -> str | None:
        """Store ``k`` (replacing the request with its id); returns the replaced request's blob
        key when it differs from ``k``'s, for the caller to delete the old file."""
        lock = self._for_update()

        def fn(tx: Tx) -> str | None:
            old = tx.execute(f"SELECT blob_key FROM key_requests WHERE id = ?{lock}", (k.id,))
            tx.execute(
                f"INSERT INTO key_requests ({_KEYREQ}) VALUES ({_marks(9)})"
                " ON CONFLICT (id) DO UPDATE SET encrypted_key = excluded.encrypted_key,"
                " key_hash = excluded.key_hash, blob_key = excluded.blob_key",
                (k.id, k.kind, k.account_id, k.loop_id, k.public_key, k.encrypted_key,
                 k.key_hash, k.blob_key, k.created),
            )  # fmt: skip
            replaced = old[0][0] if old else None
            return replaced if replaced and replaced != k.blob_key else None

        return await self._write(fn)

    async def get_key_request(self, request_id: str) -> KeyRequest | None:
        rows = await self.db.read(
            lambda tx: tx.execute(f"SELECT {_KEYREQ} FROM key_requests WHERE id = ?", (request_id,))
        )
        return _keyreq(rows[0]) if rows else None

    async def list_key_requests(self, loop_id: str, kind: str) -> list[KeyRequest]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                f"SELECT {_KEYREQ} FROM key_requests WHERE loop_id = ? AND kind = ?"
                " ORDER BY created, id",
                (loop_id, kind),
            )
        )
        return [_keyreq(r) for r in rows]

    # ---------------------------------------------------------------- documents

    async def put_document(self, kind: str, scope: str, key: str, value: Any, now: int) -> None:
        await self._write(
            lambda tx: tx.execute(
                "INSERT INTO documents (kind, scope, key, value, updated) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (kind, scope, key) DO UPDATE SET value = excluded.value,"
                " updated = excluded.updated",
                (kind, scope, key, dumps(value), now),
            )
        )

    async def put_documents(
        self, kind: str, scope: str, items: Sequence[tuple[str, Any]], now: int
    ) -> None:
        """Several documents of one scope in one transaction (one fsync, not one per item)."""

        def fn(tx: Tx) -> None:
            for key, value in items:
                tx.execute(
                    "INSERT INTO documents (kind, scope, key, value, updated)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, scope, key)"
                    " DO UPDATE SET value = excluded.value, updated = excluded.updated",
                    (kind, scope, key, dumps(value), now),
                )

        await self._write(fn)

    async def get_document(self, kind: str, scope: str, key: str) -> Any | None:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT value FROM documents WHERE kind = ? AND scope = ? AND key = ?",
                (kind, scope, key),
            )
        )
        return json.loads(rows[0][0]) if rows else None

    async def list_documents(self, kind: str, scope: str) -> list[tuple[str, Any]]:
        rows = await self.db.read(
            lambda tx: tx.execute(
                "SELECT key, value FROM documents WHERE kind = ? AND scope = ? ORDER BY key",
                (kind, scope),
            )
        )
        return [(r[0], json.loads(r[1])) for r in rows]

    async def delete_document(self, kind: str, scope: str, key: str) -> bool:
        def fn(tx: Tx) -> bool:
            tx.execute("DELETE FROM documents WHERE kind = ? AND scope = ? AND key = ?",
                       (kind, scope, key))  # fmt: skip
            return tx.rowcount() > 0

        return bool(await self._write(fn))

    # ---------------------------------------------------------------- interaction history

    async def record_skill_launch(
        self, robot_id: str, record: dict[str, Any], now: int, *, keep: int | None = None
    ) -> None:
        """Keep one skill launch for proactive history rules (PROTOCOL.md §4.6); with ``keep``,
        only the robot's newest ``keep`` launches stay (the rules look back hours, not years).
        """

        def fn(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO skill_launches (robot_id, record, created) VALUES (?, ?, ?)",
                (robot_id, dumps(record), now),
            )
            if keep is not None:
                tx.execute(
                    "DELETE FROM skill_launches WHERE robot_id = ? AND seq <= (SELECT seq"
                    " FROM skill_launches WHERE robot_id = ? ORDER BY seq DESC LIMIT 1"
                    " OFFSET ?)",
                    (robot_id, robot_id, keep),
                )

        await self._write(fn)

    async def list_skill_launches(
        self, robot_id: str, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Launches of one robot, oldest first, each with ``timestamp`` (epoch ms); with
        ``limit``, only the newest ``limit`` of them."""
        params: tuple[Any, ...]
        if limit is None:
            sql, params = (
                "SELECT record, created FROM skill_launches WHERE robot_id = ? ORDER BY seq",
                (robot_id,),
            )
        else:
            sql, params = (
                "SELECT record, created FROM (SELECT seq, record, created FROM skill_launches"
                " WHERE robot_id = ? ORDER BY seq DESC LIMIT ?) newest ORDER BY seq",
                (robot_id, limit),
            )
        rows = await self.db.read(lambda tx: tx.execute(sql, params))
        return [{**json.loads(r[0]), "timestamp": int(r[1])} for r in rows]
