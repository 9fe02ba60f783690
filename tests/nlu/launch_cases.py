"""One phrasing per launch intent of the original's on-robot skills, with
what the robot must be told: the intent, the entities its skill reads and the skill that
launches. Shared by the parser tests and the end-to-end simulator test."""

from __future__ import annotations

from typing import Any

#: (text, intent, skill, entities besides ``skill``)
ROBOT_LAUNCHES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("what time is it", "askForTime", "@be/clock", {"domain": "clock"}),
    ("what's the date today", "askForDate", "@be/clock", {"domain": "clock"}),
    ("when is thanksgiving", "whenIsHoliday", "@be/clock", {"holiday": "thanksgiving"}),
    ("when is my birthday", "whenIsBirthday", "@be/clock", {"loopmember": "speaker"}),
    ("when is alex's birthday", "whenIsBirthday", "@be/clock", {"loopMemberReferent": "alex"}),
    (
        "set a timer for five minutes",
        "start",
        "@be/clock",
        {"domain": "timer", "hours": None, "minutes": 5, "seconds": None},
    ),
    ("set a timer", "start", "@be/clock", {"domain": "timer"}),
    (
        "set an alarm for seven thirty p m",
        "set",
        "@be/clock",
        {"domain": "alarm", "time": "7:30", "ampm": "PM"},
    ),
    ("set an alarm", "set", "@be/clock", {"domain": "alarm"}),
    ("how much time is left on the timer", "query", "@be/clock", {"domain": "timer"}),
    ("what alarms do i have", "query", "@be/clock", {"domain": "alarm"}),
    ("stop the timer", "stop", "@be/clock", {"domain": "timer"}),
    ("turn off the alarm", "stop", "@be/clock", {"domain": "alarm"}),
    ("delete my alarm", "delete", "@be/clock", {"domain": "alarm"}),
    ("cancel the timer", "delete", "@be/clock", {"domain": "timer"}),
    ("restart the timer", "restart", "@be/clock", {"domain": "timer"}),
    ("change my alarm", "edit", "@be/clock", {"domain": "alarm"}),
    ("open the clock", "menu", "@be/clock", {}),
    ("take a picture", "createOnePhoto", "@be/create", {}),
    ("take some photos", "createSomePhotos", "@be/create", {}),
    ("show me my photos", "galleryOpen", "@be/gallery", {}),
    ("play the radio", "play", "@be/radio", {}),
    ("play some jazz", "play", "@be/radio", {"genre": "jazz"}),
    ("what stations do you have", "showStations", "@be/radio", {}),
    ("open settings", "menu", "@be/settings", {}),
    ("how's your battery", "battery", "@be/settings", {}),
    ("what's your volume", "volumeQuery", "@be/settings", {}),
    ("are you connected to the internet", "wifiStatus", "@be/settings", {}),
    ("check for updates", "updates", "@be/settings", {}),
    ("how much storage do you have", "storageStatus", "@be/settings", {}),
    ("play circuit saver", "launchGame", "@be/circuit-saver", {}),
    ("word of the day", "play", "@be/word-of-the-day", {}),
    ("how do you play word of the day", "tutorial", "@be/word-of-the-day", {}),
    ("let's do yoga", "exerciseDoYoga", "@be/exercise", {}),
    ("let's work out", "exerciseWantTo", "@be/exercise", {}),
    ("you're not listening", "frustrated", "@be/friendly-tips", {}),
    ("what can i say", "whatCanIDo", "@be/friendly-tips", {}),
    ("hello", "hello", "@be/greetings", {}),
    ("hey jibo", "heyJibo", "@be/greetings", {}),
    ("what's up", "whatsUp", "@be/greetings", {}),
    ("good morning", "goodMorning", "@be/greetings", {}),
    ("good afternoon jibo", "goodAfternoon", "@be/greetings", {}),
    ("good evening", "goodEvening", "@be/greetings", {}),
    ("good night", "goodNight", "@be/greetings", {}),
    ("goodbye", "goodBye", "@be/greetings", {}),
    ("i'm home", "imHome", "@be/greetings", {}),
    ("i'm back", "imBack", "@be/greetings", {}),
    ("learn my face", "enrollment", "@be/introductions", {}),
    (
        "i want you to meet sam",
        "enrollment",
        "@be/introductions",
        {"style": "RequestToMeet", "loopMemberReferent": "sam"},
    ),
    ("open the main menu", "launchMainMenu", "@be/main-menu", {}),
    ("start the tutorial", "tutorialOpen", "@be/tutorial", {}),
    ("who am i", "launchWhoAmI", "@be/who-am-i", {}),
]

#: The robot's own skills: every launch intent of theirs in the original's
#: manifests has a case above (a test checks it), except those listed here with the reason.
POINT_ONE_SKILLS = (
    "@be/clock", "@be/create", "@be/gallery", "@be/radio", "@be/settings", "@be/circuit-saver",
    "@be/word-of-the-day", "@be/exercise", "@be/friendly-tips", "@be/greetings",
    "@be/introductions", "@be/main-menu", "@be/tutorial", "@be/who-am-i",
)  # fmt: skip
#: Launch intents routed (the manifests have them) but not phrased: what owners would say
#: for them is not known from any source we have.
NOT_PHRASED = {
    ("@be/exercise", "exerciseYogaTutorial"),
    ("@be/exercise", "exerciseLike"),
    ("@be/word-of-the-day", "like"),
    ("@be/radio", "unsupportedGenre"),
    ("@be/greetings", "happyHoliday"),
    ("@be/greetings", "notifications"),
    ("@be/greetings", "selfID"),
}
