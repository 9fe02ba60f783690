"""Versioned schema migrations, shared by the SQLite and PostgreSQL backends.

The SQL here is the common subset both engines accept (``TEXT``, ``BIGINT``, ``INTEGER``,
``ON CONFLICT``), so one list of migrations gives both backends the same schema. Booleans are
stored as ``INTEGER`` 0/1 and JSON as ``TEXT`` for the same reason; the one
spelling that differs, an auto-increment key, is written ``{autoid}`` and filled in by the
backend (:data:`AUTOID`). Binary bodies never go in
the database: they live in the blob store and rows keep their key, length and sha-256.

Rules: a migration is never edited once released; a change is a new entry with the next
version. :func:`pending` says which ones a database still needs; the backends apply each in
its own transaction and record it in ``schema_migrations``.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


_V1 = (
    """CREATE TABLE accounts (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        first_name TEXT NOT NULL DEFAULT '',
        last_name TEXT NOT NULL DEFAULT '',
        extra TEXT NOT NULL DEFAULT '{}',
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL
    )""",
    """CREATE TABLE key_pairs (
        access_key_id TEXT PRIMARY KEY,
        secret_access_key TEXT NOT NULL,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        robot_name TEXT,
        created BIGINT NOT NULL
    )""",
    "CREATE INDEX key_pairs_account ON key_pairs(account_id)",
    """CREATE TABLE robots (
        name TEXT PRIMARY KEY,
        robot_id TEXT NOT NULL UNIQUE,
        serial TEXT NOT NULL DEFAULT '',
        account_id TEXT NOT NULL REFERENCES accounts(id),
        payload TEXT NOT NULL DEFAULT '{}',
        calibration TEXT NOT NULL DEFAULT '{}',
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL
    )""",
    """CREATE TABLE robot_history (
        seq {autoid},
        robot_name TEXT NOT NULL,
        payload TEXT NOT NULL,
        created BIGINT NOT NULL
    )""",
    """CREATE TABLE loops (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        owner_id TEXT NOT NULL REFERENCES accounts(id),
        robot_id TEXT,
        robot_name TEXT,
        is_suspended INTEGER NOT NULL DEFAULT 0,
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL
    )""",
    """CREATE TABLE loop_members (
        id TEXT PRIMARY KEY,
        loop_id TEXT NOT NULL REFERENCES loops(id),
        account_id TEXT NOT NULL REFERENCES accounts(id),
        status TEXT NOT NULL,
        type TEXT NOT NULL,
        extra TEXT NOT NULL DEFAULT '{}',
        created BIGINT NOT NULL
    )""",
    "CREATE INDEX loop_members_loop ON loop_members(loop_id)",
    "CREATE INDEX loop_members_account ON loop_members(account_id)",
    """CREATE TABLE robot_tokens (
        token_hash TEXT PRIMARY KEY,
        robot_name TEXT NOT NULL,
        account_id TEXT,
        issued BIGINT NOT NULL,
        expires BIGINT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX robot_tokens_robot ON robot_tokens(robot_name)",
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        robot_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        opened BIGINT NOT NULL,
        closed BIGINT
    )""",
    """CREATE TABLE updates (
        id TEXT PRIMARY KEY,
        created BIGINT NOT NULL,
        account_id TEXT NOT NULL DEFAULT '',
        subsystem TEXT NOT NULL,
        from_version TEXT NOT NULL,
        to_version TEXT NOT NULL,
        changes TEXT NOT NULL DEFAULT '',
        filter TEXT,
        url TEXT NOT NULL,
        sha_hash TEXT NOT NULL,
        length BIGINT NOT NULL,
        blob_key TEXT,
        dependencies TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX updates_subsystem ON updates(subsystem)",
    """CREATE TABLE media (
        path TEXT PRIMARY KEY,
        loop_id TEXT NOT NULL,
        account_id TEXT NOT NULL DEFAULT '',
        type TEXT,
        reference TEXT,
        is_encrypted INTEGER NOT NULL DEFAULT 0,
        is_deleted INTEGER NOT NULL DEFAULT 0,
        meta TEXT NOT NULL DEFAULT '{}',
        blob_key TEXT NOT NULL,
        length BIGINT NOT NULL,
        sha256 TEXT NOT NULL,
        created BIGINT NOT NULL
    )""",
    "CREATE INDEX media_loop ON media(loop_id, created)",
    """CREATE TABLE uploads (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        account_id TEXT NOT NULL DEFAULT '',
        robot_name TEXT NOT NULL DEFAULT '',
        meta TEXT NOT NULL DEFAULT '{}',
        blob_key TEXT,
        length BIGINT,
        sha256 TEXT,
        content_type TEXT,
        created BIGINT NOT NULL,
        completed BIGINT
    )""",
    """CREATE TABLE backups (
        id TEXT PRIMARY KEY,
        loop_id TEXT NOT NULL,
        account_id TEXT NOT NULL DEFAULT '',
        blob_key TEXT,
        length BIGINT,
        sha256 TEXT,
        created BIGINT NOT NULL,
        modified BIGINT
    )""",
    "CREATE INDEX backups_loop ON backups(loop_id)",
    """CREATE TABLE key_requests (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        account_id TEXT NOT NULL,
        loop_id TEXT NOT NULL,
        public_key TEXT NOT NULL DEFAULT '',
        encrypted_key TEXT,
        key_hash TEXT,
        blob_key TEXT,
        created BIGINT NOT NULL
    )""",
    "CREATE INDEX key_requests_loop ON key_requests(loop_id, kind)",
    """CREATE TABLE documents (
        kind TEXT NOT NULL,
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        updated BIGINT NOT NULL,
        PRIMARY KEY (kind, scope, key)
    )""",
    """CREATE TABLE skill_launches (
        seq {autoid},
        robot_id TEXT NOT NULL,
        record TEXT NOT NULL,
        created BIGINT NOT NULL
    )""",
    "CREATE INDEX skill_launches_robot ON skill_launches(robot_id, seq)",
)

