"""Voice activity: when the owner starts and stops talking.

A thin, stateful wrapper over pocketsphinx's :class:`~pocketsphinx.Endpointer` (WebRTC-style
VAD with a decision window). PCM arrives in any sizes; it is cut into the endpointer's frames.
``process`` returns the speech audio (from the start of speech, so the recogniser hears the
first syllable) and whether speech started or ended in this chunk.
"""

from __future__ import annotations

import attrs
from pocketsphinx import Endpointer, Vad

#: Seconds of audio the decision looks at; also roughly how late EOS comes after speech ends.
VAD_WINDOW_SECONDS = 0.5
VAD_RATIO = 0.9


@attrs.frozen
class VadStep:
    speech: bytes
    started: bool
    ended: bool


@attrs.define
class VoiceDetector:
    endpointer: Endpointer = attrs.field(
        factory=lambda: Endpointer(window=VAD_WINDOW_SECONDS, ratio=VAD_RATIO, vad_mode=Vad.LOOSE)
    )
    carry: bytes = b""
    in_speech: bool = False
    heard_speech: bool = False
    #: Seconds from the first sample to the start/end of speech (from the endpointer).
    speech_start: float | None = None
    speech_end: float | None = None

    def process(self, pcm: bytes) -> VadStep:
        data = self.carry + pcm
        size = self.endpointer.frame_bytes
        whole = len(data) // size * size
        self.carry = data[whole:]
        speech = bytearray()
        started = ended = False
        for offset in range(0, whole, size):
            out = self.endpointer.process(data[offset : offset + size])
            if self.endpointer.in_speech and not self.in_speech:
                self.in_speech = started = self.heard_speech = True
                self.speech_start = self.endpointer.speech_start
            if out is not None:
                speech += out
            if self.in_speech and not self.endpointer.in_speech:
                self.in_speech, ended = False, True
                self.speech_end = self.endpointer.speech_end
        return VadStep(bytes(speech), started, ended)
