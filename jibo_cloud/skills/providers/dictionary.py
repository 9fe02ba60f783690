"""Offline word definitions from Princeton WordNet 3.0, as Debian's ``wordnet-base`` ships it.

The data is read from ``/usr/share/wordnet`` (``JIBO_WORDNET_DIR`` to move it; install it with
``apt-get install wordnet-base``). Nothing is downloaded: when the files are missing or are not
the ones we tested (their SHA-256 is checked once, on first use, in a worker thread), the
dictionary is unavailable, the error log says which file and why, and the answers skill says
it cannot look words up.

The files are WordNet's own database format (``wndb(5)``): ``index.<pos>`` is sorted, one
lemma per line with the byte offsets of its senses, most frequent first; ``data.<pos>`` holds
each sense at its offset with its gloss after ``|``. We binary-search the memory-mapped index
and read one line of data, about 40 lines of code, instead of a dependency (nltk's reader
needs the same files, is a much larger package, and loads every index into memory).
Inflected forms are reduced with WordNet's exception lists and suffix rules ("morphy").
"""

from __future__ import annotations

import hashlib
import logging
import mmap
from collections.abc import Mapping
from pathlib import Path

import attrs

log = logging.getLogger(__name__)

DEFAULT_DIR = Path("/usr/share/wordnet")
#: Parts of speech in the order a definition is preferred, with how Jibo names them.
POS = {"noun": "a noun", "verb": "a verb", "adj": "an adjective", "adv": "an adverb"}
#: SHA-256 of the files we read, from Debian's wordnet-base 1:3.0-37 (bookworm/trixie).
EXPECTED_SHA256: Mapping[str, str] = {
    "index.noun": "a490d99d93d017bf4822fe2f0ffa51fd73911ce271dc7535fade21f8814b5a04",
    "index.verb": "e2ac24816c3a8289dcb72aaa9cf8db81fdf25ec34d792bfc96ac5b7a20c8b4ae",
    "index.adj": "c9865d7b4d1f805bdef82ccdcea5282436e23083e6f6f1b33e716327c4eda810",
    "index.adv": "6f5465ed5758fe9c8a2f7ec17b1300f3aa875756c70ff7cba162f7e71bcf88ea",
    "data.noun": "fea17d2f9656611334eac790e5d69e47645fa180c4aa481fb4cd9b3520754ca2",
    "data.verb": "adcf43e35b581e8036d8b5a52d63d9cd3d3b4870b2720d3c03c799df44777bc2",
    "data.adj": "c89120dfc1f046ddff4a631bf9b7e9fa1a36b5e86565a23bf82dbe14f30b88a7",
    "data.adv": "444a63bf3955080ab7524f5079cfc07ff9bc682cb98bdb1db73b0fb9829f1139",
}
#: WordNet's detachment rules (morphy): (suffix, replacement) per part of speech.
SUFFIXES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "noun": (
        ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
        ("men", "man"), ("ies", "y"), ("s", ""),
    ),
    "verb": (
        ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"),
        ("ing", ""), ("s", ""),
    ),
    "adj": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "adv": (),
}  # fmt: skip


class DictionaryUnavailable(Exception):
    """The WordNet files are missing or not the tested ones; the message says which."""


@attrs.frozen
class Definition:
    word: str
    #: ``noun`` / ``verb`` / ``adj`` / ``adv``.
    pos: str
    gloss: str


def verify(directory: Path) -> None:
    """Check every file we read against :data:`EXPECTED_SHA256`.

    Raises:
        DictionaryUnavailable: a file is missing or differs (names it and the apt package).
    """
    for name, expected in EXPECTED_SHA256.items():
        path = directory / name
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise DictionaryUnavailable(
                f"{path}: {exc.strerror or exc}; install Debian's wordnet-base "
                "(apt-get install wordnet-base) or set JIBO_WORDNET_DIR"
            ) from None
        if digest != expected:
            raise DictionaryUnavailable(
                f"{path}: SHA-256 {digest} is not the tested {expected} "
                "(wordnet-base 1:3.0-37); review and update dictionary.EXPECTED_SHA256"
            )


