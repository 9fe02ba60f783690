"""Spoken arithmetic: "two hundred and five times three", "7 / 2", "the square root of 81".

Pure: words and digits become tokens, a small recursive-descent parser builds the value with
the usual precedence (power, then times/divided by, then plus/minus). Nothing is ever
evaluated as Python (no ``eval``); numbers are bounded so an owner cannot make the server
compute a googolplex. :func:`spoken_number` says a result the way a person would.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from decimal import Decimal

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70}
SMALL = {
    **{w: i for i, w in enumerate(_ONES.split())},
    **_TENS,
    "eighty": 80,
    "ninety": 90,
    "oh": 0,
    "a": 1,
    "an": 1,
}
SCALES = {"hundred": 100, "thousand": 1_000, "million": 10**6, "billion": 10**9}
#: Multi-word operators first; each maps to one symbol.
OPERATOR_WORDS = (
    ("to the power of", "^"),
    ("multiplied by", "*"),
    ("divided by", "/"),
    ("square root of", "sqrt"),
    ("percent of", "%of"),
    ("take away", "-"),
    ("plus", "+"),
    ("add", "+"),
    ("minus", "-"),
    ("times", "*"),
    ("x", "*"),
    ("over", "/"),
    ("squared", "sq"),
    ("cubed", "cube"),
)
#: Typed operators, with the multiplication and minus signs (U+00D7, U+2212).
SYMBOLS = {
    "+": "+",
    "-": "-",
    "*": "*",
    "\u00d7": "*",
    "/": "/",
    "\u00f7": "/",
    "^": "^",
    "\u2212": "-",
}
FILLERS = {"and", "the", "of", "is", "what", "what's", "whats", "equals", "equal", "by"}
LIMIT = 10**15


class NotArithmetic(ValueError):
    """The text is not an arithmetic question we can parse; the message says what was odd."""


class DivisionByZero(ArithmeticError):
    """The owner asked to divide by zero."""


Token = float | str


def _number_words(words: Sequence[str]) -> float:
    """``two hundred and five`` → 205; ``three point one four`` → 3.14."""
    if "point" in words:
        at = words.index("point")
        whole = _number_words(words[:at]) if at else 0.0
        digits = "".join(str(SMALL[w]) if w in SMALL else w for w in words[at + 1 :])
        if not digits.isdigit():
            raise NotArithmetic("digits after 'point' expected")
        return whole + float(Decimal("0." + digits))
    total, current = 0, 0
    for word in words:
        if word in SMALL:
            current += SMALL[word]
        elif word in SCALES:
            scale = SCALES[word]
            if scale == 100:
                current = max(current, 1) * 100
            else:
                total += max(current, 1) * scale
                current = 0
        elif word.isdigit():
            current += int(word)
        else:
            raise NotArithmetic(f"not a number word: {word!r}")
    return float(total + current)


def tokenize(text: str) -> list[Token]:
    """Words, digits and symbols → numbers and operator symbols."""
    spaced = text.lower()
    while re.search(r"\d,\d{3}", spaced):  # thousands separators: 1,000,000
        spaced = re.sub(r"(\d),(\d{3})", r"\1\2", spaced)
    spaced = spaced.replace(",", " ")
    spaced = re.sub(r"(\d+(?:\.\d+)?)", r" \1 ", spaced)
    for symbol in SYMBOLS:
        spaced = spaced.replace(symbol, f" {symbol} ")
    spaced = spaced.replace("?", " ").replace("%", " percent ")
    for phrase, symbol in OPERATOR_WORDS:
        spaced = re.sub(rf"\b{phrase}\b", f" {symbol} ", spaced)
    tokens: list[Token] = []
    words: list[str] = []

    def flush() -> None:
        if words:
            tokens.append(_number_words(words))
            words.clear()

    for word in spaced.split():
        if word in SYMBOLS:
            flush()
            tokens.append(SYMBOLS[word])
        elif word in ("sqrt", "%of", "sq", "cube", "^"):
            flush()
            tokens.append(word)
        elif re.fullmatch(r"\d+(?:\.\d+)?", word):
            flush()
            tokens.append(float(word))
        elif word in SMALL or word in SCALES or word == "point":
            if word in ("a", "an") and words:
                continue
            words.append(word)
        elif word in FILLERS:
            if word == "and" and words:
                continue  # "two hundred and five"
            flush()
        else:
            raise NotArithmetic(f"unexpected word {word!r}")
    flush()
    if not any(isinstance(t, float) for t in tokens):
        raise NotArithmetic("no number")
    return tokens


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None:
            raise NotArithmetic("the expression ends too early")
        self.pos += 1
        return token

    def expression(self) -> float:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> float:
        value = self.power()
        while self.peek() in ("*", "/", "%of"):
            op = self.take()
            right = self.power()
            if op == "/":
                if right == 0:
                    raise DivisionByZero
                value /= right
            elif op == "%of":
                value = value / 100 * right
            else:
                value *= right
        return value

    def power(self) -> float:
        value = self.unary()
        while self.peek() in ("^", "sq", "cube"):
            op = self.take()
            exponent = 2.0 if op == "sq" else 3.0 if op == "cube" else self.unary()
            if abs(exponent) > 64 or (
                abs(value) > 1 and abs(exponent) * math.log10(abs(value)) > 15
            ):
                raise NotArithmetic("that number is too big")
            value = value**exponent
        return value

    def unary(self) -> float:
        item = self.take()
        if item == "-":
            return -self.unary()
        if item == "sqrt":
            inner = self.unary()
            if inner < 0:
                raise NotArithmetic("square root of a negative number")
            return math.sqrt(inner)
        if isinstance(item, float):
            return item
        raise NotArithmetic(f"a number expected, got {item!r}")


def evaluate(text: str) -> float:
    """The value of a spoken or typed arithmetic expression.

    Raises:
        NotArithmetic: it is not one we understand (or the numbers are out of range).
        DivisionByZero: it divides by zero.
    """
    tokens = tokenize(text)
    parser = _Parser(tokens)
    value = parser.expression()
    if parser.peek() is not None:
        raise NotArithmetic(f"unexpected {parser.peek()!r} after the expression")
    if not math.isfinite(value) or abs(value) > LIMIT:
        raise NotArithmetic("that number is too big")
    return value


def spoken_number(value: float) -> str:
    """4.0 → ``4``; 3.14159 → ``3.14``; 1234567 → ``1,234,567``; tiny → ``0.000123``."""
    if value == int(value) and abs(value) < LIMIT:
        return f"{int(value):,}"
    if abs(value) >= 1:
        text = f"{value:,.2f}"
    else:
        text = f"{value:.3g}"
        if "e" in text:
            text = f"{value:.12f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
