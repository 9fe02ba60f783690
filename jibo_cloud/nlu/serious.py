"""A safety net for the gravest things an owner can tell Jibo.

The personality classifier (:mod:`jibo_cloud.nlu.semantic`) recognises the original chitchat
skill's ``seriousTopic…`` intents when it is sure, but a sentence it is unsure of ("i don't
want to live anymore", "my dad hits me") falls through to chat, whose fallback answers "I'm
not sure how to help with that yet", and the classifier is off altogether when its model is
missing. These few first-person patterns, written by hand (not learned from any list), catch
such sentences before both and name the topic, so the personality skill gives its caring
answer (with a crisis line for suicide and self-harm).

They are checked only where the template parser found no command (its catch-all and
general-question intents), so "kill the lights" or a timer stays a command, and they ask
for the owner speaking of themselves ("i", "me", "my"), so "this traffic is killing me" or
"the character wants to die" stay what they were. Pure: no state, no I/O.
"""

from __future__ import annotations

import re

#: People close to the owner who might hurt them ("my dad hits me", "my boyfriend hurts
#: me"); a bare "he"/"someone" counts only with the gravest verbs ("someone hit me" is as
#: often a snowball).
_CLOSE = (
    r"(?:my|our) (?:step)?(?:dad|father|mom|mother|mum|parents?|husband|wife|boyfriend|"
    r"girlfriend|partner|brother|sister|uncle|aunt|grandpa|grandma|cousin|teacher|coach|"
    r"babysitter|neighbou?r|boss)"
)
_ANYONE = rf"{_CLOSE}|someone|somebody|he|she|they"

#: (intent, pattern) in order: the first that matches names the topic.
TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "seriousTopicSuicidal",
        re.compile(
            r"\b(?:i (?:want|wanna|need|am going|'m going|plan|am planning|'m planning) to "
            r"(?:kill myself|end my life|end it all|die(?! my| your| his| her| it)|commit suicide|"
            r"take my (?:own )?life)"
            r"|i (?:don't|do not) want to (?:live|be alive|exist|wake up)"
            r"|i(?:'m| am) (?:going to|gonna) (?:kill myself|end it all)"
            r"|i (?:wish|want) i (?:was|were) dead|i(?:'m| am) suicidal"
            r"|i (?:think about|thought about|keep thinking about|am thinking about|"
            r"'m thinking about|feel like) (?:killing myself|suicide|ending my life|ending it all)"
            r"|i(?:'m| am) (?:thinking of|thinking about|considering) (?:suicide|killing myself)"
            r"|end my (?:own )?life)\b"
        ),
    ),
    (
        "seriousTopicSelfHarm",
        re.compile(
            r"\bi (?:cut|burn|hurt|harm|hit|scratch) myself\b|\bi(?:'ve| have) been "
            r"(?:cutting|hurting|harming) myself\b|\bself harm"
        ),
    ),
    (
        "seriousTopicRape",
        re.compile(
            rf"\b(?:i (?:was|got|have been|'ve been) (?:raped|sexually assaulted|molested)"
            rf"|(?:{_ANYONE}) (?:raped|molested|sexually assaulted) me)\b"
        ),
    ),
    (
        "seriousTopicAbuse",
        re.compile(
            rf"\b(?:(?:{_CLOSE}) (?:always |still )?(?:hits|hit|beats|beat|kicks|kicked|"
            rf"chokes|choked|abuses|abused|hurts|hurt|slaps|slapped|punches|punched) me"
            rf"|(?:{_CLOSE}) (?:keeps |keeps on |is |has been |was )(?:hitting|beating|kicking|"
            rf"choking|abusing|hurting|slapping|punching) me"
            rf"|(?:{_ANYONE}) (?:beats|beat|chokes|choked|abuses|abused) me"
            rf"|i(?:'m| am) (?:being )?(?:abused|beaten)|i(?:'ve| have) been abused)\b"
        ),
    ),
    (
        "seriousTopicBullying",
        re.compile(
            r"\b(?:i(?:'m| am| have been|'ve been| get| got) (?:being )?bullied"
            r"|(?:bully|bullies|bullied|bullying|pick on|picks on|picking on) me)\b"
        ),
    ),
    (
        "seriousTopicEatingDisorder",
        re.compile(
            r"\b(?:i (?:make|force) myself (?:to )?(?:throw up|vomit|puke)"
            r"|i(?:'m| am| think i'm| think i am) (?:anorexic|bulimic)"
            r"|i have an eating disorder)\b"
        ),
    ),
    (
        "seriousTopicAlcoholism",
        re.compile(
            r"\b(?:i(?:'m| am| think i'm| think i am) (?:an )?alcoholic"
            r"|i (?:can't|cannot) stop drinking(?: alcohol| beer| wine)?$"
            r"|i drink too much(?: alcohol| beer| wine| booze)?$)\b"
        ),
    ),
    (
        "seriousTopicDrugAddiction",
        re.compile(
            r"\b(?:i(?:'m| am) (?:addicted to|hooked on) (?:drugs|pills|heroin|meth|cocaine|"
            r"opioids|painkillers|crack)|i(?:'m| am) (?:an |a )?(?:drug )?addict)\b"
        ),
    ),
    (
        "seriousTopicDepression",
        re.compile(
            r"\b(?:i(?:'m| am| feel| think i'm| think i am) (?:so |really |very )?depressed"
            r"|i have depression|i (?:feel|am|'m) hopeless)\b"
        ),
    ),
)


def serious_topic(normalized: str) -> str | None:
    """The ``seriousTopic…`` intent a normalized sentence is about, or None."""
    for intent, pattern in TOPICS:
        if pattern.search(normalized):
            return intent
    return None
