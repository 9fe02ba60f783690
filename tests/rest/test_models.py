"""The generated ``models.json`` still matches the robot client's API models in ../shared."""

from __future__ import annotations

import json

import pytest

from jibo_cloud.errors import ServiceError
from jibo_cloud.rest import gen_models
from jibo_cloud.rest.models import MODELS_PATH, ModelTable, conform, load_models, validate
from tests.support.env import shared_fixtures


@pytest.mark.shared
def test_generated_table_matches_the_shared_models() -> None:
    source = shared_fixtures("api-models")
    committed = json.loads(MODELS_PATH.read_text())
    assert committed == gen_models.build(source), "run: python -m jibo_cloud.rest.gen_models"
    for path in source.glob("*.json"):  # a derived table, never a copy of a shared file
        assert path.read_bytes() != MODELS_PATH.read_bytes()


@pytest.mark.shared
def test_every_target_the_robot_sent_is_known() -> None:
    table = load_models()
    for path in shared_fixtures("http").glob("*_*.*.json"):
        target = json.loads(path.read_text())["target"]
        assert table.find(target) is not None, target


def test_wire_names_and_model_keys_both_resolve() -> None:
    table: ModelTable = load_models()
    assert table.find("Loop_20160324.ListLoops") is table.find("Loop_20160324.List")
    assert table.find("Loop_20160324.ListLoops").name == "ListLoops"
    assert table.find("Nope_20990101.Nothing") is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "loopIds is required"),
        ({"loopIds": "x"}, "loopIds must be a list, got string"),
        ({"loopIds": [1]}, "loopIds[0] must be a string, got number"),
        ({"loopIds": [], "after": 1.5}, "after must be a whole number, got number"),
        ({"loopIds": [], "after": True}, "after must be a whole number, got boolean"),
        ([], "body must be a JSON object, got list"),
    ],
)
def test_validation_names_the_member(body: object, message: str) -> None:
    op = load_models().find("Media_20160725.List")
    with pytest.raises(ServiceError) as info:
        validate(body, op.input)
    assert (info.value.code, info.value.message) == ("ValidationException", message)


def test_validation_accepts_unknown_members_and_nulls() -> None:
    op = load_models().find("Media_20160725.List")
    validate({"loopIds": ["a"], "extra": {"x": 1}, "after": None}, op.input)


def test_conform_drops_members_the_model_does_not_declare() -> None:
    op = load_models().find("Robot_20160225.GetRobot")
    answer = {"id": "r", "payload": {"any": 1}, "secret": "no", "created": 1}
    assert conform(answer, op.output) == {"id": "r", "payload": {"any": 1}, "created": 1}
