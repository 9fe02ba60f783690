"""Recording a voice turn for the owner's Voice history page (the hub calls this).

Kept apart from the pages: no Quart, one storage transaction per turn, and never in the
robot's way — a failure to record is logged and forgotten, never raised into the turn.
Audio is written to the blob store only when the robot's household turned "keep audio" on
(off by default); otherwise the bytes are never stored.
"""

from __future__ import annotations

import logging
from typing import Any

import attrs

from jibo_cloud.errors import StorageUnavailable
from jibo_cloud.storage.portal import VoiceTurn

log = logging.getLogger(__name__)


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
