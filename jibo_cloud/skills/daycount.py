""" "How many days until …": holidays, weekdays and spoken dates → their next date.

Pure: today's date comes in as an argument. Holidays are the common ones of the robot's
market (the original sold in the US and Canada): fixed dates, rule-based ones (Thanksgiving is
the fourth Thursday of November), and Easter (python-dateutil's Western algorithm). Dates are
spoken ("december twenty fifth", "the 3rd of march", "july 4").
"""

from __future__ import annotations

import calendar
import datetime
import re
from collections.abc import Callable, Mapping

from dateutil.easter import easter

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_ORDINAL_ONES = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]
ORDINALS: dict[str, int] = {w: i + 1 for i, w in enumerate(_ORDINAL_ONES)}
ORDINALS |= {"twentieth": 20, "thirtieth": 30}
ORDINALS |= {f"twenty {w}": 20 + i + 1 for i, w in enumerate(_ORDINAL_ONES[:9])}
ORDINALS |= {"thirty first": 31}
CARDINALS = {
    w: i + 1
    for i, w in enumerate(
        [
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
CARDINALS |= {
    f"twenty {w}": 20 + i + 1
    for i, w in enumerate(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
}
CARDINALS |= {"thirty": 30, "thirty one": 31}


def _nth_weekday(month: int, weekday: int, n: int) -> Callable[[int], datetime.date]:
    """The n-th (1-based; -1 = last) ``weekday`` of ``month`` in a year."""

    def on(year: int) -> datetime.date:
        days = [
            d
            for d in calendar.Calendar().itermonthdates(year, month)
            if d.month == month and d.weekday() == weekday
        ]
        return days[n - 1] if n > 0 else days[n]

    return on


def _fixed(month: int, day: int) -> Callable[[int], datetime.date]:
    return lambda year: datetime.date(year, month, day)


#: Spoken name (normalized) → (how Jibo says it, the date in a given year).
HOLIDAYS: Mapping[str, tuple[str, Callable[[int], datetime.date]]] = {
    "christmas": ("Christmas", _fixed(12, 25)),
    "christmas day": ("Christmas", _fixed(12, 25)),
    "christmas eve": ("Christmas Eve", _fixed(12, 24)),
    "new year": ("New Year's Day", _fixed(1, 1)),
    "new years": ("New Year's Day", _fixed(1, 1)),
    "new year's": ("New Year's Day", _fixed(1, 1)),
    "new year's day": ("New Year's Day", _fixed(1, 1)),
    "new years day": ("New Year's Day", _fixed(1, 1)),
    "new year's eve": ("New Year's Eve", _fixed(12, 31)),
    "new years eve": ("New Year's Eve", _fixed(12, 31)),
    "halloween": ("Halloween", _fixed(10, 31)),
    "valentine's day": ("Valentine's Day", _fixed(2, 14)),
    "valentines day": ("Valentine's Day", _fixed(2, 14)),
    "valentine's": ("Valentine's Day", _fixed(2, 14)),
    "saint patrick's day": ("Saint Patrick's Day", _fixed(3, 17)),
    "st patrick's day": ("Saint Patrick's Day", _fixed(3, 17)),
    "st patricks day": ("Saint Patrick's Day", _fixed(3, 17)),
    "april fools day": ("April Fools' Day", _fixed(4, 1)),
    "april fools": ("April Fools' Day", _fixed(4, 1)),
    "independence day": ("Independence Day", _fixed(7, 4)),
    "the fourth of july": ("the Fourth of July", _fixed(7, 4)),
    "fourth of july": ("the Fourth of July", _fixed(7, 4)),
    "canada day": ("Canada Day", _fixed(7, 1)),
    "earth day": ("Earth Day", _fixed(4, 22)),
    "veterans day": ("Veterans Day", _fixed(11, 11)),
    "thanksgiving": ("Thanksgiving", _nth_weekday(11, 3, 4)),
    "mother's day": ("Mother's Day", _nth_weekday(5, 6, 2)),
    "mothers day": ("Mother's Day", _nth_weekday(5, 6, 2)),
    "father's day": ("Father's Day", _nth_weekday(6, 6, 3)),
    "fathers day": ("Father's Day", _nth_weekday(6, 6, 3)),
    "memorial day": ("Memorial Day", _nth_weekday(5, 0, -1)),
    "labor day": ("Labor Day", _nth_weekday(9, 0, 1)),
    "martin luther king day": ("Martin Luther King Day", _nth_weekday(1, 0, 3)),
    "easter": ("Easter", easter),
    "easter sunday": ("Easter", easter),
    "summer": ("the first day of summer", _fixed(6, 21)),
    "winter": ("the first day of winter", _fixed(12, 21)),
    "spring": ("the first day of spring", _fixed(3, 20)),
    "fall": ("the first day of fall", _fixed(9, 22)),
    "autumn": ("the first day of autumn", _fixed(9, 22)),
}


def _day_number(text: str) -> int | None:
    text = text.strip()
    digits = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", text)
    if digits:
        return int(digits[1])
    return ORDINALS.get(text) or CARDINALS.get(text)


def _spoken_date(text: str) -> tuple[int, int] | None:
    """``december twenty fifth`` / ``the 3rd of march`` / ``july 4`` → (month, day)."""
    text = re.sub(r"^the ", "", text)
    for name, month in MONTHS.items():
        if text.startswith(name + " "):
            day = _day_number(re.sub(r"^the ", "", text[len(name) + 1 :]))
            return (month, day) if day else None
        if text.endswith(" of " + name):
            day = _day_number(text[: -len(name) - 4])
            return (month, day) if day else None
    return None


def next_occurrence(event: str, today: datetime.date) -> tuple[str, datetime.date] | None:
    """(how to say it, its next date on or after ``today``) for a spoken event, or None.

    ``event`` is normalized text (lower case, no punctuation but apostrophes).
    """
    text = " ".join(event.lower().replace("?", "").split())
    text = re.sub(r"^(?:it's |it is |next |this )", "", text)
    if text in HOLIDAYS:
        name, on = HOLIDAYS[text]
        date = on(today.year)
        if date < today:
            date = on(today.year + 1)
        return name, date
    if text.rstrip("s") in WEEKDAYS or text == "the weekend" or text == "weekend":
        weekday = WEEKDAYS.get(text.rstrip("s"), 5)
        ahead = (weekday - today.weekday()) % 7 or 7
        name = "the weekend" if "weekend" in text else text.rstrip("s").capitalize()
        return name, today + datetime.timedelta(days=ahead)
    month_day = _spoken_date(text)
    if month_day is None:
        return None
    month, day = month_day
    for year in range(today.year, today.year + 9):  # the 29th of February: next leap year
        try:
            date = datetime.date(year, month, day)
        except ValueError:
            continue  # not this year (February 29), or never (February 30)
        if date >= today:
            return f"{calendar.month_name[month]} {day}", date
    return None


def spoken_count(name: str, date: datetime.date, today: datetime.date) -> str:
    days = (date - today).days
    if days == 0:
        return f"{name[0].upper()}{name[1:]} is today!"
    if days == 1:
        return f"{name[0].upper()}{name[1:]} is tomorrow. Just one more sleep!"
    return f"There are {days} days until {name}."
