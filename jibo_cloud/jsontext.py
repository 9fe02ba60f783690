"""Compact JSON text for what the server writes most: hub frames and access-log lines.

The stdlib's C encoder spent ~4 % of a hub turn's instructions on a turn's five texts (its
four frames and the access line; docs/hub.md). orjson writes the same compact text ~10x
faster. Its output equals ``json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)``
for everything a frame holds (str keys, str, int, bool, None, lists, dicts; floats may be
spelt differently, e.g. ``1e16`` for ``1e+16``, and NaN becomes ``null``, the same values for
any JSON reader). What orjson refuses (an int beyond 64 bits from a remote skill, a type it
does not know) goes through the stdlib encoder, so nothing that encoded before fails now.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_STDLIB = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> str:
    """``obj`` as compact JSON text (UTF-8 characters kept, no spaces).

    Raises:
        TypeError: ``obj`` holds something neither encoder knows (as ``json.dumps`` does).
        ValueError: a circular reference (as ``json.dumps`` does).
    """
    try:
        return orjson.dumps(obj, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return _STDLIB.encode(obj)
