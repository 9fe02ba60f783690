"""Properties of the listen machine (STYLE.md): every turn, whatever the order of CONTEXT and
whatever the services answer, yields exactly one final frame, and nothing after it."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from protocol.codec import from_json
from protocol.errors import RemoteProtocolError
from protocol.listen import ListenTransaction
from protocol.routing import SkillTable, manifest_from_json
from protocol.transaction import CallParser, CallSkill, Forward, Send, StartTimer
from tests.support import hub_client as hc

SKILLS = SkillTable.of(
    [
        manifest_from_json(
            {"id": "robot", "onRobot": True, "intents": [{"name": "onRobotIntent"}]}
        ),
        manifest_from_json(
            {"id": "cloud", "intents": [{"name": "cloudIntent"}]}, base_url="http://c"
        ),
        manifest_from_json({"id": "cloud2", "intents": [{"name": "other"}]}, base_url="http://d"),
    ]
)

NLUS = st.sampled_from(
    [
        {"intent": None, "entities": None, "rules": []},
        {"intent": "onRobotIntent", "entities": {}, "rules": ["launch"]},
        {"intent": "cloudIntent", "entities": {}, "rules": ["launch"]},
        {"intent": "cloudIntent", "entities": {}, "rules": ["shared/yes_no"]},
    ]
)
SKILL_REPLIES = st.sampled_from(
    [
        {"type": "SKILL_ACTION", "data": {"action": {}}},
        {"type": "ERROR", "data": {"message": "skill says no"}},
        {
            "type": "SKILL_REDIRECT",
            "data": {"match": {"skillID": "cloud2", "launch": True, "onRobot": False}},
        },
        {
            "type": "SKILL_REDIRECT",
            "data": {"match": {"skillID": "robot", "launch": True, "onRobot": True}},
        },
    ]
)


@st.composite
def turns(draw: st.DrawFn) -> dict[str, Any]:
    mode = draw(st.sampled_from(["CLIENT_ASR", "CLIENT_NLU"]))
    client = (
        hc.client_asr("words")
        if mode == "CLIENT_ASR"
        else hc.client_nlu(draw(st.sampled_from(["onRobotIntent", "cloudIntent", "nothing"])))
    )
    messages = [hc.listen(mode, hotphrase=draw(st.booleans())), client]
    running = draw(st.sampled_from([None, "cloud", "robot", "unknown-skill"]))
    if draw(st.booleans()):  # CONTEXT goes anywhere (§4.3), or never comes
        messages.insert(draw(st.integers(0, len(messages))), hc.context(skill_id=running))
    extra = draw(st.lists(st.sampled_from([hc.context(), hc.client_asr("late")]), max_size=3))
    return {"messages": messages, "extra": extra}


@given(
    turn=turns(),
    nlu=NLUS,
    replies=st.lists(SKILL_REPLIES, min_size=3, max_size=3),
    parser_fails=st.booleans(),
)
def test_exactly_one_final_frame_and_nothing_after(
    turn: dict[str, Any], nlu: dict[str, Any], replies: list[dict[str, Any]], parser_fails: bool
) -> None:
    ids = itertools.count()
    txn = ListenTransaction(skills=SKILLS, new_id=lambda: str(next(ids)))
    now = 0
    frames: list[Any] = []
    pending = list(turn["messages"]) + list(turn["extra"])
    timers: list[str] = []
    replies = list(replies)
    queue: list[Any] = []

    def feed(outputs: list[Any]) -> None:
        for out in outputs:
            if isinstance(out, Send):
                frames.append(out.message)
            elif isinstance(out, Forward):
                frames.append(out)
            elif isinstance(out, StartTimer):
                timers.append(out.name)
            elif isinstance(out, CallParser | CallSkill):
                queue.append(out)

    while pending or queue:
        if queue:
            call = queue.pop(0)
            now += 1
            if isinstance(call, CallParser):
                feed(
                    txn.parser_failed("503", now_ms=now)
                    if parser_fails
                    else txn.parser_replied(nlu, now_ms=now)
                )
            else:
                feed(txn.skill_replied(replies.pop(0), now_ms=now))
            continue
        msg = from_json(pending.pop(0))
        now += 1
        try:
            feed(txn.receive(msg, now_ms=now))
        except RemoteProtocolError as exc:
            feed(txn.fail(exc, now_ms=now))
    for name in timers:  # whatever is still waiting times out
        feed(txn.timer_fired(name, now_ms=now + 60_000))

    finals = [i for i, f in enumerate(frames) if f.final is True]
    assert len(finals) == 1, frames
    assert finals[0] == len(frames) - 1  # nothing after the final frame
