"""The embedded recogniser with its decoding in worker processes: both cores for speech.

pocketsphinx's binding holds the GIL while it decodes, so in-process decoding uses one core
at most (:mod:`jibo_cloud.speech.sphinx`). Here each of ``processes`` worker processes
(:mod:`jibo_cloud.speech.worker`, multiprocessing *spawn* context) owns its own decoder pools,
and every turn is pinned to one of them: the least loaded when the turn opens.

What stays in the server process: decoding the robot's Opus pages and the voice detector
(:class:`jibo_cloud.speech.front.SpeechFront`, in a worker thread), so SOS/EOS timing is the
same as on the thread path; and the per-robot speaker states
(:class:`jibo_cloud.speech.speakers.SpeakerStates`): a turn's starting state travels with its
:class:`~jibo_cloud.speech.messages.Open` message and an accepted turn's state comes back with
the :class:`~jibo_cloud.speech.messages.Result` (~100 bytes each way). Keeping states here
rather than pinning a robot to a worker by a hash of its id keeps placement free to follow the
load: one busy robot (or a benchmark's many sockets with one token) never piles onto one core,
and a replaced worker loses no robot's state. Only speech PCM crosses the pipe (32 kB per
second of speech); silence before speech never does.

I/O discipline: nothing blocks on a pipe except one sender thread per worker. Messages are
put on the worker's outbox (never blocks) and that thread writes them in order; a worker
that falls behind (a long fallback decode, or the OS giving its core to someone else) fills
its 64 kB pipe within a quarter second at 8 turns, and then only its sender waits, not the
front-end threads every turn shares, nor the trio thread. Replies are read by one task per
worker after :func:`trio.lowlevel.wait_readable` says the pipe has data (a reply is one small
pickle, written in one ``write``, so it is whole once readable).

Whisper (:mod:`jibo_cloud.speech.whisper`): before the workers start, the model is found or
joined and verified (:func:`jibo_cloud.speech.whisper_model.prepare_model`, in a thread); each
worker loads it once. A missing or corrupt model is one log line and pocketsphinx alone. A
turn may use Whisper only while its worker has fewer than
:attr:`~jibo_cloud.speech.policy.DecodePolicy.whisper_queue` Whisper decodes
waiting (a bounded queue: each costs ~0.3-0.5 s of a core); past that the grammar path
decides, with a log line and :attr:`ProcessRecognizer.whisper_overflows` counting it.

Failure: a worker that dies (killed, crashed) closes its pipe; its reader reaps it, starts a
replacement and moves the turns pinned to it to a live worker (the session keeps its speech
PCM, at most :data:`REHOME_SECONDS`): they are still answered, by the grammar path (a turn
whose Whisper decode killed a worker must not kill the next one). With no live worker left
they fail with ``UpstreamError("asr", …)`` (the hub's ``ERROR {code: "ASR"}``). Turns on
other workers are unaffected.

Lifetime: the workers start with the first turn, owned by a trio system task; they stop on
:meth:`ProcessRecognizer.aclose` or when the trio run ends (the system task is cancelled),
and a worker also exits by itself when the server's end of its pipe closes (so not even a
killed server leaves one behind). If no process can be started, turns decode in threads
(:class:`jibo_cloud.speech.sphinx.PocketsphinxRecognizer`) instead.
"""

from __future__ import annotations

import functools
import itertools
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

import attrs
import trio

from jibo_cloud.errors import UpstreamError
from jibo_cloud.services import AsrEvent, AsrRequest, AsrResult
from jibo_cloud.speech.decode import AudioError, open_decoder
from jibo_cloud.speech.front import SpeechFront
from jibo_cloud.speech.messages import (
    Close,
    Error,
    Finish,
    FromWorker,
    Open,
    Pcm,
    Ready,
    Result,
    ToWorker,
)
from jibo_cloud.speech.policy import DEFAULT_POLICY, DecodePolicy
from jibo_cloud.speech.search import effective_rules
from jibo_cloud.speech.session import StreamingSession
from jibo_cloud.speech.speakers import SpeakerState, SpeakerStates
from jibo_cloud.speech.sphinx import PocketsphinxRecognizer, SphinxSession
from jibo_cloud.speech.whisper_model import ModelError, WhisperModelInfo
from jibo_cloud.speech.worker import serve_worker

