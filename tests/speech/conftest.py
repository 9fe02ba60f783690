"""Speech test fixtures: robot-shaped audio made locally with espeak-ng, cached per session.

Audio generation needs the ``espeak-ng`` program: without it these tests are skipped loudly
(and fail under CI=true) through :func:`tests.support.env.missing`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import pytest

from jibo_cloud.speech.synth import espeak_available, spoken_pages

#: The voice used by default in tests (espeak-ng's female variants suit the bundled model).
VOICE = "en-us+f2"


@functools.cache
def _pages(text: str, voice: str, speed: int) -> tuple[bytes, ...]:
    return tuple(spoken_pages(text, voice=voice, speed=speed))


@pytest.fixture(scope="session")
def speak() -> Callable[..., list[bytes]]:
    """``speak(text, voice=…, speed=…)`` → robot Ogg/Opus pages (cached across tests)."""
    if not espeak_available():
        from tests.support.env import missing

        missing("espeak-ng is not installed (apt-get install espeak-ng)")
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        from tests.support.env import missing

        missing("pocketsphinx is not installed")

    def make(text: str, *, voice: str = VOICE, speed: int = 150) -> list[bytes]:
        return list(_pages(text, voice, speed))

    return make


@pytest.fixture(scope="session")
def sphinx_pools() -> tuple[object, object, object]:
    """Decoder pools and speaker states shared by the whole session (building decoders is the
    slow part; the shared states are what a long-running server has: most tests speak in one
    voice, and start from its mean as a server that already heard that robot would)."""
    from jibo_cloud.speech.speakers import SpeakerStates
    from jibo_cloud.speech.sphinx import DecoderPool, general_decoder, grammar_decoder

    return DecoderPool(grammar_decoder), DecoderPool(general_decoder, keep=2), SpeakerStates()


@functools.cache
def _flite_pages(text: str, voice: str) -> tuple[bytes, ...]:
    from jibo_cloud.speech.synth import flite_pcm, ogg_opus_pages, silence

    return tuple(ogg_opus_pages(silence(0.4) + flite_pcm(text, voice=voice) + silence(1.0)))


@pytest.fixture(scope="session")
def flite_speak() -> Callable[..., list[bytes]]:
    """``flite_speak(text, voice="slt")`` → robot Ogg/Opus pages in a flite voice (cached)."""
    from jibo_cloud.speech.synth import flite_available

    if not flite_available():
        from tests.support.env import missing

        missing("flite is not installed (apt-get install flite)")

    def make(text: str, *, voice: str = "slt") -> list[bytes]:
        return list(_flite_pages(text, voice))

    return make
