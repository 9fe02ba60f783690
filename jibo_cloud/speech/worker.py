"""A decoder worker process: the embedded recogniser's decoding, off the server's GIL.

Started by :class:`jibo_cloud.speech.processes.ProcessRecognizer` through multiprocessing's
*spawn* context (a fresh interpreter: no copy of the server's trio state, sockets or
threads). It owns its own decoder pools (:class:`jibo_cloud.speech.engine.Engine`) and serves
the utterances pinned to it, one message at a time, in arrival order.

Messages are tuples on one duplex pipe (see :mod:`jibo_cloud.speech.processes`)::

    server → worker   ("open", sid, rules, hints, cmn)   a turn begins; cmn: starting speaker state
                      ("pcm", sid, bytes)                speech PCM, in order
                      ("finish", sid, whisper)           decide and reply; whisper: may use it
                      ("close", sid)                     the turn ended without finish
    worker → server   ("ready", 0, whisper_error)        decoders built (once, first);
                                                         whisper_error: None when Whisper
                                                         loaded (or none was asked for)
                      ("result", sid, text, confidence, annotation, cmn, whispered)
                      ("error", sid, detail)             this turn failed; others go on

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
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from jibo_cloud.speech.engine import Engine, Listen, Utterance

log = logging.getLogger(__name__)

#: Longest error text sent back (replies stay well under the pipe's 4096-byte atomic write).
MAX_DETAIL = 300


def load_whisper(folder: str | None, threads: int) -> tuple[Listen | None, str | None]:
    """(Whisper for :meth:`Utterance.finish`, None) or (None, why it did not load)."""
    if folder is None:
        return None, None
    try:
        from jibo_cloud.speech.whisper import WhisperEngine

        model = WhisperEngine(Path(folder), threads=threads)
        model.transcribe(b"\x00\x00" * 16000)  # the first decode's one-time costs, now
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:MAX_DETAIL]
    return model.transcribe, None


def serve_worker(conn: Connection, whisper: str | None = None, threads: int = 1) -> None:
    """The worker's main loop; returns when the server's end of ``conn`` closes.

    Args:
        whisper: a CTranslate2 Whisper model folder to load (None: pocketsphinx alone).
        threads: CPU threads Whisper's decoding may use.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    engine = Engine()
    engine.warm_up()
    listen, whisper_error = load_whisper(whisper, threads)
    utterances: dict[int, Utterance] = {}
    try:
        try:
            conn.send(("ready", 0, whisper_error))
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
    message: tuple[Any, ...],
    listen: Listen | None = None,
) -> tuple[Any, ...] | None:
    """Serve one message; the reply to send, if any."""
    op, sid = message[0], message[1]
    try:
        if op == "open":
            _, _, rules, hints, cmn = message
            utterances[sid] = Utterance(engine, rules, hints, cmn, whisper=listen is not None)
        elif op == "pcm":
            utterance = utterances.get(sid)
            if utterance is not None:  # a turn that failed here: its audio is dropped
                utterance.process(message[2])
        elif op == "finish":
            utterance = utterances.pop(sid, None)
            if utterance is None:
                return ("error", sid, "recognition was not started for this turn")
            allowed = listen if len(message) > 2 and message[2] else None
            whispered: list[bool] = []

            def heard(pcm: bytes) -> Any:
                whispered.append(True)
                try:
                    return allowed(pcm) if allowed is not None else None
                except Exception as exc:
                    log.warning("speech worker: whisper failed on turn %s: %s", sid, exc)
                    return None

            try:
                decision = utterance.finish(heard if allowed is not None else None)
            finally:
                utterance.release()
            result = decision.result
            return (
                "result",
                sid,
                result.text,
                result.confidence,
                result.annotation,
                decision.cmn,
                bool(whispered),
            )
        elif op == "close":
            utterance = utterances.pop(sid, None)
            if utterance is not None:
                utterance.release()
    except (RuntimeError, ValueError, KeyError) as exc:
        # pocketsphinx's errors (a grammar it cannot compile, a decoder in a bad state): this
        # turn fails with ASR; the worker and its other turns go on.
        log.warning("speech worker: turn %s failed in %s: %s", sid, op, exc)
        failed = utterances.pop(sid, None)
        if failed is not None:
            failed.release()
        # Short: a reply must fit one atomic pipe write (the server reads it once readable).
        return ("error", sid, f"recogniser failed: {exc}"[:MAX_DETAIL])
    return None
