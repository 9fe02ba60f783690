"""Where the request paths tell ``jibo-cloud doctor`` what happened to a robot.

Three small hooks, each synchronous and cheap (a dict lookup on success, a few string
operations on failure), handing facts to the storage's background writer
(:mod:`jibo_cloud.storage.diagnostics`), so a robot's request is never slowed or broken by
its bookkeeping:

- :func:`note_rest_call`: every ``POST /`` answer. A robot's success notes ``rest`` (and
  ``boot`` for ``NewRobotToken``, the first call of each boot and reconnect, PROTOCOL.md
  §2.3); its error notes a failure with the ``__type`` and message. An error answered before
  the caller was identified (a bad signature: clock skew looks like this) is noted against the
  access key id in its ``Authorization`` header, *unverified*, and kept only if that key is a
  registered robot's.
- :func:`note_hub_refusal` / :func:`note_hub_admitted`: a hub socket refused before the
  upgrade (the token's claimed robot, read without trusting it: *verified* only for refusals
  that come after the signature check) or admitted.
- :func:`note_notification_refusal`: a notification socket of a known robot refused (its
  socket caps). A token we never issued names no robot, so those are not noted.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from jibo_cloud import sigv4
from jibo_cloud.hub.auth import KEY_GONE, NO_ROBOT, ROBOT_GONE
from jibo_cloud.storage.diagnostics import BOOT, HUB, NOTIFICATION, REST, FailureNote

#: The first call of every boot and reconnect (PROTOCOL.md §2.3).
BOOT_TARGET = "Notification_20150505.NewRobotToken"
#: Hub refusals that come after the token's signature was checked: its claims are genuine.
_VERIFIED_HUB_REASONS = ("TokenExpiredError", "NotBeforeError", ROBOT_GONE, KEY_GONE, NO_ROBOT)


def _storage(runtime: Any) -> Any | None:
    """The runtime's storage if it keeps diagnostics (test runtimes may carry none)."""
    storage = getattr(runtime, "storage", None)
    return storage if hasattr(storage, "note_robot_failure") else None


def _error_message(body: bytes) -> str:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""
    message = value.get("message") if isinstance(value, dict) else None
    return message if isinstance(message, str) else ""


def note_rest_call(
    runtime: Any, headers: Mapping[str, str], caller: Any, status: int,
    error_type: str, body: bytes,
) -> None:  # fmt: skip
    """Note one ``POST /`` answer (see the module doc). ``caller`` is the identified
    :class:`~jibo_cloud.rest.context.Caller`, or None when identification did not finish."""
    storage = _storage(runtime)
    if storage is None:
        return
    target = headers.get("x-amz-target", "")[:100]
    robot = caller.robot_name if caller is not None and caller.kind == "robot" else None
    if status < 400:
        if robot:
            now = runtime.now_ms()
            storage.note_robot_activity(robot, REST, now, target)
            if target == BOOT_TARGET:
                storage.note_robot_activity(robot, BOOT, now, target)
        return
    key_id = None
    if caller is None:
        try:
            key_id = sigv4.parse_authorization(headers.get("authorization", "")).access_key_id
        except sigv4.SignatureError:
            return  # unsigned or malformed: no robot is named
    elif not robot:
        return  # an owner's or the operator's call
    storage.note_robot_failure(
        FailureNote(
            channel=REST, step=target or "(no X-Amz-Target)", status=status,
            code=error_type or str(status), detail=_error_message(body), at=runtime.now_ms(),
            robot_name=robot, access_key_id=key_id,
            verified=caller is not None and bool(caller.verified),
        )
    )  # fmt: skip


def _claims(authorization: str) -> Mapping[str, Any]:
    """A bearer JWT's claims, decoded WITHOUT checking anything (only to name a robot)."""
    try:
        payload = authorization.split(" ", 1)[1].strip().split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


def note_hub_refusal(
    runtime: Any, path: str, headers: Mapping[str, str], status: int, reason: str
) -> None:
    """Note a hub socket refused before the upgrade, if its token names a robot."""
    storage = _storage(runtime)
    if storage is None:
        return
    claims = _claims(headers.get("authorization", ""))
    friendly, key_id = claims.get("friendlyId"), claims.get("accessKeyId")
    if not isinstance(friendly, str) and not isinstance(key_id, str):
        return
    storage.note_robot_failure(
        FailureNote(
            channel=HUB, step=path[:100], status=status, code=str(status), detail=reason,
            at=runtime.now_ms(), claimed_robot=friendly if isinstance(friendly, str) else None,
            access_key_id=key_id if isinstance(key_id, str) and not friendly else None,
            verified=reason.startswith(_VERIFIED_HUB_REASONS),
        )
    )  # fmt: skip


def note_hub_admitted(runtime: Any, robot_name: str | None, path: str) -> None:
    """Note a robot's hub socket admitted (throttled by the storage)."""
    storage = _storage(runtime)
    if storage is not None and robot_name:
        storage.note_robot_activity(robot_name, HUB, runtime.now_ms(), path[:100])


def note_notification_refusal(runtime: Any, robot_name: str, status: int, reason: str) -> None:
    """Note a registered robot's notification socket refused before the upgrade."""
    storage = _storage(runtime)
    if storage is not None:
        storage.note_robot_failure(
            FailureNote(
                channel=NOTIFICATION, step="/{robotToken}", status=status, code=str(status),
                detail=reason, at=runtime.now_ms(), robot_name=robot_name,
            )
        )  # fmt: skip