#: Several server processes (``--workers``): each open session names the process holding its
#: socket, so a supervisor can close what a dead worker left open and ``GetStatus`` can answer
#: from the database. Rows from before this migration get ``''`` (no live process has that id).
_V2 = (
    "ALTER TABLE sessions ADD COLUMN instance_id TEXT NOT NULL DEFAULT ''",
    # Only open sessions are ever looked up (presence, stale cleanup, the queue poll); the
    # table keeps every session ever opened, so a partial index stays as small as the fleet.
    "CREATE INDEX sessions_open ON sessions(robot_name, instance_id) WHERE closed IS NULL",
    "CREATE INDEX robots_account ON robots(account_id)",
)

#: Notifications waiting for a robot's socket, in any process (bounded per robot by the code).
#: ``instance_id``: the process that held the robot's open session when the row was queued
#: (``''``: none), so each process's poll reads only the rows meant for it, never the backlog
#: of robots that are offline.
_V3 = (
    """CREATE TABLE notification_queue (
        seq {autoid},
        robot_name TEXT NOT NULL,
        frame TEXT NOT NULL,
        created BIGINT NOT NULL,
        instance_id TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX notification_queue_robot ON notification_queue(robot_name, seq)",
    "CREATE INDEX notification_queue_instance ON notification_queue(instance_id, created)",
)

#: Host names an operator maps to a service (``jibo-cloud host add``), for names without the
#: robot's own prefixes; the server reads the whole table at start-up and every 30 s.
_V4 = (
    """CREATE TABLE host_mappings (
        host TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        created BIGINT NOT NULL
    )""",
)

#: Principals beyond robots and owners: operator key pairs (REST calls an operator
#: makes, e.g. publishing updates), and access key ids robots signed with that this server does
#: not know (``unknown_sigv4_keys = pending``), each waiting for an operator to approve (bind it
#: to one robot) or deny it. An approved key is accepted without its secret, which we never had.
_V5 = (
    """CREATE TABLE operator_keys (
        access_key_id TEXT PRIMARY KEY,
        secret_access_key TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        created BIGINT NOT NULL
    )""",
    """CREATE TABLE pending_keys (
        access_key_id TEXT PRIMARY KEY,
        status TEXT NOT NULL DEFAULT 'pending',
        claimed_robot TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        first_seen BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        count BIGINT NOT NULL DEFAULT 0,
        robot_name TEXT,
        decided BIGINT
    )""",
)

#: What ``jibo-cloud doctor`` reports per robot: its last failed REST calls and
#: socket handshakes (bounded per robot by the code; codes and short reasons, no bodies, no
#: tokens) and when it last succeeded at each (``boot``: NewRobotToken, ``rest``, ``hub``).
_V6 = (
    """CREATE TABLE robot_failures (
        seq {autoid},
        robot_name TEXT NOT NULL,
        at BIGINT NOT NULL,
        channel TEXT NOT NULL,
        step TEXT NOT NULL,
        status INTEGER NOT NULL,
        code TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        verified INTEGER NOT NULL DEFAULT 1
    )""",
    "CREATE INDEX robot_failures_robot ON robot_failures(robot_name, seq)",
    """CREATE TABLE robot_activity (
        robot_name TEXT NOT NULL,
        kind TEXT NOT NULL,
        at BIGINT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (robot_name, kind)
    )""",
)

#: The owner's web portal (docs/portal.md): a password per owner account (argon2 hash; ``role``
#: ``owner`` or ``operator``, set by ``jibo-cloud owner``), one-time invites to set it (only
#: the sha-256 of the link's token is kept), signed-in sessions (sha-256 of the cookie's random
#: id; absolute and idle expiry), each robot's voice turns (what was heard, intent, skill,
#: latency, error; audio only when the household turned it on) and each household's settings
#: (JSON, plus the voice-history switches as columns so the background purge is one query).
_V7 = (
    """CREATE TABLE owner_credentials (
        account_id TEXT PRIMARY KEY REFERENCES accounts(id),
        password_hash TEXT,
        role TEXT NOT NULL DEFAULT 'owner',
        created BIGINT NOT NULL,
        updated BIGINT NOT NULL
    )""",
    """CREATE TABLE owner_invites (
        token_hash TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        created BIGINT NOT NULL,
        expires BIGINT NOT NULL,
        used BIGINT
    )""",
    "CREATE INDEX owner_invites_account ON owner_invites(account_id)",
    """CREATE TABLE portal_sessions (
        id_hash TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id),
        csrf TEXT NOT NULL,
        created BIGINT NOT NULL,
        last_seen BIGINT NOT NULL,
        expires BIGINT NOT NULL,
        address TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX portal_sessions_account ON portal_sessions(account_id)",
    """CREATE TABLE voice_turns (
        seq {autoid},
        robot_name TEXT NOT NULL,
        at BIGINT NOT NULL,
        heard TEXT NOT NULL DEFAULT '',
        intent TEXT NOT NULL DEFAULT '',
        skill TEXT NOT NULL DEFAULT '',
        latency_ms BIGINT,
        error TEXT NOT NULL DEFAULT '',
        audio_key TEXT,
        audio_length BIGINT
    )""",
    "CREATE INDEX voice_turns_robot ON voice_turns(robot_name, seq)",
    "CREATE INDEX voice_turns_at ON voice_turns(at)",
    """CREATE TABLE household_settings (
        loop_id TEXT PRIMARY KEY REFERENCES loops(id),
        value TEXT NOT NULL DEFAULT '{}',
        voice_history INTEGER NOT NULL DEFAULT 1,
        voice_retention_days INTEGER NOT NULL DEFAULT 30,
        keep_audio INTEGER NOT NULL DEFAULT 0,
        updated BIGINT NOT NULL
    )""",
)

