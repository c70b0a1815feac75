"""Danish normalisation: NFC, case, æ/ø/å written ae/oe/aa, lemmas, stems, amounts.

The analyser turns a text into *terms*: lower-cased lemma (spaCy lookup
lemmatizer, tables from spacy-lookups-data, or ``da_core_news_sm`` where it is
installed), reduced by the Snowball Danish stemmer and folded to ASCII
(æ -> ae, ø -> oe, å -> aa), minus stop words. Folding both the catalogue and
the question makes "maa", "må" and "ma" meet; typos are handled by retrieval.

Sources: Snowball Danish stemmer (https://snowballstem.org/algorithms/danish/),
spaCy's Danish stop-word list (spacy/lang/da/stop_words.py).
"""
from __future__ import annotations

import functools
import gzip
import json
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import snowballstemmer

_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ä": "ae", "ö": "oe", "ü": "u"})
_WORD = re.compile(r"[a-zæøåéäöü0-9]+(?:-[a-zæøåéäöü0-9]+)*", re.IGNORECASE)

# Words that frame a question about a decision but say nothing about its topic.
FRAMING_WORDS = frozenset(
    """må maa ma mag måtte måske skal skulle kan kunne kunnet vil ville gerne godt bare lige selv selve
    lov tilladelse tilladt tillade ok okay spørge spørg spørger spurgt bestemme bestemmer beslutte
    beslutter beslutning beslutninger godkende godkender godkendelse godkendt hvem hvad hvordan hvornår
    hvorfor hvor hvilken hvilket hvilke jeg mig min mit mine vi os vores du dig din dit dine de dem
    deres han ham hans hun hende man en et den det der som og eller at til fra på i om med af for
    ud op ind over under efter før hos ved ikke nej ja også altid aldrig nogen noget nogle have har
    havde være er var blive bliver blevet få får fik gøre gør gjort sige siger tage tager
    behøve behøver nødt mange meget hele helt andre anden andet egen eget egne hvis når fordi
    sådan så lidt noget nogen gang nu i dag kr kroner dkk koste koster kostede beløb beløbet leder lederen lede chef chefen ledelse ledelsen nærmeste""".split()
)
# English function words: used to detect English questions.
ENGLISH_WORDS = frozenset(
    """i you we can may could should do does did is are am the a an to of in on at for my our your
    who what when how why it this that with allowed allow decide decides myself yourself ourselves
    if be have has need must hi hello thanks please""".split()
)

ENGLISH_FUNCTION_WORDS = ENGLISH_WORDS | frozenset(
    """about them they their there then than and but so or not only just also too its it's s was were
    will would one ones some any all more less much many very really still even again here what's""".split()
)
"""English words that carry no topic: a short English follow-up ("what about 6 of them?") is counted
by its other words, as a Danish one is by its terms without stop words."""

DATA_DIR = Path(__file__).resolve().parent / "language_data"

INFORMAL_SPELLINGS = {
    "ka": "kan", "ku": "kunne", "sku": "skulle", "gi": "give", "gir": "giver", "bli": "blive",
    "blir": "bliver", "ta": "tage", "tar": "tager", "ha": "have", "ik": "ikke", "ikk": "ikke",
    "hva": "hvad", "nåt": "noget", "noed": "noget", "osse": "også", "mej": "mig", "dej": "dig", "sgu": "",
}
"""Spoken-language spellings in chat ("ka jeg gi hende en kop kakao", "kan ik sove") -> the written
word, so they count as the word they stand for instead of as unknown words. Sources: Dansk
Sprognævn on "talesprogsnære stavemåder"; the forms are those of the informal kind in the dev split."""


@dataclass(frozen=True)
class Abbreviation:
    """A Danish abbreviation of :data:`ABBREVIATIONS_FILE` ("ca.", "f.eks.", "kr.")."""

    form: str
    expansion: str
    filler: bool
    ends: bool
    pattern: str


ABBREVIATIONS_FILE = DATA_DIR / "abbreviations.yaml"
"""The table of Danish abbreviations: form, expansion, whether it is filler, whether it can end a sentence."""


def _abbreviation_pattern(form: str, also: list[str]) -> str:
    """A regex for ``form`` with or without a last dot ("fx", "fx.") and with an optional space after an inner
    dot ("bl.a.", "bl.a", "bl. a."), or one of the ``also`` spellings."""
    body = r"\.\s?".join(re.escape(part) for part in form.rstrip(".").split("."))
    spellings = [body + r"\.?"]
    spellings += [r"\s".join(re.escape(word) for word in other.split()) for other in also]
    return "|".join(spellings)