log = logging.getLogger(__name__)

#: How long a stopping worker may take to exit after its pipe closes, before it is terminated.
STOP_SECONDS = 2.0
#: The text of the ASR error a turn gets when its worker process dies.
WORKER_DIED = "the recogniser's worker process stopped"
#: Workers in a row that may die before saying they are ready before no more are started.
MAX_FAILED_STARTS = 3
#: Speech a turn keeps in the server, to be moved to another worker if its own dies (the
#: grammar hears at most this much of a moved turn).
REHOME_SECONDS = 8.0


@attrs.define(eq=False)
class Worker:
    """One decoder worker process, the server's end of its pipe and the thread writing it."""

    index: int
    process: BaseProcess
    conn: Connection
    #: Messages for the worker, in order; None stops the sender thread.
    outbox: queue.SimpleQueue[ToWorker | None] = attrs.field(factory=queue.SimpleQueue)
    sender: threading.Thread | None = None
    #: The worker said it is ready (its decoders are built).
    ready: bool = False
    #: Turns pinned here that still wait for the worker (dropped on reply or close).
    sessions: dict[int, ProcessSession] = attrs.field(factory=dict)
    alive: bool = True
    #: Set when stopping: the sender drops what is still queued instead of writing it.
    stopping: bool = False
    #: The worker decodes with Whisper (told to load it, and did not report a failure).
    whisper: bool = False
    #: Turns whose Whisper decode was allowed and that the worker has not answered yet.
    whisper_sids: set[int] = attrs.field(factory=set)
    #: When it was started (trio clock), for the "ready in" log line.
    started: float = 0.0
    #: Turns told to finish that the worker has not answered yet (its decision queue; it
    #: serves messages in order, one at a time).
    finishing: set[int] = attrs.field(factory=set)

    def post(self, message: ToWorker) -> None:
        """Queue one message for the worker (never blocks)."""
        self.outbox.put(message)

    def run_sender(self) -> None:
        """The sender thread: write queued messages until told to stop or the pipe breaks.

        A broken pipe means the worker died; its reader task sees the end of the pipe and
        fails the turns, so here the rest is dropped.
        """
        while (message := self.outbox.get()) is not None:
            if self.stopping:
                continue
            try:
                self.conn.send(message)
            except OSError:
                return


def spawn_worker(index: int, target: Callable[..., None] = serve_worker) -> Worker:
    """Start worker process ``index`` (blocking: call from a worker thread). Raises OSError.

    Args:
        target: the worker's main function (tests pass a broken one); it must be importable
            by a fresh interpreter (spawn).
    """
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe(duplex=True)
    process = context.Process(target=target, args=(theirs,), name=f"jibo-asr-{index}", daemon=True)
    try:
        process.start()
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()  # only the child holds its end: its exit reads as EOF here
    worker = Worker(index=index, process=process, conn=ours)
    worker.sender = threading.Thread(
        target=worker.run_sender, name=f"jibo-asr-{index} sender", daemon=True
    )
    worker.sender.start()
    return worker


def stop_workers(workers: Sequence[Worker]) -> None:
    """Close the pipes (a worker exits on EOF), then make sure each is gone (blocking).

    At most about ``2 * STOP_SECONDS``: a worker still busy decoding after ``STOP_SECONDS``
    is terminated, and killed if that does not work either.
    """
    for worker in workers:
        worker.alive, worker.stopping = False, True
        worker.outbox.put(None)
    for worker in workers:
        if worker.sender is not None:
            worker.sender.join(STOP_SECONDS)
            if worker.sender.is_alive():  # stuck writing to a hung worker's full pipe
                worker.process.terminate()
                worker.sender.join()
        worker.conn.close()
    for worker in workers:
        worker.process.join(STOP_SECONDS)
    for worker in workers:
        if worker.process.is_alive():
            worker.process.terminate()
            worker.process.join(STOP_SECONDS)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()


