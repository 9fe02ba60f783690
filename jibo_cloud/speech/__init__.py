"""Server-side speech recognition (PROTOCOL.md §4.3-§4.4): decode, detect speech, recognise.

:func:`open_recognizer` picks the implementation for a configuration: the remote
OpenAI-compatible recogniser when ``asr_url`` is set, else embedded pocketsphinx when it is
installed, else :class:`jibo_cloud.services.NoRecognizer` (every spoken turn answers ``ASR``).
The embedded one decodes in ``asr_processes`` worker processes
(:mod:`jibo_cloud.speech.processes`), or in the server's worker threads when that is 0
(:mod:`jibo_cloud.speech.sphinx`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from jibo_cloud.config import Config
from jibo_cloud.services import NoRecognizer, Recognizer

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)


def open_recognizer(config: Config, http: httpx.AsyncClient | None = None) -> Recognizer:
    """``http``: the ASR service's long-lived client for the remote recogniser (issue 21)."""
    if config.asr_url:
        from jibo_cloud.speech.remote import RemoteRecognizer

        log.info("speech: remote recogniser (OpenAI-compatible transcriptions endpoint)")
        return RemoteRecognizer(config.asr_url, http=http)
    try:
        from jibo_cloud.speech.processes import ProcessRecognizer
        from jibo_cloud.speech.sphinx import PocketsphinxRecognizer
    except ImportError as exc:
        log.warning("speech: no recogniser, spoken turns will answer ASR errors (%s)", exc)
        return NoRecognizer()
    if config.asr_processes > 0:
        return ProcessRecognizer(processes=config.asr_processes)
    return PocketsphinxRecognizer()
