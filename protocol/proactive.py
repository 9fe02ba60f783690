"""Proactive candidate filtering (PROTOCOL.md §4.6): context, history and settings rules.

A skill manifest's ``proactives`` entries each carry up to three rule lists; a candidate is
offered only when every rule holds:

- ``contextRules``: ``{field, matchRule, value}`` over facts of the moment: ``PART_OF_DAY``
  (``{basic, detail}``), ``DAY_OF_WEEK`` (0 = Sunday, as JavaScript's ``getDay``),
  ``TRIGGER_SOURCE``, ``FOCUSED_PERSON`` (the speaker's id, ``UNKNOWN`` when none),
  ``NUMBER_OF_PEOPLE`` and ``PERSON_IDS`` (ids in ``peoplePresent``).
- ``IHRules``: ``{query, matchRule, value}``; ``query`` names an entry of the manifest's
  ``IHQueries`` (``type: Count`` of launches matching ``queryRules`` between two offsets from
  now, or ``type: Last``: milliseconds since the last such launch, ``-1`` for never).
- ``settingsRules``: ``{skill, key, matchRule, value}`` against the robot's skill settings.

Match rules: ``EXACT``, ``NOT``, ``CONTAINED_IN``, ``NOT_CONTAINED_IN``, ``LESS_THAN``,
``GREATER_THAN``, ``AT_LEAST``, ``AT_MOST``. An unknown field or rule makes the candidate
fail (an offer we cannot check is not made) and is reported in :attr:`Verdict.reasons`.

The transaction (:class:`ProactiveTransaction`): ``TRIGGER`` and ``CONTEXT`` in any order
(5 s wait for CONTEXT, ``TIMEOUT_CONTEXT``); then the I/O layer loads the robot's launch
history and settings (:class:`LoadHistory` → :meth:`~ProactiveTransaction.history_loaded`);
the candidates that pass every rule are collected in manifest order and one is picked with the
injected :class:`random.Random`. Replies: ``PROACTIVE {match}`` (``final`` when on the robot);
for a cloud skill ``PROACTIVE {match}`` with ``final: false``, then ``PROACTIVE_LAUNCH`` to the
skill and its reply forwarded with ``final: true``; ``PROACTIVE {}`` when nothing fits. The
launch is recorded with intent ``proactive``.

Pure: time comes in as ``now_ms``; the robot's local time from CONTEXT
``runtime.location.iso`` is parsed, never read from a clock.
"""

from __future__ import annotations

import datetime
import enum
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import attrs

from protocol.envelope import (
    Context,
    ContextData,
    Match,
    Proactive,
    ProactiveData,
    RobotMessage,
    Trigger,
    TriggerData,
)
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.routing import SkillManifest, SkillTable
from protocol.services import ProactiveLaunch, SkillLaunchRecord, SkillRequestData, SkillResult
from protocol.transaction import (
    CONTEXT_TIMEOUT_MS,
    TIMER_CONTEXT,
    TIMER_TRANSACTION,
    TRANSACTION_TIMEOUT_MS,
    CallSkill,
    Forward,
    Identity,
    Machine,
    RecordLaunch,
    Send,
    StartTimer,
    error_reply,
    guarded,
    speaker_id,
)

_UNIT_MS = {
    "ms": 1,
    "seconds": 1000,
    "minutes": 60_000,
    "hours": 3_600_000,
    "days": 86_400_000,
    "weeks": 7 * 86_400_000,
}


@attrs.frozen
class Facts:
    """What the context rules are checked against, taken from TRIGGER and CONTEXT."""

    trigger_source: str
    part_of_day: Mapping[str, str]
    day_of_week: int
    focused_person: str
    person_ids: tuple[str, ...] = ()

    def get(self, field: str) -> Any:
        return {
            "TRIGGER_SOURCE": self.trigger_source,
            "PART_OF_DAY": dict(self.part_of_day),
            "DAY_OF_WEEK": self.day_of_week,
            "FOCUSED_PERSON": self.focused_person,
            "NUMBER_OF_PEOPLE": len(self.person_ids),
            "PERSON_IDS": list(self.person_ids),
        }.get(field, _MISSING)


