"""Speaker states per robot: where each robot's next turn starts the recogniser.

pocketsphinx normalises features with a live cepstral mean that adapts to what it hears; a
decoder that starts from the wrong voice's mean loses the first words, and some voices decode
better under another frequency warp. This store keeps, per robot id
(:attr:`jibo_cloud.services.AsrRequest.robot_id`), the :class:`SpeakerState` of that robot's
last utterance the grammar accepted, plus the pool-wide last good one for robots never heard.
Pure: no trio, no pocketsphinx; thread-safe, because the embedded recogniser consults it from
worker threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import attrs

#: Robots remembered; the least recently used is forgotten first (a state is ~100 bytes).
SPEAKERS = 4096


@attrs.frozen
class SpeakerState:
    """What a robot's next turn starts the decoder from.

    Written by :class:`jibo_cloud.speech.engine.Utterance` when the grammar accepts an
    utterance and read back by the next one; opaque to everything else (it crosses the worker
    pipe as is, so it stays picklable).
    """

    #: The frequency warp the grammar accepted this robot under (one of
    #: :attr:`jibo_cloud.speech.policy.DecodePolicy.warps`).
    warp: str
    #: pocketsphinx's live cepstral mean in its text form (``"40,3,-1,…"``).
    mean: str


class SpeakerStates:
    """Per-robot speaker states, least recently used dropped first.

    Only states of utterances the grammar accepted are stored: a noisy or misheard turn never
    becomes anyone's starting point.
    """

    def __init__(self, capacity: int = SPEAKERS) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._by_robot: OrderedDict[str, SpeakerState] = OrderedDict()
        self._good: SpeakerState | None = None
        self._lock = threading.Lock()

    def start(self, robot_id: str) -> SpeakerState | None:
        """The state a turn of ``robot_id`` starts from.

        Returns:
            The robot's own last good state; for a robot never heard (or ``""``), the last
            good state of any robot; None before anything was accepted (the decoder then
            starts from the model's defaults).
        """
        with self._lock:
            state = self._by_robot.get(robot_id) if robot_id else None
            if state is None:
                return self._good
            self._by_robot.move_to_end(robot_id)
            return state

    def accepted(self, robot_id: str, state: SpeakerState) -> None:
        """Remember ``state``: the grammar just accepted an utterance of ``robot_id``.

        It also becomes the starting point of robots never heard (the last understood voice
        is a better start than the model's default).
        """
        with self._lock:
            self._good = state
            if not robot_id:
                return
            self._by_robot[robot_id] = state
            self._by_robot.move_to_end(robot_id)
            while len(self._by_robot) > self._capacity:
                self._by_robot.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_robot)

    def __contains__(self, robot_id: object) -> bool:
        with self._lock:
            return robot_id in self._by_robot
