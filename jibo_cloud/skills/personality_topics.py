"""The thing an owner asks Jibo about, pulled out of the normalized utterance.

"do you like pizza" → ``pizza``; "can you feed my dog" → ``feed your dog``; "you're so smart"
→ ``smart``. The personality skill puts it into an answer so Jibo names what was asked
("Do I like pizza? I sure do!") instead of a line that fits any thing.

Only the sentence shapes below are understood; anything else, an object of more than
:data:`MAX_WORDS` words, or a vague one ("it", "something") gives ``None`` and the skill
falls back to the group's general answer. Pronouns are swapped so Jibo speaks from his side
("my dog" → "your dog", "me" → "you"), and only letters, digits, spaces and apostrophes
survive, so nothing said can break the speech markup. Pure: no state, no I/O.
"""

from __future__ import annotations

import re

from protocol.plan import normalize_transcript

#: Longer objects are usually a whole clause ("when you roll doubles in monopoly"), which
#: reads badly inside an answer; the general answer is better then.
MAX_WORDS = 4

#: Words that say nothing about the object; alone they give ``None``. ("me" and "you" are
#: kept: "do you love me" is about the owner, and the skill answers that on its own.)
VAGUE = frozenset(
    {"it", "that", "this", "them", "those", "these", "something", "anything", "stuff",
     "things", "thing", "one", "so", "what", "yours", "mine", "myself", "yourself",
     "the", "a", "an", "some", "any"}
)  # fmt: skip

#: Owner side → Jibo side ("do you like my dog" → Jibo says "your dog"). "you" depends on
#: its place (:func:`swap_pronouns`); "our" stays: Jibo shares the house ("our house").
_SWAP = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself",
    "we": "you", "us": "you", "ourselves": "yourselves",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "we're": "you're",
    "we've": "you've", "we'll": "you'll", "your": "my", "yours": "mine",
    "yourself": "myself", "you're": "I'm", "you've": "I've", "you'll": "I'll", "you'd": "I'd",
}  # fmt: skip
#: Verbs that change with the subject once it is swapped ("i am" → "you are").
_AFTER_YOU = {"am": "are", "was": "were"}
_AFTER_I = {"are": "am", "were": "was", "aren't": "am not", "weren't": "wasn't"}
#: After these, "you" is not the subject: "for you", "you and me" → "me".
_NOT_A_VERB = frozenset(
    {"and", "or", "too", "so", "more", "very", "a", "an", "the", "for", "to", "with", "about",
     "in", "on", "at", "guys", "all", "both", "than", "as", "like", "from", "of", "by"}
)  # fmt: skip

#: Said before the sentence proper ("hey jibo, please …", "i think you're smart").
_LEAD = re.compile(
    r"^(?:(?:hey|hi|ok|okay|so|well|um|uh|oh|and|but|please|jibo|honestly|"
    r"i think|i feel like|i believe|in my opinion|i just think) )+"
)
#: Said after it ("… right", "… don't you", "… for me please").
_TRAIL = re.compile(
    r"(?: (?:please|jibo|right|correct|don't you|do you|didn't you|aren't you|isn't it|"
    r"or not|too|at all|a lot|so much|very much|for me|for us|right now|now|huh|yet|anymore|"
    r"then|today|yes|yeah|ok|okay))+$"
)
#: Words that only soften or stress ("you're so smart", "do you really like …").
_ADVERBS = re.compile(
    r"^(?:(?:really|ever|still|even|actually|also|just|truly|always|sometimes|"
    r"so|very|such|pretty|quite|totally|too|extremely|kind of|kinda|sort of|a bit|a little|"
    r"acting|being|feeling|getting|looking) )+"
)
#: Articles and quantities before a thing ("the pizza", "some oatmeal", "a little pie").
_DETERMINERS = re.compile(
    r"^(?:(?:a little|a bit of|a piece of|a slice of|a cup of|the|an|a|some|any|more) )+"
)


#: How much of the object's start to trim: ``THING`` drops articles ("do you want some pie"
#: → "pie": the answer says "No pie for me"); ``NAME`` keeps it as said ("the super bowl",
#: "the winter season", which read better with their article); ``PHRASE`` drops softeners
#: ("you're so smart" → "smart") but keeps articles ("are you an idiot" → "an idiot").
THING, NAME, PHRASE = "thing", "name", "phrase"


def _shape(pattern: str) -> re.Pattern[str]:
    return re.compile(f"^{pattern}$")


