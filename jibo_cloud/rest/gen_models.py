"""Generate ``models.json``: the operation and shape tables the REST dispatcher needs.

The robot client's API models live in ``../shared/fixtures/api-models/`` (not in this repo).
This script reads them once and writes a reduced, derived table into the package, so the
server runs without ``../shared``:

- one entry per target prefix (admin models merge into their service's prefix),
- operations keyed by their **wire** name (``Loop_20160324.List`` is sent as ``ListLoops``),
  with ``aliases`` from the model key to the wire name,
- every ``shape`` reference resolved inline, and each shape cut down to what validation uses:
  ``t`` type (untyped members are strings, as in the AWS SDK), ``m`` members, ``r`` required,
  ``e`` list element, ``k``/``v`` map key/value, ``loc``/``ln`` header location, ``n`` nullable,
  and ``payload`` for operations whose body is a binary stream.

Usage: ``python -m jibo_cloud.rest.gen_models [MODELS_DIR]``. ``tests/rest/test_models.py``
checks that the committed table still matches the shared models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("models.json")
DEFAULT_SOURCE = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "api-models"


def reduce_shape(shape: dict[str, Any], shapes: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """One model shape, references resolved, reduced to the validation keys."""
    if depth > 20:
        raise ValueError("shape nesting deeper than 20: a recursive model?")
    if "shape" in shape:
        resolved = dict(shapes[shape["shape"]])
        resolved.update({k: v for k, v in shape.items() if k != "shape"})
        shape = resolved
    out: dict[str, Any] = {"t": shape.get("type", "string")}
    if "members" in shape:
        out["m"] = {
            name: reduce_shape(member, shapes, depth + 1)
            for name, member in shape["members"].items()
        }
    if shape.get("required"):
        out["r"] = sorted(shape["required"])
    if "member" in shape:
        out["e"] = reduce_shape(shape["member"], shapes, depth + 1)
    if "key" in shape:
        out["k"] = reduce_shape(shape["key"], shapes, depth + 1)
    if "value" in shape:
        out["v"] = reduce_shape(shape["value"], shapes, depth + 1)
    if "location" in shape:
        out["loc"] = shape["location"]
        out["ln"] = shape.get("locationName", "")
    if shape.get("nullable"):
        out["n"] = True
    if shape.get("payload"):
        out["payload"] = shape["payload"]
    return out


def build(source: Path) -> dict[str, Any]:
    services: dict[str, dict[str, Any]] = {}
    aliases: dict[str, dict[str, str]] = {}
    for path in sorted(source.glob("*.min.json")):
        model = json.loads(path.read_text(encoding="utf-8"))
        prefix = model["metadata"]["targetPrefix"]
        shapes = model.get("shapes", {})
        ops = services.setdefault(prefix, {})
        for key, op in model["operations"].items():
            wire = op.get("name", key)
            entry: dict[str, Any] = {}
            if "input" in op:
                entry["in"] = reduce_shape(op["input"], shapes)
            if op.get("output"):
                entry["out"] = reduce_shape(op["output"], shapes)
            ops[wire] = entry
            if wire != key:
                aliases.setdefault(prefix, {})[key] = wire
    return {
        "generated_from": "@jibo/jibo-server-client 3.0.117 API models (reduced)",
        "services": {p: dict(sorted(ops.items())) for p, ops in sorted(services.items())},
        "aliases": aliases,
    }


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_SOURCE
    if not source.is_dir():
        print(f"gen_models: no API models at {source}", file=sys.stderr)
        return 1
    OUT.write_text(json.dumps(build(source), separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
