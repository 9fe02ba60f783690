"""The embedded grammar: what owners say, keyed by the robot's own rule names.

The robot's LISTEN names the rule sets it wants (``launch``, ``globals/global_commands_launch``,
``shared/yes_no``, ``clock/clock_menu`` …, every set seen in ``shared/fixtures/ws/INDEX.json``).
Each rule here lists :class:`Phrase` entries: an intent, its templates
(:mod:`jibo_cloud.nlu.template`), fixed entities and a function turning captured slots into
entities. The same templates build the recogniser's per-turn JSGF search.

Intent and entity names follow what robots send in CLIENT_NLU (``loadMenu(destination=clock)``,
``askForTime(domain=clock)``, ``alarmValue(time, ampm, domain)``, ``guess(guess)``) where the
robot has a name for them; the rest are ours and documented in ``docs/skills.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from jibo_cloud.nlu.template import words_to_number

Entities = dict[str, Any]


def _strs(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(eq=False)  # hashed by identity: compiled patterns are cached per phrase
class Phrase:
    intent: str
    templates: tuple[str, ...] = attrs.field(converter=_strs)
    entities: Mapping[str, Any] = attrs.field(factory=dict)
    build: Callable[[Mapping[str, str]], Entities] | None = None


def _volume(groups: Mapping[str, str]) -> Entities:
    return {"volumeLevel": words_to_number(groups.get("level", "")) or 0}


def _ampm(text: str) -> str | None:
    if not text:
        return None
    return "AM" if text.replace(" ", "") in {"am", "inthemorning"} else "PM"


def _alarm(groups: Mapping[str, str]) -> Entities:
    hour = words_to_number(groups.get("hour", "")) or 0
    minute_text = groups.get("minute", "")
    minute = 0 if minute_text in ("", "o'clock") else words_to_number(minute_text) or 0
    return {
        "domain": "alarm",
        "time": f"{hour}:{minute:02d}",
        "ampm": _ampm(groups.get("ampm", "")),
    }


def _timer(groups: Mapping[str, str]) -> Entities:
    def num(key: str) -> int | None:
        return words_to_number(groups[key]) if groups.get(key) else None

    return {
        "domain": "timer",
        "hours": num("hours"),
        "minutes": num("minutes"),
        "seconds": num("seconds"),
    }


def _guess(groups: Mapping[str, str]) -> Entities:
    return {"guess": groups.get("guess", "")}


def _day(groups: Mapping[str, str]) -> Entities:
    return {"date": groups.get("day") or "today"}


# --------------------------------------------------------------------------- shared pieces

YES = Phrase(
    "yes",
    (
        "(yes | yeah | yep | yup | sure | okay | ok | of course | absolutely | definitely | "
        "correct | right) [please | sure | thanks]",
        "(sounds good | do it | go ahead | let's do it | why not | i do | i would)",
    ),
)
NO = Phrase(
    "no",
    (
        "(no | nope | nah | not now | no way | not really | no thanks | no thank you) [thanks]",
        "(i don't | i do not | i wouldn't | maybe later | don't)",
    ),
)
CANCEL = Phrase("cancel", ("(cancel | never mind | forget it) [that | it]",))
STOP = Phrase("stop", ("(stop | quiet | be quiet | shut up | enough | stop it | that's enough)",))
VOLUME = (
    Phrase(
        "volumeUp",
        (
            "(turn | crank) it up",
            "[turn] [the] volume up",
            "turn up the volume",
            "(louder | speak up) [please]",
        ),
    ),
    Phrase(
        "volumeDown",
        (
            "turn it down",
            "[turn] [the] volume down",
            "turn down the volume",
            "(quieter | softer) [please]",
        ),
    ),
    Phrase(
        "volumeToValue",
        (
            "[set] [the | your] volume [to | at] {level:volume}",
            "turn [the] volume to {level:volume}",
        ),
        build=_volume,
    ),
    Phrase("volumeQuery", ("what's [the | your] volume", "what is [the | your] volume")),
)
REPEAT = Phrase(
    "repeat", ("(repeat | say) (that | it) [again]", "(come again | pardon | what did you say)")
)
THANKS = Phrase("thanks", ("(thank you | thanks) [jibo | so much | a lot]",))
NAV = (
    Phrase("back", ("go back", "back", "previous")),
    Phrase("next", ("next", "(go | move) (on | next)", "show me the next one")),
    Phrase("home", ("go home", "(main | home) menu")),
)

LAUNCH = (
    Phrase(
        "askForTime",
        (
            "[hey jibo] (what time is it | what's the time | what is the time) [right now | now]",
            "(tell me | do you know) (the time | what time it is)",
            "what time (is it | it is)",
        ),
        {"domain": "clock"},
    ),
    Phrase(
        "askForDate",
        (
            "(what's | what is) [the] (date | today's date | date today)",
            "what (day | date) is (it | today) [today]",
            "(tell me | do you know) (the date | what day it is | today's date)",
            "what's today",
        ),
        {"domain": "clock"},
    ),
    Phrase(
        "tellJoke",
        (
            "(tell me | tell us | say) [another | a] joke",
            "(tell me | say) something funny",
            "(make me laugh | do you know any jokes | i want to hear a joke | joke please)",
            "[another] joke",
        ),
    ),
    Phrase(
        "hello",
        ("(hello | hi | hey | hiya | howdy | greetings) [jibo | there | buddy]",),
        {"greeting": "hello"},
    ),
    Phrase("hello", ("good morning [jibo]",), {"greeting": "morning"}),
    Phrase("hello", ("good afternoon [jibo]",), {"greeting": "afternoon"}),
    Phrase("hello", ("good evening [jibo]",), {"greeting": "evening"}),
    Phrase("goodbye", ("(goodbye | bye | bye bye | good night | see you later) [jibo]",)),
    Phrase(
        "howAreYou",
        ("how are you [doing] [today]", "(how's it going | how do you feel | how are things)"),
    ),
    Phrase(
        "whoAreYou",
        (
            "who are you",
            "(what's | what is) your name",
            "tell me about yourself",
            "introduce yourself",
        ),
    ),
    Phrase(
        "whatCanYouDo",
        ("what can you do", "what (can | should) i (say | ask you)", "help [me]", "what do you do"),
    ),
    Phrase(
        "weather",
        (
            "(what's | what is | how's | how is) the weather [like] [{day}]",
            "(tell me about | what about) the weather [{day}]",
            "is it going to rain [{day}]",
            "[what's the] weather forecast [for] [{day}]",
        ),
        build=_day,
    ),
    Phrase("thanks", THANKS.templates),
)

MENU_DESTINATIONS = {
    "clock": "clock",
    "fun": "(fun | fun stuff)",
    "settings": "settings",
    "word-of-the-day": "word of the day",
    "radio": "radio",
    "gallery": "(gallery | photos | pictures | photo gallery)",
    "snapshot": "(snapshot | take a picture | take a photo)",
    "personal-report": "personal report",
    "circuit-saver": "circuit saver",
    "friendly-tips": "(friendly tips | tips)",
    "introductions": "introductions",
}


def _menu_phrases() -> tuple[Phrase, ...]:
    return tuple(
        Phrase(
            "loadMenu",
            (f"[(open | show me | go to | launch | play)] [the] {words} [menu]",),
            {"destination": value},
        )
        for value, words in MENU_DESTINATIONS.items()
    )


CLOCK_MENU = (
    Phrase("askForTime", ("[what] time", *LAUNCH[0].templates), {"domain": "clock"}),
    Phrase("askForDate", ("[what] date", *LAUNCH[1].templates), {"domain": "clock"}),
    Phrase("set", ("[set] [an] alarm", "set an alarm [please]"), {"domain": "alarm"}),
    Phrase("start", ("[start | set] [a] timer",), {"domain": "timer"}),
    CANCEL,
)
ALARM_VALUE = Phrase(
    "alarmValue",
    ("[set it for | set an alarm for | at | for | make it] {hour} [{minute}] [{ampm}]",),
    build=_alarm,
)
TIMER_VALUE = Phrase(
    "timerValue",
    (
        "[set a timer for | for] {hours:number} (hour | hours) "
        "[and] [{minutes:number} (minute | minutes)]",
        "[set a timer for | for] {minutes:number} (minute | minutes) "
        "[and] [{seconds:number} (second | seconds)]",
        "[set a timer for | for] {seconds:number} (second | seconds)",
    ),
    build=_timer,
)
GUESS = Phrase("guess", ("[is it | i think it's | it's | my guess is] {guess:free}",), build=_guess)
RADIO = (
    Phrase(
        "play", ("play [some] {genre:free} [music]",), build=lambda g: {"genre": g.get("genre", "")}
    ),
    Phrase("next", ("(next | change the | another) station", "next")),
    STOP,
)
YES_NO = (YES, NO)

#: Rule name → phrases, in priority order within the rule.
RULES: dict[str, tuple[Phrase, ...]] = {
    "launch": LAUNCH,
    "globals/global_commands_launch": (STOP, *VOLUME),
    "globals/gui_nav": NAV,
    "globals/mim_repeat": (REPEAT,),
    "globals/mim_thanks": (THANKS,),
    "shared/yes_no": YES_NO,
    "main-menu/execute_main_menu": _menu_phrases(),
    "main-menu/execute_fun_stuff": _menu_phrases(),
    "clock/clock_menu": CLOCK_MENU,
    "clock/alarm_set_value": (ALARM_VALUE, CANCEL),
    "clock/timer_set_value": (TIMER_VALUE, CANCEL),
    "clock/alarm_timer_okay": (*YES_NO, CANCEL),
    "clock/alarm_timer_change": (*YES_NO, CANCEL, ALARM_VALUE),
    "clock/alarm_timer_query_menu": (*YES_NO, CANCEL, CLOCK_MENU[2], CLOCK_MENU[3]),
    "clock/alarm_timer_none_set": (*YES_NO, CLOCK_MENU[2], CLOCK_MENU[3]),
    "word-of-the-day/puzzle": (*YES_NO, GUESS),
    "word-of-the-day/right_word": (*YES_NO, GUESS),
    "word-of-the-day/surprise": (*YES_NO, GUESS),
    "create/is_it_a_keeper": YES_NO,
    "radio/run_control": RADIO,
    "gallery/gallery_preview": (*YES_NO, Phrase("delete", ("delete [it | that | this] [photo]",))),
    "surprises-date/offer_date_fact": YES_NO,
    "surprises-ota/want_to_download_now": (*YES_NO, Phrase("later", ("later", "not now"))),
    "settings/download_now_later": (
        Phrase("now", ("[download it] now", "right now")),
        Phrase("later", ("later", "[download it] later", "not now")),
        *YES_NO,
    ),
    "settings/volume_control": VOLUME,
    "circuit-saver/play_again": YES_NO,
    "introductions/intro_looper": (
        *YES_NO,
        Phrase(
            "name",
            ("[my name is | i'm | call me] {name:free}",),
            build=lambda g: {"name": g.get("name", "")},
        ),
    ),
}

#: Rules whose match is a free fallback for anything said at launch (the chat skill).
FALLBACK_INTENT = "chat"
