"""One ``/v1/listen`` socket: :class:`protocol.listen.ListenTransaction` under the driver.

The machine decides and :class:`jibo_cloud.hub.driver.TransactionDriver` moves things; this
module says how the listen machine's service outputs are performed (:class:`ListenPerformer`):

- the recogniser: ``StartAsr`` opens a session and ``FeedAsr`` feeds it inline (its events go
  straight back into the machine, in order); ``FinishAsr`` waits for the result in a task
  under the call limit; ``StopAsr`` closes the session (bounded, shielded);
- ``CallParser``: a task asks ``runtime.parser`` (the typed request encoded here);
- ``CallSkill``: a task calls the skill (:func:`jibo_cloud.hub.calls.call_skill`);
- ``RecordLaunch``/``RecordSpeech``: inline for the in-memory history, else a shielded task.

Error mapping (§4.4): recogniser failures → ``ASR``; parser failures and timeouts →
``PARSER`` (timeout text ``timeout of 10000ms exceeded``, as the original's HTTP client said);
skill failures → see :mod:`jibo_cloud.hub.calls`. History failures never reach the robot.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import attrs
import httpx
import trio

from jibo_cloud import metrics
from jibo_cloud.errors import UpstreamError
from jibo_cloud.hub.calls import (
    call_skill,
    parse,
    parse_now,
    record,
    record_inline,
    skill_now,
    turn_latency_ms,
)
from jibo_cloud.hub.driver import Event, TransactionDriver
from jibo_cloud.hub.session import CALL_TIMEOUT_SECONDS, CLOSE_CLEANUP_SECONDS, HubSocket
from jibo_cloud.ids import new_id
from jibo_cloud.runtime import Runtime
from jibo_cloud.services import AsrEvent, AsrRequest, AsrSession
from protocol.codec import to_json
from protocol.errors import DecodeError
from protocol.listen import ListenTransaction
from protocol.routing import SkillTable
from protocol.transaction import (
    CALL_TIMEOUT_TEXT,
    CallParser,
    CallSkill,
    FeedAsr,
    FinishAsr,
    Identity,
    RecordLaunch,
    RecordSpeech,
    StartAsr,
    StopAsr,
)


@attrs.define
class ListenPerformer:
    """The listen transaction's service calls; lives exactly as long as the socket."""

    runtime: Runtime
    txn: ListenTransaction
    http: httpx.AsyncClient | None
    asr: AsrSession | None = None
    #: The turn went to the hub's recogniser (``StartAsr``), and when its speech ended (the
    #: hub's ``EOS``, runtime clock): the Voice history's latency (:func:`turn_latency_ms`).
    spoken: bool = False
    eos_ms: int | None = None

    def audio(self, chunk: bytes) -> Event:
        txn = self.txn
        return lambda _now_ms: txn.audio(chunk)

    async def perform(self, driver: TransactionDriver, out: Any) -> None:
        if isinstance(out, CallParser):
            if not self._parse_now(driver, out):
                driver.nursery.start_soon(self._call_parser, driver, out)
        elif isinstance(out, CallSkill):
            if not self._skill_now(driver, out):
                driver.nursery.start_soon(self._call_skill, driver, out)
        elif isinstance(out, RecordLaunch | RecordSpeech):
            latency = turn_latency_ms(out, self.txn.started_ms, self.eos_ms, spoken=self.spoken)
            if record_inline(self.runtime):
                await record(self.runtime, out, latency_ms=latency)
            else:
                task = functools.partial(record, self.runtime, out, latency_ms=latency)
                driver.nursery.start_soon(task)
        elif isinstance(out, FeedAsr):
            await self._feed_asr(driver, out.chunk)
        elif isinstance(out, StartAsr):
            await self._start_asr(driver, out)
        elif isinstance(out, FinishAsr):
            self.eos_ms = self.runtime.now_ms()  # the EOS frame went out just before
            driver.nursery.start_soon(self._finish_asr, driver)
        elif isinstance(out, StopAsr):
            await self.aclose()
        else:
            raise TypeError(f"listen driver can't perform {type(out).__name__}")

    # ----------------------------------------------------------------- recogniser

    async def _start_asr(self, driver: TransactionDriver, out: StartAsr) -> None:
        self.spoken = True
        request = AsrRequest(
            encoding=out.encoding,
            sample_rate=out.sample_rate,
            lang=out.lang,
            rules=out.rules,
            hints=out.hints,
            robot_id=self.txn.identity.robot(self.txn.context) or "",
        )
        try:
            self.asr = await self.runtime.recognizer.open_session(request)
        except UpstreamError as exc:
            detail = exc.detail
            await driver.feed(lambda now_ms: self.txn.asr_failed(detail, now_ms=now_ms))

    async def _feed_asr(self, driver: TransactionDriver, chunk: bytes) -> None:
        if self.asr is None:
            return
        txn = self.txn
        try:
            events = await self.asr.feed(chunk)
        except (UpstreamError, DecodeError) as exc:
            detail = exc.detail
            await driver.feed(lambda now_ms: txn.asr_failed(detail, now_ms=now_ms))
            return
        for ev in events:
            await driver.feed(functools.partial(_asr_event, txn, ev))

    async def _finish_asr(self, driver: TransactionDriver) -> None:
        session, txn = self.asr, self.txn
        if session is None:
            return
        try:
            with metrics.timed_stage("asr"), trio.fail_after(CALL_TIMEOUT_SECONDS):
                result = await session.finish()
        except (UpstreamError, trio.TooSlowError) as exc:
            detail = exc.detail if isinstance(exc, UpstreamError) else CALL_TIMEOUT_TEXT
            driver.post(lambda now_ms: txn.asr_failed(detail, now_ms=now_ms))
            return
        driver.post(
            lambda now_ms: txn.asr_result(
                result.text, result.confidence, result.annotation, now_ms=now_ms
            )
        )

    async def aclose(self) -> None:
        """Close the recogniser session, if one is open (bounded, shielded)."""
        session, self.asr = self.asr, None
        if session is not None:
            with trio.move_on_after(CLOSE_CLEANUP_SECONDS, shield=True):
                await session.aclose()

    # ----------------------------------------------------------------- parser and skills

    def _parse_now(self, driver: TransactionDriver, out: CallParser) -> bool:
        """Answer the parse inline when nothing needs awaiting (:func:`parse_now`): no task,
        no timer; the answer is queued for the driver like a task's. False: it can't."""
        txn = self.txn
        started = trio.current_time()
        nlu = parse_now(self.runtime, to_json(out.request), txn.identity.robot(txn.context) or "")
        if nlu is None:
            return False
        metrics.observe_stage("parser", trio.current_time() - started)
        driver.post(lambda now_ms: txn.parser_replied(nlu, now_ms=now_ms))
        return True

    def _skill_now(self, driver: TransactionDriver, call: CallSkill) -> bool:
        """Answer an in-process skill inline when it answers at once (:func:`skill_now`)."""
        started = trio.current_time()
        event = skill_now(self.runtime, call, self.txn)
        if event is None:
            return False
        metrics.observe_stage("skill", trio.current_time() - started)
        driver.post(event)
        return True

    async def _call_parser(self, driver: TransactionDriver, out: CallParser) -> None:
        txn, parser = self.txn, self.runtime.parser
        if parser is None:
            detail = "no NLU parser is configured on this server"
            driver.post(lambda now_ms: txn.parser_failed(detail, now_ms=now_ms))
            return
        try:
            with metrics.timed_stage("parser"), trio.fail_after(CALL_TIMEOUT_SECONDS):
                robot = txn.identity.robot(txn.context) or ""
                nlu = await parse(self.runtime, to_json(out.request), robot)
        except UpstreamError as exc:
            failure = exc.detail
            driver.post(lambda now_ms: txn.parser_failed(failure, now_ms=now_ms))
            return
        except trio.TooSlowError:
            driver.post(lambda now_ms: txn.parser_failed(CALL_TIMEOUT_TEXT, now_ms=now_ms))
            return
        driver.post(lambda now_ms: txn.parser_replied(nlu, now_ms=now_ms))

    async def _call_skill(self, driver: TransactionDriver, call: CallSkill) -> None:
        with metrics.timed_stage("skill"):
            event = await call_skill(self.runtime, self.http, call, self.txn)
        driver.post(event)


def _asr_event(txn: ListenTransaction, ev: AsrEvent, now_ms: int) -> Sequence[Any]:
    return txn.asr_event(ev.kind, text=ev.text, confidence=ev.confidence, now_ms=now_ms)


async def run_listen(
    runtime: Runtime,
    conn: HubSocket,
    nursery: trio.Nursery,
    identity: Identity,
    *,
    http: httpx.AsyncClient | None,
) -> None:
    """The transaction runner for one listen socket (see :func:`serve_socket`)."""
    skills = runtime.skills if isinstance(runtime.skills, SkillTable) else SkillTable()
    txn = ListenTransaction(skills=skills, new_id=new_id, identity=identity)
    performer = ListenPerformer(runtime=runtime, txn=txn, http=http)
    driver = TransactionDriver(
        sock=conn, machine=txn, performer=performer, nursery=nursery, now_ms=runtime.now_ms
    )
    try:
        await driver.run()
    finally:
        if performer.asr is not None:  # only spoken turns hold a recogniser
            await performer.aclose()
