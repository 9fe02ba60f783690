"""The hub's outside calls that both transactions make: a skill, and a history record.

Each returns or raises; the caller owns the time limit (``trio.fail_after``, §4.4: 10 s) and
feeds the answer back into its machine (:mod:`jibo_cloud.hub.driver`). Requests arrive typed
(:mod:`protocol.services`) and are encoded here, at the edge.

Error mapping (§4.4): a skill failure or timeout is ``TIMEOUT_SKILL`` (its text is the
failure's, or the original's ``timeout of 10000ms exceeded``); an in-process skill that is
not registered is ``SKILL_NOT_FOUND``. History failures are logged and never reach the robot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import httpx
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.hub.clients import call_remote_skill
from jibo_cloud.hub.history import MemoryHistory
from jibo_cloud.hub.session import CALL_TIMEOUT_SECONDS
from jibo_cloud.portal.recording import note_speech
from jibo_cloud.runtime import NotOpened, Runtime
from protocol.codec import to_json
from protocol.errors import ErrorCode
from protocol.routing import SkillKind
from protocol.transaction import CALL_TIMEOUT_TEXT, CallSkill, RecordLaunch, RecordSpeech

log = logging.getLogger(__name__)


async def skill_reply(
    runtime: Runtime, http: httpx.AsyncClient | None, call: CallSkill
) -> Mapping[str, Any]:
    """Call one skill (in process, or over HTTP) and return its §5 reply.

    Raises:
        UpstreamError: the skill failed; ``service == "skill_not_found"`` when an in-process
            skill is not registered.
    """
    request = to_json(call.request)
    if call.kind is SkillKind.INPROC:
        handler = runtime.skill_handlers.get(call.skill_id)
        if handler is None:
            raise UpstreamError("skill_not_found", f"Skill not found: {call.skill_id}")
        reply = await handler(request)
        if not isinstance(reply, Mapping) or not isinstance(reply.get("type"), str):
            raise UpstreamError("skill", "reply is not a message with a type")
        return reply
    if http is None:
        raise UpstreamError("skill", "no HTTP client for cloud skills")
    return await call_remote_skill(http, call.url, request)


class SkillCaller(Protocol):
    """The machine side of a skill call (listen and proactive both)."""

    def skill_replied(self, reply: Mapping[str, Any], *, now_ms: int) -> Sequence[Any]: ...

    def skill_failed(self, code: ErrorCode, detail: str, *, now_ms: int) -> Sequence[Any]: ...


async def call_skill(
    runtime: Runtime, http: httpx.AsyncClient | None, call: CallSkill, machine: SkillCaller
) -> Callable[[int], Sequence[Any]]:
    """:func:`skill_reply` under the call limit; returns the event that feeds the answer
    (``skill_replied`` or ``skill_failed``) to ``machine``."""
    try:
        with trio.fail_after(CALL_TIMEOUT_SECONDS):
            reply = await skill_reply(runtime, http, call)
    except UpstreamError as exc:
        code = ErrorCode.SKILL_NOT_FOUND if exc.service == "skill_not_found" else None
        detail = exc.detail
        return lambda now_ms: machine.skill_failed(
            code or ErrorCode.TIMEOUT_SKILL, detail, now_ms=now_ms
        )
    except trio.TooSlowError:
        return lambda now_ms: machine.skill_failed(
            ErrorCode.TIMEOUT_SKILL, CALL_TIMEOUT_TEXT, now_ms=now_ms
        )
    return lambda now_ms: machine.skill_replied(reply, now_ms=now_ms)


async def parse(runtime: Runtime, request: Mapping[str, Any], robot: str) -> Mapping[str, Any]:
    """Ask ``runtime.parser`` (which must be set) to understand one turn of ``robot``.

    The embedded parser gets the robot's household choice of which shared words the
    server's skills answer (``preferCloudSkills``, the portal's Settings page) for this call;
    a household that never chose, an unknown robot, or unreadable settings leave the
    server's ``JIBO_PREFER_CLOUD_SKILLS``. A remote parser gets the request as it is (the
    §5 parse request names no robot)."""
    from jibo_cloud.nlu.parser import EmbeddedParser  # loaded by open_runtime already

    parser = runtime.parser
    assert parser is not None
    households = runtime.households
    if households is not None and isinstance(parser, EmbeddedParser):
        prefer = (await households.for_robot(robot)).prefer_cloud_skills
        if prefer is not None:
            return await parser.parse(request, prefer_cloud=prefer)
    return await parser.parse(request)


def parse_now(runtime: Runtime, request: Mapping[str, Any], robot: str) -> Mapping[str, Any] | None:
    """:func:`parse` without waiting, when nothing needs awaiting: the embedded parser's
    templates decide the turn and the robot's household choice is cached; None otherwise
    (a remote parser, the semantic pass, a household not read yet)."""
    from jibo_cloud.nlu.parser import EmbeddedParser  # loaded by open_runtime already

    parser = runtime.parser
    if not isinstance(parser, EmbeddedParser):
        return None
    households = runtime.households
    if households is None:
        return parser.parse_now(request)
    household = households.cached(robot)
    if household is None:
        return None
    return parser.parse_now(request, prefer_cloud=household.prefer_cloud_skills)


def skill_now(
    runtime: Runtime, call: CallSkill, machine: SkillCaller
) -> Callable[[int], Sequence[Any]] | None:
    """:func:`call_skill` without waiting, for an in-process skill that answers at once (its
    handler's ``answer_now``, :class:`jibo_cloud.skills.base.PlanSkill`); None otherwise."""
    if call.kind is not SkillKind.INPROC:
        return None
    answer_now = getattr(runtime.skill_handlers.get(call.skill_id), "answer_now", None)
    if answer_now is None:
        return None
    reply = answer_now(to_json(call.request))
    if reply is None:
        return None
    if not isinstance(reply, Mapping) or not isinstance(reply.get("type"), str):
        detail = "reply is not a message with a type"
        return lambda now_ms: machine.skill_failed(ErrorCode.TIMEOUT_SKILL, detail, now_ms=now_ms)
    return lambda now_ms: machine.skill_replied(reply, now_ms=now_ms)


def record_inline(runtime: Runtime) -> bool:
    """True when a history record needs no task: no history, or the in-memory one (no I/O)."""
    history = runtime.history
    return history is None or isinstance(history, MemoryHistory)


def turn_latency_ms(
    out: RecordLaunch | RecordSpeech, started_ms: int | None, eos_ms: int | None, *, spoken: bool
) -> int | None:
    """A listen turn's latency for the Voice history, in ms (None when it has none).

    The speech record is made as the final frame (the final ``LISTEN``, the skill's forwarded
    reply, or ``ERROR``) goes out; its ``timestamp`` is that moment. The latency runs up to it:

    - from the end of speech, for a turn the hub's recogniser heard (the moment the hub sent
      ``EOS``: the recogniser heard the end, or the longest speech was reached): what the
      owner waited after they stopped talking (recognition, understanding, the skill);
    - from ``LISTEN``, for a turn the robot understood itself (typed, ``CLIENT_ASR`` or
      ``CLIENT_NLU``): the robot sends its text right after ``LISTEN``, so this is the hub's
      understanding and the skill;
    - None for a spoken turn that never reached its end of speech (no speech at all, a
      recogniser failure): there is nothing the owner waited for.
    """
    if not isinstance(out, RecordSpeech):
        return None
    since = eos_ms if eos_ms is not None else (None if spoken else started_ms)
    if since is None:
        return None
    return max(0, out.record.timestamp - since)


def _note_voice_turn(runtime: Runtime, body: Mapping[str, Any], latency_ms: int | None) -> None:
    """Hand a speech record to the Voice history; a runtime without storage keeps none."""
    try:
        runtime.storage  # noqa: B018 - raises NotOpened when the runtime has no storage
    except NotOpened:
        return
    note_speech(runtime, body, latency_ms=latency_ms)


async def record(
    runtime: Runtime, out: RecordLaunch | RecordSpeech, *, latency_ms: int | None = None
) -> None:
    """Write one history record (§5). For a remote or storage history, run it as a task: it
    is shielded (the robot usually closes right after the final frame, which must not lose
    the record) and bounded; no checkpoint comes before the shield.

    A speech record is also the owner's Voice history line (docs/portal.md), written in the
    background by :func:`note_speech` (which returns at once and never raises), with the
    turn's ``latency_ms`` (:func:`turn_latency_ms`; the §5 record itself has no timings and
    the history service gets it unchanged)."""
    body = to_json(out.record)
    if isinstance(out, RecordSpeech):
        _note_voice_turn(runtime, body, latency_ms)
    history = runtime.history
    if history is None:
        return
    if isinstance(history, MemoryHistory):
        if isinstance(out, RecordLaunch):
            await history.skill_launched(body)
        else:
            await history.speech(body)
        return
    try:
        with trio.CancelScope(shield=True), trio.fail_after(CALL_TIMEOUT_SECONDS):
            if isinstance(out, RecordLaunch):
                await history.skill_launched(body)
            else:
                await history.speech(body)
    except (UpstreamError, trio.TooSlowError) as exc:
        log.warning("history record failed: %s", exc)
