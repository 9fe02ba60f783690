"""Operator actions shared by the CLI, tests and benchmarks: register a robot, publish an update.

:func:`add_robot` creates everything a real robot needs to boot (PROTOCOL.md §2.4) in one
transaction: the owner account (reused if the e-mail exists), the robot, a loop whose ``robot``
is the robot's 24-hex id, the owner's membership (so ``members`` is non-empty), and the
robot's SigV4 key pair when one is given (imported from its credentials file).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any

import attrs

from jibo_cloud.errors import JiboCloudError
from jibo_cloud.storage import Storage
from jibo_cloud.storage.blobs import Blobs
from jibo_cloud.storage.records import Account, KeyPair, Loop, LoopMember, Robot, UpdateRecord

HEX24 = re.compile(r"^[0-9a-f]{24}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class ProvisioningError(JiboCloudError):
    """Bad operator input; the message says which value and why."""


@attrs.frozen
class RobotSpec:
    name: str
    serial: str
    robot_id: str
    owner_email: str
    access_key_id: str | None = None
    secret_access_key: str | None = attrs.field(default=None, repr=False)
    #: The robot's own loop and account ids (from its local store), so CONTEXT ids match.
    loop_id: str | None = None
    account_id: str | None = None

    def check(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}", self.name):
            raise ProvisioningError(f"--name must be the robot's friendly id, got {self.name!r}")
        for flag, value in (("--robot-id", self.robot_id), ("--loop-id", self.loop_id),
                            ("--account-id", self.account_id)):  # fmt: skip
            if value is not None and not HEX24.match(value):
                raise ProvisioningError(f"{flag} must be 24 lower-case hex digits, got {value!r}")
        if not EMAIL.match(self.owner_email):
            raise ProvisioningError(f"--owner must be an e-mail address, got {self.owner_email!r}")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ProvisioningError("give both --access-key-id and --secret-access-key, or neither")


def read_credentials(path: Path) -> tuple[str, str]:
    """``accessKeyId``/``secretAccessKey`` from the robot's credentials JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProvisioningError(f"cannot read credentials {path}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("credentials"), dict):
        data = data["credentials"]
    if not isinstance(data, dict):
        raise ProvisioningError(f"{path}: expected a JSON object")
    key = data.get("accessKeyId") or data.get("AccessKeyId")
    secret = data.get("secretAccessKey") or data.get("SecretAccessKey")
    if not isinstance(key, str) or not isinstance(secret, str) or not key or not secret:
        raise ProvisioningError(f"{path}: no accessKeyId/secretAccessKey in the file")
    return key, secret


async def add_robot(storage: Storage, spec: RobotSpec, *, now_ms: int) -> tuple[Robot, Loop]:
    """Register a robot (see the module docstring). Raises ProvisioningError on bad input."""
    spec.check()
    if await storage.find_robot(spec.name) or await storage.find_robot(spec.robot_id):
        raise ProvisioningError(f"robot {spec.name} (or id {spec.robot_id}) is already registered")
    existing = await storage.find_account_by_email(spec.owner_email)
    account = existing or Account(
        id=spec.account_id or secrets.token_hex(12), email=spec.owner_email, created=now_ms,
        updated=now_ms,
    )  # fmt: skip
    robot = Robot(name=spec.name, robot_id=spec.robot_id, account_id=account.id, created=now_ms,
                  updated=now_ms, serial=spec.serial,
                  payload={"serialNumber": spec.serial})  # fmt: skip
    loop = Loop(id=spec.loop_id or secrets.token_hex(12), name=f"{spec.name}'s loop",
                owner_id=account.id, created=now_ms, updated=now_ms, robot_id=spec.robot_id,
                robot_name=spec.name)  # fmt: skip
    member = LoopMember(id=secrets.token_hex(12), loop_id=loop.id, account_id=account.id,
                        status="ACTIVE", type="OWNER", created=now_ms)  # fmt: skip
    key = None
    if spec.access_key_id and spec.secret_access_key:
        if await storage.get_key_pair(spec.access_key_id):
            raise ProvisioningError(f"access key id {spec.access_key_id} is already registered")
        key = KeyPair(spec.access_key_id, spec.secret_access_key, account.id, now_ms, spec.name)
    record: dict[str, Any] = {"serial": spec.serial, "robotId": spec.robot_id,
                              "owner": account.id, "loopId": loop.id, "created": now_ms,
                              "keyImported": key is not None}  # fmt: skip
    await storage.provision(account=account, robot=robot, loop=loop, member=member, key=key,
                            record=record)  # fmt: skip
    return robot, loop


async def publish_update(
    storage: Storage, blobs: Blobs, *, subsystem: str, from_version: str, to_version: str,
    data: bytes, now_ms: int, filter_: str | None = None, changes: str = "",
) -> UpdateRecord:  # fmt: skip
    """Store an update package and its record; served from ``/updates/{id}/package``."""
    for flag, value in (("--subsystem", subsystem), ("--from-version", from_version),
                        ("--to-version", to_version)):  # fmt: skip
        if not value.strip():
            raise ProvisioningError(f"{flag} must not be empty")
    if not re.match(r"^\s*v?\d", to_version) or not re.match(r"^\s*(\*|v?\d)", from_version):
        raise ProvisioningError("versions must start with a number (e.g. 10.0.19); from may be *")
    update_id = secrets.token_hex(12)
    stored = await blobs.write(blobs.new_key("update"), data)
    record = UpdateRecord(
        id=update_id, created=now_ms, subsystem=subsystem, from_version=from_version,
        to_version=to_version, url=f"/updates/{update_id}/package",
        sha_hash=hashlib.sha256(data).hexdigest(), length=len(data), changes=changes,
        filter=filter_ or None, blob_key=stored.key,
    )  # fmt: skip
    await storage.add_update(record)
    return record