_MISSING = object()


def part_of_day(hour: int) -> dict[str, str]:
    """``{basic, detail}`` for a local hour: MORNING 5-11, AFTERNOON 12-16, EVENING 17-20,
    NIGHT 21-4; ``detail`` is EARLY/MID/LATE by thirds of each span."""
    spans = (("MORNING", 5, 12), ("AFTERNOON", 12, 17), ("EVENING", 17, 21), ("NIGHT", 21, 29))
    h = hour if hour >= 5 else hour + 24
    for basic, start, end in spans:
        if start <= h < end:
            third = (h - start) * 3 // (end - start)
            return {"basic": basic, "detail": ("EARLY", "MID", "LATE")[third]}
    raise AssertionError(f"hour {hour} outside 0..23")


def local_time(iso: object, now_ms: int) -> datetime.datetime:
    """The robot's local time: CONTEXT ``location.iso`` when it parses, else UTC ``now_ms``."""
    if isinstance(iso, str) and iso:
        try:
            parsed = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed
    return datetime.datetime.fromtimestamp(now_ms / 1000, tz=datetime.UTC)


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def facts_from(trigger_source: str, runtime: Mapping[str, Any], *, now_ms: int) -> Facts:
    """Facts from TRIGGER's source and CONTEXT ``runtime`` (with the looperID applied)."""
    perception = _obj(runtime.get("perception"))
    people = perception.get("peoplePresent")
    ids = tuple(
        str(p.get("id"))
        for p in (people if isinstance(people, list) else [])
        if isinstance(p, Mapping) and p.get("id") is not None
    )
    when = local_time(_obj(runtime.get("location")).get("iso"), now_ms)
    return Facts(
        trigger_source=trigger_source,
        part_of_day=part_of_day(when.hour),
        day_of_week=(when.weekday() + 1) % 7,
        focused_person=speaker_id(perception.get("speaker")),
        person_ids=ids,
    )


def compare(actual: Any, rule: str, expected: Any) -> bool | None:
    """Apply one match rule; None when the rule name is unknown."""
    try:
        if rule == "EXACT":
            return bool(actual == expected)
        if rule == "NOT":
            return bool(actual != expected)
        if rule in ("CONTAINED_IN", "NOT_CONTAINED_IN"):
            inside = isinstance(expected, list) and (
                any(actual == e for e in expected)
                or (isinstance(actual, list) and any(a in expected for a in actual))
            )
            return inside if rule == "CONTAINED_IN" else not inside
        if rule == "LESS_THAN":
            return bool(actual < expected)
        if rule == "GREATER_THAN":
            return bool(actual > expected)
        if rule == "AT_LEAST":
            return bool(actual >= expected)
        if rule == "AT_MOST":
            return bool(actual <= expected)
    except TypeError:
        return False
    return None


@attrs.frozen
class Verdict:
    ok: bool
    reasons: tuple[str, ...] = ()


def _offset_ms(value: object) -> int | None:
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int | float)
        and value[1] in _UNIT_MS
    ):
        return int(value[0] * _UNIT_MS[value[1]])
    return None


def _launch_matches(launch: Mapping[str, Any], query_rules: object) -> bool:
    for rule in query_rules if isinstance(query_rules, list) else []:
        rule = _obj(rule)
        verdict = compare(
            launch.get(str(rule.get("field"))), str(rule.get("match", "EXACT")), rule.get("value")
        )
        if not verdict:
            return False
    return True


def history_value(
    query: Mapping[str, Any], launches: Sequence[Mapping[str, Any]], *, now_ms: int
) -> int | None:
    """Evaluate one ``IHQueries`` entry over past launches (each with ``timestamp`` epoch ms)."""
    start = _offset_ms(query.get("startTimeOffset", [-100_000, "days"]))
    end = _offset_ms(query.get("endTimeOffset", [0, "hours"]))
    if start is None or end is None:
        return None
    picked = [
        launch
        for launch in launches
        if isinstance(launch.get("timestamp"), int | float)
        and now_ms + start <= launch["timestamp"] <= now_ms + end
        and _launch_matches(launch, query.get("queryRules"))
    ]
    kind = query.get("type", "Count")
    if kind == "Count":
        return len(picked)
    if kind == "Last":
        return int(now_ms - max(x["timestamp"] for x in picked)) if picked else -1
    return None


