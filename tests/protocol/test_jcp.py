"""JCP behaviours and the SKILL_ACTION builder (PROTOCOL.md §6)."""

from __future__ import annotations

import json

import pytest
from attrs import evolve

from protocol import DecodeError, SkillAction, decode_frame, encode_frame, jcp


def test_skill_action_has_the_spec_shape() -> None:
    data = jcp.skill_action(
        "@be/joke",
        jcp.slim("<speak>Hi</speak>", mim_id="runtime-joke"),
        final=True,
        fire_and_forget=False,
    )
    msg = SkillAction(msg_id="m", ts=1, data=data, final=True, timings={"total": 5, "skill": 2})
    wire = json.loads(encode_frame(msg))
    assert wire["data"] == {
        "action": {
            "type": "JCP",
            "config": {
                "version": "1.0.0",
                "jcp": {
                    "type": "SLIM",
                    "config": {
                        "play": {
                            "esml": "<speak>Hi</speak>",
                            "meta": {
                                "prompt_id": "RUNTIME_PROMPT",
                                "prompt_sub_category": "AN",
                                "mim_id": "runtime-joke",
                                "mim_type": "announcement",
                            },
                        }
                    },
                },
            },
        },
        "skill": {"id": "@be/joke"},
        "analytics": {},
        "final": True,
        "fireAndForget": False,
    }
    assert decode_frame(encode_frame(msg), sender="hub") == msg


def test_nested_behaviours_use_the_original_wire_names() -> None:
    tree = jcp.parallel(
        jcp.impact_emotion("CALM", id="p1"),
        jcp.sequence(
            jcp.set_present_person("bob", id="s1"),
            jcp.slim(jcp.SILENT_ESML),
            id="seq",
        ),
        id="par",
    )
    wire = jcp.behavior_to_json(tree)
    assert wire["type"] == "PARALLEL"
    assert wire["succeedOnFirst"] is False
    assert [c["type"] for c in wire["children"]] == ["IMPACT_EMOTION", "SEQUENCE"]
    assert wire["children"][1]["children"][0] == {
        "type": "SET_PRESENT_PERSON",
        "id": "s1",
        "looperId": "bob",
        "source": "USER_OVERRIDE",
        "confidence": 100,
    }
    assert jcp.behavior_from_json(wire) == tree


def test_behavior_of_reads_the_action() -> None:
    data = jcp.skill_action("s", jcp.impact_emotion("HAPPY"), final=False, fire_and_forget=True)
    assert jcp.behavior_of(data) == jcp.impact_emotion("HAPPY")
    other = jcp.skill_action("s", jcp.slim("x"), final=True, fire_and_forget=True)
    assert isinstance(jcp.behavior_of(other), jcp.Slim)


def test_non_jcp_and_unknown_behaviours_are_kept() -> None:
    raw = {"type": "NOT_JCP", "payload": {"id": "raw-action"}}
    data = jcp.skill_action("s", jcp.slim("x"), final=True, fire_and_forget=True)
    assert jcp.behavior_of(evolve(data, action=raw)) is None
    assert jcp.behavior_of(evolve(data, action=None)) is None
    speak = {"type": "SPEAK", "id": "a", "text": "hi"}
    behavior = jcp.behavior_from_json(speak)
    assert behavior == jcp.OtherBehavior(type="SPEAK", fields={"id": "a", "text": "hi"})
    assert jcp.behavior_to_json(behavior) == speak


@pytest.mark.parametrize(
    ("obj", "path"),
    [
        ({"type": "SLIM", "config": {}}, "$.config.play.esml"),
        ({"type": "SEQUENCE", "children": {}}, "$.children"),
        ({"type": "SEQUENCE", "children": [{"type": 3}]}, "$.children[0]"),
        ({"type": "PARALLEL", "children": [], "succeedOnFirst": 1}, "$.succeedOnFirst"),
        ({"type": "IMPACT_EMOTION"}, "$.emotion"),
        ({"type": "SET_PRESENT_PERSON", "source": "x", "confidence": True}, "$.confidence"),
        ({"type": "SLIM", "id": 5, "config": {"play": {"esml": ""}}}, "$.id"),
    ],
)
def test_malformed_behaviours_name_the_path(obj: object, path: str) -> None:
    with pytest.raises(DecodeError) as info:
        jcp.behavior_from_json(obj)
    assert info.value.path == path


def test_jcp_claimed_without_behaviour() -> None:
    data = jcp.skill_action("s", jcp.slim("x"), final=True, fire_and_forget=True)
    with pytest.raises(DecodeError, match=r"\$\.data\.action\.config\.jcp"):
        jcp.behavior_of(evolve(data, action={"type": "JCP", "config": {}}))
