"""Pump one ``/v1/proactive`` socket through :class:`protocol.proactive.ProactiveTransaction`.

The I/O here: decode frames, run the machine's timers, load the robot's launch history from
``runtime.history`` (§4.6 history rules) and call the chosen cloud skill with
``PROACTIVE_LAUNCH`` under the 10 s limit. The skill settings the settings rules read are
the ones ``Settings_20171219.UpdateSettings`` stored for the loop CONTEXT names
(:func:`loop_settings`); a loop with none, or a storage outage, leaves every settings rule
failing, so a skill that asks "only if the owner enabled it" is not offered.

The random pick uses the ``rng`` argument when given (tests pass a seeded
``random.Random``), else an unseeded generator. The pick itself is pure and seedable in
:class:`protocol.proactive.ProactiveTransaction`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import trio

from jibo_cloud.errors import StorageUnavailable, UpstreamError
from jibo_cloud.hub.clients import call_remote_skill
from jibo_cloud.hub.session import CALL_TIMEOUT_SECONDS, HubSocket, new_id
from jibo_cloud.runtime import Runtime
from protocol.codec import decode_frame, to_json
from protocol.errors import DecodeError, ErrorCode, RemoteProtocolError
from protocol.proactive import LoadHistory, ProactiveOutput, ProactiveTransaction
from protocol.routing import SkillKind, SkillTable
from protocol.transaction import CallSkill, Forward, Identity, RecordLaunch, Send, StartTimer

log = logging.getLogger(__name__)

CALL_TIMEOUT_TEXT = f"timeout of {int(CALL_TIMEOUT_SECONDS * 1000)}ms exceeded"


async def loop_settings(runtime: Runtime, loop_id: str | None) -> Mapping[str, Mapping[str, Any]]:
    """Skill settings of one loop, ``{skillId: {key: value}}``, as the REST settings service
    stored them; empty without a loop id or storage, or while the database is unreachable."""
    if loop_id is None or runtime.storage is None:
        return {}
    try:
        with trio.fail_after(CALL_TIMEOUT_SECONDS):
            stored = await runtime.storage.list_documents("settings", loop_id)
    except (StorageUnavailable, trio.TooSlowError) as exc:
        log.warning("skill settings unavailable for proactive rules: %s", exc)
        return {}
    return {str(skill): dict(values) for skill, values in stored if isinstance(values, Mapping)}


async def run_proactive(
    runtime: Runtime,
    hub: HubSocket,
    identity: Identity,
    *,
    http: httpx.AsyncClient | None,
    rng: random.Random | None = None,
) -> None:
    """The transaction runner for one proactive socket (see :func:`serve_socket`)."""
    skills = runtime.skills if isinstance(runtime.skills, SkillTable) else SkillTable()
    txn = ProactiveTransaction(
        skills=skills,
        rng=rng or random.Random(),
        identity=identity,
        new_id=new_id,
    )

    def now() -> int:
        return runtime.now_ms()

    async with trio.open_nursery() as nursery:

        async def apply(outputs: Sequence[ProactiveOutput]) -> None:
            for out in outputs:
                if isinstance(out, Send):
                    await hub.send_frame(to_json(out.message))
                elif isinstance(out, Forward):
                    frame = dict(out.reply)
                    frame["final"] = out.final
                    frame["timings"] = dict(out.timings)
                    await hub.send_frame(frame)
                elif isinstance(out, StartTimer):
                    nursery.start_soon(timer, out.name, out.ms)
                elif isinstance(out, LoadHistory):
                    nursery.start_soon(load_history, out.robot_id)
                elif isinstance(out, CallSkill):
                    nursery.start_soon(call_skill, out)
                elif isinstance(out, RecordLaunch):
                    nursery.start_soon(record, out.record)

        async def timer(name: str, ms: int) -> None:
            await trio.sleep(ms / 1000)
            await apply(txn.timer_fired(name, now_ms=now()))

        async def load_history(robot_id: str) -> None:
            history = runtime.history
            loop_id = txn.context.loop_id if txn.context is not None else None
            settings = await loop_settings(runtime, loop_id)
            if history is None:
                await apply(txn.history_loaded((), settings, now_ms=now()))
                return
            try:
                with trio.fail_after(CALL_TIMEOUT_SECONDS):
                    launches = await history.launches(robot_id)
            except (UpstreamError, trio.TooSlowError) as exc:
                log.warning("history unavailable for proactive rules: %s", exc)
                await apply(txn.history_failed(str(exc), now_ms=now()))
                return
            await apply(txn.history_loaded(launches, settings, now_ms=now()))
            for key, reasons in txn.rejected.items():
                log.debug("proactive candidate %s rejected: %s", key, "; ".join(reasons))

        async def call_skill(call: CallSkill) -> None:
            try:
                with trio.fail_after(CALL_TIMEOUT_SECONDS):
                    if call.kind is SkillKind.INPROC:
                        handler = runtime.skill_handlers.get(call.skill_id)
                        if handler is None:
                            outputs = txn.skill_failed(
                                ErrorCode.SKILL_NOT_FOUND,
                                f"Skill not found: {call.skill_id}",
                                now_ms=now(),
                            )
                            await apply(outputs)
                            return
                        reply = await handler(call.request)
                    elif http is None:
                        raise UpstreamError("skill", "no HTTP client for cloud skills")
                    else:
                        reply = await call_remote_skill(http, call.url, call.request)
            except UpstreamError as exc:
                outputs = txn.skill_failed(ErrorCode.TIMEOUT_SKILL, exc.detail, now_ms=now())
            except trio.TooSlowError:
                outputs = txn.skill_failed(ErrorCode.TIMEOUT_SKILL, CALL_TIMEOUT_TEXT, now_ms=now())
            else:
                outputs = txn.skill_replied(reply, now_ms=now())
            await apply(outputs)

        async def record(entry: Mapping[str, Any]) -> None:
            if runtime.history is None:
                return
            try:  # shielded and bounded, as on the listen socket: the robot closes first
                with trio.CancelScope(shield=True), trio.fail_after(CALL_TIMEOUT_SECONDS):
                    await runtime.history.skill_launched(entry)
            except (UpstreamError, trio.TooSlowError) as exc:
                log.warning("history record failed: %s", exc)

        while True:
            frame = await hub.receive()
            hub.in_flight = True
            if isinstance(frame, bytes):
                continue  # no audio on the proactive socket; dropped
            try:
                outputs = txn.receive(decode_frame(frame), now_ms=now())
            except (DecodeError, RemoteProtocolError) as exc:
                outputs = txn.fail(exc, now_ms=now())
            if outputs:
                await apply(outputs)
