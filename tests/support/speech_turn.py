"""One spoken turn decided by the real engine with a stand-in for Whisper's answer.

The speech is real (robot Ogg/Opus pages through the server's front end, the grammar passes
pocketsphinx runs); only what Whisper heard is given (:class:`~jibo_cloud.speech.whisper.Heard`),
so a test can name the mishearing it is about.
"""

from __future__ import annotations

from collections.abc import Sequence

from jibo_cloud.speech.engine import Decision, Engine, Utterance
from jibo_cloud.speech.whisper import Heard

LAUNCH = ("launch", "globals/global_commands_launch")


def decide_with(
    engine: Engine,
    pages: Sequence[bytes],
    heard: Heard,
    *,
    rules: Sequence[str] = LAUNCH,
    quick: bool = False,
) -> Decision:
    """:meth:`Utterance.finish` of ``pages`` as the server decodes them, Whisper answering
    ``heard``."""
    from jibo_cloud.speech.decode import open_decoder
    from jibo_cloud.speech.front import SpeechFront

    front = SpeechFront(open_decoder("OGG_OPUS", 16000))
    utterance = Utterance(engine, rules, (), None, whisper=True)
    try:
        for page in pages:
            utterance.process(front.feed(page)[1])
        utterance.process(front.finish())
        return utterance.finish(lambda _pcm, _hints: heard, quick=quick)
    finally:
        utterance.release()
