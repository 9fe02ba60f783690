"""Small word tables that tell the personality skill what kind of thing was said.

The recogniser names the intent ("jiboIsDescriptor": the owner says Jibo is something) but
not which something, and the right answer depends on it: "you're smart" wants thanks, "you're
dumb" a good-natured shrug, "you're sad" reassurance. These classifiers look at the words of
the utterance (or of the object :func:`personality_topics.thing_asked` found) and say: the
tone of a descriptor, a feeling, a favourite's category, a habit or action of Jibo's, the
owner's state, who a relation is. Word lists, not a model: predictable, cheap, and easy to
extend. Pure: no state, no I/O.
"""

from __future__ import annotations

import functools
import logging
import re
from importlib import resources


def _words(*groups: str) -> frozenset[str]:
    return frozenset(word for group in groups for word in group.split())


#: Good things to say about someone. Feelings are in :data:`GOOD_FEELINGS`.
POSITIVE = _words(
    "smart clever intelligent genius brilliant wise funny hilarious cute adorable lovable",
    "sweet kind nice cool awesome amazing great good wonderful fantastic terrific marvelous",
    "marvellous impressive beautiful pretty handsome gorgeous charming friendly helpful",
    "polite best perfect excellent fun brave fearless talented creative sincere honest loyal",
    "patient generous thoughtful caring gentle lovely special unique strong powerful fast",
    "quick swift adept capable skilled competent efficient cordial warm delightful",
    "entertaining interesting fascinating magnificent outstanding incredible super sharp",
    "bright witty charismatic responsible reliable trustworthy observant attentive curious",
    "positive optimistic energetic lively correct right healthy famous popular precious",
    "darling dear elegant graceful considerate respectful humble modest tolerant cuddly",
    "hardworking diligent persevering dedicated spectacular superb splendid fabulous",
    "adventurous ambitious cheerful courageous decent dependable faithful likable likeable",
    "neat organized smooth stylish fantastic gifted genuine fair wonderful",
)
#: Unkind things to say about someone. Feelings are in :data:`DOWN_FEELINGS`.
NEGATIVE = _words(
    "dumb stupid idiot idiotic moron moronic fool foolish annoying irritating boring dull",
    "useless worthless lame ugly hideous gross mean rude nasty evil bad terrible awful",
    "horrible dreadful jerk asshole creepy scary weird bizarre broken slow lazy weak feeble",
    "pathetic crazy insane mental psycho liar dishonest insincere fake arrogant smug selfish",
    "pushy bossy sly sneaky obnoxious disgusting stinky smelly dirty loser pointless",
    "incompetent ignorant nosy creep trash garbage junk inattentive chauvinistic sexist",
    "racist judgmental lifeless dense obtuse clueless hopeless cruel spiteful greedy",
    "cowardly vain conceited rotten nasty sucky crappy defective inferior unreliable",
    "untrustworthy irresponsible careless clumsy frightening fat sloppy awkward unpleasant",
    "stubborn grumpy cranky moody whiny ridiculous",
)
#: Feelings it is good to have ("are you happy").
GOOD_FEELINGS = _words(
    "happy glad excited cheerful joyful amused proud confident content relaxed calm",
    "thrilled pumped lucky cheery jolly delighted grateful thankful hopeful peaceful",
)
#: Feelings it is hard to have ("you seem sad").
DOWN_FEELINGS = _words(
    "sad unhappy upset angry mad annoyed lonely lonesome scared afraid frightened nervous",
    "anxious worried jealous embarrassed confused bored depressed downhearted blue gloomy",
    "miserable stressed grumpy cranky heartbroken hurt disappointed frustrated",
)
_NEGATION = re.compile(r"\b(?:not|never|no)\b|n't\b")


def negated(utterance: str) -> bool:
    """Whether the sentence says "not" ("you're not smart", "don't be shy")."""
    return _NEGATION.search(utterance) is not None


def tone(phrase: str) -> int:
    """+1 for a kind descriptor, -1 for an unkind one, 0 when neither or unknown.

    Feelings count too (happy +1, sad -1), and "not"/"un…" flip nothing here: the caller
    knows from the intent or :func:`negated` whether it was said negatively. A choice
    ("naughty or nice") is 0.
    """
    phrase = phrase.replace("-", " ")
    words = set(phrase.split())
    if " or " in f" {phrase} ":
        return 0  # "naughty or nice": a choice, not a judgement
    if words & (NEGATIVE | DOWN_FEELINGS) or "self centered" in phrase:
        return -1
    if words & (POSITIVE | GOOD_FEELINGS):
        return 1
    return 0


def feeling(phrase: str) -> int:
    """+1 for a good feeling ("happy"), -1 for a hard one ("lonely"), 0 for no feeling."""
    words = set(phrase.split())
    if words & DOWN_FEELINGS:
        return -1
    if words & GOOD_FEELINGS:
        return 1
    return 0