def _front_limiter(recognizer: ProcessRecognizer) -> trio.CapacityLimiter:
    # Opus decoding and the voice detector hold the GIL most of the time: more threads than
    # workers would only queue on it.
    return trio.CapacityLimiter(recognizer.processes)


@attrs.define(eq=False)
class ProcessRecognizer:
    """The embedded :class:`jibo_cloud.services.Recognizer`, decoding in worker processes.

    Args:
        processes: how many worker processes (``JIBO_ASR_PROCESSES``); at least 1.
    """

    processes: int = attrs.field(validator=attrs.validators.ge(1))
    speakers: SpeakerStates = attrs.field(factory=SpeakerStates)
    #: The workers' main function (see :func:`spawn_worker`).
    target: Callable[..., None] = serve_worker
    #: Finds (or joins and verifies) the Whisper model; None or returning None: no Whisper.
    #: Blocking file work: it runs in a thread. Raises ModelError when missing or corrupt.
    whisper_model: Callable[[], WhisperModelInfo | None] | None = None
    #: How the workers decide (sent to each), and how many Whisper decodes may wait per worker.
    policy: DecodePolicy = DEFAULT_POLICY
    #: Turns decided by the grammar path because the Whisper queue was full.
    whisper_overflows: int = attrs.field(init=False, default=0)
    #: The model the workers loaded (None: pocketsphinx alone), once they are ready.
    whisper_info: WhisperModelInfo | None = attrs.field(init=False, default=None)
    #: Front-end threads (Opus decoding, the voice detector).
    front_limiter: trio.CapacityLimiter = attrs.field(
        default=attrs.Factory(_front_limiter, takes_self=True)
    )
    _workers: list[Worker | None] = attrs.field(init=False)
    _fallback: PocketsphinxRecognizer | None = attrs.field(init=False, default=None)
    _started: bool = attrs.field(init=False, default=False)
    _closed: bool = attrs.field(init=False, default=False)
    _ready: trio.Event = attrs.field(init=False, factory=trio.Event)
    _stopped: trio.Event = attrs.field(init=False, factory=trio.Event)
    _owner: trio.CancelScope = attrs.field(init=False, factory=trio.CancelScope)
    _sids: itertools.count[int] = attrs.field(init=False, factory=lambda: itertools.count(1))
    _turn: int = attrs.field(init=False, default=0)
    _failed_starts: int = attrs.field(init=False, default=0)
    _target: Callable[..., None] | None = attrs.field(init=False, default=None)
    _whisper_error_logged: bool = attrs.field(init=False, default=False)

    def __attrs_post_init__(self) -> None:
        self._workers = [None] * self.processes

    # ----------------------------------------------------------------- the Recognizer API

    async def open_session(self, request: AsrRequest) -> ProcessSession | SphinxSession:
        """Open a turn on the least loaded worker (starting the workers on first use).

        Raises:
            UpstreamError: ``asr``, for an unknown encoding, or when no worker can take it.
        """
        try:
            audio = open_decoder(request.encoding, request.sample_rate)
        except AudioError as exc:
            raise UpstreamError("asr", str(exc)) from None
        await self._start()
        if self._fallback is not None:
            return await self._fallback.open_session(request)
        worker = self._pick()
        if worker is None:
            raise UpstreamError("asr", "no recogniser worker process is running")
        sid = next(self._sids)
        session = ProcessSession(self, request, SpeechFront(audio), worker, sid)
        worker.sessions[sid] = session
        session.move_to(worker, self.speakers.start(request.robot_id))
        return session

    async def aclose(self) -> None:
        """Stop the worker processes (waits until they are gone); idempotent.

        Turns still open get the ``ASR`` error.
        """
        self._closed = True
        if not self._started:
            return
        self._owner.cancel()
        await self._stopped.wait()

    @property
    def decoding_in_threads(self) -> bool:
        """True once worker processes could not be started (or kept dying at start-up)."""
        return self._fallback is not None

    async def warm_up(self) -> None:
        """Start the workers now and wait until each has built its decoders and loaded the
        model (else the first turn after start-up pays for it: seconds with Whisper).

        Turns may open meanwhile: they are pinned to a worker at once and wait (in its pipe)
        until it is ready. Raises ``UpstreamError`` when the recogniser is shut down first.
        """
        await self._start()
        while not self._warm():
            if self._fallback is not None or self._closed:
                return
            await trio.sleep(0.05)

    def _warm(self) -> bool:
        """Every worker slot holds a ready (or dead) worker, or a dead one that will not be
        replaced (too many failed starts)."""
        gave_up = self._failed_starts >= MAX_FAILED_STARTS
        return all(
            (w is None and gave_up) or (w is not None and (w.ready or not w.alive))
            for w in self._workers
        )

    def workers_ready(self) -> int:
        """Live workers that have built their decoders and loaded their models."""
        return sum(1 for w in self._workers if w is not None and w.alive and w.ready)

    def queue_depth(self) -> int:
        """Whisper decodes waiting or running in the live workers (the operator port's
        ``jibo_recognizer_queue_depth`` gauge reads it at scrape time)."""
        return sum(len(w.whisper_sids) for w in self._workers if w is not None and w.alive)

    @property
    def whisper_ready(self) -> bool:
        """Whether some live worker decodes with Whisper."""
        return any(w is not None and w.alive and w.whisper for w in self._workers)

    def worker_pids(self) -> list[int]:
        """The live workers' process ids (for tests and operators' tools)."""
        return [w.process.pid for w in self._workers if w is not None and w.alive and w.process.pid]

    # ----------------------------------------------------------------- the workers' owner

    async def _start(self) -> None:
        if self._closed:
            raise UpstreamError("asr", "the recogniser is shut down")
        if not self._started:
            self._started = True
            trio.lowlevel.spawn_system_task(self._own_workers, name="jibo speech workers")
        await self._ready.wait()
        if self._closed:
            raise UpstreamError("asr", "the recogniser is shut down")

    def _pick(self) -> Worker | None:
        alive = [w for w in self._workers if w is not None and w.alive]
        if not alive:
            return None
        self._turn += 1
        n = len(self._workers)
        return min(alive, key=lambda w: (len(w.sessions), (w.index - self._turn) % n))

    async def _own_workers(self) -> None:
        """Start the workers, read their replies, replace dead ones; stop them all on exit.

        A system task: it lives as long as the trio run unless :meth:`aclose` ends it first.
        """
        try:
            with self._owner:
                self._target = await self._worker_target()
                async with trio.open_nursery() as nursery:
                    for index in range(self.processes):
                        await self._start_worker(nursery, index)
                    log.info("speech: %d decoder worker processes", self.processes)
                    self._ready.set()
        except Exception:
            # A system task's exception would end the whole server; speech falls back to
            # decoding in threads instead, and the traceback says why.
            log.exception("speech: decoder processes failed; decoding in threads from now on")
            self._fallback = PocketsphinxRecognizer(speakers=self.speakers, policy=self.policy)
        finally:
            if self._fallback is None:
                self._closed = True
            self._ready.set()
            workers = [w for w in self._workers if w is not None]
            self._workers = [None] * self.processes
            with trio.move_on_after(3 * STOP_SECONDS, shield=True):
                await trio.to_thread.run_sync(stop_workers, workers)
            for worker in workers:
                for session in list(worker.sessions.values()):
                    session.worker_failed("the recogniser is shut down")
                worker.sessions.clear()
            self._stopped.set()

    async def _worker_target(self) -> Callable[..., None]:
        """The workers' main function, told the policy and which Whisper model to load."""
        target = functools.partial(self.target, policy=self.policy)
        if self.whisper_model is None:
            return target
        try:
            info = await trio.to_thread.run_sync(self.whisper_model)
        except (ModelError, OSError) as exc:
            log.error("speech: no Whisper model, pocketsphinx alone: %s", exc)
            return target
        if info is None:
            log.info("speech: Whisper is off (JIBO_WHISPER_MODEL), pocketsphinx alone")
            return target
        self.whisper_info = info
        threads = max(1, (os.cpu_count() or 1) // self.processes)
        return functools.partial(target, whisper=str(info.path), threads=threads)

    async def _start_worker(self, nursery: trio.Nursery, index: int) -> None:
        target = self._target or self.target
        started = trio.current_time()
        worker = await trio.to_thread.run_sync(spawn_worker, index, target)
        worker.started = started
        # Until it says otherwise (ready), a worker told to load Whisper is counted on to have
        # it: it reads messages in order, so a turn's finish waits for the model to load.
        worker.whisper = self.whisper_info is not None
        self._workers[index] = worker
        nursery.start_soon(self._read_replies, nursery, worker)

    async def _read_replies(self, nursery: trio.Nursery, worker: Worker) -> None:
        """Deliver one worker's replies until its pipe ends; then replace the worker."""
        fd = worker.conn.fileno()
        while True:
            await trio.lowlevel.wait_readable(fd)
            try:
                message: FromWorker = worker.conn.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, Ready):
                worker.ready, self._failed_starts = True, 0
                self._whisper_loaded(worker, message)
                log.info(
                    "speech: decoder worker %d ready in %.1f s (%s)",
                    worker.index,
                    trio.current_time() - worker.started,
                    "Whisper and pocketsphinx" if worker.whisper else "pocketsphinx",
                )
                continue
            worker.whisper_sids.discard(message.sid)
            worker.finishing.discard(message.sid)
            session = worker.sessions.pop(message.sid, None)
            if session is not None:
                session.worker_replied(message)
        worker.alive = False
        if not worker.ready:
            self._failed_starts += 1
        moved = list(worker.sessions.values())
        worker.sessions.clear()
        await trio.to_thread.run_sync(stop_workers, [worker])
        log.warning(
            "speech: decoder worker %d stopped (exit code %s); %d turn(s) on it move to "
            "another worker",
            worker.index,
            worker.process.exitcode,
            len(moved),
        )
        self._workers[worker.index] = None
        try:
            await self._replace(nursery, worker)
        finally:
            for session in moved:
                self._rehome(session)

    def _rehome(self, session: ProcessSession) -> None:
        """Move a dead worker's turn to a live one, or fail it with ``ASR`` if none is left."""
        target = None if self._closed else self._pick()
        if target is None:
            session.worker_failed(WORKER_DIED)
            return
        target.sessions[session.sid] = session
        session.move_to(target, self.speakers.start(session.robot_id))

    def _whisper_loaded(self, worker: Worker, message: Ready) -> None:
        error = message.whisper_error
        worker.whisper = self.whisper_info is not None and error is None
        if error is not None and not self._whisper_error_logged:
            self._whisper_error_logged = True
            log.error("speech: the Whisper model did not load, pocketsphinx alone: %s", error)

    def finish_place(self, session: ProcessSession) -> Worker:
        """The worker a finishing turn should decide on: its own, or a less busy one.

        Turns are pinned when they open, but their cost comes after EOS (Whisper, the second
        grammar opinion), and a burst of turns that opened together lands unevenly (a worker
        with all the open sentences). An open turn (not streamed through a grammar: nothing
        is lost by moving it) whose worker has more decisions waiting than another live
        Whisper worker moves there with its speech, when the server kept all of it.
        """
        worker = session.worker
        if not (worker.whisper and session.movable):
            return worker
        others = [
            w
            for w in self._workers
            if w is not None and w.alive and w.ready and w.whisper and w is not worker
        ]
        if not others:
            return worker
        best = min(others, key=lambda w: len(w.finishing))
        return best if len(best.finishing) < len(worker.finishing) else worker

    def allow_whisper(self, worker: Worker, session: ProcessSession) -> tuple[bool, bool]:
        """(may use Whisper, decide quickly) for a turn finishing on ``worker``.

        Past :attr:`~jibo_cloud.speech.policy.DecodePolicy.whisper_queue` Whisper decodes
        waiting, the turn is decided by the cheapest path (logged, counted): a turn streamed
        through its grammar (yes/no, menus) by that grammar's answer; an open turn by
        Whisper's words without the grammar's second opinion, since a launch-grammar pass
        costs more CPU than Whisper. The caller adds its sid to ``worker.whisper_sids``; the
        reader removes it on the reply.
        """
        if not worker.whisper:
            return False, False
        if len(worker.whisper_sids) >= self.policy.whisper_queue:
            self.whisper_overflows += 1
            log.warning(
                "speech: Whisper queue of worker %d full (%d waiting); %s decides this turn "
                "(%d so far)",
                worker.index,
                len(worker.whisper_sids),
                "Whisper alone" if session.movable else "the grammar",
                self.whisper_overflows,
            )
            return session.movable, True
        return True, False

    async def _replace(self, nursery: trio.Nursery, worker: Worker) -> None:
        """Start a replacement for a dead worker (unless shutting down or a broken install)."""
        if self._closed:
            return
        if self._failed_starts >= MAX_FAILED_STARTS:
            # Dying before it could decode anything, again and again: a broken install, not a
            # bad turn. Replacing it forever would only burn CPU.
            log.error(
                "speech: %d decoder workers in a row died while starting; not replacing them",
                self._failed_starts,
            )
            if not any(w is not None and w.alive for w in self._workers):
                log.error("speech: no decoder worker left; decoding in threads from now on")
                self._fallback = PocketsphinxRecognizer(speakers=self.speakers, policy=self.policy)
            return
        try:
            await self._start_worker(nursery, worker.index)
        except OSError as exc:
            log.warning("speech: cannot replace decoder worker %d: %s", worker.index, exc)


