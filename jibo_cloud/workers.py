"""Several server processes on one listening socket: ``jibo-cloud serve --workers N``.

Why: one trio loop runs on one core, and a boot's REST calls are CPU-bound in hypercorn and
our dispatch (docs/rest.md "Performance"). N processes accepting on one shared socket use N
cores; the kernel hands each new connection to one of them.

How: this supervisor (a plain process, no trio loop) prepares the storage once (migrations,
the start-up warnings), binds and listens, then spawns the workers with the
``spawn`` start method (trio and threads do not survive ``fork``). Each worker runs
:func:`jibo_cloud.server.serve` on the inherited socket with its own instance id and reports
ready over its control pipe; ``listening on`` is printed once every worker is ready. Each
worker keeps a lease in the storage (:mod:`jibo_cloud.storage.instances`), which closes the
sessions of processes whose lease lapsed; with an operator port (``metrics_port``), worker k
serves it on ``metrics_port + k``.

Stopping: SIGTERM or SIGINT to the supervisor closes the control pipes; each worker then shuts
down gracefully (``grace_seconds``) and exits. A worker also stops when the supervisor dies
(its pipe reaches end-of-file), so a ``kill -9`` of the supervisor leaves no orphans serving
stale code. A worker that dies on its own is logged, its lease is released (closing the
notification sessions it held), and a new worker takes its place; one that keeps dying at start-up
stops the whole server with exit status 1 rather than looping forever.
"""

from __future__ import annotations

import functools
import logging
import multiprocessing
import secrets
import signal
import time
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

import attrs
import hypercorn.config
import trio

from jibo_cloud.config import Config

log = logging.getLogger("jibo_cloud.workers")

#: A worker has this long to import, open its runtime and start accepting.
READY_SECONDS = 60.0
#: A worker that dies sooner than this after starting counts as a failed start ...
EARLY_DEATH_SECONDS = 10.0
#: ... and this many failed starts in a row stop the server.
MAX_FAILED_STARTS = 3


@attrs.define(eq=False)
class _Worker:
    process: BaseProcess
    control: Connection
    instance_id: str
    started: float
    #: Which of the ``config.workers`` places it fills (its operator port's offset).
    slot: int


def _prepare_storage(config: Config) -> None:
    """Migrate the storage once, before any worker, and give the start-up warnings
    (:func:`jibo_cloud.server.warn_open_doors`) once, not once per worker (a short trio run).

    Sessions an earlier run left open are not closed here: each worker's lease
    (:func:`jibo_cloud.storage.instances.serve_lease`) closes those of lapsed processes, and
    only those, so other servers on the same database keep theirs.
    """

    async def run() -> None:
        from jibo_cloud.server import warn_open_doors
        from jibo_cloud.storage import connect_storage

        storage = await connect_storage(config)  # also migrates, once, before any worker
        try:
            await warn_open_doors(config, storage)
        finally:
            await storage.aclose()

    trio.run(run)