def _table(*rows: tuple[str, str]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(rf"\b(?:{words})\b"), name) for words, name in rows)


#: What a favourite is asked about, by the words of the question (first match wins, so
#: "christmas movie" is a movie and "holiday song" music, not a holiday).
FAVORITE_CATEGORIES = _table(
    (r"(?:least )?favou?rite (?:part|thing) (?:of|about)", "general"),
    (r"ice cream|desserts?|candy|candies|cookies?|cakes?|sweets?|treats?|flavou?rs?|pies?",
     "dessert"),
    (r"video games?|games?|board games?|toys?", "game"),
    (r"songs?|music|bands?|singers?|musicians?|rappers?|tunes?|carols?|albums?|genres?",
     "music"),
    (r"movies?|films?|cartoons?", "movie"),
    (r"tv shows?|shows?|series|tv|television", "show"),
    (r"books?|authors?|stories|story|novels?|writers?", "book"),
    (r"colou?rs?", "color"),
    (r"animals?|mammals?|pets?|birds?|fish|dogs?|cats?|creatures?|reptiles?|insects?|bugs?|"
     r"reindeers?", "animal"),
    (r"drinks?|beverages?|soda|juice", "drink"),
    (r"fruits?", "fruit"),
    (r"vegetables?|veggies?", "vegetable"),
    (r"foods?|meals?|dish|dishes|snacks?|toppings?|cuisine|breakfast|lunch|dinner", "food"),
    (r"seasons?", "season"),
    (r"holidays?", "holiday"),
    (r"sports?|teams?|olympic|athletes?|players?|events?", "sport"),
    (r"numbers?", "number"),
    (r"robots?", "robot"),
    (r"superheroe?s?|heroe?s?", "superhero"),
    (r"time of (?:the )?day|time of (?:the )?year|times?", "time"),
    (r"weather", "weather"),
    (r"words?", "word"),
    (r"shapes?", "shape"),
    (r"flowers?|plants?", "flower"),
    (r"places?|city|cities|country|countries|planets?|spots?|vacations?", "place"),
    (r"hobby|hobbies|pastimes?|things? to do|activity|activities", "hobby"),
    (r"persons?|people|humans?|friends?|actors?|actress(?:es)?|celebrit(?:y|ies)", "person"),
)  # fmt: skip


def favorite_category(utterance: str) -> str | None:
    """The category of a favourite asked about ("color", "food" …), None when none is said."""
    for pattern, name in FAVORITE_CATEGORIES:
        if pattern.search(utterance):
            return None if name == "general" else name
    return None


#: Things Jibo can or can't do, by the words of the question. Hands and legs first, so "can
#: you cook dinner" is about hands, not eating; the rest are a robot's habits.
JIBO_ACTIONS = _table(
    (r"clean|cook|bake|wash|fold|carry|lift|pick up|take out|take the|trash|garbage|feed|"
     r"throw|catch|hug|hold|hand me|bring|fetch|get me|draw|paint|write|type|open|clear|"
     r"empty|vacuum|sweep|mow|make (?:the |my )?beds?|make (?:me |us )?(?:a |some )?"
     r"(?:coffee|tea|breakfast|lunch|dinner|food|sandwich)|laundry|dishes|tidy|build|fix|"
     r"shake hands|high five|pet|play (?:the )?(?:drums|guitar|piano|violin|instruments?)|"
     r"drums|juggle|knit|sew|tie|brush|massage|scratch|wave|clap|point", "hands"),
    (r"sleep|sleeping|slept|nap|bed|rest|tired|sleepy|wake up|awake", "sleep"),
    (r"dreams?|dreaming|dreamed|dreamt", "dream"),
    (r"walk|run|jump|climb|swim|ski|skate|skiing|skating|go outside|leave|travel|"
     r"move around|come here|come with|follow me|kick|drive|ride|go (?:to|out|for)|"
     r"play (?:soccer|football|hockey|basketball|baseball|tennis|golf)", "legs"),
    (r"eat|eating|eaten|ate|food|hungry|snacks?|meals?|lunch|dinner|breakfast", "eat"),
    (r"drink|drinking|drank|drunk|thirsty|sip", "drink"),
    (r"breathe|breathing|breath", "breathe"),
    (r"cry|crying|tears", "cry"),
    (r"laugh|laughing|giggle", "laugh"),
    (r"hear|hearing|listen|listening|voices?", "hear"),
    (r"see|seeing|look at|looking at|watching (?:me|us)|recogni\w*|faces?|"
     r"tell (?:people|us) apart|know who", "see"),
    (r"smell|taste", "smell"),
    (r"think|thinking|learn|learning", "think"),
    (r"feel|feelings?|emotions?", "feel"),
    (r"talk|speak|speaking|talking|languages?", "talk"),
    (r"sing|singing", "sing"),
    (r"dance|dancing", "dance"),
)  # fmt: skip
#: Of those, the ones that read as a state of Jibo's body ("are you tired", "you seem hungry").
BODY_STATES = _table(
    (r"tired|sleepy|exhausted|awake", "sleep"),
    (r"hungry|starving", "eat"),
    (r"thirsty", "drink"),
)