#: (shape, trim). Checked in order: specific shapes before the general ones they overlap.
SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Jibo's likes and opinions.
    (_shape(r"(?:do|did|will) you (?:\w+ )?(?:like|love|enjoy|hate|dislike|loathe) "
            r"(?:the taste of |to eat |to drink |eating |drinking )?(?P<x>.+)"), NAME),
    (_shape(r"you (?:\w+ )?(?:like|love|enjoy) (?P<x>.+)"), NAME),
    (_shape(r"what (?:do|did) you think (?:about|of) (?P<x>.+)"), NAME),
    (_shape(r"what(?:'s| is| was| are) your (?:opinion|opinions|view|views|take|thoughts?) "
            r"(?:on|of|about) (?P<x>.+)"), NAME),
    (_shape(r"how do you feel about (?P<x>.+)"), NAME),
    (_shape(r"(?:what|who|which)(?:'s| is| was| are| were)? your (?:least )?favou?rite (?P<x>.+)"),
     THING),
    (_shape(r"(?:do|did) you have (?:a |any )?(?:least )?favou?rites? (?P<x>.+)"), THING),
    # Events: watching, celebrating, looking forward, plans, how it went, who wins.
    (_shape(r"(?:do|did|will|would) you (?:\w+ )?(?:watch|see|catch|follow|care about|"
            r"pay attention to) (?P<x>.+)"), NAME),
    (_shape(r"(?:are|will|would) you (?:be |going to |gonna |want to )*(?:watch|watching|see|"
            r"seeing|follow|following|pay attention to|paying attention to) (?P<x>.+)"), NAME),
    (_shape(r"have you (?:\w+ )?(?:watched|seen) (?P<x>.+)"), NAME),
    (_shape(r"(?:do|will|would) you (?:\w+ )?celebrate (?P<x>.+)"), THING),
    (_shape(r"(?:are|will) you (?:be )?(?:\w+ )?celebrating (?P<x>.+)"), THING),
    (_shape(r"how (?:will|do|are|would) you (?:going to |gonna )?celebrat\w* (?P<x>.+)"), THING),
    (_shape(r"(?:are|were|do) you (?:\w+ )?(?:looking forward to|look forward to|"
            r"excited (?:about|for)|pumped (?:about|for)|ready for) (?P<x>.+)"), NAME),
    (_shape(r"(?:i|we) (?:\w+ )?celebrate (?P<x>.+)"), THING),
    (_shape(r"(?:i'm|i am|we're|we are) celebrating (?P<x>.+)"), THING),
    (_shape(r"(?:i|we) can't wait (?:for|until) (?P<x>.+)"), NAME),
    (_shape(r"(?:i'm|i am|we're|we are) (?:\w+ )?(?:looking forward to|excited (?:for|about)|"
            r"pumped (?:for|about)|psyched (?:for|about)) (?P<x>.+)"), NAME),
    (_shape(r"what(?:'s| is| are| were) your plans? (?:for|on) (?P<x>.+)"), NAME),
    (_shape(r"(?:do|did) you have (?:any )?plans (?:for|on) (?P<x>.+)"), NAME),
    (_shape(r"what (?:do|will|are) you (?:plan(?:ning)? to |going to |gonna )?do (?:for|on) "
            r"(?P<x>.+)"), NAME),
    (_shape(r"what should (?:i|we) (?:plan to )?do (?:for|on) (?P<x>.+)"), NAME),
    (_shape(r"who (?:do you think )?(?:will|is going to|is gonna) win (?:in |at )?(?P<x>.+)"),
     NAME),
    (_shape(r"(?:who|which team) (?:do|are|would) you (?:support|rooting for|root for|"
            r"cheering for|want to win) (?:for |in |at )?(?P<x>.+)"), NAME),
    (_shape(r"how (?:was|were|is|are|did) (?P<x>.+?)(?: go| going| go well)?"), NAME),
    # Wanting, having, knowing, believing, seeing.
    (_shape(r"(?:do|would) you (?:\w+ )?(?:want|wanna|wish|like) to "
            r"(?!eat |drink |have )(?P<x>.+)"), PHRASE),
    (_shape(r"(?:do|would) you (?:\w+ )?(?:want|like) (?:to eat |to drink |to have )?(?P<x>.+)"),
     THING),
    (_shape(r"(?:do|did) you (?:\w+ )?have (?P<x>.+)"), THING),
    (_shape(r"do you know how to (?P<x>.+)"), PHRASE),
    (_shape(r"(?:do you know|have you heard of|have you ever heard of|have you met|"
            r"have you ever met|do you remember) (?P<x>.+)"), THING),
    (_shape(r"do you (?:\w+ )?believe in (?P<x>.+)"), THING),
    (_shape(r"(?:is|are) (?P<x>.+) real"), THING),
    (_shape(r"(?:show me|show us|show|can i see|can we see|let me see|search for|find) "
            r"(?:a picture of |pictures of |a photo of |photos of )?(?P<x>.+)"), NAME),
    # What Jibo can do.
    (_shape(r"(?:can|could|would|will) you (?:please )?(?P<x>.+)"), PHRASE),
    (_shape(r"are you able to (?P<x>.+)"), PHRASE),
    # Descriptors: of Jibo, of the owner, of "that".
    (_shape(r"(?:are|were) you (?P<x>.+)"), PHRASE),
    (_shape(r"do you (?:feel|seem) (?P<x>.+)"), PHRASE),
    (_shape(r"you(?:'re| are| were)(?: not)? (?P<x>.+)"), PHRASE),
    (_shape(r"you (?:aren't|weren't|seem|look|sound|don't seem|don't look) (?P<x>.+)"), PHRASE),
    (_shape(r"(?:you )?(?:should|shouldn't|should not|need to|have to|must|try to|"
            r"don't|do not|never) be (?P<x>.+)"), PHRASE),
    (_shape(r"(?:be|stop being) (?P<x>.+)"), PHRASE),
    (_shape(r"(?:am i|do i (?:seem|look|sound|feel)|do you think i(?:'m| am)) (?P<x>.+)"),
     PHRASE),
    (_shape(r"(?:i|we) (?:\w+ )?(?:like|love|enjoy|adore|hate|dislike|loathe|can't stand|"
            r"don't like|do not like) (?P<x>.+)"), NAME),
    (_shape(r"(?:i|we) (?:really )?miss (?P<x>.+)"), NAME),
    (_shape(r"(?:i'm|i am|i feel|i don't feel|i'm not|i am not)(?: not)? (?P<x>.+)"), PHRASE),
    (_shape(r"(?:that's|that is|that was|it's|it is|it was|this is)(?: not)? (?P<x>.+)"),
     PHRASE),
    # The most general: "do you sleep", "did you dream".
    (_shape(r"(?:do|did) you (?P<x>.+)"), PHRASE),
)  # fmt: skip


