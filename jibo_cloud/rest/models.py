"""The API-model table (``models.json``) and validation of requests against it.

Validation follows the AWS JSON 1.1 rules the robot's client was generated from: a structure
is a JSON object whose ``required`` members are present; members have their declared types
(``long``/``integer`` are whole numbers, ``object`` is any JSON value, untyped members are
strings); unknown members are ignored, as AWS services do. Members bound to headers
(``loc: header``) are read from the request headers for binary-payload operations.

:func:`conform` trims an answer to its output shape, so a handler can never leak a column
(or a secret) the model does not declare.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import attrs

from jibo_cloud.errors import ServiceError

MODELS_PATH = Path(__file__).with_name("models.json")
Shape = Mapping[str, Any]


@attrs.frozen
class Operation:
    """One operation of one service, by its wire name."""

    prefix: str
    name: str
    input: Shape | None
    output: Shape | None

    @property
    def target(self) -> str:
        return f"{self.prefix}.{self.name}"

    @property
    def payload_member(self) -> str | None:
        """The member carried as the raw body (binary uploads such as ``Media.Create``)."""
        if self.input is None:
            return None
        return self.input.get("payload")


@attrs.frozen
class ModelTable:
    operations: Mapping[str, Operation]

    def find(self, target: str) -> Operation | None:
        return self.operations.get(target)


@cache
def load_models(path: Path = MODELS_PATH) -> ModelTable:
    """Parse the generated table once; wire names and model-key aliases both resolve."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    ops: dict[str, Operation] = {}
    for prefix, operations in raw["services"].items():
        for name, entry in operations.items():
            ops[f"{prefix}.{name}"] = Operation(prefix, name, entry.get("in"), entry.get("out"))
    for prefix, aliases in raw["aliases"].items():
        for key, wire in aliases.items():
            ops.setdefault(f"{prefix}.{key}", ops[f"{prefix}.{wire}"])
    return ModelTable(ops)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _invalid(path: str, expected: str, value: Any) -> ServiceError:
    return ServiceError(
        "ValidationException",
        f"{path or 'body'} must be {expected}, got {_type_name(value)}",
    )


def validate(value: Any, shape: Shape, path: str = "") -> None:
    """Raise ``ValidationException`` (400) naming the first member that breaks ``shape``."""
    kind = shape.get("t", "string")
    if value is None:
        if path:  # a null member counts as absent (the AWS SDK omits them; required is checked)
            return
        raise _invalid(path, "a JSON object", value)
    if kind == "structure":
        if not isinstance(value, dict):
            raise _invalid(path, "a JSON object", value)
        for name in shape.get("r", ()):
            member = shape.get("m", {}).get(name, {})
            if member.get("loc") or name == shape.get("payload"):
                continue  # header- and body-bound members are checked by the dispatcher
            if value.get(name) is None:
                where = f"{path}.{name}" if path else name
                raise ServiceError("ValidationException", f"{where} is required")
        for name, member in shape.get("m", {}).items():
            if name in value:
                validate(value[name], member, f"{path}.{name}" if path else name)
    elif kind == "list":
        if not isinstance(value, list):
            raise _invalid(path, "a list", value)
        element = shape.get("e", {})
        for i, item in enumerate(value):
            validate(item, element, f"{path}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise _invalid(path, "a map (JSON object)", value)
        element = shape.get("v", {})
        for key, item in value.items():
            validate(item, element, f"{path}.{key}")
    elif kind == "string":
        if not isinstance(value, str):
            raise _invalid(path, "a string", value)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _invalid(path, "a boolean", value)
    elif kind in ("long", "integer"):
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise _invalid(path, "a whole number", value)
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(path, "a number", value)
    elif kind == "blob" and not isinstance(value, str):
        raise _invalid(path, "a base64 string", value)
    # "object" (and any type the models add later): any JSON value


def conform(value: Any, shape: Shape | None) -> Any:
    """``value`` with only the members ``shape`` declares (recursively); other values as-is."""
    if shape is None or value is None:
        return value
    kind = shape.get("t")
    if kind == "structure" and isinstance(value, dict) and "m" in shape:
        members = shape["m"]
        # A few models require a member they do not declare (OauthClients ``scope``): keep it.
        required = set(shape.get("r", ()))
        return {
            k: conform(v, members.get(k)) for k, v in value.items() if k in members or k in required
        }
    if kind == "list" and isinstance(value, list):
        element = shape.get("e")
        return [conform(v, element) for v in value]
    if kind == "map" and isinstance(value, dict):
        element = shape.get("v")
        return {k: conform(v, element) for k, v in value.items()}
    return value


def missing_required(value: Any, shape: Shape | None, path: str = "") -> list[str]:
    """Required members absent from an *answer* (tests use it to check every output)."""
    if shape is None or value is None:
        return []
    kind = shape.get("t")
    found: list[str] = []
    if kind == "structure" and isinstance(value, dict):
        for name in shape.get("r", ()):
            if value.get(name) is None:
                found.append(f"{path}.{name}" if path else name)
        for name, member in shape.get("m", {}).items():
            found += missing_required(value.get(name), member, f"{path}.{name}")
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            found += missing_required(item, shape.get("e"), f"{path}[{i}]")
    return found