class ProcessSession(StreamingSession):
    """One turn pinned to a worker process (see :class:`jibo_cloud.services.AsrSession`)."""

    def __init__(
        self,
        engine: ProcessRecognizer,
        request: AsrRequest,
        front: SpeechFront,
        worker: Worker,
        sid: int,
    ) -> None:
        self._engine = engine
        self._request = request
        self._front = front
        self._worker = worker
        self.sid = sid
        self._done = False
        self._closed = False
        #: Set when the worker answered (result or error) or died.
        self._replied = trio.Event()
        self._result: AsrResult | None = None
        self._speaker: SpeakerState | None = None
        self._error: str | None = None
        #: Whether the answer came through Whisper (for tests and the bench).
        self.whispered = False
        #: Times the turn moved to a less busy worker to be decided (for tests).
        self.moves = 0
        #: Speech sent so far (at most REHOME_SECONDS), to move the turn if its worker dies.
        self._speech = bytearray()
        #: finish() was sent to the worker (a moved turn is finished on its new worker too).
        self._finish_sent = False
        #: Serialises the front-end thread's posts with a move to another worker.
        self._lock = threading.Lock()
        #: Speech sent in all (the server keeps at most REHOME_SECONDS of it).
        self._speech_bytes = 0
        self._constrained = "launch" not in effective_rules(request.rules, request.hints)

    @property
    def robot_id(self) -> str:
        return self._request.robot_id

    @property
    def worker(self) -> Worker:
        return self._worker

    @property
    def movable(self) -> bool:
        """An open turn (``launch``: not streamed through a grammar in a Whisper worker) whose
        whole speech the server kept: it can decide on any worker."""
        return not self._constrained and self._speech_bytes <= len(self._speech)

    @property
    def worker_pid(self) -> int | None:
        """The process id of the worker this turn is pinned to (for tests and logs)."""
        return self._worker.process.pid if self._worker.alive else None

    # ----------------------------------------------------------------- from the trio thread

    def move_to(self, worker: Worker, speaker: SpeakerState | None) -> None:
        """Open this turn on ``worker`` (first, or after its worker died) with the speech so
        far; a moved turn that was already finishing finishes there without Whisper."""
        with self._lock:
            self._worker = worker
            request = self._request
            worker.post(Open(self.sid, tuple(request.rules), tuple(request.hints), speaker))
            if self._speech:
                worker.post(Pcm(self.sid, bytes(self._speech)))
            if self._finish_sent:
                worker.finishing.add(self.sid)
                worker.post(Finish(self.sid, whisper=False))

    def worker_replied(self, message: Result | Error) -> None:
        if isinstance(message, Result):
            self._result = AsrResult(
                text=message.text, confidence=message.confidence, annotation=message.annotation
            )
            self._speaker = message.speaker
            self.whispered = message.whispered
        else:
            self._error = message.detail
        self._replied.set()

    def worker_failed(self, detail: str) -> None:
        if self._error is None and self._result is None:
            self._error = detail
        self._replied.set()

    # ----------------------------------------------------------------- worker-thread parts

    def _limiter(self) -> trio.CapacityLimiter:
        return self._engine.front_limiter

    def _post_pcm(self, pcm: bytes) -> None:
        with self._lock:
            room = int(REHOME_SECONDS * 32000) - len(self._speech)
            self._speech_bytes += len(pcm)
            if room > 0:
                self._speech += pcm[:room]
            self._worker.post(Pcm(self.sid, pcm))

    def _feed_sync(self, frame: bytes) -> list[AsrEvent]:
        events, pcm = self._front.feed(frame)
        if pcm and self._error is None:
            self._post_pcm(pcm)
        return events

    def _finish_sync(self) -> bool:
        """Send the last PCM; False when no speech was heard."""
        pcm = self._front.finish()
        if not self._front.heard_speech:
            return False
        if self._error is None and pcm:
            self._post_pcm(pcm)
        return True

    # ----------------------------------------------------------------- the AsrSession API

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            self._done = True
            raise UpstreamError("asr", self._error)

    async def feed(self, chunk: bytes) -> Sequence[AsrEvent]:
        """See :meth:`StreamingSession.feed`; a turn left with no worker raises ``asr``."""
        if self._done:
            return []
        self._raise_if_failed()
        events = await super().feed(chunk)
        self._raise_if_failed()
        return events

    async def finish(self) -> AsrResult:
        self._begin_finish()
        self._raise_if_failed()
        try:
            heard = await trio.to_thread.run_sync(self._finish_sync, limiter=self._limiter())
        except AudioError as exc:
            raise UpstreamError("asr", str(exc)) from None
        if not heard:
            return AsrResult(text="", confidence=0.0)
        if self._error is None:
            self._move_if_busy()
            with self._lock:
                worker = self._worker
                whisper, quick = (
                    self._engine.allow_whisper(worker, self) if worker.alive else (False, False)
                )
                if whisper:
                    worker.whisper_sids.add(self.sid)
                worker.finishing.add(self.sid)
                self._finish_sent = True
                worker.post(Finish(self.sid, whisper, quick))
            await self._replied.wait()
        self._raise_if_failed()
        assert self._result is not None
        if self._speaker is not None:
            self._engine.speakers.accepted(self._request.robot_id, self._speaker)
        return self._result

    def _move_if_busy(self) -> None:
        """Decide on a less busy worker (:meth:`ProcessRecognizer.finish_place`)."""
        old = self._worker
        if not old.alive:
            return
        new = self._engine.finish_place(self)
        if new is old:
            return
        old.sessions.pop(self.sid, None)
        old.post(Close(self.sid))
        new.sessions[self.sid] = self
        self.move_to(new, self._engine.speakers.start(self.robot_id))
        self.moves += 1

    async def aclose(self) -> None:
        """Tell the worker to drop the turn if it still holds it; idempotent."""
        self._done = True
        if self._closed:
            return
        self._closed = True
        still_held = self._worker.sessions.pop(self.sid, None) is not None
        if still_held and self._worker.alive:
            self._worker.post(Close(self.sid))
