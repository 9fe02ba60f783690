"""The listen transaction (PROTOCOL.md §4.4) as a sans-IO state machine.

One socket carries one transaction. Robot messages and service answers go in; frames to send
and service calls to make come out, as lists of *outputs* (:mod:`protocol.transaction`,
shared with the proactive machine). The I/O layer
(:mod:`jibo_cloud.hub.listen`) pumps frames, runs the timers the machine asks for and performs
the calls, feeding each answer back (``parser_replied``, ``skill_replied``, ``timer_fired`` …).

States: ``WAIT_LISTEN → ASR | WAIT_CLIENT_ASR | WAIT_CLIENT_NLU → NLU → ROUTE → DONE``,
and ``STOP`` once an exception escaped (the machine then stays failed, as h11 does).

After the first ``final: true`` frame the machine is ``DONE``: later input produces nothing
and is counted in :attr:`ListenTransaction.dropped_after_final` (§4.5). If anything but the
robot's own error escapes a method, the machine is ``STOP`` for good and every later call
raises :class:`LocalProtocolError` (:func:`protocol.transaction.guarded`).

Service calls carry the typed :mod:`protocol.services` bodies (``ParseRequestData``,
``ListenLaunch``/``ListenUpdate``, ``SkillLaunchRecord``, ``SpeechRecord``); the I/O layer
encodes them.

Pure: no trio, no sockets, no clock reads, no id generation. ``now_ms`` is an argument and
ids come from the ``new_id`` factory given at construction.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from protocol.envelope import (
    MODE_CLIENT_ASR,
    MODE_CLIENT_NLU,
    MODE_SERVER_ASR,
    AsrConfig,
    AsrResult,
    ClientAsr,
    ClientNlu,
    Context,
    ContextData,
    Eos,
    ErrorData,
    HubMessage,
    Listen,
    ListenReply,
    ListenResult,
    Match,
    NluResult,
    RobotMessage,
    Sos,
)
from protocol.errors import ErrorCode, RemoteProtocolError
from protocol.routing import SkillKind, SkillMatch, SkillTable
from protocol.services import (
    ListenLaunch,
    ListenUpdate,
    ParseRequestData,
    SkillLaunchRecord,
    SkillRequestData,
    SkillResult,
    SpeechRecord,
)
from protocol.transaction import (
    ASR_TIMEOUT_MS,
    CONTEXT_TIMEOUT_MS,
    TIMER_ASR,
    TIMER_CONTEXT,
    TIMER_MAX_SPEECH,
    TIMER_SOS,
    TIMER_TRANSACTION,
    TRANSACTION_TIMEOUT_MS,
    CallParser,
    CallSkill,
    FeedAsr,
    FinishAsr,
    Forward,
    Identity,
    Machine,
    Output,
    RecordLaunch,
    RecordSpeech,
    Send,
    StartAsr,
    StartTimer,
    StopAsr,
    error_reply,
    guarded,
    speaker_id,
)

#: Defaults when LISTEN's ``asr`` block does not say (§4.3 shows 7000 / 20000).
DEFAULT_SOS_TIMEOUT_MS = 7_000
DEFAULT_MAX_SPEECH_TIMEOUT_MS = 20_000
#: §4.4: one redirect is allowed; a second is an error.
MAX_REDIRECTS = 1


class ListenState(enum.Enum):
    #: Socket open, waiting for the robot's LISTEN.
    WAIT_LISTEN = "WAIT_LISTEN"
    #: Server ASR is running on the audio frames.
    ASR = "ASR"
    #: LISTEN said CLIENT_ASR: waiting for the robot's text.
    WAIT_CLIENT_ASR = "WAIT_CLIENT_ASR"
    #: LISTEN said CLIENT_NLU: waiting for the robot's intent.
    WAIT_CLIENT_NLU = "WAIT_CLIENT_NLU"
    #: Have the text; waiting for CONTEXT and the parser.
    NLU = "NLU"
    #: Have the NLU; waiting for CONTEXT, or for the skill's reply.
    ROUTE = "ROUTE"
    #: A final frame went out; everything else is dropped.
    DONE = "DONE"
    #: An exception escaped; the machine refuses further input.
    STOP = "STOP"


S = ListenState
#: PROTOCOL.md §4.4: the robot messages each state accepts, and the handler's name.
#: A missing pair is the robot's error. CONTEXT is handled beside the table: it is
#: accepted in any live state, and "a second CONTEXT is ignored" (§4.4).
TRANSITIONS: dict[ListenState, dict[type[RobotMessage], str]] = {
    S.WAIT_LISTEN: {Listen: "_on_listen"},
    S.ASR: {ClientAsr: "_on_client_asr", ClientNlu: "_on_client_nlu"},
    S.WAIT_CLIENT_ASR: {ClientAsr: "_on_client_asr", ClientNlu: "_on_client_nlu"},
    S.WAIT_CLIENT_NLU: {ClientNlu: "_on_client_nlu", ClientAsr: "_on_client_asr"},
    # A screen tap after speech ended still wins over the parser (real turns do this).
    S.NLU: {ClientNlu: "_on_client_nlu"},
    S.ROUTE: {},
}


EMPTY_NLU = NluResult(intent=None, entities=None, rules=())
GARBAGE_NLU = NluResult(intent=None, entities={}, rules=())


def _timeout_text(ms: int, what: str) -> str:
    return f"Timeout of {ms} while waiting for {what}"


@attrs.define
class ListenTransaction(Machine):
    """One listen transaction. Create it when the socket opens; feed it everything.

    Args:
        skills: the routing table (manifests).
        new_id: makes ``msgID`` values for frames and service requests.
        identity: the token's ids, checked against CONTEXT (§4.4).
    """

    skills: SkillTable
    new_id: Callable[[], str]
    identity: Identity = attrs.field(factory=Identity)
    state: ListenState = ListenState.WAIT_LISTEN
    dropped_after_final: int = 0
    listen: Listen | None = None
    context: ContextData | None = None
    trans_id: str | None = None
    #: When LISTEN arrived (``now_ms``); None until then.
    started_ms: int | None = None
    asr: AsrResult | None = None
    nlu: NluResult | None = None
    match: SkillMatch | None = None
    asr_ms: int = -1
    nlu_ms: int = -1
    _stage_started_ms: int = 0
    _speech_started: bool = False
    _eos_sent: bool = False
    _last_partial: AsrResult | None = None
    _max_speech_hit: bool = False
    _parser_pending: bool = False
    _skill_pending: bool = False
    _redirects: int = 0
    _skill_started_ms: int = 0
    _error: ErrorData | None = None

    _STOP: ClassVar[enum.Enum] = S.STOP
    _DONE: ClassVar[enum.Enum] = S.DONE

    # ----------------------------------------------------------------- robot input

    @guarded
    def receive(self, msg: RobotMessage, *, now_ms: int) -> list[Output]:
        """Feed one decoded robot message.

        Raises:
            RemoteProtocolError: the robot sent a message the state does not allow; the
                caller answers with :meth:`fail` (which sends the final ERROR).
            LocalProtocolError: the machine already failed (``STOP``).
        """
        if self.state is S.DONE:
            self.dropped_after_final += 1
            return []
        if isinstance(msg, Context):
            return self._on_context(msg, now_ms)
        handler = TRANSITIONS[self.state].get(type(msg))
        if handler is None:
            raise RemoteProtocolError(f"can't handle {msg.type} in state {self.state.name}")
        out: list[Output] = getattr(self, handler)(msg, now_ms)
        return out

    @guarded
    def audio(self, chunk: bytes) -> list[Output]:
        """A binary frame: fed to the recogniser while ASR runs, else dropped (§4.4)."""
        if self.state is S.ASR:
            return [FeedAsr(chunk)]
        if self.state is S.DONE:
            self.dropped_after_final += 1
        return []

    @guarded
    def fail(self, exc: RemoteProtocolError, *, now_ms: int) -> list[Output]:
        """The robot misbehaved (or a frame did not decode): send the final ERROR."""
        if self.state is S.DONE:
            self.dropped_after_final += 1
            return []
        return self._error_out(exc.message, exc.code, now_ms)

    def _on_listen(self, msg: Listen, now_ms: int) -> list[Output]:
        self.listen = msg
        self.trans_id = msg.trans_id
        self.started_ms = self._stage_started_ms = now_ms
        mode = msg.data.effective_mode
        out: list[Output] = [StartTimer(TIMER_TRANSACTION, TRANSACTION_TIMEOUT_MS)]
        if mode in (MODE_CLIENT_ASR, MODE_CLIENT_NLU):
            self.state = S.WAIT_CLIENT_ASR if mode == MODE_CLIENT_ASR else S.WAIT_CLIENT_NLU
            out.append(self._send(Sos(**self._env(now_ms), timings={"total": -1})))
            return out
        if mode != MODE_SERVER_ASR:
            return out + self._error_out(f"Invalid value for mode '{mode}'", None, now_ms)
        self.state = S.ASR
        # [orig] ``asr: "FAKE"`` (or no asr block): the defaults below, same flow.
        cfg = msg.data.asr if isinstance(msg.data.asr, AsrConfig) else AsrConfig()
        out += [
            StartAsr(
                encoding=cfg.encoding or "OGG_OPUS",
                sample_rate=cfg.sample_rate or 16000,
                lang=msg.data.lang or "en-US",
                rules=msg.data.rules,
                hints=tuple(cfg.hints or ()),
            ),
            StartTimer(TIMER_SOS, cfg.sos_timeout or DEFAULT_SOS_TIMEOUT_MS),
            StartTimer(TIMER_ASR, ASR_TIMEOUT_MS),
        ]
        return out

    def _on_context(self, msg: Context, now_ms: int) -> list[Output]:
        if self.context is not None:
            return []  # §4.4: a second CONTEXT is ignored.
        data = msg.data
        for field, mine in (
            ("accountID", self.identity.account_id),
            ("robotID", self.identity.robot_id),
        ):
            theirs = data.account_id if field == "accountID" else data.robot_id
            if mine is not None and theirs is not None and theirs != mine:
                return self._error_out(
                    f"data.general.{field} is not equal to socket {field}", None, now_ms
                )
        self.context = data
        if self.state is S.NLU and not self._parser_pending and self.asr is not None:
            return self._call_parser(now_ms)
        if self.state is S.ROUTE and not self._skill_pending and self.nlu is not None:
            return self._route(now_ms)
        return []

    def _on_client_asr(self, msg: ClientAsr, now_ms: int) -> list[Output]:
        out: list[Output] = [StopAsr()] if self.state is S.ASR else []
        self.asr = AsrResult(text=msg.data.text, confidence=1)
        out += self._eos(now_ms, client=True)
        return out + self._to_nlu(now_ms)

    def _on_client_nlu(self, msg: ClientNlu, now_ms: int) -> list[Output]:
        out: list[Output] = [StopAsr()] if self.state is S.ASR else []
        self.asr = AsrResult(text="", confidence=1)
        self.asr_ms = self.nlu_ms = -1
        self._parser_pending = False  # a parser answer still on its way is ignored
        data = msg.data
        self.nlu = NluResult(intent=data.intent, entities=data.entities, rules=data.rules)
        out += self._eos(now_ms, client=True)
        self.state = S.ROUTE
        return out + self._after_nlu(now_ms)

    # ----------------------------------------------------------------- server ASR

    @guarded
    def asr_event(
        self, kind: str, *, text: str = "", confidence: float = 0.0, now_ms: int
    ) -> list[Output]:
        """A recogniser event: ``speech_start`` → SOS, ``speech_end`` → EOS, ``partial``."""
        if self.state is not S.ASR:
            return []
        if kind == "speech_start" and not self._speech_started:
            self._speech_started = True
            max_ms = DEFAULT_MAX_SPEECH_TIMEOUT_MS
            if self.listen is not None and isinstance(self.listen.data.asr, AsrConfig):
                max_ms = self.listen.data.asr.max_speech_timeout or max_ms
            return [self._send(Sos(**self._env(now_ms))), StartTimer(TIMER_MAX_SPEECH, max_ms)]
        if kind == "partial":
            self._last_partial = AsrResult(text=text, confidence=confidence)
            return []
        if kind == "speech_end" and not self._eos_sent:
            return [*self._eos(now_ms, client=False), FinishAsr()]
        return []

    @guarded
    def asr_result(
        self, text: str, confidence: float, annotation: str | None = None, *, now_ms: int
    ) -> list[Output]:
        """The recogniser's final answer (after :class:`FinishAsr`)."""
        if self.state is not S.ASR:
            return []
        if self._max_speech_hit:
            partial = self._last_partial
            if not text and partial is not None:
                text, confidence = partial.text, partial.confidence
            annotation = "MAX_SPEECH_TIMEOUT"
        self.asr = AsrResult(text=text, confidence=confidence, annotation=annotation)
        self.asr_ms = now_ms - self._stage_started_ms
        out: list[Output] = [StopAsr()]
        if annotation == "GARBAGE":
            # §4.4: final LISTEN, match null, parser not called.
            self.nlu = GARBAGE_NLU
            return out + self._final_listen(None, now_ms)
        return out + self._to_nlu(now_ms)

    @guarded
    def asr_failed(self, detail: str, *, now_ms: int) -> list[Output]:
        if self.state is not S.ASR:
            return []
        return [StopAsr(), *self._error_out(detail, ErrorCode.ASR, now_ms)]

    # ----------------------------------------------------------------- timers

    @guarded
    def timer_fired(self, name: str, *, now_ms: int) -> list[Output]:
        """A timer the machine started has run out; stale timers do nothing."""
        if self.state is S.DONE:
            return []
        if name == TIMER_TRANSACTION:
            msg = _timeout_text(TRANSACTION_TIMEOUT_MS, "the transaction to finish")
            return [StopAsr(), *self._error_out(msg, ErrorCode.TIMEOUT_TRANSACTION, now_ms)]
        if name == TIMER_CONTEXT and self.context is None and self.state in (S.NLU, S.ROUTE):
            return self.context_timed_out(now_ms=now_ms)
        if self.state is not S.ASR:
            return []
        if name == TIMER_SOS and not self._speech_started:
            # §4.4: no speech → empty result, no SOS/EOS, routing continues.
            self.asr = AsrResult(text="", confidence=0, annotation="SOS_TIMEOUT")
            self.asr_ms = now_ms - self._stage_started_ms
            return [StopAsr(), *self._to_nlu(now_ms)]
        if name == TIMER_MAX_SPEECH and not self._max_speech_hit:
            self._max_speech_hit = True
            return [*self._eos(now_ms, client=False), FinishAsr()]
        if name == TIMER_ASR:
            msg = _timeout_text(ASR_TIMEOUT_MS, "the speech recognition")
            return [StopAsr(), *self._error_out(msg, ErrorCode.ASR, now_ms)]
        return []

    @guarded
    def context_timed_out(self, *, now_ms: int) -> list[Output]:
        if self.context is not None or self.state is S.DONE:
            return []
        msg = _timeout_text(CONTEXT_TIMEOUT_MS, "the context message")
        return self._error_out(msg, ErrorCode.TIMEOUT_CONTEXT, now_ms)

    # ----------------------------------------------------------------- parser

    def _to_nlu(self, now_ms: int) -> list[Output]:
        self.state = S.NLU
        self._stage_started_ms = now_ms
        if self.context is None:
            return [StartTimer(TIMER_CONTEXT, CONTEXT_TIMEOUT_MS)]
        return self._call_parser(now_ms)

    def _call_parser(self, now_ms: int) -> list[Output]:
        assert self.asr is not None
        assert self.listen is not None
        assert self.context is not None
        self._parser_pending = True
        self._stage_started_ms = now_ms
        request = ParseRequestData(
            text=self.asr.text,
            rules=tuple(self.listen.data.rules),
            loop={"users": [dict(u) for u in self.context.users]},
            external=self.listen.data.agents,
        )
        return [CallParser(request)]

    @guarded
    def parser_replied(self, nlu: Mapping[str, Any], *, now_ms: int) -> list[Output]:
        """The parser's ``{intent, entities, rules}``."""
        if self.state is not S.NLU or not self._parser_pending:
            return []
        self._parser_pending = False
        intent = nlu.get("intent")
        entities = nlu.get("entities")
        rules = nlu.get("rules")
        self.nlu = NluResult(
            intent=intent if isinstance(intent, str) else None,
            entities=entities if isinstance(entities, Mapping) else None,
            rules=tuple(str(r) for r in rules) if isinstance(rules, list | tuple) else (),
        )
        self.nlu_ms = now_ms - self._stage_started_ms
        self.state = S.ROUTE
        return self._after_nlu(now_ms)

    @guarded
    def parser_failed(self, detail: str, *, now_ms: int) -> list[Output]:
        if self.state is not S.NLU:
            return []
        return self._error_out(detail, ErrorCode.PARSER, now_ms)

    # ----------------------------------------------------------------- routing and skills

    def _after_nlu(self, now_ms: int) -> list[Output]:
        if self.context is None:
            return [StartTimer(TIMER_CONTEXT, CONTEXT_TIMEOUT_MS)]
        return self._route(now_ms)

    def _route(self, now_ms: int) -> list[Output]:
        assert self.nlu is not None
        assert self.context is not None
        assert self.listen is not None
        nlu = self.nlu
        match = None
        # §4.4: a skill launches only if the intent is set and the rules contain "launch".
        if nlu.intent and "launch" in nlu.rules:
            match = self.skills.route(nlu.intent, nlu.entities)
        running = self.context.skill_id
        if match is None and running and not self.listen.data.hotphrase:
            match = self.skills.update_match(running)
        self.match = match
        if match is None:
            return self._final_listen(None, now_ms)
        if match.on_robot:
            return self._final_listen(match, now_ms)
        out: list[Output] = [self._listen_frame(match, now_ms, final=False)]
        skill = self.skills.get(match.skill_id)
        if skill is None:
            return out + self._error_out(
                f"Skill not found: {match.skill_id}", ErrorCode.SKILL_NOT_FOUND, now_ms
            )
        memo = match.memo if match.launch else None
        call = self._skill_call(skill.skill_id, skill.kind, skill.url, match.launch, memo, now_ms)
        return [*out, call]

    def _skill_call(
        self, skill_id: str, kind: SkillKind, url: str, launch: bool, memo: Any, now_ms: int
    ) -> CallSkill:
        assert self.context is not None
        assert self.asr is not None
        assert self.nlu is not None
        ctx = self.context
        skill: dict[str, Any] = {"id": skill_id}
        if not launch and ctx.skill_session is not None:
            skill["session"] = dict(ctx.skill_session)
        data = SkillRequestData(
            general=self._general(),
            runtime=dict(ctx.runtime or {}),
            skill=skill,
            result=SkillResult(nlu=self.nlu, asr=self.asr, memo=memo),
        )
        self._skill_pending = True
        self._skill_started_ms = now_ms
        kind_of = ListenLaunch if launch else ListenUpdate
        request = kind_of(msg_id=self.new_id(), ts=now_ms, data=data)
        return CallSkill(skill_id=skill_id, kind=kind, url=url, request=request)

    def _general(self) -> dict[str, Any]:
        ctx = self.context
        assert ctx is not None
        assert self.listen is not None
        return {
            "accountID": self.identity.account(ctx),
            "robotID": self.identity.robot(ctx),
            "lang": self.listen.data.lang or "en-US",
            "release": ctx.release,
            "remoteAddress": self.identity.remote_address,
        }

    @guarded
    def skill_replied(self, reply: Mapping[str, Any], *, now_ms: int) -> list[Output]:
        """A skill's §5 reply (any ``type``): forwarded verbatim with ``final: true``, or a
        ``SKILL_REDIRECT`` followed as §4.4 says."""
        if self.state is not S.ROUTE or not self._skill_pending:
            return []
        self._skill_pending = False
        timings = {"total": self._total_ms(now_ms), "skill": now_ms - self._skill_started_ms}
        if reply.get("type") == "SKILL_REDIRECT":
            return self._redirect(reply, timings, now_ms)
        out: list[Output] = [self._record_launch(reply)]
        return out + self._finish([Forward(reply=reply, final=True, timings=timings)], now_ms)

    def _redirect(
        self, reply: Mapping[str, Any], timings: Mapping[str, float], now_ms: int
    ) -> list[Output]:
        data = reply.get("data")
        match = data.get("match") if isinstance(data, Mapping) else None
        target = match.get("skillID") if isinstance(match, Mapping) else None
        if not isinstance(data, Mapping) or not isinstance(match, Mapping):
            return self._error_out("Invalid SKILL_REDIRECT from skill", ErrorCode.GENERAL, now_ms)
        if not isinstance(target, str):
            return self._error_out("Invalid SKILL_REDIRECT from skill", ErrorCode.GENERAL, now_ms)
        self._redirects += 1
        if self._redirects > MAX_REDIRECTS:
            return self._error_out("Too many redirects", ErrorCode.GENERAL, now_ms)
        skill = self.skills.get(target)
        on_robot = bool(match.get("onRobot", True)) if skill is None else skill.on_robot
        fixed = {
            **dict(data),
            "match": {**dict(match), "skillID": target, "launch": True, "onRobot": on_robot},
        }
        forwarded = {**dict(reply), "data": fixed}
        self.match = SkillMatch(skill_id=target, launch=True, on_robot=on_robot)
        if on_robot:
            forward = Forward(reply=forwarded, final=True, timings=timings)
            return self._finish([self._record_launch(None), forward], now_ms)
        if skill is None:
            return self._error_out(f"Skill not found: {target}", ErrorCode.SKILL_NOT_FOUND, now_ms)
        nlu, asr = data.get("nlu"), data.get("asr")
        if isinstance(nlu, Mapping):
            self.nlu = NluResult(
                intent=nlu.get("intent") if isinstance(nlu.get("intent"), str) else None,
                entities=nlu.get("entities") if isinstance(nlu.get("entities"), Mapping) else None,
                rules=tuple(str(r) for r in nlu.get("rules") or ()),
            )
        if isinstance(asr, Mapping) and isinstance(asr.get("text"), str):
            conf = asr.get("confidence")
            self.asr = AsrResult(
                text=asr["text"], confidence=conf if isinstance(conf, int | float) else 1
            )
        call = self._skill_call(target, skill.kind, skill.url, True, data.get("memo"), now_ms)
        return [Forward(reply=forwarded, final=False, timings=timings), call]

    @guarded
    def skill_failed(self, code: ErrorCode, detail: str, *, now_ms: int) -> list[Output]:
        if self.state is not S.ROUTE or not self._skill_pending:
            return []
        self._skill_pending = False
        return self._error_out(detail, code, now_ms)

    # ----------------------------------------------------------------- frames

    def _env(self, now_ms: int) -> dict[str, Any]:
        return {"msg_id": self.new_id(), "ts": now_ms, "trans_id": self.trans_id}

    def _eos(self, now_ms: int, *, client: bool) -> list[Output]:
        """EOS once per transaction; client modes carry ``timings.total: -1`` (§4.4)."""
        if self._eos_sent:
            return []
        self._eos_sent = True
        timings = {"total": -1} if client else None
        return [Send(Eos(**self._env(now_ms), timings=timings))]

    def _send(self, message: HubMessage) -> Send:
        return Send(message)

    def _listen_frame(self, match: SkillMatch | None, now_ms: int, *, final: bool) -> Send:
        assert self.asr is not None
        assert self.nlu is not None
        wire_match = (
            Match(skill_id=match.skill_id, launch=match.launch, on_robot=match.on_robot)
            if match is not None
            else None
        )
        return Send(
            ListenReply(
                **self._env(now_ms),
                data=ListenResult(asr=self.asr, nlu=self.nlu, match=wire_match),
                final=final,
                timings={"total": self._total_ms(now_ms), "asr": self.asr_ms, "nlu": self.nlu_ms},
            )
        )

    def _final_listen(self, match: SkillMatch | None, now_ms: int) -> list[Output]:
        out: list[Output] = [self._listen_frame(match, now_ms, final=True)]
        if match is not None:
            out.insert(0, self._record_launch(None))
        return self._finish(out, now_ms)

    def _record_launch(self, reply: Mapping[str, Any] | None) -> RecordLaunch:
        assert self.match is not None
        assert self.context is not None
        session = None
        data = reply.get("data") if reply is not None else None
        if isinstance(data, Mapping):
            skill = data.get("skill")
            sess = skill.get("session") if isinstance(skill, Mapping) else None
            session = sess.get("id") if isinstance(sess, Mapping) else None
        return RecordLaunch(
            SkillLaunchRecord(
                robot_id=self.identity.robot(self.context),
                session_id=session if isinstance(session, str) else None,
                skill_id=self.match.skill_id,
                intent=self.nlu.intent if self.nlu is not None else None,
                person_ids=(speaker_id(self.context.speaker),),
            )
        )

    def _error_out(self, message: str, code: ErrorCode | None, now_ms: int) -> list[Output]:
        frame = error_reply(
            message,
            code,
            msg_id=self.new_id(),
            ts=now_ms,
            trans_id=self.trans_id,
            total_ms=self._total_ms(now_ms),
        )
        self._error = frame.data
        return self._finish([Send(frame)], now_ms)

    def _finish(self, out: list[Output], now_ms: int) -> list[Output]:
        self.state = S.DONE
        return [*out, RecordSpeech(self._speech_record(now_ms))] if self.listen else out

    def _speech_record(self, now_ms: int) -> SpeechRecord:
        error = self._error
        return SpeechRecord(
            robot_id=self.identity.robot(self.context),
            account_id=self.identity.account(self.context),
            trans_id=self.trans_id,
            timestamp=now_ms,
            audio_file_url=None,
            asr=_asr_json(self.asr) if self.asr else None,
            nlu=_nlu_json(self.nlu) if self.nlu else None,
            match=self.match.to_json() if self.match else None,
            skill=self.context.skill_id if self.context else None,
            redirect=True if self._redirects else None,
            error={"message": error.message, "code": error.code} if error is not None else None,
        )


def _nlu_json(nlu: NluResult) -> dict[str, Any]:
    return {
        "intent": nlu.intent,
        "entities": dict(nlu.entities) if nlu.entities is not None else None,
        "rules": list(nlu.rules),
    }


def _asr_json(asr: AsrResult) -> dict[str, Any]:
    out: dict[str, Any] = {"text": asr.text, "confidence": asr.confidence}
    if asr.annotation is not None:
        out["annotation"] = asr.annotation
    return out


__all__ = [
    "TRANSITIONS",
    "ListenState",
    "ListenTransaction",
]
