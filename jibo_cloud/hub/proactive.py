"""One ``/v1/proactive`` socket: :class:`protocol.proactive.ProactiveTransaction` under the
driver (:class:`jibo_cloud.hub.driver.TransactionDriver`, shared with the listen socket).

The I/O here (:class:`ProactivePerformer`): load the robot's launch history from
``runtime.history`` (§4.6 history rules) and call the chosen cloud skill with
``PROACTIVE_LAUNCH`` under the 10 s limit, each in a task whose answer goes back on the
driver's queue; launches are recorded as on the listen socket. The skill settings the
settings rules read are the ones ``Settings_20171219.UpdateSettings`` stored for the loop
CONTEXT names (:func:`loop_settings`); a loop with none, or a storage outage, leaves every
settings rule failing, so a skill that asks "only if the owner enabled it" is not offered.

The random pick uses the ``rng`` argument when given (tests pass a seeded
``random.Random``), else an unseeded generator. The pick itself is pure and seedable in
:class:`protocol.proactive.ProactiveTransaction`.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx
import trio

from jibo_cloud import metrics
from jibo_cloud.errors import StorageUnavailable, UpstreamError
from jibo_cloud.hub.calls import call_skill, record, record_inline
from jibo_cloud.hub.driver import TransactionDriver
from jibo_cloud.hub.session import CALL_TIMEOUT_SECONDS, HubSocket
from jibo_cloud.ids import new_id
from jibo_cloud.runtime import Runtime
from protocol.proactive import LoadHistory, ProactiveTransaction
from protocol.routing import SkillTable
from protocol.transaction import CallSkill, Identity, RecordLaunch

log = logging.getLogger(__name__)


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


@attrs.define
class ProactivePerformer:
    """The proactive transaction's service calls: history and settings, the skill, records."""

    runtime: Runtime
    txn: ProactiveTransaction
    http: httpx.AsyncClient | None

    def audio(self, chunk: bytes) -> None:
        return None  # no audio on the proactive socket; dropped

    async def perform(self, driver: TransactionDriver, out: Any) -> None:
        if isinstance(out, LoadHistory):
            driver.nursery.start_soon(self._load_history, driver, out.robot_id)
        elif isinstance(out, CallSkill):
            driver.nursery.start_soon(self._call_skill, driver, out)
        elif isinstance(out, RecordLaunch):
            if record_inline(self.runtime):
                await record(self.runtime, out)
            else:
                driver.nursery.start_soon(record, self.runtime, out)
        else:
            raise TypeError(f"proactive driver can't perform {type(out).__name__}")

    async def aclose(self) -> None:
        return None

    async def _load_history(self, driver: TransactionDriver, robot_id: str) -> None:
        runtime, txn = self.runtime, self.txn
        loop_id = txn.context.loop_id if txn.context is not None else None
        settings = await loop_settings(runtime, loop_id)
        history = runtime.history
        if history is None:
            driver.post(lambda now_ms: txn.history_loaded((), settings, now_ms=now_ms))
            return
        try:
            with trio.fail_after(CALL_TIMEOUT_SECONDS):
                launches = await history.launches(robot_id)
        except (UpstreamError, trio.TooSlowError) as exc:
            log.warning("history unavailable for proactive rules: %s", exc)
            detail = str(exc)
            driver.post(lambda now_ms: txn.history_failed(detail, now_ms=now_ms))
            return

        def loaded(now_ms: int) -> Sequence[Any]:
            outputs = txn.history_loaded(launches, settings, now_ms=now_ms)
            for key, reasons in txn.rejected.items():
                log.debug("proactive candidate %s rejected: %s", key, "; ".join(reasons))
            return outputs

        driver.post(loaded)

    async def _call_skill(self, driver: TransactionDriver, call: CallSkill) -> None:
        with metrics.timed_stage("skill"):
            event = await call_skill(self.runtime, self.http, call, self.txn)
        driver.post(event)


async def run_proactive(
    runtime: Runtime,
    conn: HubSocket,
    nursery: trio.Nursery,
    identity: Identity,
    *,
    http: httpx.AsyncClient | None,
    rng: random.Random | None = None,
) -> None:
    """The transaction runner for one proactive socket (see :func:`serve_socket`)."""
    skills = runtime.skills if isinstance(runtime.skills, SkillTable) else SkillTable()
    txn = ProactiveTransaction(
        skills=skills, rng=rng or random.Random(), new_id=new_id, identity=identity
    )
    performer = ProactivePerformer(runtime=runtime, txn=txn, http=http)
    driver = TransactionDriver(
        sock=conn, machine=txn, performer=performer, nursery=nursery, now_ms=runtime.now_ms
    )
    await driver.run()
