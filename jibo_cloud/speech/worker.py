"""A decoder worker process: the embedded recogniser's decoding, off the server's GIL.

Started by :class:`jibo_cloud.speech.processes.ProcessRecognizer` through multiprocessing's
*spawn* context (a fresh interpreter: no copy of the server's trio state, sockets or
threads). It owns its own decoder pools (:class:`jibo_cloud.speech.engine.Engine`) and serves
the utterances pinned to it, one message at a time, in arrival order.

Messages are the frozen classes of :mod:`jibo_cloud.speech.messages` on one duplex pipe:
:class:`~jibo_cloud.speech.messages.Open`, ``Pcm``, ``Finish`` and ``Close`` in;
``Ready`` (once, first), then ``Result`` or ``Error`` per turn out.

With a Whisper model folder (:mod:`jibo_cloud.speech.whisper`), the worker loads it once at
start; a model that does not load is reported in ``ready`` and the worker decodes with
pocketsphinx alone.

The worker exits when the server closes its end of the pipe (shutdown, or the server died),
so it never outlives the server. It ignores SIGINT: Ctrl-C in a terminal reaches the whole
process group, and the server decides when its workers stop.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from jibo_cloud.speech.engine import Engine, Listen, Utterance
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
from jibo_cloud.speech.whisper import Heard

log = logging.getLogger(__name__)

#: Longest error text sent back (replies stay well under the pipe's 4096-byte atomic write).
MAX_DETAIL = 300


def load_whisper(
    folder: str | None, threads: int, policy: DecodePolicy = DEFAULT_POLICY
) -> tuple[Listen | None, str | None]:
    """(Whisper for :meth:`Utterance.finish`, None) or (None, why it did not load)."""
    if folder is None:
        return None, None
    try:
        from jibo_cloud.speech.whisper import WhisperEngine

        model = WhisperEngine(Path(folder), threads=threads, policy=policy)
        model.transcribe(b"\x00\x00" * 16000)  # the first decode's one-time costs, now
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]
    return model.transcribe, None  # (pcm, hints) -> Heard


def serve_worker(
    conn: Connection,
    whisper: str | None = None,
    threads: int = 1,
    policy: DecodePolicy = DEFAULT_POLICY,
) -> None:
    """The worker's main loop; returns when the server's end of ``conn`` closes.

    Args:
        whisper: a CTranslate2 Whisper model folder to load (None: pocketsphinx alone).
        threads: CPU threads Whisper's decoding may use.
        policy: how the worker's decoding decides (the server's, sent at spawn).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = Engine(policy=policy)
    engine.warm_up(lean=whisper is not None)
    listen, whisper_error = load_whisper(whisper, threads, policy)
    utterances: dict[int, Utterance] = {}
    try:
        try:
            conn.send(Ready(whisper_error))
        except OSError:
            return
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                return
            reply = _handle(engine, utterances, message, listen)
            if reply is not None:
                try:
                    conn.send(reply)
                except OSError:
                    return
    finally:
        for utterance in utterances.values():
            utterance.release()


def _handle(
    engine: Engine,
    utterances: dict[int, Utterance],
    message: ToWorker,
    listen: Listen | None = None,
) -> FromWorker | None:
    """Serve one message; the reply to send, if any."""
    sid = message.sid
    try:
        if isinstance(message, Open):
            utterances[sid] = Utterance(
                engine, message.rules, message.hints, message.speaker, whisper=listen is not None
            )
        elif isinstance(message, Pcm):
            utterance = utterances.get(sid)
            if utterance is not None:  # a turn that failed here: its audio is dropped
                utterance.process(message.pcm)
        elif isinstance(message, Finish):
            utterance = utterances.pop(sid, None)
            if utterance is None:
                return Error(sid, "recognition was not started for this turn")
            allowed = listen if message.whisper else None
            whispered: list[bool] = []

            def heard(pcm: bytes, hints: Sequence[str]) -> Heard | None:
                whispered.append(True)
                try:
                    return allowed(pcm, hints) if allowed is not None else None
                except Exception as exc:
                    log.warning("speech worker: whisper failed on turn %s: %s", sid, exc)
                    return None

            try:
                decision = utterance.finish(
                    heard if allowed is not None else None, quick=message.quick
                )
            finally:
                utterance.release()
            result = decision.result
            return Result(
                sid,
                result.text,
                result.confidence,
                result.annotation,
                decision.speaker,
                bool(whispered),
            )
        elif isinstance(message, Close):
            utterance = utterances.pop(sid, None)
            if utterance is not None:
                utterance.release()
    except (RuntimeError, ValueError, KeyError) as exc:
        # pocketsphinx's errors (a grammar it cannot compile, a decoder in a bad state): this
        # turn fails with ASR; the worker and its other turns go on.
        log.warning(
            "speech worker: turn %s failed in %s: %s", sid, type(message).__name__.lower(), exc
        )
        failed = utterances.pop(sid, None)
        if failed is not None:
            failed.release()
        # Short: a reply must fit one atomic pipe write (the server reads it once readable).
        return Error(sid, f"recogniser failed: {exc}"[:MAX_DETAIL])
    return None
