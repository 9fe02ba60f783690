"""Pump one ``/v1/listen`` socket through :class:`protocol.listen.ListenTransaction`.

The machine decides; this module only moves things: robot frames in, frames out through the
single writer, timers as tasks that sleep then call ``timer_fired``, and the service calls the
machine asks for (recogniser, parser, skills, history), each under its own
``trio.fail_after`` (§4.4: 10 s), with the answers fed back into the machine.

Error mapping (§4.4): recogniser failures → ``ASR``; parser failures and timeouts →
``PARSER`` (timeout text ``timeout of 10000ms exceeded``, as the original's HTTP client said);
skill failures and timeouts → ``TIMEOUT_SKILL``; an in-process skill that is not registered →
``SKILL_NOT_FOUND``. History failures are logged and never reach the robot.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.hub.clients import call_remote_skill
from jibo_cloud.hub.history import MemoryHistory
from jibo_cloud.hub.session import (
    CALL_TIMEOUT_SECONDS,
    CLOSE_CLEANUP_SECONDS,
    HubSocket,
    new_id,
)
from jibo_cloud.runtime import Runtime
from jibo_cloud.services import AsrRequest, AsrSession
from protocol.codec import decode_frame, to_json
from protocol.errors import DecodeError, ErrorCode, RemoteProtocolError
from protocol.listen import ListenTransaction
from protocol.routing import SkillKind, SkillTable
from protocol.transaction import (
    CallParser,
    CallSkill,
    FeedAsr,
    FinishAsr,
    Forward,
    Identity,
    Output,
    RecordLaunch,
    RecordSpeech,
    Send,
    StartAsr,
    StartTimer,
    StopAsr,
)

log = logging.getLogger(__name__)

CALL_TIMEOUT_TEXT = f"timeout of {int(CALL_TIMEOUT_SECONDS * 1000)}ms exceeded"


@attrs.define
class ListenDriver:
    """Everything one listen socket needs; lives exactly as long as the socket."""

    runtime: Runtime
    hub: HubSocket
    txn: ListenTransaction
    nursery: trio.Nursery
    http: httpx.AsyncClient | None
    asr: AsrSession | None = None
    deadlines: dict[str, float] = attrs.field(factory=dict)
    timer_scope: trio.CancelScope | None = None

    def now(self) -> int:
        return self.runtime.now_ms()

    async def pump(self) -> None:
        """Read robot frames until the socket ends (the deadline cancels this loop)."""
        txn = self.txn
        while True:
            frame = await self.hub.receive()
            self.hub.in_flight = True
            if isinstance(frame, bytes):
                outputs = txn.audio(frame)
            else:
                try:
                    msg = decode_frame(frame)
                    outputs = txn.receive(msg, now_ms=self.now())
                except (DecodeError, RemoteProtocolError) as exc:
                    outputs = txn.fail(exc, now_ms=self.now())
            if outputs:
                await self.apply(outputs)

    async def apply(self, outputs: Sequence[Output]) -> None:
        """Perform the machine's outputs in order."""
        for out in outputs:
            if isinstance(out, Send):
                await self.hub.send_frame(to_json(out.message))
            elif isinstance(out, Forward):
                frame = dict(out.reply)
                frame["final"] = out.final
                frame["timings"] = dict(out.timings)
                await self.hub.send_frame(frame)
            elif isinstance(out, StartTimer):
                self._arm(out.name, out.ms)
            elif isinstance(out, CallParser):
                self.nursery.start_soon(self._call_parser, out.request)
            elif isinstance(out, CallSkill):
                self.nursery.start_soon(self._call_skill, out)
            elif isinstance(out, RecordLaunch | RecordSpeech):
                history = self.runtime.history
                if isinstance(history, MemoryHistory):
                    # In memory: no I/O, so no task, no time limit, nothing to shield.
                    if isinstance(out, RecordLaunch):
                        await history.skill_launched(out.record)
                    else:
                        await history.speech(out.record)
                else:
                    self.nursery.start_soon(self._record, out)
            elif isinstance(out, StartAsr):
                await self._start_asr(out)
            elif isinstance(out, FeedAsr):
                await self._feed_asr(out.chunk)
            elif isinstance(out, FinishAsr):
                self.nursery.start_soon(self._finish_asr)
            elif isinstance(out, StopAsr):
                await self.stop_asr()

    def _arm(self, name: str, ms: int) -> None:
        """Start (or restart) the machine's timer ``name``.

        All timers of a socket share one task that sleeps until the earliest deadline, so a
        turn costs one task, not one per timer.
        """
        when = trio.current_time() + ms / 1000
        self.deadlines[name] = when
        if self.timer_scope is None:
            self.timer_scope = trio.CancelScope(deadline=when)
            self.nursery.start_soon(self._run_timers, self.timer_scope)
        else:
            self.timer_scope.deadline = min(self.timer_scope.deadline, when)

    async def _run_timers(self, scope: trio.CancelScope) -> None:
        while True:
            with scope:
                await trio.sleep_forever()
            now = trio.current_time()
            due = sorted((t, n) for n, t in self.deadlines.items() if t <= now)
            for _, name in due:
                del self.deadlines[name]
                await self.apply(self.txn.timer_fired(name, now_ms=self.now()))
            scope = self.timer_scope = trio.CancelScope(
                deadline=min(self.deadlines.values(), default=math.inf)
            )

    # ----------------------------------------------------------------- recogniser

    async def _start_asr(self, out: StartAsr) -> None:
        request = AsrRequest(
            encoding=out.encoding,
            sample_rate=out.sample_rate,
            lang=out.lang,
            rules=out.rules,
            hints=out.hints,
            speaker=self.txn.identity.robot(self.txn.context) or "",
        )
        try:
            self.asr = await self.runtime.recognizer.open_session(request)
        except UpstreamError as exc:
            await self.apply(self.txn.asr_failed(exc.detail, now_ms=self.now()))

    async def _feed_asr(self, chunk: bytes) -> None:
        if self.asr is None:
            return
        try:
            events = await self.asr.feed(chunk)
        except (UpstreamError, DecodeError) as exc:
            detail = exc.detail if isinstance(exc, UpstreamError | DecodeError) else str(exc)
            await self.apply(self.txn.asr_failed(detail, now_ms=self.now()))
            return
        for event in events:
            outputs = self.txn.asr_event(
                event.kind, text=event.text, confidence=event.confidence, now_ms=self.now()
            )
            await self.apply(outputs)

    async def _finish_asr(self) -> None:
        session = self.asr
        if session is None:
            return
        try:
            with trio.fail_after(CALL_TIMEOUT_SECONDS):
                result = await session.finish()
        except (UpstreamError, trio.TooSlowError) as exc:
            detail = exc.detail if isinstance(exc, UpstreamError) else CALL_TIMEOUT_TEXT
            await self.apply(self.txn.asr_failed(detail, now_ms=self.now()))
            return
        outputs = self.txn.asr_result(
            result.text, result.confidence, result.annotation, now_ms=self.now()
        )
        await self.apply(outputs)

    async def stop_asr(self) -> None:
        session, self.asr = self.asr, None
        if session is not None:
            with trio.move_on_after(CLOSE_CLEANUP_SECONDS, shield=True):
                await session.aclose()

    # ----------------------------------------------------------------- parser and skills

    async def _call_parser(self, request: Mapping[str, Any]) -> None:
        parser = self.runtime.parser
        if parser is None:
            detail = "no NLU parser is configured on this server"
            await self.apply(self.txn.parser_failed(detail, now_ms=self.now()))
            return
        try:
            with trio.fail_after(CALL_TIMEOUT_SECONDS):
                nlu = await parser.parse(request)
        except UpstreamError as exc:
            await self.apply(self.txn.parser_failed(exc.detail, now_ms=self.now()))
            return
        except trio.TooSlowError:
            await self.apply(self.txn.parser_failed(CALL_TIMEOUT_TEXT, now_ms=self.now()))
            return
        await self.apply(self.txn.parser_replied(nlu, now_ms=self.now()))

    async def _call_skill(self, call: CallSkill) -> None:
        try:
            with trio.fail_after(CALL_TIMEOUT_SECONDS):
                reply = await self._skill_reply(call)
        except UpstreamError as exc:
            code = ErrorCode.SKILL_NOT_FOUND if exc.service == "skill_not_found" else None
            outputs = self.txn.skill_failed(
                code or ErrorCode.TIMEOUT_SKILL, exc.detail, now_ms=self.now()
            )
        except trio.TooSlowError:
            outputs = self.txn.skill_failed(
                ErrorCode.TIMEOUT_SKILL, CALL_TIMEOUT_TEXT, now_ms=self.now()
            )
        else:
            outputs = self.txn.skill_replied(reply, now_ms=self.now())
        await self.apply(outputs)

    async def _skill_reply(self, call: CallSkill) -> Mapping[str, Any]:
        if call.kind is SkillKind.INPROC:
            handler = self.runtime.skill_handlers.get(call.skill_id)
            if handler is None:
                raise UpstreamError("skill_not_found", f"Skill not found: {call.skill_id}")
            reply = await handler(call.request)
            if not isinstance(reply, Mapping) or not isinstance(reply.get("type"), str):
                raise UpstreamError("skill", "reply is not a message with a type")
            return reply
        if self.http is None:
            raise UpstreamError("skill", "no HTTP client for cloud skills")
        return await call_remote_skill(self.http, call.url, call.request)

    async def _record(self, out: RecordLaunch | RecordSpeech) -> None:
        history = self.runtime.history
        if history is None:
            return
        # Shielded (and bounded): the robot usually closes right after the final frame, and
        # that must not lose the record. No checkpoint comes before the shield.
        try:
            with trio.CancelScope(shield=True), trio.fail_after(CALL_TIMEOUT_SECONDS):
                if isinstance(out, RecordLaunch):
                    await history.skill_launched(out.record)
                else:
                    await history.speech(out.record)
        except (UpstreamError, trio.TooSlowError) as exc:
            log.warning("history record failed: %s", exc)


async def run_listen(
    runtime: Runtime,
    hub: HubSocket,
    identity: Identity,
    *,
    http: httpx.AsyncClient | None,
) -> None:
    """The transaction runner for one listen socket (see :func:`serve_socket`)."""
    skills = runtime.skills if isinstance(runtime.skills, SkillTable) else SkillTable()
    txn = ListenTransaction(skills=skills, identity=identity, new_id=new_id)
    async with trio.open_nursery() as nursery:
        driver = ListenDriver(runtime=runtime, hub=hub, txn=txn, nursery=nursery, http=http)
        try:
            await driver.pump()
        finally:
            if driver.asr is not None:  # only spoken turns hold a recogniser
                with trio.move_on_after(CLOSE_CLEANUP_SECONDS, shield=True):
                    await driver.stop_asr()