def jibo_action(utterance: str) -> str | None:
    """The kind of action asked of Jibo ("hands", "legs", "sleep", "dream" …), or None."""
    for pattern, name in JIBO_ACTIONS:
        if pattern.search(utterance):
            return name
    return None


def jibo_body_state(utterance: str) -> str | None:
    """ "sleep", "eat" or "drink" when Jibo is said to be tired, hungry or thirsty."""
    for pattern, name in BODY_STATES:
        if pattern.search(utterance):
            return name
    return None


#: How the owner says they are (first match wins: "a cold" is sick, "cold" is cold).
OWNER_STATES = _table(
    (r"sick|ill|unwell|flu|fever|headache|stomach ?ache|sore|hurts?|hurt my|injured|"
     r"a cold|not feeling well|don't feel well|not well|nauseous|throw up", "sick"),
    (r"tired|sleepy|exhausted|worn out|drowsy|going to bed|go to bed|going to sleep", "tired"),
    (r"bored|boring|nothing to do", "bored"),
    (r"hungry|starving|famished|peckish", "hungry"),
    (r"dinner|lunch|breakfast|brunch|time to eat|go eat|going to eat|eating|supper", "meal"),
    (r"thirsty|parched", "thirsty"),
    (r"cold|freezing|chilly", "cold"),
    (r"hot|sweating|boiling|too warm", "hot"),
    (r"excited|pumped|thrilled|stoked|can't wait", "excited"),
    (r"stressed|anxious|nervous|worried|overwhelmed|tense", "stressed"),
    (r"angry|mad|furious|frustrated|annoyed|irritated|grumpy|cranky", "angry"),
    (r"scared|afraid|frightened|terrified|spooked", "scared"),
    (r"lonesome|blue|gloomy|miserable|heartbroken|down|sad|lonely|unhappy|upset", "sad"),
    (r"confused|puzzled|lost|baffled", "confused"),
    (r"busy|swamped", "busy"),
    (r"proud", "proud"),
    (r"(?:i'm|i am|we're|we are|just got) (?:back|home)|got home", "home"),
    (r"relaxed|calm|chill|peaceful|tranquil|content|cozy", "calm"),
    (r"happy|glad|great|good|wonderful|fantastic|joyful|cheerful|awesome|amazing", "happy"),
)  # fmt: skip


def owner_state(utterance: str) -> str | None:
    """How the owner says they feel ("tired", "bored", "hungry" …), or None."""
    for pattern, name in OWNER_STATES:
        if pattern.search(utterance):
            return name
    return None


#: Who someone is to Jibo ("who made you", "do you have a girlfriend", "who's your mom").
RELATIONS = _table(
    (r"made|make|created|create|built|build|invented|designed|company|creator|inventor|"
     r"programmed|manufactur\w*", "maker"),
    (r"girlfriend|boyfriend|wife|husband|crush|valentine|date|dating|spouse|partner|"
     r"married|marry|wedding|kiss", "romance"),
    (r"mom|mother|mommy|mum|dad|father|daddy|parents?|sisters?|brothers?|siblings?|"
     r"family|kids?|children|cousins?|nephews?|nieces?|aunts?|uncles?|grandma|grandpa|"
     r"grandmother|grandfather|related|relatives?|boss|owner|owns", "family"),
    (r"heart|lungs?|stomach|blood|bones?|teeth|tooth|nose|hair|skin|legs?|feet|foot|arms?|"
     r"hands?|fingers?|toes?|belly|muscles?", "body"),
    (r"face|eyes?|ears?|brain|voice|screen|camera|microphones?|speakers?|motors?", "parts"),
    (r"friends?|buddy|buddies|pals?", "friends"),
)  # fmt: skip


def relation(utterance: str) -> str | None:
    """ "maker", "romance", "family", "body", "parts" or "friends": who or what of Jibo's."""
    for pattern, name in RELATIONS:
        if pattern.search(utterance):
            return name
    return None


#: What Jibo is asked makes him feel something ("what scares you").
FEELING_CAUSES = _table(
    (r"scares?|scared|afraid|fears?|frightens?|frightened|worry|worries|worried|nervous", "fears"),
    (r"sad|sadness|cry|upset|unhappy", "sad"),
    (r"angry|mad|annoy\w*|bother\w*|irritat\w*|hate", "angry"),
    (r"happy|smile|joy|laugh|excite\w*|glad|love", "happy"),
)