def _bsearch(index: mmap.mmap, key: bytes) -> bytes | None:
    """The line of a sorted WordNet index starting with ``key + b" "`` (wndb(5) bin_search)."""
    lo, hi = 0, len(index)
    target = key + b" "
    while lo < hi:
        mid = (lo + hi) // 2
        start = index.rfind(b"\n", 0, mid) + 1
        end = index.find(b"\n", start)
        end = len(index) if end < 0 else end
        line = index[start:end]
        if line.startswith(b"  "):  # the licence header sorts before every lemma
            lo = end + 1
            continue
        if line.startswith(target):
            return line
        if line < target:
            lo = end + 1
        else:
            hi = start
    return None


@attrs.define
class WordNet:
    """A verified WordNet database (build it with :func:`open_wordnet`)."""

    directory: Path
    _index: dict[str, mmap.mmap] = attrs.field(factory=dict)
    _data: dict[str, mmap.mmap] = attrs.field(factory=dict)
    _exceptions: dict[str, dict[str, str]] = attrs.field(factory=dict)

    def _lemma_senses(self, lemma: str, pos: str) -> list[int]:
        line = _bsearch(self._index[pos], lemma.encode("ascii", "ignore"))
        if line is None:
            return []
        fields = line.split()
        pointer_count = int(fields[3])
        sense_count = int(fields[2])
        offsets = fields[4 + pointer_count + 2 :]
        return [int(o) for o in offsets[:sense_count]]

    def _gloss(self, pos: str, offset: int) -> str:
        data = self._data[pos]
        end = data.find(b"\n", offset)
        line = data[offset : end if end >= 0 else len(data)].decode("utf-8", "replace")
        gloss = line.partition(" | ")[2]
        # The gloss is "definition; \"example\"; …": keep the definition.
        return gloss.split('; "')[0].strip().rstrip(";").strip()

    def base_forms(self, word: str, pos: str) -> list[str]:
        """``word`` and its WordNet base forms for ``pos`` (morphy), most likely first."""
        forms = [word]
        if word in self._exceptions.get(pos, {}):
            forms.append(self._exceptions[pos][word])
        for suffix, replacement in SUFFIXES[pos]:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                forms.append(word[: -len(suffix)] + replacement)
        return list(dict.fromkeys(forms))

    def define(self, word: str) -> Definition | None:
        """The most common sense of ``word`` (any part of speech), or None if unknown."""
        lemma = "_".join(word.lower().split())
        best: tuple[int, Definition] | None = None
        for pos in POS:
            for form in self.base_forms(lemma, pos):
                senses = self._lemma_senses(form, pos)
                if senses:
                    # Prefer the exact word over a base form, then the part of speech with
                    # more senses (a rough stand-in for frequency).
                    score = (form == lemma) * 1000 + len(senses)
                    if best is None or score > best[0]:
                        gloss = self._gloss(pos, senses[0])
                        best = (score, Definition(form.replace("_", " "), pos, gloss))
                    break
        return best[1] if best else None


def open_wordnet(directory: Path = DEFAULT_DIR) -> WordNet:
    """Verify and map the WordNet files (synchronous, ~0.1 s: run it in a thread, once).

    Raises:
        DictionaryUnavailable: see :func:`verify`.
    """
    verify(directory)
    wordnet = WordNet(directory)
    for pos in POS:
        for kind, table in (("index", wordnet._index), ("data", wordnet._data)):
            with (directory / f"{kind}.{pos}").open("rb") as file:
                table[pos] = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        exceptions: dict[str, str] = {}
        exc_file = directory / f"{pos}.exc"
        if exc_file.is_file():
            for line in exc_file.read_text("utf-8", "replace").splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    exceptions.setdefault(parts[0], parts[1])
        wordnet._exceptions[pos] = exceptions
    return wordnet