def _release_dead_worker(config: Config, instance_id: str) -> None:
    """Release a dead worker's lease and close its notification sessions now (its robots
    reconnect to a live worker) rather than when the lease lapses (a short trio run)."""

    async def run() -> None:
        from jibo_cloud.storage import connect_storage
        from jibo_cloud.storage.instances import release_instance

        storage = await connect_storage(config)
        try:
            await release_instance(storage, instance_id, time.time_ns() // 1_000_000)
        finally:
            await storage.aclose()

    trio.run(run)


def _worker_main(
    config: Config,
    instance_id: str,
    sockets: hypercorn.config.Sockets,
    control: Connection,
    log_level: str,
) -> None:
    """A worker process: serve on the inherited sockets until the supervisor says stop."""
    from jibo_cloud.heap import freeze_startup_heap
    from jibo_cloud.logs import setup_logging
    from jibo_cloud.runtime import Runtime
    from jibo_cloud.server import serve, wait_for_signal, warm_up_then_freeze

    setup_logging(log_level, worker=True)

    async def supervisor_gone_or_signal() -> None:
        async with trio.open_nursery() as nursery:

            async def pipe_closed() -> None:
                # The supervisor never writes: readable means it closed its end (stop) or died.
                await trio.lowlevel.wait_readable(control.fileno())
                log.info("worker %s: the supervisor asked to stop", instance_id)
                nursery.cancel_scope.cancel()

            async def signalled() -> None:
                await wait_for_signal()
                nursery.cancel_scope.cancel()

            nursery.start_soon(pipe_closed)
            nursery.start_soon(signalled)

    async def main() -> None:
        run = functools.partial(
            serve,
            config,
            shutdown_trigger=supervisor_gone_or_signal,
            sockets=sockets,
            instance_id=instance_id,
            supervised=True,
            runtime_hook=runtimes.append,
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(run)
            control.send("ready")
            freeze_startup_heap("started")
            if config.asr_warm_up:  # each worker process has its own recogniser
                nursery.start_soon(warm_up_then_freeze, runtimes[0].recognizer)

    runtimes: list[Runtime] = []

    trio.run(main)


class Supervisor:
    """Starts, watches and stops the worker processes (see the module docstring)."""

    def __init__(self, config: Config, log_level: str = "INFO") -> None:
        from jibo_cloud.server import listen

        self.config = config
        self.log_level = log_level
        self._ctx = multiprocessing.get_context("spawn")
        self.sockets = listen(config)
        self.workers: list[_Worker] = []
        self._stopping = False
        self._signal = ""
        self._failed_starts = 0

    @property
    def binds(self) -> list[str]:
        out = []
        for sock in self.sockets.insecure_sockets:
            host, port = sock.getsockname()[:2]
            out.append(f"http://{host}:{port}")
        for sock in self.sockets.secure_sockets:  # the TLS port, shared the same way
            host, port = sock.getsockname()[:2]
            out.append(f"https://{host}:{port}")
        return out

    def _worker_config(self, slot: int) -> Config:
        """Worker ``slot``'s configuration: its own operator port (``metrics_port + slot``)
        when one is set, since each process has its own counters."""
        if not self.config.metrics_port:  # none, or 0: each worker picks a free port
            return self.config
        return attrs.evolve(self.config, metrics_port=self.config.metrics_port + slot)

    def _spawn(self, slot: int) -> _Worker:
        parent_end, child_end = self._ctx.Pipe(duplex=True)
        instance_id = secrets.token_hex(8)
        config = self._worker_config(slot)
        process = self._ctx.Process(
            target=_worker_main,
            args=(config, instance_id, self.sockets, child_end, self.log_level),
            name=f"jibo-cloud worker {instance_id}",
        )
        process.start()
        child_end.close()  # the worker has its own copy; ours would hide the worker's death
        worker = _Worker(process, parent_end, instance_id, time.monotonic(), slot)
        self.workers.append(worker)
        return worker

    def _await_ready(self, worker: _Worker) -> bool:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline and not self._stopping:
            ready = wait([worker.control, worker.process.sentinel], timeout=0.5)
            if worker.control in ready:
                try:
                    return bool(worker.control.recv() == "ready")
                except EOFError:
                    return False
            if ready:  # the process ended before saying ready
                return False
        return False

    def start(self) -> None:
        """Prepare the storage and start ``config.workers`` workers; raise if any cannot start."""
        from jibo_cloud.storage.files import prepare_data_dir  # 0700, or refused

        prepare_data_dir(self.config)  # before the storage is opened (one line, no traceback)
        _prepare_storage(self.config)
        for slot in range(self.config.workers):
            worker = self._spawn(slot)
            if not self._await_ready(worker):
                self.stop()
                raise RuntimeError(f"worker {worker.instance_id} did not start (see its log)")

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stopping = True  # no logging here: a handler may interrupt a log call
        self._signal = signal.Signals(signum).name

    def run(self) -> int:
        """Watch the workers until a signal; returns the exit status."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            while not self._stopping:
                sentinels = [w.process.sentinel for w in self.workers]
                if not wait(sentinels, timeout=0.5):
                    continue
                for worker in [w for w in self.workers if not w.process.is_alive()]:
                    if self._stopping:
                        break
                    if not self._replace(worker):
                        self.stop()
                        return 1
            log.info("received %s: stopping %d workers gracefully", self._signal,
                     len(self.workers))  # fmt: skip
            self.stop()
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _replace(self, dead: _Worker) -> bool:
        """A worker died without being asked to: clean up after it and start another."""
        dead.process.join()
        self.workers.remove(dead)
        dead.control.close()
        lived = time.monotonic() - dead.started
        log.error("worker %s (pid %s) exited with status %s after %.0f s; starting another",
                  dead.instance_id, dead.process.pid, dead.process.exitcode, lived)  # fmt: skip
        self._failed_starts = self._failed_starts + 1 if lived < EARLY_DEATH_SECONDS else 0
        if self._failed_starts >= MAX_FAILED_STARTS:
            log.error("workers keep dying at start-up (%d in a row): stopping the server",
                      self._failed_starts)  # fmt: skip
            return False
        try:
            _release_dead_worker(self.config, dead.instance_id)
        except Exception:  # the storage may be down: its lease lapses and another closes them
            log.exception("could not close the sessions of worker %s", dead.instance_id)
        worker = self._spawn(dead.slot)
        return self._await_ready(worker) or self._stopping

    def stop(self) -> None:
        """Ask every worker to stop, wait for the graceful shutdown, then kill stragglers."""
        self._stopping = True
        for worker in self.workers:
            worker.control.close()
        # The listening socket is shared: it stops accepting only once every process closed
        # its descriptor. Ours goes first, so new connections are refused from the first
        # moment rather than queued for workers that will never accept them.
        for sock in [*self.sockets.insecure_sockets, *self.sockets.secure_sockets]:
            sock.close()
        deadline = time.monotonic() + self.config.grace_seconds + 5
        for worker in self.workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.warning("worker %s did not stop in time: killing it", worker.instance_id)
                worker.process.kill()
                worker.process.join()
        self.workers.clear()
