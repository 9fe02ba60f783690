"""The recogniser's grammar covers the launch phrases: the per-turn JSGF
for the launch rules holds them, pocketsphinx compiles it, and a spoken launch is heard."""

from __future__ import annotations

from typing import Any

from jibo_cloud.nlu.parser import parse_text
from jibo_cloud.speech.search import DEFAULT_RULES, Node, build_jsgf, parse_jsgf
from tests.nlu.launch_cases import ROBOT_LAUNCHES
from tests.support.env import missing

#: Typed only (template.TYPED_ONLY): the recogniser heard "delete …" for "tell me the time".
TYPED = ["delete my alarm", "delete the timer", "what time is my alarm"]
#: Launch phrases of the robot's skills, as the recogniser may say them (no free slots).
SAID = [
    c[0] for c in ROBOT_LAUNCHES if "alex" not in c[0] and "sam" not in c[0] and c[0] not in TYPED
]


def accepts(jsgf: str, words: list[str]) -> bool:
    """Whether ``words`` is a whole sentence of ``jsgf`` (a depth-first walk of its tree)."""
    public, rules = parse_jsgf(jsgf)
    stack: list[tuple[tuple[Node, ...], tuple[str, ...]]] = [((public,), tuple(words))]
    while stack:
        pending, want = stack.pop()
        if not pending:
            if not want:
                return True
            continue
        (kind, value), rest = pending[0], pending[1:]
        if kind == "word":
            if want and want[0] == value:
                stack.append((rest, want[1:]))
        elif kind == "ref":
            stack.append(((rules[value], *rest), want))
        elif kind == "seq":
            stack.append(((*value, *rest), want))
        elif kind == "alt":
            stack.extend(((option, *rest), want) for option in value)
        else:  # opt
            stack.append((rest, want))
            stack.append(((value, *rest), want))
    return False


def _decoder() -> Any:
    try:
        from jibo_cloud.speech.sphinx import grammar_decoder
    except ImportError:
        missing("pocketsphinx is not installed")
    return grammar_decoder()


def test_launch_jsgf_holds_every_robot_launch_and_compiles() -> None:
    decoder = _decoder()
    jsgf = build_jsgf(DEFAULT_RULES, [], lambda w: decoder.lookup_word(w) is not None)
    assert jsgf is not None
    assert [text for text in SAID if not accepts(jsgf, text.split())] == []
    assert not accepts(jsgf, ["take", "a", "banana"])  # the walk can say no
    assert [text for text in TYPED if accepts(jsgf, text.split())] == []
    assert {parse_text(text, DEFAULT_RULES)["intent"] for text in TYPED} == {"delete", "query"}
    decoder.add_jsgf_string("launch_test", jsgf)  # raises when pocketsphinx cannot compile it
    decoder.activate_search("launch_test")


async def test_a_spoken_launch_phrase_is_heard_and_launches() -> None:
    from jibo_cloud.services import AsrRequest
    from jibo_cloud.speech.sphinx import PocketsphinxRecognizer
    from jibo_cloud.speech.synth import espeak_available, spoken_pages

    if not espeak_available():
        missing("espeak-ng is not installed (apt-get install espeak-ng)")
    _decoder()
    recognizer = PocketsphinxRecognizer()
    session = await recognizer.open_session(AsrRequest(rules=DEFAULT_RULES))
    try:
        for page in spoken_pages("take a picture", voice="en-us+f2", speed=150):
            await session.feed(page)
        result = await session.finish()
    finally:
        await session.aclose()
    nlu = parse_text(result.text, DEFAULT_RULES)
    assert (nlu["intent"], nlu["entities"]) == ("createOnePhoto", {"skill": "@be/create"})
