"""Server-side speech recognition (PROTOCOL.md §4.3-§4.4): decode, detect speech, recognise.

:func:`open_recognizer` picks the implementation for a configuration: the remote
OpenAI-compatible recogniser when ``asr_url`` is set, else embedded pocketsphinx when it is
installed, else :class:`jibo_cloud.services.NoRecognizer` (every spoken turn answers ``ASR``).
The embedded one decodes in ``asr_processes`` worker processes
(:mod:`jibo_cloud.speech.processes`), with Whisper beside the grammar (the shipped base model
joined into the data folder, or ``JIBO_WHISPER_MODEL``; :mod:`jibo_cloud.speech.whisper_model`),
or in the server's worker threads when that is 0 (:mod:`jibo_cloud.speech.sphinx`:
pocketsphinx alone, no Whisper).
"""

from __future__ import annotations

import functools
import logging
import os
from typing import TYPE_CHECKING

from jibo_cloud.config import Config
from jibo_cloud.services import NoRecognizer, Recognizer

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)


def open_recognizer(config: Config, http: httpx.AsyncClient | None = None) -> Recognizer:
    """``http``: the ASR service's long-lived client for the remote recogniser."""
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
        from jibo_cloud.speech.whisper_model import prepare_model

        model = functools.partial(prepare_model, config.data_dir, dict(os.environ))
        return ProcessRecognizer(processes=config.asr_processes, whisper_model=model)
    return PocketsphinxRecognizer()
