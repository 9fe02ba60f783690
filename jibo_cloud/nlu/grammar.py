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
Builder = Callable[[Mapping[str, str]], Entities]


def _strs(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(eq=False)  # hashed by identity: compiled patterns are cached per phrase
class Phrase:
    intent: str
    templates: tuple[str, ...] = attrs.field(converter=_strs)
    entities: Mapping[str, Any] = attrs.field(factory=dict)
    build: Callable[[Mapping[str, str]], Entities] | None = None
    #: May match inside a longer utterance (parser pass 2). False for greetings and one-word
    #: commands: "morning" inside "my alarm didn't go off this morning" is no greeting.
    inside: bool = attrs.field(default=True, kw_only=True)


def _volume(groups: Mapping[str, str]) -> Entities:
    return {"volumeLevel": words_to_number(groups.get("level", "")) or 0}


def _ampm(text: str) -> str | None:
    if not text:
        return None
    return "AM" if text.replace(" ", "") == "am" or text.endswith("morning") else "PM"


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
    """Timer values as the robot's clock reads them; "two and a half minutes" and counts past
    59 ("90 seconds" → 1 minute 30) carried into whole units, each under 60."""

    def num(key: str) -> int | None:
        return words_to_number(groups[key]) if groups.get(key) else None

    hours, minutes, seconds = num("hours"), num("minutes"), num("seconds")
    if groups.get("half_hours"):
        hours, minutes = num("half_hours"), 30
    if groups.get("half_minutes"):
        minutes, seconds = num("half_minutes"), 30
    if seconds is not None and seconds >= 60:
        minutes, seconds = (minutes or 0) + seconds // 60, (seconds % 60) or None
    if minutes is not None and minutes >= 60:
        hours, minutes = (hours or 0) + minutes // 60, (minutes % 60) or None
    return {"domain": "timer", "hours": hours, "minutes": minutes, "seconds": seconds}


def _timer_of(hours: int | None, minutes: int | None, seconds: int | None) -> Builder:
    """A fixed duration said in words ("half an hour"). These phrases come after the one with
    numbers, so the semantic recogniser, which fills slots with the first phrase of each
    intent and entities (nlu/examples.py), never builds with them."""

    def build(groups: Mapping[str, str]) -> Entities:
        return {"domain": "timer", "hours": hours, "minutes": minutes, "seconds": seconds}

    return build


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
STOP = Phrase(
    "stop",
    (
        "(stop | quiet | be quiet | shut up | enough | stop it | that's enough)",
        # Not a radio launch: the semantic recogniser put "turn off the radio" next to
        # "turn on the radio" (docs/skills.md, "Everyday chitchat").
        "(turn | switch) off [the] (radio | music)",
        "shut (off | down) [the] (radio | music)",
        "(turn | switch | shut) [the] (radio | music) off",
        "stop [the] (radio | music)",
    ),
)
VOLUME = (
    Phrase(
        "volumeUp",
        (
            "(turn | crank) it up",
            "[turn] [the] volume up",
            "turn up the (volume | radio | music)",
            "turn [the] (radio | music) up",
            "(louder | speak up) [please]",
        ),
    ),
    Phrase(
        "volumeDown",
        (
            "turn it down",
            "[turn] [the] volume down",
            "turn down the (volume | radio | music)",
            "turn [the] (radio | music) down",
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

# --------------------------------------------------------------------------- launch
#
# The robot's own skills: every launch intent of the original's on-robot manifests
# (``jibo_cloud/hub/manifests/*.json``). A phrase carries the ``skill`` entity naming the skill
# that launches (the manifests' entity rule) and the entities that skill reads, in the shapes
# robots send in CLIENT_NLU (``domain``, ``time`` "7:35", ``ampm`` "AM"/"PM", ``hours`` …).


def _robot(
    skill: str,
    intent: str,
    templates: tuple[str, ...],
    entities: Mapping[str, Any] | None = None,
    build: Callable[[Mapping[str, str]], Entities] | None = None,
    *,
    inside: bool = True,
) -> Phrase:
    return Phrase(intent, templates, {"skill": skill, **(entities or {})}, build, inside=inside)


def _clock_value(groups: Mapping[str, str]) -> Entities:
    """Alarm or timer values said with the command ("set an alarm for 7 am")."""
    if groups.get("hour"):
        return _alarm(groups)
    if any(groups.get(k) for k in ("hours", "minutes", "seconds", "half_hours", "half_minutes")):
        return _timer(groups)
    return {}


def _holiday(groups: Mapping[str, str]) -> Entities:
    return {"holiday": groups.get("holiday", "")}


def _birthday_of(groups: Mapping[str, str]) -> Entities:
    who = groups.get("who", "")
    who = who[:-2] if who.endswith("'s") else who
    return {"loopMemberReferent": who}


def _to_meet(groups: Mapping[str, str]) -> Entities:
    return {"style": "RequestToMeet", "loopMemberReferent": groups.get("who", "")}


def _genre(groups: Mapping[str, str]) -> Entities:
    return {"genre": groups["genre"]} if groups.get("genre") else {}


CLOCK = "@be/clock"
_TIME_Q = "(what time is it | what's the time | what is the time | what time it is)"
_ALARM = "[an | the | my] alarm"
_TIMER = "[a | the | my] timer"
_ALARM_AT = "{hour} [{minute}] [{ampm}]"
_TIMER_FOR = (
    "{hours:number} (hour | hours) [and] [{minutes:number} (minute | minutes)]",
    "{minutes:number} (minute | minutes) [and] [{seconds:number} (second | seconds)]",
    "{seconds:number} (second | seconds)",
    "{half_hours:number} and a half hours",
    "{half_minutes:number} and a half minutes",
    # Typed only (count: 60-999): "90 seconds", "ninety minutes"; _timer carries them.
    "{minutes:count} minutes",
    "{seconds:count} seconds",
)
#: Durations said without a number: (hours, minutes, seconds).
_TIMER_WORDS: dict[str, tuple[int | None, int | None, int | None]] = {
    "(an | one) hour and a half": (1, 30, None),
    "(a | one) minute and a half": (None, 1, 30),
    "(half an | a half) hour": (None, 30, None),
    "a quarter of an hour": (None, 15, None),
    "an hour": (1, None, None),
    "a minute": (None, 1, None),
}


def _timer_forms(durations: Iterable[str]) -> tuple[str, ...]:
    """The ways of asking for a timer of each duration."""
    durations = tuple(durations)
    return (
        *(f"{_SET} {_TIMER} for {v}" for v in durations),
        *(f"[{_SET}] [a] timer for {v}" for v in durations),
        *(f"time me for {v}" for v in durations),
        *(f"put {_TIMER} on for {v}" for v in durations),
    )


_SET = "(set | make | create | start | put on | put)"

CLOCK_LAUNCH = (
    _robot(
        CLOCK,
        "query",
        (
            "when is my alarm [set for]",
            "{q:whattime} is my alarm [set for]",  # typed only (template.TYPED_ONLY)
            "(is | are) my (alarm | alarms) (set | on)",
            "(what | which) alarms (do i have | are set)",
            "do i have (an | any) (alarm | alarms) [set]",
            "(check | show me) my (alarm | alarms)",
            "how (long | much time) (until | till | before) my alarm [goes off | rings]",
        ),
        {"domain": "alarm"},
    ),
    _robot(
        CLOCK,
        "query",
        (
            "how (much | much more) time is (left | remaining) [on] [the | my] [timer]",
            "how (long | much longer) [is] (left | remaining | more) on [the | my] timer",
            "how much longer on [the | my] timer",
            "(check | show me) [the | my] timer",
        ),
        {"domain": "timer"},
    ),
    _robot(
        CLOCK,
        "askForTime",
        (
            f"{_TIME_Q} [right now | now]",
            "(tell me | do you know | can you tell me | could you tell me) "
            "(the time | what time it is)",
            "what (is | 's) the current time",
            "what's the current time",
            "what hour is it",
            "what time do you have",
            "[the] time please",
        ),
        {"domain": "clock"},
    ),
    _robot(
        CLOCK,
        "askForDate",
        (
            "(what's | what is) [the] (date | today's date | date today) [please]",
            "what (day | date) is (it | today) [today]",
            "what day of the week is it [today]",
            "(what's | what is) [the] day today [please]",
            "which day is (it | today) [today]",
            "(tell me | do you know) (the date | what day it is | today's date)",
            "what (month | year) is it [now]",
            "what's today",
        ),
        {"domain": "clock"},
    ),
    _robot(
        CLOCK,
        "whenIsHoliday",
        (
            "(when is | when's) {holiday} [this year | next year]",
            "what (day | date) is {holiday} [on] [this year]",
        ),
        build=_holiday,
    ),
    _robot(
        CLOCK,
        "whenIsBirthday",
        (
            "(when is | when's | what day is) my birthday",
            "do you know when my birthday is",
        ),
        {"loopmember": "speaker"},
    ),
    _robot(
        CLOCK,
        "whenIsBirthday",
        ("(when is | when's) {who:free} birthday",),
        build=_birthday_of,
    ),
    _robot(
        CLOCK,
        "set",
        (
            f"{_SET} {_ALARM} [for | at] {_ALARM_AT} [please]",
            f"wake me [up] at {_ALARM_AT}",
            f"set alarm [for | at] {_ALARM_AT}",
            f"{_SET} {_ALARM} [please | for me]",
            "i need an alarm",
            "set alarm",
        ),
        {"domain": "alarm"},
        _clock_value,
    ),
    _robot(
        CLOCK,
        "start",
        (
            *_timer_forms(_TIMER_FOR),
            "(set | start | make) a {minutes:number} minute timer",
            "(set | start | make) a {seconds:number} second timer",
            "(set | start | make) a {hours:number} hour timer",
            f"{_SET} {_TIMER} [please | for me]",
            "i need a timer",
        ),
        {"domain": "timer"},
        _clock_value,
    ),
    # After the phrase above: the semantic recogniser fills slots with the first phrase of
    # each intent and entities (nlu/examples.py), and these say no number.
    *(
        _robot(CLOCK, "start", _timer_forms([words]), {"domain": "timer"}, _timer_of(*value))
        for words, value in _TIMER_WORDS.items()
    ),
    _robot(
        CLOCK,
        "stop",
        ("(stop | turn off | shut off | silence) " + _ALARM, "turn " + _ALARM + " off"),
        {"domain": "alarm"},
    ),
    _robot(
        CLOCK,
        "stop",
        ("(stop | turn off | shut off) " + _TIMER, "turn " + _TIMER + " off"),
        {"domain": "timer"},
    ),
    _robot(
        CLOCK,
        "delete",
        (
            "(cancel | remove | clear) [all] " + _ALARM,
            "(cancel | remove | clear) [all] [of] my alarms",
            # Typed only: the recogniser hears "delete …" for "tell me the time".
            "{verb:delete} [all] " + _ALARM,
            "{verb:delete} [all] [of] my alarms",
            "get rid of " + _ALARM,
        ),
        {"domain": "alarm"},
    ),
    _robot(
        CLOCK,
        "delete",
        (
            "(cancel | remove | clear) (the | my) timer",
            "get rid of (the | my) timer",
            "{verb:delete} " + _TIMER,  # typed only (see the alarm phrase)
        ),
        {"domain": "timer"},
    ),
    _robot(CLOCK, "restart", ("(restart | reset) " + _TIMER,), {"domain": "timer"}),
    _robot(CLOCK, "edit", ("(change | edit | move) " + _ALARM,), {"domain": "alarm"}),
    _robot(
        CLOCK,
        "menu",
        ("[(open | show me | go to | launch)] [the] clock [menu | app]",),
        inside=False,
    ),
)

PHOTOS = (
    _robot(
        "@be/create",
        "createSomePhotos",
        (
            "(take | snap) (some | a few | lots of | a bunch of | several | many) "
            "(pictures | photos | selfies) [of (me | us)]",
            "(take | snap) (pictures | photos) [of (me | us)]",
        ),
    ),
    _robot(
        "@be/create",
        "createOnePhoto",
        (
            "(take | snap) (a | my | our | one) (picture | photo | selfie | snapshot) "
            "[of (me | us)] [please]",
            "(take | snap) a (picture | photo) of (me | us)",
            "[let's] (take | snap) a group (picture | photo | selfie | shot)",
            "snapshot",
        ),
    ),
    _robot(
        "@be/gallery",
        "galleryOpen",
        (
            "(show me | show | open | let's see | let me see | look at | i want to see) "
            "[my | the | your | our] (photos | pictures | gallery | photo gallery) "
            "[you took]",
            "(show me | show | open | let me see | i want to see) (my | our) (photo | picture)",
            "gallery",
        ),
    ),
)

RADIO_LAUNCH = (
    _robot(
        "@be/radio",
        "showStations",
        (
            "(what | which) [radio] stations (do you have | are there | can you play)",
            "(show me | list | show) [the] [radio] stations",
            "what (kind of | kinds of) music can you play",
            "what (genres | kinds of music) (do you have | can you play)",
        ),
    ),
    _robot(
        "@be/radio",
        "play",
        (
            "(play | put on | turn on | start | open) [the] radio",
            "(i want to | let's) listen to [the] radio",
            "(play | put on) [some] {genre} [music]",
            "(i want to hear | let's hear | i want to listen to) [some] {genre} [music]",
            "(play | put on) [some] music [for me]",
            "radio",
        ),
        build=_genre,
    ),
)

SETTINGS = "@be/settings"
SETTINGS_LAUNCH = (
    _robot(
        SETTINGS,
        "menu",
        ("[(open | show me | go to | change)] [the | your] settings [menu]",),
        inside=False,
    ),
    _robot(
        SETTINGS,
        "battery",
        (
            "(how's | how is | what's | what is | check) your battery [level | at]",
            "how much battery (do you have | is left)",
            "how charged are you",
            "battery [level | status]",
        ),
    ),
    _robot(
        SETTINGS,
        "volumeQuery",
        (
            "(what's | what is) [the | your] volume [level] [at]",
            "what volume are you [at]",
            "how loud are you",
        ),
    ),
    _robot(
        SETTINGS,
        "wifiStatus",
        (
            "what (wifi | network) are you (on | connected to)",
            "(what's | what is) your wifi [network]",
            "are you (connected to the internet | online | connected)",
            "(check | how's | how is) [the | your] wifi [connection]",
            "wifi status",
        ),
    ),
    _robot(
        SETTINGS,
        "updates",
        (
            "check for [a | any] [software] (update | updates)",
            "(are there | is there) [any | a] [software] (update | updates)",
            "do you have [an | any] (update | updates)",
            "(update yourself | install [the] updates)",
        ),
    ),
    _robot(
        SETTINGS,
        "storageStatus",
        (
            "how much (storage | space | memory) (do you have | is left) [left]",
            "check your storage",
        ),
    ),
)

GAMES = (
    _robot(
        "@be/word-of-the-day",
        "tutorial",
        ("how (do you | do i | does one) play word of the day", "how does word of the day work"),
    ),
    _robot(
        "@be/word-of-the-day",
        "play",
        (
            "[(play | start | let's play | open | tell me)] [the] word of the day",
            "(what's | what is) [the] word of the day",
            "what is today's word",
        ),
    ),
    _robot(
        "@be/circuit-saver",
        "launchGame",
        (
            "[(play | let's play | launch | open | start)] circuit saver",
            "(let's | can we | i want to) play a game",
            "play a game",
        ),
    ),
    _robot(
        "@be/exercise",
        "exerciseDoYoga",
        (
            "(let's | can we | i want to) do [some] yoga [together]",
            "do [some] yoga",
            "show me a yoga pose",
            "yoga",
        ),
        inside=False,
    ),
    _robot(
        "@be/exercise",
        "exerciseWantTo",
        (
            "(let's | can we | i want to) (exercise | work out)",
            "(let's | i want to) (do | get) some exercise",
            "exercise with me",
        ),
    ),
)

TIPS = (
    _robot(
        "@be/friendly-tips",
        "frustrated",
        (
            "(you're | you are) not listening [to me]",
            "you (don't | never) understand me",
            "i'm (frustrated | annoyed) with you",
            "why don't you understand [me]",
        ),
    ),
    _robot(
        "@be/friendly-tips",
        "whatCanIDo",
        (
            "what can i do with you",
            "what (can | should) i (say | ask you)",
            "what things can i say [to you]",
            "(give me | tell me) a tip",
            "any tips",
        ),
    ),
)

GREETINGS = "@be/greetings"
GREETINGS_LAUNCH = (
    _robot(GREETINGS, "heyJibo", ("[hey] hey jibo", "jibo"), inside=False),
    _robot(
        GREETINGS,
        "hello",
        ("(hello | hi | hey | hiya | howdy | greetings) [jibo | there | buddy]",),
        inside=False,
    ),
    _robot(
        GREETINGS,
        "whatsUp",
        ("(what's | what is) (up | going on | happening | new) [jibo]", "sup"),
        inside=False,
    ),
    _robot(GREETINGS, "goodMorning", ("[good] morning [jibo | to you]",), inside=False),
    _robot(GREETINGS, "goodAfternoon", ("[good] afternoon [jibo | to you]",), inside=False),
    _robot(GREETINGS, "goodEvening", ("[good] evening [jibo | to you]",), inside=False),
    _robot(
        GREETINGS,
        "goodNight",
        ("(good night | goodnight | night night) [jibo]", "i'm going to (bed | sleep)"),
        inside=False,
    ),
    _robot(
        GREETINGS,
        "goodBye",
        (
            "(goodbye | bye | bye bye | see you later | see you | see ya) [jibo]",
            "(i'm | i am) (leaving | heading out | off)",
            "talk to you later",
        ),
        inside=False,
    ),
    _robot(
        GREETINGS,
        "imHome",
        ("[honey] (i'm | i am | we're | we are) [back] home [jibo]",),
        inside=False,
    ),
    _robot(GREETINGS, "imBack", ("(i'm | i am | we're | we are) back [jibo]",), inside=False),
)

PEOPLE = (
    _robot(
        "@be/introductions",
        "enrollment",
        ("i want you to meet {who:free}", "meet {who:free}"),
        build=_to_meet,
    ),
    _robot(
        "@be/introductions",
        "enrollment",
        (
            "[can you] learn my (face | voice)",
            "(let's | can we) get to know each other",
            "[i want you to] get to know me",
            "learn who i am",
        ),
    ),
    _robot(
        "@be/who-am-i",
        "launchWhoAmI",
        (
            "who am i",
            "(do you know | guess) who i am",
            "(what's | what is) my name",
            "do you know my name",
            "who is (talking | speaking)",
            "do you recognize me",
        ),
    ),
    _robot(
        "@be/main-menu",
        "launchMainMenu",
        ("[(open | show me | go to)] [the | your] (main menu | menu)",),
        inside=False,
    ),
    _robot(
        "@be/tutorial",
        "tutorialOpen",
        (
            "[(start | open | show me)] the tutorial",
            "tutorial",
            "(teach me | show me) how to use you",
            "how do i use you",
        ),
        inside=False,
    ),
)

#: The robot's skills' launch phrases, before the cloud skills' (they win a shared phrase).
ROBOT_LAUNCH = (
    *CLOCK_LAUNCH,
    *PHOTOS,
    *RADIO_LAUNCH,
    *SETTINGS_LAUNCH,
    *GAMES,
    *TIPS,
    *GREETINGS_LAUNCH,
    *PEOPLE,
)


def _place(groups: Mapping[str, str]) -> Entities:
    return {"domain": "clock", "place": groups.get("place", "")}


#: Built-in cloud skills of this server that the robot has no skill for.
CLOUD_LAUNCH = (
    # The time somewhere else: the robot's clock knows only its own zone ("what time is it
    # in tokyo" launched it, and it said the local time). Places are a closed list
    # (nlu/places.py): "what time is it in the morning" stays the robot's clock.
    Phrase(
        "askForTime",
        (
            f"{_TIME_Q} [right now | now] in {{place:place}}",
            "what time (is it | it is) in {place:place} [right now | now]",
        ),
        {"domain": "clock"},
        build=_place,
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
    Phrase("whatCanYouDo", ("what can you do", "help [me]", "what do you do"), inside=False),
    Phrase("thanks", THANKS.templates),
)

#: Where a built-in cloud skill and the robot's skill claim the same words: the robot's
#: skill wins unless ``JIBO_PREFER_CLOUD_SKILLS`` names the family. Family → robot intent →
#: (cloud intent, cloud entities); the ``skill`` entity is dropped, so no on-robot manifest
#: matches and the cloud skill launches.
CLOUD_FORMS: dict[str, dict[str, tuple[str, Entities]]] = {
    "clock": {
        "askForTime": ("askForTime", {"domain": "clock"}),
        "askForDate": ("askForDate", {"domain": "clock"}),
    },
    "greetings": {
        "hello": ("hello", {"greeting": "hello"}),
        "heyJibo": ("hello", {"greeting": "hello"}),
        "imHome": ("hello", {"greeting": "hello"}),
        "imBack": ("hello", {"greeting": "hello"}),
        "whatsUp": ("howAreYou", {}),
        "goodMorning": ("hello", {"greeting": "morning"}),
        "goodAfternoon": ("hello", {"greeting": "afternoon"}),
        "goodEvening": ("hello", {"greeting": "evening"}),
        "goodNight": ("goodbye", {}),
        "goodBye": ("goodbye", {}),
    },
}
#: The skill each family's robot intents carry.
FAMILY_SKILLS = {"clock": CLOCK, "greetings": GREETINGS}

# The report and answers skills' phrases (their module imports Phrase from here, so this
# import sits below Phrase; jibo_cloud/nlu/__init__.py imports this module first).
from jibo_cloud.nlu.cloud_phrases import CLOUD_PHRASES  # noqa: E402

#: The ``launch`` rule: the robot's skills first (the robot's skill wins shared
#: words), then this server's own small skills, then report and answers, whose last
#: phrases are catch-all questions.
LAUNCH = (*ROBOT_LAUNCH, *CLOUD_LAUNCH, *CLOUD_PHRASES)

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
    Phrase("askForTime", ("[what] time", *CLOCK_LAUNCH[2].templates), {"domain": "clock"}),
    Phrase("askForDate", ("[what] date", *CLOCK_LAUNCH[3].templates), {"domain": "clock"}),
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
    tuple(f"[set a timer for | for] {v}" for v in _TIMER_FOR),
    build=_timer,
)
#: The same answer said without a number ("half an hour").
TIMER_WORDS_VALUE = tuple(
    Phrase("timerValue", (f"[set a timer for | for] {words}",), build=_timer_of(*value))
    for words, value in _TIMER_WORDS.items()
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
    "clock/timer_set_value": (TIMER_VALUE, *TIMER_WORDS_VALUE, CANCEL),
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