def check_candidate(
    proactive: Mapping[str, Any],
    *,
    facts: Facts,
    ih_queries: Mapping[str, Any],
    launches: Sequence[Mapping[str, Any]],
    settings: Mapping[str, Mapping[str, Any]],
    now_ms: int,
) -> Verdict:
    """Whether one ``proactives`` entry may be offered now; reasons name the failing rules."""
    reasons: list[str] = []
    for rule in proactive.get("contextRules") or []:
        rule = _obj(rule)
        field = str(rule.get("field"))
        actual = facts.get(field)
        verdict = (
            None
            if actual is _MISSING
            else compare(actual, str(rule.get("matchRule")), rule.get("value"))
        )
        if not verdict:
            reasons.append(f"context {field} {rule.get('matchRule')} {rule.get('value')!r}")
    for rule in proactive.get("IHRules") or []:
        rule = _obj(rule)
        name = str(rule.get("query"))
        query = ih_queries.get(name)
        value = (
            history_value(query, launches, now_ms=now_ms) if isinstance(query, Mapping) else None
        )
        if value is None or not compare(value, str(rule.get("matchRule")), rule.get("value")):
            reasons.append(f"history {name}={value} {rule.get('matchRule')} {rule.get('value')!r}")
    for rule in proactive.get("settingsRules") or []:
        rule = _obj(rule)
        skill, key = str(rule.get("skill")), str(rule.get("key"))
        actual = _obj(settings.get(skill)).get(key, _MISSING)
        ok = actual is not _MISSING and compare(
            actual, str(rule.get("matchRule")), rule.get("value")
        )
        if not ok:
            reasons.append(f"setting {skill}.{key} {rule.get('matchRule')} {rule.get('value')!r}")
    return Verdict(ok=not reasons, reasons=tuple(reasons))


# --------------------------------------------------------------------------- the transaction


class ProactiveState(enum.Enum):
    #: Waiting for TRIGGER and CONTEXT (either order).
    WAIT_INPUT = "WAIT_INPUT"
    #: Both arrived; waiting for the history and settings.
    CANDIDATES = "CANDIDATES"
    #: A cloud skill was launched; waiting for its reply.
    SKILL = "SKILL"
    #: A final frame went out.
    DONE = "DONE"
    #: An exception escaped.
    STOP = "STOP"


@attrs.frozen
class LoadHistory:
    """Fetch this robot's past launches and skill settings; answer with ``history_loaded``."""

    robot_id: str


@attrs.frozen
class Candidate:
    skill: SkillManifest
    proactive: Mapping[str, Any]


ProactiveOutput = Send | Forward | StartTimer | CallSkill | RecordLaunch | LoadHistory


