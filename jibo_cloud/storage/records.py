"""The records the storage keeps: small frozen values, independent of any backend.

Times are epoch milliseconds (``int``), ids are strings. JSON-shaped fields (``payload``,
``meta``, ``extra``) are plain dicts; the backends serialise them. Nothing here does I/O.
"""

from __future__ import annotations

from typing import Any

import attrs

JSONDict = dict[str, Any]


@attrs.frozen
class Account:
    """An owner or loop member. ``extra`` keeps the model's optional fields (gender, …)."""

    id: str
    email: str
    created: int
    updated: int
    first_name: str = ""
    last_name: str = ""
    extra: JSONDict = attrs.field(factory=dict)


@attrs.frozen
class KeyPair:
    """A SigV4 key pair: the robot's own (imported) or one we issued."""

    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    account_id: str
    created: int
    #: The robot this key belongs to (its friendly name), or None for a person's key.
    robot_name: str | None = None


@attrs.frozen
class Robot:
    """A robot: ``name`` is its 4-word friendly id, ``robot_id`` the 24-hex id it knows."""

    name: str
    robot_id: str
    account_id: str
    created: int
    updated: int
    serial: str = ""
    payload: JSONDict = attrs.field(factory=dict)
    calibration: JSONDict = attrs.field(factory=dict)


@attrs.frozen
class Loop:
    """A household: an owner, a robot and members (PROTOCOL.md §2.4)."""

    id: str
    name: str
    owner_id: str
    created: int
    updated: int
    robot_id: str | None = None
    robot_name: str | None = None
    is_suspended: bool = False


@attrs.frozen
class LoopMember:
    id: str
    loop_id: str
    account_id: str
    status: str
    type: str
    created: int
    extra: JSONDict = attrs.field(factory=dict)


@attrs.frozen
class RobotToken:
    """A notification-socket token; only its sha-256 is stored, never the token."""

    token_hash: str
    robot_name: str
    issued: int
    expires: int
    account_id: str | None = None
    revoked: bool = False


@attrs.frozen
class UpdateRecord:
    """A published update package (PROTOCOL.md §2.4: the record the robot reads)."""

    id: str
    created: int
    subsystem: str
    from_version: str
    to_version: str
    url: str
    sha_hash: str
    length: int
    account_id: str = ""
    changes: str = ""
    filter: str | None = None
    blob_key: str | None = None
    dependencies: JSONDict = attrs.field(factory=dict)


@attrs.frozen
class Media:
    path: str
    loop_id: str
    blob_key: str
    length: int
    sha256: str
    created: int
    account_id: str = ""
    type: str | None = None
    reference: str | None = None
    is_encrypted: bool = False
    is_deleted: bool = False
    meta: JSONDict = attrs.field(factory=dict)


@attrs.frozen
class Upload:
    """An upload slot handed out by a REST call; ``blob_key`` is set once the PUT arrives."""

    id: str
    kind: str
    created: int
    account_id: str = ""
    robot_name: str = ""
    meta: JSONDict = attrs.field(factory=dict)
    blob_key: str | None = None
    length: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    completed: int | None = None


@attrs.frozen
class Backup:
    id: str
    loop_id: str
    created: int
    account_id: str = ""
    blob_key: str | None = None
    length: int | None = None
    sha256: str | None = None
    modified: int | None = None


@attrs.frozen
class KeyRequest:
    """A key-sharing request (Key service): ``kind`` is ``key`` or ``binary``."""

    id: str
    kind: str
    account_id: str
    loop_id: str
    created: int
    public_key: str = ""
    encrypted_key: str | None = None
    key_hash: str | None = None
    blob_key: str | None = None


@attrs.frozen
class QueuedNotification:
    """A notification waiting for its robot's socket; ``frame`` is the JSON text to send."""

    seq: int
    robot_name: str
    frame: str
    created: int
