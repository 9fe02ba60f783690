"""The worker pipe's messages survive pickling, and a reply fits one atomic pipe write."""

from __future__ import annotations

import pickle

import pytest

from jibo_cloud.speech.messages import Close, Error, Finish, Open, Pcm, Ready, Result
from jibo_cloud.speech.speakers import SpeakerState
from jibo_cloud.speech.worker import MAX_DETAIL

STATE = SpeakerState("0.9", "40,3,-1,0,0,0,0,0,0,0,0,0,0")


@pytest.mark.parametrize(
    "message",
    [
        Open(7, ("launch",), ("$YESNO",), STATE),
        Open(7, (), (), None),
        Pcm(7, b"\x01\x00" * 160),
        Finish(7, whisper=True),
        Close(7),
        Ready(None),
        Ready("OSError: no model"),
        Result(7, "what time is it", 0.9, None, STATE, whispered=False),
        Error(7, "recogniser failed"),
    ],
    ids=lambda m: type(m).__name__,
)
def test_each_message_crosses_the_pipe_unchanged(message: object) -> None:
    assert pickle.loads(pickle.dumps(message)) == message  # noqa: S301 (our own bytes)


def test_the_largest_replies_fit_one_atomic_pipe_write() -> None:
    error = Error(2**31, "x" * MAX_DETAIL)
    result = Result(2**31, "word " * 60, 0.9, "GARBAGE", STATE, whispered=True)
    for reply in (error, result):
        assert len(pickle.dumps(reply)) < 4096