@functools.lru_cache(maxsize=1)
def abbreviations() -> tuple[Abbreviation, ...]:
    """The abbreviations of :data:`ABBREVIATIONS_FILE`, longest form first."""
    import yaml

    rows = yaml.safe_load(ABBREVIATIONS_FILE.read_text(encoding="utf-8")) or []
    out = [Abbreviation(str(r["form"]).lower(), str(r["expansion"]), bool(r.get("filler")), bool(r.get("ends")),
                        _abbreviation_pattern(str(r["form"]).lower(), [str(a).lower() for a in r.get("also") or []]))
           for r in rows]
    return tuple(sorted(out, key=lambda a: -len(a.form)))


@functools.lru_cache(maxsize=1)
def _filler_regex() -> re.Pattern:
    alternatives = "|".join(f"(?:{a.pattern})" for a in abbreviations() if a.filler)
    return re.compile(rf"(?<![\w.])(?:{alternatives})(?!\w)\s*", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _final_abbreviation_regex() -> re.Pattern:
    alternatives = "|".join(f"(?P<a{i}>{a.pattern})" for i, a in enumerate(abbreviations()))
    return re.compile(rf"(?<![\w.])(?:{alternatives})\Z", re.IGNORECASE)


_SPACE_BEFORE_PUNCTUATION = re.compile(r"(?<![ \t])[ \t]+(?=[?!.,;:]|\Z)")  # each run tried once: linear


def without_filler_abbreviations(text: str) -> str:
    """``text`` with the abbreviations that say nothing about a question's topic left out ("Må jeg
    købe for ca. 3.000 kr. f.eks. en stol?" -> "Må jeg købe for 3.000 kr. en stol?"), so they
    never add terms of their own ("ca", "eks", "evt") to the question. Amounts are untouched
    ("kr." is not filler)."""
    text = text or ""
    stripped = _filler_regex().sub("", text)
    if stripped == text:
        return text
    return _SPACE_BEFORE_PUNCTUATION.sub("", stripped)  # "... uge osv.?" -> "... uge?"


def abbreviation_before(text: str) -> Abbreviation | None:
    """The abbreviation ``text`` ends with, dot included ("... for ca." -> ca.), or None.

    Used by :func:`bot.question.split_sentences`: the dot of "ca." or "f.eks." is not a sentence end.
    """
    if not text.endswith("."):
        return None
    match = _final_abbreviation_regex().search(text[-12:])
    if match is None:
        return None
    return abbreviations()[int(match.lastgroup[1:])]


def normalise(text: str) -> str:
    """NFC-normalise, lower-case and collapse whitespace."""
    text = unicodedata.normalize("NFC", text or "")
    return " ".join(text.lower().split())


def fold_ascii(word: str) -> str:
    """Fold Danish letters to the ASCII spelling people type without them (æ -> ae, ø -> oe, å -> aa)."""
    return word.lower().translate(_FOLD)


def words(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (letters, digits, inner hyphens)."""
    return _WORD.findall(normalise(text))


def parse_amounts(text: str) -> list[int]:
    """Amounts in DKK mentioned in ``text``, in order, in whole kroner (decimals dropped).

    A thin wrapper over :func:`bot.quantities.parse_quantities` (its ``kr`` quantities):
    "3.000 kr.", "3000 kroner", "kr. 3.000", "2.500,50 kr" (2500), "5 t.kr.", "10k",
    and bare thousands after "koster"/"for"/"til" ("hvad hvis det koster 8.000?").
    """
    from bot.quantities import parse_quantities

    return [int(q.value) for q in parse_quantities(text) if q.unit == "kr"]


_FOLLOW_UP_CUES = (
    "hvad hvis det", "hvad hvis den", "hvad nu hvis det", "hvad så hvis det", "og hvis det", "og hvis den",
    "men hvis det", "men hvis den", "gælder det", "gælder den", "gælder reglen", "gaelder det", "gaelder den",
    "er det også", "er det ogsaa", "what if it", "does that", "does it",
)


_FOLLOW_UP_OPENER = re.compile(
    r"^(?:og|men|så|saa|and|but|so)?\s*(?:hvad\s+(?:nu\s+|så\s+|saa\s+)?hvis|hvis\s+nu|hvad\s+(?:nu\s+|så\s+|saa\s+)?med"
    r"|også\s+hvis|ogsaa\s+hvis|selv\s+om|selvom|what\s+if|what\s+about|how\s+about|even\s+if|and\s+if|but\s+if"
    r"|og\s+hvis|men\s+hvis)\b")
"""How a follow-up opens: "hvad nu hvis ...", "og hvis ...", "hvad så med ...", "what about ...",
"and if ...". Alone not enough ("Hvad med en hund?" is a new question): see :data:`_BACK_REFERENCE`."""

_BACK_REFERENCE = re.compile(
    r"\b(?:det|den|de|dem|han|hun|ham|hende|dens|dets|deres|reglen|samme|it|its|they|them|she|he|her|him|that|"
    r"the same)\b")
"""Words that point back at what the last question was about ("hvad nu hvis hun er væk hele ugen?",
"what about 6 of them?")."""


FOLLOW_UP_MAX_CHARS = 200
"""A message longer than this is a new question, whatever its words (ten words fit easily): a long
run of digits and hyphens is one "word" and was read three times for quantities."""


def looks_like_follow_up(text: str) -> bool:
    """True for a short message that refers back to the last answer.

    It points back with "det"/"den"/"reglen" after a cue ("hvad hvis det
    koster 8.000?", "gælder det også i weekenden?", "og hvis det er en
    nattevagt?"), or opens as a follow-up (:data:`_FOLLOW_UP_OPENER`) and
    points back (:data:`_BACK_REFERENCE`) or names a quantity or a bare number
    ("hvad så med 3 dage?", "and if it's only for tomorrow?", "hvad hvis vi er 3?"), or is little more than a
    quantity (an amount in at most six words, "hvad hvis 8.000 kr.?"; any
    other quantity in at most three, "i 3 dage?"). "Hvad med en hund?" is a new
    question. Long messages (over 10 words) are new questions.
    """
    from bot.quantities import bare_numbers, parse_quantities

    if len(text or "") > FOLLOW_UP_MAX_CHARS:
        return False
    norm = normalise(text)
    if len(words(norm)) > 10:
        return False
    if any(norm.startswith(cue) or f" {cue}" in f" {norm}" for cue in _FOLLOW_UP_CUES):
        return True
    quantities = parse_quantities(norm)
    if _FOLLOW_UP_OPENER.match(norm) and (quantities or _BACK_REFERENCE.search(norm) or bare_numbers(norm)):
        return True
    size = len(words(norm))
    return any(q.unit == "kr" for q in quantities) and size <= 6 or bool(quantities) and size <= 3


_QUESTION_START = re.compile(
    r"^(?:må|maa|ma|kan|ka|skal|bør|boer|har|hvem|hvad|hva|hvordan|hvornår|hvornaar|hvorfor|hvilken|hvilket|"
    r"hvilke|er det|gælder|gaelder|behøver|behoever|may|can|should|who|what|how|is it|am i|do i|do we)\b")


def looks_like_question(text: str) -> bool:
    """True for a message of at least two words that asks: a "?" or a question word or modal first
    ("Må jeg købe kaffe til teamet?", "hvem bestemmer om vi må holde julefrokost").

    A reply to "Hvilken enhed er du i?" such as "Marsstationen" is not a question.
    """
    norm = normalise(text)
    return len(words(norm)) >= 2 and ("?" in norm or bool(_QUESTION_START.match(norm)))


_ORDINALS = {
    "første": 0, "foerste": 0, "1": 0, "1.": 0, "en": 0, "et": 0, "én": 0, "a": 0, "øverste": 0, "oeverste": 0,
    "first": 0, "one": 0,
    "anden": 1, "andet": 1, "2": 1, "2.": 1, "to": 1, "b": 1, "second": 1, "two": 1,
    "tredje": 2, "3": 2, "3.": 2, "tre": 2, "c": 2, "third": 2, "three": 2,
    "sidste": -1, "nederste": -1, "last": -1,
}
_CHOICE = re.compile(
    r"^(?:(?:ja|jo|yes|ok|okay)[,!]?\s+)?(?:(?:det er|det var|jeg mener|i mean)\s+)?"
    r"(?:(?:den|det|nummer|nr\.?|mulighed|svar|option|number|the)\s+)?"
    r"(?P<which>\S+?)"
    r"(?:\s+(?:mulighed|af dem|tak|please|one|option))?[.!]?$"
)


def option_choice(text: str, options: int) -> int | None:
    """The option (0-based) that a short reply picks from a "Mener du A eller B?" list, else None.

    Understands ordinals and numbers as people type them instead of pressing a
    button: "den første", "nr. 2", "ja, den anden tak", "B", "den sidste",
    "the second one". Only a reply that is nothing but the choice counts:
    "Må jeg købe den første bog?" is a new question.

    Args:
        text: the user's message.
        options: how many options were offered (>= 1).
    """
    match = _CHOICE.match(normalise(text))
    if not match or match.group("which") not in _ORDINALS:
        return None
    index = _ORDINALS[match.group("which")]
    index = options - 1 if index < 0 else index
    return index if 0 <= index < options else None


def looks_english(text: str) -> bool:
    """True when most function words of ``text`` are English (a cheap language guess)."""
    tokens = words(text)
    if not tokens:
        return False
    english = sum(t in ENGLISH_WORDS for t in tokens)
    danish = sum(t in FRAMING_WORDS and t not in ENGLISH_WORDS for t in tokens)
    return english >= 2 and english > danish


@functools.lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.da.stop_words import STOP_WORDS

    return frozenset(fold_ascii(w) for w in set(STOP_WORDS) | FRAMING_WORDS)


_LOCAL = threading.local()


def _stemmer():
    """This thread's Snowball stemmer: a stemmer keeps state while it stems, so two threads sharing
    one (the action server answers in a thread pool) broke it with IndexError under load."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = snowballstemmer.stemmer("danish")
    return stemmer


class DanishAnalyzer:
    """Text -> terms for retrieval, with a spaCy pipeline for lemmas.

    Args:
        model: path or package name of a spaCy pipeline (see
            :func:`bot.nlu.spacy_model.build`); None or a missing path falls
            back to ``spacy.blank("da")`` with the lookup lemmatizer.
    """

    def __init__(self, model: str | None = None):
        self._nlp = _load_nlp(model)
        self._restore = _restore_map()

    @property
    def lemma_source(self) -> str:
        """Which lemmatizer is in use: the pipeline's name and lemmatizer mode."""
        meta = self._nlp.meta
        mode = "none"
        if "lemmatizer" in self._nlp.pipe_names:
            mode = getattr(self._nlp.get_pipe("lemmatizer"), "mode", "?")
        return f"{meta.get('lang')}_{meta.get('name')} ({mode})"

    def tokens(self, text: str) -> list[tuple[str, str]]:
        """``(token, lemma)`` pairs, lower case; chat spellings ("gi", "bli")
        are written out (:data:`INFORMAL_SPELLINGS`), filler abbreviations ("ca.", "f.eks.") left out
        (:func:`without_filler_abbreviations`), and ASCII spellings
        ("vaelge", "koere") restored to æøå first where the word is known."""
        tokens = [INFORMAL_SPELLINGS.get(w, self._restore.get(w, w)) for w in words(without_filler_abbreviations(text))]
        tokens = [t for t in tokens if t]
        if not tokens:
            return []
        doc = self._nlp(" ".join(tokens))
        return [
            (t.text.lower(), (t.lemma_ or t.text).lower())
            for t in doc
            if not t.is_punct and not t.is_space
        ]

    def lemmas(self, text: str) -> list[str]:
        """Lower-case lemmas of the word tokens of ``text`` (see :meth:`tokens`)."""
        return [lemma for _, lemma in self.tokens(text)]

    def terms(self, text: str) -> list[str]:
        """Content terms: stemmed, ASCII-folded lemmas without stop words."""
        return self.terms_of(self.tokens(text))

    @staticmethod
    def terms_of(tokens: list[tuple[str, str]]) -> list[str]:
        """:meth:`terms` for ``(token, lemma)`` pairs already made by :meth:`tokens`."""
        stop = _stop_words()
        stem = _stemmer().stemWord
        out = []
        for token, lemma in tokens:
            folded = fold_ascii(lemma)
            if folded in stop or fold_ascii(token) in stop or len(folded) < 2 or folded.isdigit():
                continue
            out.append(fold_ascii(stem(lemma)))
        return out


def stem_term(word: str) -> str:
    """The term for one already-lemmatised word (stem, folded)."""
    return fold_ascii(_stemmer().stemWord(word.lower()))


def is_stop_word(word: str) -> bool:
    """True for Danish stop words and question-framing words (folded comparison)."""
    return fold_ascii(word) in _stop_words()


@functools.lru_cache(maxsize=4)
def _load_nlp(model: str | None):
    import spacy

    if model and (Path(model).exists() or not ("/" in model or "\\" in model)):
        try:
            return spacy.load(model, exclude=["parser", "ner", "senter", "attribute_ruler"])
        except OSError:
            pass
    nlp = spacy.blank("da")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@functools.lru_cache(maxsize=1)
def _lemma_table() -> dict[str, str]:
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "da_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


@functools.lru_cache(maxsize=1)
def _english_lemma_table() -> dict[str, str]:
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / "en_lemma_lookup.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def english_lemma(word: str) -> str:
    """The dictionary form of an English word ("cars" -> "car", "repaired" -> "repair"), else ``word``.

    Source: the English lemma lookup table of spacy-lookups-data (41,582 forms),
    so inflected words of English questions find their Danish translations.
    """
    return _english_lemma_table().get(word, word)


@functools.lru_cache(maxsize=1)
def _restore_map() -> dict[str, str]:
    """ASCII spelling -> Danish word, for words of the lemma table whose
    folded form is unambiguous and is not itself a Danish word."""
    table = _lemma_table()
    known = set(table) | set(table.values())
    candidates: dict[str, str | None] = {}
    for word in known:
        if not any(ch in word for ch in "æøå"):
            continue
        key = fold_ascii(word)
        candidates[key] = None if key in candidates and candidates[key] != word else word
    return {k: v for k, v in candidates.items() if v and k not in known}
