"""Recording a voice turn for the owner's Voice history page (the hub calls this).

Kept apart from the pages: no Quart, and never in the robot's way — a failure to record is
logged and forgotten, never raised into the turn.
Audio is written to the blob store only when the robot's household turned "keep audio" on
(off by default); otherwise the bytes are never stored.

Two ways in:

- :func:`note_speech` takes the §5 speech record the hub already makes at the end of every
  listen transaction (what ``History.speech`` receives: ``robotID``, ``timestamp``,
  ``asr.text``, ``nlu.intent``, ``match.skillID``, ``error.code``) and the latency the hub
  measured beside it (the §5 record has none; a ``timings.total`` or ``latencyMs`` member,
  when a record carries one, is used otherwise). It returns at once: the storage's batch
  writer (:mod:`jibo_cloud.storage.batch`) stores the pending turns in one transaction
  every :data:`jibo_cloud.storage.portal.VOICE_BATCH_SECONDS`; past
  :data:`~jibo_cloud.storage.portal.MAX_PENDING_VOICE_TURNS` waiting, more are dropped and
  counted in the log.
- :func:`record_turn` awaits the write (and takes the audio, if any).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import attrs

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage.portal import VoiceTurn

log = logging.getLogger(__name__)


def _obj(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def turn_from_speech(record: Mapping[str, Any], latency_ms: int | None = None) -> VoiceTurn | None:
    """The voice turn in a §5 speech record; None when it names no robot or no time.
    ``latency_ms`` is the hub's measure of the turn (wins over one the record carries)."""
    robot, at = record.get("robotID"), record.get("timestamp")
    if not isinstance(robot, str) or not robot or not isinstance(at, int):
        return None
    asr, nlu, match = _obj(record, "asr"), _obj(record, "nlu"), _obj(record, "match")
    error, timings = _obj(record, "error"), _obj(record, "timings")
    latency = (
        latency_ms if latency_ms is not None else timings.get("total", record.get("latencyMs"))
    )
    return VoiceTurn(
        robot_name=robot, at=at, heard=_text(asr.get("text")), intent=_text(nlu.get("intent")),
        skill=_text(match.get("skillID")) or _text(record.get("skill")),
        latency_ms=int(latency) if isinstance(latency, int | float) and latency >= 0 else None,
        error=_text(error.get("code")) or ("error" if error else ""),
    )  # fmt: skip


def note_speech(runtime: Any, record: Mapping[str, Any], *, latency_ms: int | None = None) -> None:
    """Record the turn of a §5 speech record in the background; returns at once, never
    raises (the storage's batch writer stores it, :meth:`PortalQueries.note_voice_turn`).
    ``latency_ms``: the hub's latency of the turn (:func:`jibo_cloud.hub.calls.turn_latency_ms`)."""
    turn = turn_from_speech(record, latency_ms)
    if turn is not None:
        runtime.storage.note_voice_turn(turn)


async def record_turn(runtime: Any, turn: VoiceTurn, audio: bytes | None = None) -> bool:
    """Keep ``turn`` (and ``audio`` if the household keeps audio); True when it was stored.

    Args:
        runtime: the server's :class:`jibo_cloud.runtime.Runtime` (storage, blobs).
        turn: the finished turn; ``robot_name`` may be the robot's friendly name, its 24-hex
            id or its serial (whatever the hub knows: it is looked up); ``audio_key`` is
            ignored (set here when audio is kept).
        audio: the robot's audio of the turn, or None.

    Returns:
        False when nothing was kept: an unregistered robot, history off, storage down.
    """
    storage = runtime.storage
    try:
        robot = await storage.find_robot(turn.robot_name) if turn.robot_name else None
        if robot is None:
            return False
        turn = attrs.evolve(turn, robot_name=robot.name, audio_key=None, audio_length=None)
        if audio:
            settings = await storage.voice_settings_for_robot(turn.robot_name)
            if settings.voice_history and settings.keep_audio:
                stored = await runtime.blobs.write(runtime.blobs.new_key("voice"), audio)
                turn = attrs.evolve(turn, audio_key=stored.key, audio_length=stored.length)
        kept = await storage.record_voice_turn(turn)
        if not kept and turn.audio_key:
            await runtime.blobs.delete(turn.audio_key)  # history went off meanwhile
        return bool(kept)
    except StorageUnavailable as exc:
        log.warning("voice turn not recorded: storage unavailable: %s", exc)
        return False
    except OSError as exc:
        log.warning("voice turn audio not stored: %s", exc.strerror or type(exc).__name__)
        return False
