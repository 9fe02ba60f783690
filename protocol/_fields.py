"""Field helpers shared by the message modules: wire names and the ``extra`` field.

Conventions the codec (:mod:`protocol.codec`) relies on:

- A field's wire key is its name unless ``attrs.field(metadata=wire("msgID"))`` says otherwise;
  camelCase lives only in that metadata (STYLE.md "Naming").
- A field **without** a default is a required key. ``None`` is only allowed when its type says
  so (``match: Match | None`` is required and may be ``null``).
- A field whose default is ``None`` is an optional key: None means "absent" and is omitted when
  encoding. If a peer sends an explicit ``null`` there, the codec keeps that key in ``extra`` so
  re-encoding writes it back.
- ``always`` fields (``SOS``/``EOS`` ``data``) are written even when None, and are required
  when decoding (so a decoded frame always re-encodes to the same object).
- Every class has one ``extra: Mapping[str, Any]`` holding the keys it does not model; they are
  written back after the modelled keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

WIRE = "wire"
ALWAYS = "always"
EXTRA = "extra"


def wire(name: str, *, always: bool = False) -> dict[str, Any]:
    """Metadata naming a field's wire key (and whether None is still written)."""
    return {WIRE: name, ALWAYS: always}


def extra_field() -> Any:
    """The ``extra`` field: keys a peer sent that the class does not model."""
    return attrs.field(factory=dict, metadata={EXTRA: True}, repr=False)


EMPTY: Mapping[str, Any] = {}