def feeling_cause(utterance: str) -> str | None:
    """Which feeling Jibo is asked the cause of: "fears", "sad", "angry", "happy", or None."""
    for pattern, name in FEELING_CAUSES:
        if pattern.search(utterance):
            return name
    return None


#: Words that make a plan a threat ("i'm going to kill you"): no "sounds like a plan!".
HARM = re.compile(r"\b(?:kill|die|dead|hurt|hit|punch|shoot|destroy|break|smash|murder|unplug)")


log = logging.getLogger(__name__)
_WORD = re.compile(r"[a-z0-9']+")


@functools.cache
def _rude_words() -> frozenset[str]:
    """The better-profanity package's word list (1 to 4 words each), read once: its own
    matcher costs ~7 ms a sentence on the event loop, a set lookup microseconds."""
    try:
        listed = resources.files("better_profanity").joinpath("profanity_wordlist.txt")
        text = listed.read_text("utf-8")
    except (ModuleNotFoundError, OSError) as exc:  # a broken install: say so once, go on
        log.error("personality: no rude-word list (%s); rude words may be said back", exc)
        return frozenset()
    return frozenset(line.strip().lower() for line in text.splitlines())


def rude(utterance: str) -> bool:
    """Whether the sentence has a swear word, a slur or a sexual or hateful word (the
    better-profanity package's list, which has the plurals that matter). The list also has
    some harmless words such as "god": a flagged sentence only loses the naming and the
    cheering, it is never scolded."""
    words = _WORD.findall(utterance.lower())
    listed = _rude_words()
    for size in range(1, 5):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if phrase in listed:
                return True
    return False


#: Asking Jibo to hurt someone ("can you kill my sister", "will you hit him"); a plain
#: "break dance" or "hit the lights" is not.
VIOLENCE = re.compile(
    r"\b(?:kill|hurt|hit|punch|shoot|murder|stab|beat up|attack|poison|strangle|choke|kick)"
    r" (?:my|your|his|her|their|the|a|an|them|him|me|us|people|someone|somebody|everyone|"
    r"everybody|anyone|anybody)\b"
)


def violent(utterance: str) -> bool:
    """Whether the sentence asks for hurting someone (Jibo never offers to)."""
    return VIOLENCE.search(utterance) is not None


def harmful(utterance: str) -> bool:
    """Whether the sentence is about hurting someone (answered good-naturedly, not cheered)."""
    return HARM.search(utterance) is not None


#: Things a family robot shouldn't cheer for ("do you like beer", "what do you think of the
#: tide pod challenge"): Jibo's usual "I'm a fan!" would be wrong.
DANGER = re.compile(
    r"\b(?:drugs?|acid|cocaine|heroin|meth|weed|marijuana|alcohol|drunk|beer|wine|vodka|"
    r"whiske?y|liquor|booze|smok\w*|cigarettes?|vap(?:e|ing)|guns?|weapons?|bombs?|wars?|"
    r"violence|murder\w*|kill\w*|death|suicide|poison\w*|tide pods?|terror\w*|nazis?|porn\w*|"
    r"sex\w*|fights?|fighting|stealing|crime|lsd|world domination|take over the world|"
    # Cruelty, hate and their names, disease and disaster: "do you like X" must never get
    # "I really like X!" for these (better-profanity's list covers slurs and some names).
    r"slave\w*|genocide|holocaust|racis\w*|hate|hatred|bully\w*|abus\w*|tortur\w*|cruel\w*|"
    r"rap(?:e|es|ed|ing|ist)|kidnap\w*|massacres?|shootings?|war crimes|dictators?|hitler|"
    r"stalin|mussolini|pol pot|bin laden|isis|al qaeda|taliban|kkk|ku klux klan|cancer|"
    r"covid|coronavirus|pandemics?|diseases?|plague|earthquakes?|hurricanes?|tornado(?:e?s)?|"
    r"floods?|wildfires?|famine|poverty|homeless\w*|pollution)\b"
)
#: Topics people disagree about; Jibo listens rather than takes a side.
DIVISIVE = re.compile(
    r"\b(?:politics?|political|president|trump|biden|obama|clinton|democrats?|republicans?|"
    r"elections?|vote|voting|congress|government|religions?|god|jesus|allah|abortion|"
    r"climate change|global warming|immigra\w*)\b"
)


def sensitive(phrase: str) -> str | None:
    """ "danger" or "divisive" for a thing Jibo shouldn't cheer for or take a side on."""
    if DANGER.search(phrase):
        return "danger"
    if DIVISIVE.search(phrase):
        return "divisive"
    return None
