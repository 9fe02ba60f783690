"""Cepstral means per speaker: where each robot's next turn starts the recogniser.

pocketsphinx normalises features with a live cepstral mean that adapts to what it hears; a
decoder that starts from the wrong voice's mean loses the first words. This store keeps, per
opaque speaker key (the robot's id, :attr:`jibo_cloud.services.AsrRequest.speaker`), the mean
of that speaker's last utterance the grammar accepted, plus the pool-wide last good one for
speakers never seen. Pure: no trio, no pocketsphinx; thread-safe, because the embedded
recogniser consults it from worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

#: Speakers remembered; the least recently used is forgotten first (a mean is ~40 bytes).
SPEAKERS = 4096


class SpeakerMeans:
    """Per-speaker cepstral means, least recently used dropped first.

    A "mean" here is the engine's opaque speaker state
    (:func:`jibo_cloud.speech.engine.speaker_state`: pocketsphinx's cepstral mean in its text
    form, ``"40,3,-1,…"``, prefixed by the robot's frequency warp when that is not the default).
    Only means of utterances the grammar accepted are stored: a noisy or misheard turn never
    becomes anyone's starting point.
    """

    def __init__(self, capacity: int = SPEAKERS) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._by_speaker: OrderedDict[str, str] = OrderedDict()
        self._good: str | None = None
        self._lock = threading.Lock()

    def start(self, speaker: str) -> str | None:
        """The mean a turn of ``speaker`` starts from.

        Returns:
            The speaker's own last good mean; for a speaker never seen (or ``""``), the last
            good mean of any speaker; None before anything was accepted (the decoder then
            starts from the model's initial mean).
        """
        with self._lock:
            mean = self._by_speaker.get(speaker) if speaker else None
            if mean is None:
                return self._good
            self._by_speaker.move_to_end(speaker)
            return mean

    def accepted(self, speaker: str, mean: str) -> None:
        """Remember ``mean``: the grammar just accepted an utterance of ``speaker``.

        It also becomes the starting point of speakers never seen (as before per-speaker
        means existed: the last understood voice is a better start than the model's default).
        """
        with self._lock:
            self._good = mean
            if not speaker:
                return
            self._by_speaker[speaker] = mean
            self._by_speaker.move_to_end(speaker)
            while len(self._by_speaker) > self._capacity:
                self._by_speaker.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_speaker)

    def __contains__(self, speaker: object) -> bool:
        with self._lock:
            return speaker in self._by_speaker