_V8 = (
    """CREATE TABLE instances (
        instance_id TEXT PRIMARY KEY,
        host TEXT NOT NULL DEFAULT '',
        pid INTEGER NOT NULL DEFAULT 0,
        started BIGINT NOT NULL,
        lease_until BIGINT NOT NULL
    )""",
)

_V9 = (
    """CREATE TABLE update_downloads (
        update_id TEXT NOT NULL,
        account_id TEXT NOT NULL,
        robot_name TEXT NOT NULL DEFAULT '',
        first_at BIGINT NOT NULL,
        last_at BIGINT NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (update_id, account_id, robot_name)
    )""",
)

#: Every migration, oldest first. Append only.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _V1),
    Migration(2, "sessions: the server process holding each open socket", _V2),
    Migration(3, "durable notification queue", _V3),
    Migration(4, "host mappings", _V4),
    Migration(5, "operator keys and pending (adoptable) robot keys", _V5),
    Migration(6, "robot diagnostics: last failures and last successes per robot", _V6),
    Migration(7, "owner portal: credentials, invites, sessions, voice turns, settings", _V7),
    Migration(8, "server instances sharing the database, each with a renewed lease", _V8),
    Migration(9, "update downloads: which robot took which package, when", _V9),
)

#: How each backend spells an auto-increment primary key.
AUTOID = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgres": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
}

#: Bookkeeping table, created by the backends before the first migration.
CREATE_BOOKKEEPING = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied BIGINT NOT NULL
)"""


def pending(applied: set[int]) -> list[Migration]:
    """The migrations not yet in ``applied``, in order."""
    return [m for m in MIGRATIONS if m.version not in applied]


def render(statement: str, dialect: str) -> str:
    """``statement`` with the dialect's spelling of the auto-increment key."""
    return statement.replace("{autoid}", AUTOID[dialect])
