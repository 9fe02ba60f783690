"""jibo_cloud/jsontext.py: orjson's text equals the stdlib's compact text for what frames hold,
and what orjson refuses still encodes (or fails) as the stdlib would."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jibo_cloud import jsontext

STDLIB = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)

# What a frame holds: str keys; str (any code point but lone surrogates, which are not
# valid UTF-8 and never come out of a decoded frame), 64-bit ints, bools, None.
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.text(st.characters(exclude_categories=("Cs",)))
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.text(st.characters(exclude_categories=("Cs",))), inner, max_size=5)
    ),
    max_leaves=30,
)


@given(_values)
def test_same_text_as_the_stdlib(value: Any) -> None:
    assert jsontext.dumps(value) == STDLIB.encode(value)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_keep_their_value(value: float) -> None:
    assert json.loads(jsontext.dumps({"v": value})) == {"v": value}


def test_a_real_frame_is_compact_and_keeps_non_ascii() -> None:
    frame = {"type": "LISTEN", "final": True, "data": {"asr": {"text": "héllo jibo ☃"}}}
    assert jsontext.dumps(frame) == STDLIB.encode(frame)
    assert " " not in jsontext.dumps({"a": [1, 2]})


def test_what_orjson_refuses_goes_through_the_stdlib() -> None:
    big = {"n": 2**70, 1: "int key"}  # over 64 bits; a non-str key
    assert jsontext.dumps(big) == STDLIB.encode(big)


def test_unknown_types_and_cycles_fail_as_with_the_stdlib() -> None:
    with pytest.raises(TypeError):
        jsontext.dumps({"x": object()})
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular"):
        jsontext.dumps(loop)
