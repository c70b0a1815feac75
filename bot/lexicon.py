"""Open Danish lexical resources for retrieval: a thesaurus and an English-Danish word list.

Sources (Debian packages, installed by ``make lexicon`` / ``.ci/run``):

* ``mythes-da``: the Danish thesaurus of LibreOffice (``/usr/share/mythes/th_da_DK.dat``,
  MyThes format, MPL/LGPL): per headword, lines of synonyms and hyponyms
  marked "(underbegreb)". We keep synonyms in both directions and the
  hypernym of a hyponym ("gummistøvle" -> "støvle"), never hyponyms
  (a question about boots is not about every kind of footwear).
* ``dict-freedict-dan-eng``: FreeDict's Danish-English dictionary
  (``/usr/share/dictd/freedict-dan-eng.dict.dz``, GPL-3 / CC BY-SA 3.0),
  inverted to map single English words to Danish headwords.

``mandat build-lexicon`` converts both into two small tab-separated files
under ``var/lexicon`` (``da-related.tsv``, ``en-da.tsv``); retrieval reads
those. Without them, retrieval uses only the hand-written lists in
``bot/language_data`` (the figures in ``make eval`` say what the lexicon adds).
"""
from __future__ import annotations

import functools
import gzip
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.language import stem_term

MYTHES_DA = Path("/usr/share/mythes/th_da_DK.dat")
FREEDICT_DAN_ENG = Path("/usr/share/dictd/freedict-dan-eng.dict.dz")
RELATED_FILE = "da-related.tsv"
ENGLISH_FILE = "en-da.tsv"
MAX_RELATED = 30
"""At most this many related words per headword (the thesaurus lists over 100 for some), in the thesaurus' order."""

_MARKER = re.compile(r"\s*\((?:underbegreb|daglig tale|fagudtryk|vulgær|juridisk)\)\s*$")
_SINGLE_WORD = re.compile(r"^[a-zæøåé]+(?:-[a-zæøåé]+)?$")
_ENGLISH_WORD = re.compile(r"^[a-z]+$")


@dataclass
class Lexicon:
    """Related Danish words and English-to-Danish translations, keyed by lower-case word.

    Attributes:
        related: Danish word -> related Danish words (synonyms first, then hypernyms).
        english: English word -> Danish words.
        source: where it came from (for reports), e.g. ``"var/lexicon"`` or ``"none"``.
    """

    related: dict[str, tuple[str, ...]] = field(default_factory=dict)
    english: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "none"

    def __bool__(self) -> bool:
        return bool(self.related or self.english)

    def related_to(self, lemma: str, token: str) -> tuple[str, ...]:
        """Words related to a question word: by its lemma, its surface form, or else its stem
        ("arbejdsstøvler", which the lemma table lacks, finds "arbejdsstøvle")."""
        found = self.related.get(lemma) or self.related.get(token)
        if found or not self.related:
            return found or ()
        return self._by_stem().get(stem_term(lemma), ())

    def _by_stem(self) -> dict[str, tuple[str, ...]]:
        if not hasattr(self, "_stem_index"):
            index: dict[str, tuple[str, ...]] = {}
            for word, values in self.related.items():
                index.setdefault(stem_term(word), values)
            self._stem_index = index
        return self._stem_index


def parse_mythes(path: Path = MYTHES_DA) -> dict[str, list[str]]:
    """Synonyms (both directions) and hypernyms of hyponyms from a MyThes ``.dat`` file.

    Only single words (optionally hyphenated) are kept: the ranker matches words.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not MyThes (first line must name the encoding).
    """
    related: dict[str, dict[str, None]] = defaultdict(dict)  # ordered sets: synonyms first
    with open(path, encoding="utf-8") as handle:
        first = handle.readline().strip().lower()
        if first not in ("utf-8", "utf8"):
            raise ValueError(f"{path}:1: expected the MyThes encoding line 'UTF-8', got {first!r}")
        head = None
        for line in handle:
            line = line.rstrip("\n")
            if not line.startswith("|"):
                head = line.split("|", 1)[0].strip().lower()
                continue
            if head is None or not _SINGLE_WORD.match(head):
                continue
            synonyms, hyponyms = [], []
            for item in line.split("|")[1:]:
                item = item.strip().lower()
                is_hyponym = "(underbegreb)" in item
                word = _MARKER.sub("", item).strip()
                if not word or not _SINGLE_WORD.match(word) or word == head:
                    continue
                (hyponyms if is_hyponym else synonyms).append(word)
            for word in synonyms:
                related[head][word] = None
                related[word][head] = None
            for word in hyponyms:
                related[word][head] = None  # "gummistøvle" -> "støvle", not the other way
    return {word: list(values) for word, values in related.items()}


def parse_freedict(path: Path = FREEDICT_DAN_ENG) -> dict[str, list[str]]:
    """English word -> Danish headwords, inverted from a dictd Danish-English dictionary.

    The dictd body alternates a headword line ("abe /ˈabə/ <n>") and
    translation lines ("ape, monkey"); bracketed glosses are dropped and only
    single-word English translations are kept.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    opener = gzip.open if path.suffix == ".dz" or path.suffix == ".gz" else open
    english: dict[str, dict[str, None]] = defaultdict(dict)
    head = None
    with opener(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            if not line.startswith(" ") and ("/" in line or "<" in line):
                word = line.split("/", 1)[0].split("<", 1)[0].strip().lower()
                head = word if _SINGLE_WORD.match(word) else None
                continue
            if head is None:
                continue
            text = re.sub(r"\[[^\]]*\]", "", line).strip().lower()
            for translation in text.split(","):
                translation = translation.strip()
                if _ENGLISH_WORD.match(translation):
                    english[translation][head] = None
    return {word: list(values) for word, values in english.items()}


def build(out_dir: Path, mythes: Path = MYTHES_DA, freedict: Path = FREEDICT_DAN_ENG) -> str:
    """Write ``da-related.tsv`` and ``en-da.tsv`` into ``out_dir``; returns a Danish status line.

    A source that is not installed is skipped (its file is not written).
    Files are written to a temporary name and renamed, so a reader never
    sees half a file.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    done = []
    for name, source, parse in ((RELATED_FILE, mythes, parse_mythes), (ENGLISH_FILE, freedict, parse_freedict)):
        if not source.exists():
            continue
        table = parse(source)
        tmp = out_dir / (name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            for word in sorted(table):
                values = list(table[word])[:MAX_RELATED]
                handle.write(word + "\t" + "\t".join(values) + "\n")
        tmp.replace(out_dir / name)
        done.append(f"{name} ({len(table)} ord fra {source})")
    if not done:
        return (f"Ingen ordbøger fundet ({mythes}, {freedict}); installér Debian-pakkerne "
                "mythes-da og dict-freedict-dan-eng. Søgningen bruger kun de indbyggede ordlister.")
    return "Leksikon gemt i " + str(out_dir) + ": " + ", ".join(done)


def _read_tsv(path: Path) -> dict[str, tuple[str, ...]]:
    table = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, *values = line.rstrip("\n").split("\t")
            table[word] = tuple(values)
    return table


@functools.lru_cache(maxsize=4)
def load(directory: str | None) -> Lexicon:
    """The lexicon in ``directory`` (files from :func:`build`), or an empty one when absent."""
    if not directory:
        return Lexicon()
    path = Path(directory)
    related = _read_tsv(path / RELATED_FILE) if (path / RELATED_FILE).exists() else {}
    english = _read_tsv(path / ENGLISH_FILE) if (path / ENGLISH_FILE).exists() else {}
    return Lexicon(related, english, str(path) if related or english else "none")