def clean(text: str) -> str:
    """The parser's normalized text (lower case, only letters, digits, apostrophes and
    single spaces: safe for speech), curly apostrophes read as straight ones and no
    apostrophe left at a word's edge."""
    words = normalize_transcript(text.replace("\u2019", "'").replace("\u2018", "'")).split()
    return " ".join(w for w in (w.strip("'") for w in words) if w)


def swap_pronouns(text: str) -> str:
    """The same words said from Jibo's side: "my dog" → "your dog", "me" → "you".

    "you" is Jibo: "I" when a verb follows ("when you sleep" → "when I sleep"), else "me"
    ("hug you" → "hug me").
    """
    words = text.split()
    out: list[str] = []
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        previous = out[-1] if out else ""
        if word == "you":
            out.append("I" if following and following not in _NOT_A_VERB else "me")
        elif previous == "I" and word in _AFTER_I:
            out.append(_AFTER_I[word])
        elif previous == "you" and word in _AFTER_YOU and words[i - 1] in ("i", "we"):
            out.append(_AFTER_YOU[word])
        else:
            out.append(_SWAP.get(word, word))
    return " ".join(out)


def _trim(text: str, trim: str) -> str:
    leading = {THING: _DETERMINERS, PHRASE: _ADVERBS}.get(trim)
    previous = None
    while previous != text:
        previous = text
        text = _TRAIL.sub("", text).strip()
        if leading is not None:
            text = leading.sub("", text + " ").strip()
    return text


def thing_asked(utterance: str) -> str | None:
    """The object of the owner's sentence, from Jibo's side, or None when there isn't one.

    ``None`` for a sentence of no known shape, an object of more than :data:`MAX_WORDS`
    words, or a vague one, so the caller falls back to an answer that names nothing.
    """
    text = clean(utterance)
    text = " ".join(w for w in text.split() if w not in ("jibo", "please"))
    text = _TRAIL.sub("", _LEAD.sub("", text + " ").strip()).strip()
    for shape, trim in SHAPES:
        match = shape.match(text)
        if match is None:
            continue
        words = swap_pronouns(_trim(match.group("x"), trim)).split()
        if not words or len(words) > MAX_WORDS:
            return None
        if len(words) == 1 and words[0] in VAGUE:
            return None
        return " ".join(words)
    return None
