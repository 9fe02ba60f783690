"""Unit conversion with pint: "how many feet are in a mile", "convert 10 celsius to fahrenheit".

pint knows thousands of units, their plurals and offset temperatures, so no table of ours can
drift from it. Its registry takes ~0.3 s of CPU to build, so :class:`Converter` builds it
once, in a worker thread, on the first conversion, and keeps it; pint itself is imported there
too (0.15 s and 14 MB that a server never asked for units does not pay). Spoken quantities ("two and
a half cups", "a mile") are split into a number (the arithmetic module's words) and a unit.
"""

from __future__ import annotations

import re
from typing import Any

import attrs
import trio

from jibo_cloud.skills.arithmetic import NotArithmetic, evaluate, spoken_number

#: Spoken unit names pint does not take as they are said.
ALIASES = {
    "celsius": "degC",
    "centigrade": "degC",
    "fahrenheit": "degF",
    "kelvin": "kelvin",
    "mph": "mile/hour",
    "miles per hour": "mile/hour",
    "kilometers per hour": "kilometer/hour",
    "kilometres per hour": "kilometer/hour",
    "kph": "kilometer/hour",
    "fluid ounces": "fluid_ounce",
    "fluid ounce": "fluid_ounce",
    "metres": "meters",
    "metre": "meter",
    "kilometres": "kilometers",
    "kilometre": "kilometer",
    "centimetres": "centimeters",
    "millimetres": "millimeters",
    "litres": "liters",
    "litre": "liter",
    "millilitres": "milliliters",
    "tonnes": "metric_ton",
    "tonne": "metric_ton",
    "stones": "stone",
}
#: Mass ounces asked about a volume (and back): "how many ounces in a cup".
VOLUME_FALLBACK = {"ounce": "fluid_ounce", "ounces": "fluid_ounce"}


class NotConvertible(ValueError):
    """Not a conversion we can do; the message says why (for the log, not the owner)."""


def unit_name(words: str) -> str:
    """Spoken unit → a pint expression."""
    text = " ".join(re.sub(r"\b(?:degrees?|of)\b", " ", words.lower()).split())
    text = re.sub(r"^(?:a |an |the )", "", text)
    if text in ALIASES:
        return ALIASES[text]
    return "_".join(text.split())


def split_quantity(text: str) -> tuple[float, str]:
    """``two and a half cups`` → (2.5, "cups"); ``a mile`` → (1.0, "mile")."""
    words = text.lower().replace("-", " minus ").split()
    words = [w for w in words if w not in ("the",)]
    text = " ".join(words).replace(" and a half", " point five").replace("a half", "point five")
    words = text.split()
    for cut in range(len(words) - 1, 0, -1):
        try:
            return evaluate(" ".join(words[:cut])), " ".join(words[cut:])
        except NotArithmetic:
            continue
    if words and words[0] in ("a", "an", "one"):
        return 1.0, " ".join(words[1:])
    raise NotConvertible("no amount in the quantity")


def _new_registry() -> Any:
    import pint

    return pint.UnitRegistry()


@attrs.define
class Converter:
    """Converts spoken quantities (see module docs)."""

    _registry: Any = None

    async def registry(self) -> Any:
        if self._registry is None:
            self._registry = await trio.to_thread.run_sync(_new_registry)
        return self._registry

    async def convert(self, quantity: str, to_unit: str) -> tuple[float, str, float]:
        """(amount, its spoken unit, the converted amount) for ``quantity`` in ``to_unit``.

        Raises:
            NotConvertible: unknown units, units that do not convert, or no amount.
        """
        registry = await self.registry()
        import pint  # imported (once) by _new_registry in the worker thread

        amount, from_words = split_quantity(quantity)
        source, target = unit_name(from_words), unit_name(to_unit)
        if not source or not target:
            raise NotConvertible("a unit is missing")
        try:
            value = registry.Quantity(amount, source)
            try:
                result = value.to(target)
            except pint.DimensionalityError:
                fallback_target = VOLUME_FALLBACK.get(to_unit.strip().lower(), target)
                fallback_source = VOLUME_FALLBACK.get(from_words.strip().lower(), source)
                result = registry.Quantity(amount, fallback_source).to(fallback_target)
        except (pint.UndefinedUnitError, pint.DimensionalityError, pint.OffsetUnitCalculusError):
            raise NotConvertible("unknown or incompatible units") from None
        except (AttributeError, TypeError, ValueError, SyntaxError):
            raise NotConvertible("not a unit expression") from None
        return amount, from_words, float(result.magnitude)


def spoken_conversion(amount: float, from_words: str, result: float, to_unit: str) -> str:
    """``A mile is 5,280 feet.`` / ``10 celsius is 50 fahrenheit.``"""
    if amount == 1 and not from_words.startswith(("degree", "celsius", "fahrenheit")):
        left = f"One {from_words}"
    else:
        left = f"{spoken_number(amount)} {from_words}"
    if abs(result) < 100 and result != int(result):
        shown = f"{result:.3g}" if abs(result) < 1 else f"{result:,.2f}".rstrip("0").rstrip(".")
    else:
        shown = spoken_number(round(result, 2))
    return f"{left[0].upper()}{left[1:]} is {shown} {to_unit}."