@attrs.define
class ProactiveTransaction(Machine):
    """One proactive transaction (§4.6). ``rng`` makes the pick reproducible in tests;
    ``new_id`` makes ``msgID`` values. Failed for good (``STOP``) when anything but the
    robot's own error escapes a method (:func:`protocol.transaction.guarded`)."""

    skills: SkillTable
    rng: random.Random
    new_id: Callable[[], str]
    identity: Identity = attrs.field(factory=Identity)
    state: ProactiveState = ProactiveState.WAIT_INPUT
    trigger: TriggerData | None = None
    context: ContextData | None = None
    trans_id: str | None = None
    #: When the first robot message arrived (``now_ms``); None until then.
    started_ms: int | None = None
    chosen: Candidate | None = None
    rejected: dict[str, tuple[str, ...]] = attrs.field(factory=dict)
    dropped_after_final: int = 0
    _skill_started_ms: int = 0
    _history_ok: bool = True

    _STOP: ClassVar[enum.Enum] = ProactiveState.STOP
    _DONE: ClassVar[enum.Enum] = ProactiveState.DONE

    @guarded
    def receive(self, msg: RobotMessage, *, now_ms: int) -> list[ProactiveOutput]:
        """Feed TRIGGER or CONTEXT.

        Raises:
            RemoteProtocolError: any other message type, or a second TRIGGER.
            LocalProtocolError: the machine already failed.
        """
        if self.state is not ProactiveState.WAIT_INPUT:
            if self.state is ProactiveState.DONE:
                self.dropped_after_final += 1
            return []
        out: list[ProactiveOutput] = []
        if self.started_ms is None:
            self.started_ms = now_ms
            out.append(StartTimer(TIMER_TRANSACTION, TRANSACTION_TIMEOUT_MS))
        if isinstance(msg, Trigger) and self.trigger is None:
            self.trigger = msg.data
            self.trans_id = msg.trans_id
            if self.context is None:
                out.append(StartTimer(TIMER_CONTEXT, CONTEXT_TIMEOUT_MS))
        elif isinstance(msg, Context):
            if self.context is not None:
                return out  # a second CONTEXT is ignored, as on the listen socket
            self.context = msg.data
        else:
            raise RemoteProtocolError(f"can't handle {msg.type} in state {self.state.name}")
        if self.trigger is not None and self.context is not None:
            self.state = ProactiveState.CANDIDATES
            out.append(LoadHistory(self._robot_id()))
        return out

    @guarded
    def fail(self, exc: RemoteProtocolError, *, now_ms: int) -> list[ProactiveOutput]:
        if self.state is ProactiveState.DONE:
            self.dropped_after_final += 1
            return []
        return self._error(exc.message, exc.code, now_ms)

    @guarded
    def timer_fired(self, name: str, *, now_ms: int) -> list[ProactiveOutput]:
        if self.state is ProactiveState.DONE:
            return []
        if name == TIMER_TRANSACTION:
            msg = f"Timeout of {TRANSACTION_TIMEOUT_MS} while waiting for the transaction to finish"
            return self._error(msg, ErrorCode.TIMEOUT_TRANSACTION, now_ms)
        if name == TIMER_CONTEXT and self.context is None:
            msg = f"Timeout of {CONTEXT_TIMEOUT_MS} while waiting for the context message"
            return self._error(msg, ErrorCode.TIMEOUT_CONTEXT, now_ms)
        return []

    def runtime_json(self) -> dict[str, Any]:
        """CONTEXT ``runtime`` with ``triggerData.looperID`` as the speaker (§4.6)."""
        runtime = dict(self.context.runtime or {}) if self.context is not None else {}
        looper = self.trigger.looper_id if self.trigger is not None else None
        if looper:
            runtime["perception"] = {**_obj(runtime.get("perception")), "speaker": looper}
        return runtime

    def candidates(
        self,
        launches: Sequence[Mapping[str, Any]],
        settings: Mapping[str, Mapping[str, Any]],
        *,
        now_ms: int,
    ) -> list[Candidate]:
        """Every ``proactives`` entry whose rules all hold, in manifest order."""
        assert self.trigger is not None
        facts = facts_from(self.trigger.trigger_source, self.runtime_json(), now_ms=now_ms)
        found = []
        for skill in self.skills.skills:
            for i, proactive in enumerate(skill.proactives):
                verdict = check_candidate(
                    proactive,
                    facts=facts,
                    ih_queries=skill.ih_queries,
                    launches=launches,
                    settings=settings,
                    now_ms=now_ms,
                )
                if verdict.ok and proactive.get("IHRules") and not self._history_ok:
                    verdict = Verdict(ok=False, reasons=("history unavailable",))
                if verdict.ok:
                    found.append(Candidate(skill, proactive))
                else:
                    self.rejected[f"{skill.skill_id}#{i}"] = verdict.reasons
        return found

    @guarded
    def history_loaded(
        self,
        launches: Sequence[Mapping[str, Any]],
        settings: Mapping[str, Mapping[str, Any]],
        *,
        now_ms: int,
    ) -> list[ProactiveOutput]:
        """The robot's history and settings arrived: pick, reply, maybe launch."""
        if self.state is not ProactiveState.CANDIDATES:
            return []
        assert self.trigger is not None
        found = self.candidates(launches, settings, now_ms=now_ms)
        if not found:
            return self._finish([self._proactive(None, now_ms, final=True)])
        chosen = found[0] if len(found) == 1 else self.rng.choice(found)
        self.chosen = chosen
        skill = chosen.skill
        match = Match(
            skill_id=skill.skill_id,
            launch=True,
            on_robot=skill.on_robot,
            is_proactive=True,
            skip_surprises=self.trigger.trigger_source == "SURPRISE",
        )
        if skill.on_robot:
            return self._finish([self._record(None), self._proactive(match, now_ms, final=True)])
        self.state = ProactiveState.SKILL
        self._skill_started_ms = now_ms
        request = ProactiveLaunch(
            msg_id=self.new_id(),
            ts=now_ms,
            data=SkillRequestData(
                general=self._general(),
                runtime=self.runtime_json(),
                skill={"id": skill.skill_id},
                result=SkillResult.proactive(chosen.proactive.get("memo")),
            ),
        )
        call = CallSkill(skill_id=skill.skill_id, kind=skill.kind, url=skill.url, request=request)
        return [self._proactive(match, now_ms, final=False), call]

    @guarded
    def history_failed(self, detail: str, *, now_ms: int) -> list[ProactiveOutput]:
        """No history: rules that need it cannot be checked, so they fail (nothing offered
        that we cannot justify); context-only candidates still count."""
        self._history_ok = False
        return self.history_loaded((), {}, now_ms=now_ms)

    @guarded
    def skill_replied(self, reply: Mapping[str, Any], *, now_ms: int) -> list[ProactiveOutput]:
        if self.state is not ProactiveState.SKILL:
            return []
        timings = {"total": self._total_ms(now_ms), "skill": now_ms - self._skill_started_ms}
        return self._finish(
            [self._record(reply), Forward(reply=reply, final=True, timings=timings)]
        )

    @guarded
    def skill_failed(self, code: ErrorCode, detail: str, *, now_ms: int) -> list[ProactiveOutput]:
        if self.state is not ProactiveState.SKILL:
            return []
        return self._error(detail, code, now_ms)

    # ----------------------------------------------------------------- helpers

    def _robot_id(self) -> str:
        ctx = self.context
        return self.identity.robot(ctx) or "unknown"

    def _general(self) -> dict[str, Any]:
        ctx = self.context
        return {
            "accountID": self.identity.account(ctx),
            "robotID": self._robot_id(),
            "lang": "en-US",
            "release": ctx.release if ctx else None,
            "remoteAddress": self.identity.remote_address,
        }

    def _proactive(self, match: Match | None, now_ms: int, *, final: bool) -> Send:
        return Send(
            Proactive(
                msg_id=self.new_id(),
                ts=now_ms,
                trans_id=self.trans_id,
                data=ProactiveData(match=match),
                final=final,
                timings={"total": self._total_ms(now_ms)},
            )
        )

    def _record(self, reply: Mapping[str, Any] | None) -> RecordLaunch:
        assert self.chosen is not None
        data = _obj(reply.get("data")) if reply is not None else {}
        session = _obj(_obj(data.get("skill")).get("session")).get("id")
        speaker = _obj(self.runtime_json().get("perception")).get("speaker")
        return RecordLaunch(
            SkillLaunchRecord(
                robot_id=self._robot_id(),
                session_id=session if isinstance(session, str) else None,
                skill_id=self.chosen.skill.skill_id,
                intent="proactive",
                person_ids=(speaker_id(speaker),),
            )
        )

    def _error(self, message: str, code: ErrorCode | None, now_ms: int) -> list[ProactiveOutput]:
        frame = error_reply(
            message,
            code,
            msg_id=self.new_id(),
            ts=now_ms,
            trans_id=self.trans_id,
            total_ms=self._total_ms(now_ms),
        )
        return self._finish([Send(frame)])

    def _finish(self, out: list[ProactiveOutput]) -> list[ProactiveOutput]:
        self.state = ProactiveState.DONE
        return out
