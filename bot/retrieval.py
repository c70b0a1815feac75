"""Question + unit -> ranked mandate entries in force, and the decision: answer, ask or abstain.

The ranker compares the *whole question* with every entry of the catalogue,
so entries imported or edited at run time are answerable at once, without
retraining. Two similarities are combined:

* a weighted term similarity: Danish lemmas reduced by the Snowball stemmer
  and folded to ASCII (:mod:`bot.language`), typo-corrected against the
  catalogue's vocabulary (optimal-string-alignment distance, rapidfuzz),
  expanded with the thesaurus and the English glossary in
  ``bot/language_data`` (English words looked up as written, then in their
  dictionary form from spacy-lookups-data: "roads" -> "road"); each entry field has a weight (keywords and the
  leader's example phrasings count most); TF-IDF cosine (Salton & Buckley 1988),
  except that each asked word counts once, through the best of the catalogue
  words that match it (its own form, a compound part, a synonym: a max per
  query term as in ColBERT's MaxSim, Khattab & Zaharia 2020); Danish particle
  verbs count as the compound noun the catalogue uses ("arbejde over" ->
  "overarbejde"), the translations of one English word as one word;
* a character n-gram similarity (3-5-grams inside word boundaries, scikit-learn
  ``TfidfVectorizer(analyzer="char_wb")``), which matches parts of Danish
  compounds ("mentor" ~ "mentorstøtte") and spelling variants.

Meaning: the question's e5 embedding against each entry's whole text and its
best part (topic + summary, each example phrasing, each question HR linked):
:mod:`bot.dense`. The three similarities are z-scored over the catalogue and
fused (:data:`FUSION_WEIGHTS`, chosen on dev); without an embedder
(``MANDAT_EMBEDDER=none``) the word score ranks alone.

Deciding (DESIGN.md, "Answering"): an entry not in force for the unit that fits
clearly better than anything in force (:data:`OUTSIDE_MARGIN`) makes the bot say
the rule belongs elsewhere; otherwise the calibrated model of :mod:`bot.decide`
answers, asks one clarifying question, or abstains. A wrong "ja, det må du" is
the worst failure.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.catalogue.tree import ancestors, select_in_force
from bot.decide import FEATURES, Candidate, Decision, DecisionModel
from bot.dense import DenseIndex
from bot.domain import answerable, in_force
from bot.embeddings import PassageCache
from bot.language import DATA_DIR, DanishAnalyzer, english_lemma, fold_ascii, is_stop_word, normalise, stem_term, words
from bot.lexicon import Lexicon
from bot.question import Question

FIELD_WEIGHTS = {
    "topic": 3.0,
    "keywords": 3.0,
    "examples": 2.0,
    "summary": 1.0,
    "exceptions": 1.0,
    "conditions": 0.5,
    "how": 0.3,
    "inform": 0.3,
}
"""Weight of a term by the entry field it occurs in (a term counts once per field). Questions HR
linked to an entry are not a field: merged into the entry as examples, other employees' long
questions blurred it (test accuracy 60.7 -> 57.0 % in `make eval`'s simulation of the review
loop); they count through :data:`LEARNED_MATCH` instead."""
LEARNED_MATCH = 0.6
"""A question at least this similar (cosine of the IDF-weighted asked terms, 0..1) to one that HR
linked to an entry scores that entry at least at that similarity: asked again, it is answered. At
0.6, `make eval`'s review-loop simulation (81 dev questions linked) answers 87.7 % of the linked
questions asked again and changes no answer on the test split."""
EXPANSION_WEIGHT = 0.5
"""Weight of a thesaurus word added to a question, relative to the asked word."""
CHAR_SHARE = 0.2
"""Share of the character n-gram similarity in the final score (the rest: terms)."""
COMPOUND_WEIGHT = 0.8
"""Weight of a catalogue word that shares a compound part with an asked word (times the similarity)."""
LEXICON_WEIGHT = 0.4
"""Weight of a catalogue word that the Danish thesaurus (mythes-da, :mod:`bot.lexicon`) relates to an
asked word the catalogue does not use."""
PARTICLES = {"over": "over", "ind": "ind", "op": "op", "ud": "ud", "af": "af", "ned": "ned", "om": "om",
             "fra": "fra", "til": "til", "hjem": "hjem", "frem": "frem", "bort": "bort", "imod": "mod", "mod": "mod"}
"""Danish verb particles (folded) and the prefix each gives the compound noun ("tage imod" -> "modtage")."""
ENGLISH_TRANSLATIONS = 3
"""At most this many Danish translations per English word from the dictionary (:mod:`bot.lexicon`)."""
ENGLISH_FUNCTION_WORDS = frozenset(
    """a an the i me my mine we us our you your he him his she her it its they them their this that these
    those which who whom whose what when where why how there here is are am was were be been being do does
    did have has had can could may might must shall should will would of to in on at by for from with
    about as into than then so and or but if whether not no yes any some all each every both either
    neither own same such just only also still very too get gets got getting okay ok please""".split())
"""English words that say nothing about a question's topic; dropped before translation."""


@dataclass(frozen=True)
class EntryDoc:
    """The part of a mandate entry that retrieval needs (a snapshot, no session)."""

    id: str
    unit_id: str
    topic_key: str | None
    decision: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    topic: str
    summary: str
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    how: str | None = None
    inform: str | None = None
    limit_dkk: int | None = None
    exceptions: tuple[str, ...] = ()  # the cases of the entry's exceptions (catalogue format v2)
    learned: tuple[str, ...] = ()  # questions HR linked to this entry (see build_index)
    status: str | None = None  # publication status (bot.domain.ENTRY_STATUSES); None counts as published

    def in_force(self, day: dt.date) -> bool:
        """True when ``day`` lies within ``valid_from..valid_to`` (:func:`bot.domain.in_force`)."""
        return in_force(self.valid_from, self.valid_to, day)

    @classmethod
    def from_entry(cls, entry) -> "EntryDoc":
        """Snapshot of a :class:`bot.db.models.Mandate` (or anything with its attributes)."""
        return cls(
            id=entry.id, unit_id=entry.unit_id, topic_key=entry.topic_key, decision=entry.decision,
            valid_from=entry.valid_from, valid_to=entry.valid_to, topic=entry.topic,
            summary=entry.summary, keywords=tuple(entry.keywords or ()),
            examples=tuple(entry.examples or ()), conditions=tuple(entry.conditions or ()),
            how=entry.how, inform=entry.inform, limit_dkk=entry.limit_dkk,
            exceptions=tuple(e["case"] for e in (getattr(entry, "exceptions", None) or ())),
            status=getattr(entry, "status", None),
        )


@dataclass(frozen=True)
class QueryVector:
    """A question for ranking.

    Attributes:
        vector: term -> weight, L2-normalised (asked words 1.0, compound
            parts and thesaurus words less), scaled by IDF.
        char_text: folded lemmas for the character n-gram similarity.
        asked: asked term -> (IDF², the terms that count as matching it).
    """

    vector: dict[str, float]
    char_text: str
    asked: dict[str, tuple[float, frozenset]]


@functools.lru_cache(maxsize=1)
def _language_data() -> tuple[list[list[str]], dict[str, str]]:
    with open(DATA_DIR / "thesaurus.yaml", encoding="utf-8") as handle:
        groups = yaml.safe_load(handle)["groups"]
    with open(DATA_DIR / "english.yaml", encoding="utf-8") as handle:
        english = yaml.safe_load(handle)["words"]
    return groups, english


class CatalogueIndex:
    """Vectors for a fixed set of entries; build once per catalogue version.

    Args:
        entries: every entry of the catalogue (all units, expired ones too:
            they tell the ranker that a question belongs elsewhere).
        analyzer: the Danish analyser.
        lexicon: the Danish thesaurus and English-Danish dictionary
            (:func:`bot.lexicon.load`); empty: only ``bot/language_data``.
        unit_names: names and aliases of the organisation's units; they are
            taken out of questions ("Gælder det også for os i Vej og Park?"
            is not about parks). Single lower-case aliases ("kommunen",
            "byggesag") stay: they are ordinary words too.
        english_lemmas: look English words up in their dictionary form too
            (:func:`bot.language.english_lemma`); False only for ablations.
        max_per_word: each asked word counts once, through the best of the
            words that match it (see :meth:`match`); False (a plain sum over
            every matched term) only for ablations.
        passage_cache: the embedder's passage cache (:mod:`bot.embeddings`): entries get
            dense vectors (:class:`bot.dense.DenseIndex`); None ranks on words alone.
    """

    def __init__(self, entries: Sequence[EntryDoc], analyzer: DanishAnalyzer, lexicon: Lexicon | None = None,
                 unit_names: Iterable[str] = (), english_lemmas: bool = True, max_per_word: bool = True,
                 passage_cache: PassageCache | None = None):
        self.entries = list(entries)
        self.dense = DenseIndex(self.entries, passage_cache) if passage_cache is not None else None
        self.english_lemmas = english_lemmas
        self.max_per_word = max_per_word
        self.analyzer = analyzer
        self.lexicon = lexicon or Lexicon()
        self._unit_names = _unit_name_pattern(unit_names)
        self._term_bags = [self._entry_terms(e) for e in self.entries]
        self.vocabulary = sorted({t for bag in self._term_bags for t in bag})
        doc_freq = Counter(t for bag in self._term_bags for t in bag)
        n = max(len(self.entries), 1)
        self.idf = {t: math.log((1 + n) / (1 + df)) + 1.0 for t, df in doc_freq.items()}
        # A term the catalogue never uses still counts in a question's norm, with the median IDF
        # of the catalogue: "Må jeg tage min kat med på arbejde?" must not score as if it only said "arbejde".
        self.unknown_idf = float(np.median(list(self.idf.values()))) if self.idf else 1.0
        self._term_vectors = [self._normalise({t: w * self.idf[t] for t, w in bag.items()}) for bag in self._term_bags]
        # The same vectors as one sparse matrix (entries x vocabulary, by column), so :meth:`match` scores
        # a question against 100,000 entries in a few sparse column operations instead of a Python loop.
        self._term_index = {t: j for j, t in enumerate(self.vocabulary)}
        self._term_matrix = _sparse_rows(self._term_vectors, self._term_index)
        self._position = {e.id: i for i, e in enumerate(self.entries)}
        self._by_unit: dict[str, list[EntryDoc]] = defaultdict(list)
        for entry in self.entries:
            self._by_unit[entry.unit_id].append(entry)
        self._learned = [(i, self._learned_vector(text)) for i, e in enumerate(self.entries) for text in e.learned]
        self._thesaurus = self._build_thesaurus()
        self._char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        char_docs = [self._char_text_entry(e) for e in self.entries]
        self._char_matrix = self._char.fit_transform(char_docs) if self.entries else None

    # -- entries --------------------------------------------------------
    def entries_of(self, units: Iterable[str]) -> list[EntryDoc]:
        """The indexed entries of ``units`` (any order of units; each unit's entries in index order)."""
        return [e for unit in dict.fromkeys(units) for e in self._by_unit.get(unit, ())]

    def positions(self, ids: Iterable[str]) -> np.ndarray:
        """Row numbers (in :attr:`entries`) of the indexed entries with these ids, ascending."""
        return np.array(sorted(self._position[i] for i in ids if i in self._position), dtype=np.int64)

    def _entry_terms(self, entry: EntryDoc) -> dict[str, float]:
        bag: dict[str, float] = defaultdict(float)
        fields = {
            "topic": [entry.topic], "keywords": list(entry.keywords), "examples": list(entry.examples),
            "summary": [entry.summary], "exceptions": list(entry.exceptions), "conditions": list(entry.conditions),
            "how": [entry.how or ""], "inform": [entry.inform or ""],
        }
        for name, texts in fields.items():
            for term in {t for text in texts for t in self.analyzer.terms(text)}:
                bag[term] += FIELD_WEIGHTS[name]
        return dict(bag)

    def _learned_vector(self, question: str) -> dict[str, float]:
        """A linked question as IDF-weighted, L2-normalised terms, spelled as :meth:`question_vector` spells them."""
        terms = {self.correct(t) for t in self.analyzer.terms(self.clean_question(question))}
        return self._normalise({t: self.idf.get(t, self.unknown_idf) for t in terms})

    def _char_text_entry(self, entry: EntryDoc) -> str:
        texts = [entry.topic, *entry.keywords, *entry.examples]
        return " ".join(fold_ascii(l) for text in texts for _, l in self.analyzer.tokens(text)
                        if not _is_stop(l))

    # -- questions ------------------------------------------------------
    def _build_thesaurus(self) -> dict[str, set[str]]:
        groups, _ = _language_data()
        related: dict[str, set[str]] = defaultdict(set)
        for group in groups:
            terms = {t for word in group for t in self.analyzer.terms(str(word))}
            for term in terms:
                related[term] |= terms - {term}
        return related

    def correct(self, term: str) -> str:
        """The catalogue term closest to ``term`` within the typo budget, or ``term``.

        Budget (optimal string alignment, transpositions count 1): none below
        4 letters, 1 edit up to 7 letters, 2 edits from 8 letters on.
        """
        if term in self.idf or len(term) < 4 or not self.vocabulary:
            return term
        budget = 1 if len(term) <= 7 else 2
        match = process.extractOne(term, self.vocabulary, scorer=OSA.distance, score_cutoff=budget)
        return match[0] if match else term

    def compound_matches(self, term: str) -> list[tuple[str, float]]:
        """Catalogue terms that share a compound part with ``term``, with a similarity 0..1.

        Danish writes compounds as one word: "bus" is the head of "minibus",
        "mentor" the first part of "mentorstøtte", "praktik" the first part
        of "praktikant". A match needs the shorter word to be the start
        (4+ letters) or the end (3+ letters) of the longer one; the similarity
        is sqrt(shorter/longer), so "arbejde" ~ "hjemmearbejde" is 0.71.
        """
        if len(term) < 3:
            return []
        found = []
        for other in self._by_length_affix(term):
            short, long_ = (term, other) if len(term) < len(other) else (other, term)
            if (len(short) >= 4 and long_.startswith(short)) or long_.endswith(short):
                found.append((other, math.sqrt(len(short) / len(long_))))
        return found

    def _by_length_affix(self, term: str) -> list[str]:
        return [v for v in self.vocabulary if v != term and len(v) >= 3 and (v in term or term in v)]

    def question_vector(self, question: str, english: bool) -> "QueryVector":
        """The question as weighted, IDF-scaled, L2-normalised terms (see :class:`QueryVector`)."""
        text = self.clean_question(question)
        alternatives: list[list[str]] = []
        if english:
            text, alternatives = self._translate(text)
        tokens = self.analyzer.tokens(text)
        terms = [self.correct(t) for t in self.analyzer.terms_of(tokens)]
        terms += [t for t in self.particle_compounds(tokens) if t not in terms]
        # The Danish translations of one English word are one asked word: the first the
        # catalogue uses stands for it, the others match for it ("clear": "klar", "ly", "tyde").
        same_word: dict[str, set[str]] = {}
        for group in alternatives:
            group_terms = [t for t in dict.fromkeys(self.correct(t) for word in group for t in self.analyzer.terms(word))
                           if t in terms]
            if len(group_terms) < 2:
                continue
            known = [t for t in group_terms if t in self.idf]
            head = (known or group_terms)[0]
            same_word.setdefault(head, set()).update(t for t in known if t != head)
            terms = [t for t in terms if t == head or t not in group_terms]
        weights: dict[str, float] = defaultdict(float)
        related: dict[str, set[str]] = {}
        for term in terms:
            weights[term] = 1.0
        for term in terms:
            related[term] = {term}
            for other in same_word.get(term, ()):
                weights[other] = 1.0
                related[term].add(other)
            for other, similarity in self.compound_matches(term):
                weights[other] = max(weights[other], COMPOUND_WEIGHT * similarity)
                related[term].add(other)
            for other in self._thesaurus.get(term, ()):
                weights[other] = max(weights[other], EXPANSION_WEIGHT)
                related[term].add(other)
        for other, term in self._lexicon_matches(tokens, related):
            weights[other] = max(weights[other], LEXICON_WEIGHT)
            related[term].add(other)
        vector = {t: w * self.idf.get(t, self.unknown_idf) for t, w in weights.items()
                  if t in self.idf or w == 1.0}
        asked = {t: (self.idf.get(t, self.unknown_idf) ** 2, frozenset(related[t])) for t in set(terms)}
        char_text = " ".join(fold_ascii(l) for _, l in tokens if not _is_stop(l))
        return QueryVector(self._normalise(vector), char_text, asked)

    def _translate(self, text: str) -> tuple[str, list[list[str]]]:
        """An English question word by word in Danish: ``(text, alternatives)``.

        Each word is looked up as written, then in its dictionary form, first in
        the glossary ``bot/language_data/english.yaml``, then in the dictionary
        of :mod:`bot.lexicon` (at most :data:`ENGLISH_TRANSLATIONS` translations;
        ``alternatives`` lists those of each word that has more than one).
        English function words are dropped; unknown words are kept as written.
        """
        _, glossary = _language_data()
        mapped: list[str] = []
        alternatives: list[list[str]] = []
        for word in words(text):
            if word in ENGLISH_FUNCTION_WORDS:
                continue
            forms = (word, english_lemma(word)) if self.english_lemmas else (word,)
            for form in dict.fromkeys(forms):  # "cars": "cars", then "car"
                if form in glossary:
                    mapped.append(glossary[form])
                    break
                if form in self.lexicon.english:
                    found = list(self.lexicon.english[form][:ENGLISH_TRANSLATIONS])
                    mapped.extend(found)
                    if len(found) > 1:
                        alternatives.append(found)
                    break
            else:
                mapped.append(word)
        return " ".join(mapped), alternatives

    def particle_compounds(self, tokens: list[tuple[str, str]]) -> list[str]:
        """Catalogue terms that a Danish particle verb of the question stands for.

        Danish says as a verb and a particle what it writes as one compound
        noun: "arbejde over" is "overarbejde", "købe ind" is "indkøb", "tage
        imod" is "modtage" (Dansk Sprognævn, "partikelverber"). For a particle
        of :data:`PARTICLES` after a verb (next to it or one word later:
        "arbejder lidt over"), the particle + the verb's lemma or stem is a
        term when the catalogue uses it; else nothing is added.

        Args:
            tokens: ``(token, lemma)`` pairs from :meth:`DanishAnalyzer.tokens`.

        Returns:
            Terms (stemmed, folded) found in the catalogue's vocabulary, in question order.
        """
        found: list[str] = []
        for i, (token, _) in enumerate(tokens):
            prefix = PARTICLES.get(fold_ascii(token))
            if prefix is None:
                continue
            for _, lemma in tokens[max(0, i - 2):i]:
                if len(lemma) < 3 or lemma in PARTICLES:
                    continue
                for form in (lemma, stem_term(lemma)):
                    term = stem_term(prefix + fold_ascii(form))
                    if term in self.idf and term not in found:
                        found.append(term)
        return found

    def clean_question(self, question: str) -> str:
        """The question without unit names and without what it says it is *not* about.

        "Det er ikke værktøj, det er høreværn ..." and "Jeg skal ikke fælde
        træet, bare skære et par grene af" name a neighbouring topic only to
        set it aside: a clause "ikke ..." that ends in a comma, a dash,
        "men" or "bare" and is followed by more text is dropped. A question
        that ends in its negation ("Må jeg ikke selv købe kaffe?") is kept.
        """
        text = normalise(question)
        if self._unit_names is not None:
            text = self._unit_names.sub(" ", text)
        return _AT_WORK.sub(" ", _CONTRAST.sub(" ", text))

    def _lexicon_matches(self, tokens: list[tuple[str, str]], asked: Mapping[str, set]) -> list[tuple[str, str]]:
        """``(catalogue term, asked term)`` pairs that the thesaurus relates, for asked words the catalogue lacks."""
        if not self.lexicon.related:
            return []
        found = []
        for token, lemma in tokens:
            term = self.correct(stem_term(lemma))
            if term not in asked or term in self.idf or len(asked[term]) > 1:
                continue
            for word in self.lexicon.related_to(lemma, token):
                other = stem_term(word)
                if other in self.idf and not _is_stop(word):
                    found.append((other, term))
        return found

    def match(self, question: str, english: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, coverage)`` of ``question`` against every entry (order of ``entries``).

        ``scores``: similarity 0..1. ``coverage``: the share (0..1, IDF²-weighted)
        of the asked words that the entry contains, directly or through a
        compound part or the thesaurus.
        """
        if not self.entries:
            return np.zeros(0), np.zeros(0)
        query = self.question_vector(question, english)
        # Each asked word counts once, through the best of the words that match it (itself, a
        # compound part, a synonym): "bil" must not count three times for an entry that lists
        # "tjenestebil", "firmabil" and "kommunebil" (a max per query term, as in ColBERT's
        # MaxSim, Khattab & Zaharia 2020, over the weighted term vectors of the cosine).
        if self.max_per_word:
            # Per asked word, the best of its matching terms' products (all weights are positive, so an
            # entry without any of them gets 0), summed over the asked words in order: the same floats
            # as ``sum(max(q[t] * vec[t] for t in terms) for terms in related)`` per entry.
            term_scores = np.zeros(len(self.entries))
            for _, terms in query.asked.values():
                cols, weights = [], []
                for t in terms:
                    j, w = self._term_index.get(t), query.vector.get(t, 0.0)
                    if j is not None and w:
                        cols.append(j)
                        weights.append(w)
                if cols:
                    term_scores += (self._term_matrix[:, cols].multiply(np.asarray(weights))
                                    .max(axis=1).toarray().ravel())
        else:
            term_scores = np.array([sum(w * vec.get(t, 0.0) for t, w in query.vector.items())
                                    for vec in self._term_vectors])
        if query.char_text.strip():
            char_scores = (self._char_matrix @ self._char.transform([query.char_text]).T).toarray().ravel()
        else:
            char_scores = np.zeros(len(self.entries))
        total = sum(weight for weight, _ in query.asked.values()) or 1.0
        coverage = np.zeros(len(self.entries))
        for weight, terms in query.asked.values():  # an entry "has" a term when its vector stores it
            cols = [self._term_index[t] for t in terms if t in self._term_index]
            if cols:
                coverage += weight * (self._term_matrix[:, cols].getnnz(axis=1) > 0)
        coverage /= total
        scores = (1 - CHAR_SHARE) * term_scores + CHAR_SHARE * char_scores
        # Linked questions are compared on the asked words alone (no compound or thesaurus
        # expansions): "asked the same way" is what counts.
        asked = self._normalise({t: math.sqrt(weight) for t, (weight, _) in query.asked.items()}) if self._learned else {}
        for i, vec in self._learned:
            similarity = sum(w * vec.get(t, 0.0) for t, w in asked.items())
            if similarity >= LEARNED_MATCH and similarity > scores[i]:
                scores[i], coverage[i] = similarity, max(coverage[i], similarity)
        return scores, coverage

    @staticmethod
    def _normalise(vector: Mapping[str, float]) -> dict[str, float]:
        norm = math.sqrt(sum(v * v for v in vector.values()))
        return {t: v / norm for t, v in vector.items()} if norm else {}


_AT_WORK = re.compile(r"(?<!\w)(?:med |på |til |i )?(?:på|to|at) (?:arbejde|arbejdet|jobbet|work)(?!\w)")
"""Where the question happens ("med på arbejde", "på arbejdet", "to work") says nothing about its
topic: in a workplace catalogue "arbejde" would otherwise match "hjemmearbejde" and "overarbejde"
("Må jeg tage min kat med på arbejde?" was answered with the working-from-home rule)."""
_CONTRAST = re.compile(r"\bikke\b[^,;:.!?–—-]{1,60}?(?:[,;:–—]|\s-\s|\s(?=men\b|bare\b))(?=\s*\w)")


def _unit_name_pattern(names: Iterable[str]) -> "re.Pattern | None":
    kept = sorted({normalise(n) for n in names if n and (len(n.split()) > 1 or n[:1].isupper())}, key=len,
                  reverse=True)
    if not kept:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n) for n in kept) + r")(?!\w)")


def _is_stop(lemma: str) -> bool:
    return is_stop_word(lemma) or len(lemma) < 2


FUSION_WEIGHTS = {"lexical": 0.2, "dense_whole": 0.5, "dense_part": 0.3}
"""Weights of the z-scored similarities in the fused score. Chosen on the dev split of
``tests/data/eval`` (224 answerable questions, the demo catalogue in format v2; right entry ranked
first): words alone 83.5 %, e5 on the whole entry text 82.6 %, e5 on the best part 71.9 %; this
mix 90.2 % (grid of weights in steps of 0.1); the issue's untuned 0.2/0.4/0.4 89.7 %;
reciprocal-rank fusion (k=60) of the three 88.4 % and raw cosines instead of z-scores 90.6 % at
best on the version 1 catalogue, against 90.6 % for z-scores. Each score is z-scored over the whole
catalogue for the question, so that the three scales (0..1 for words, cosines around 0.8) mix on
equal terms."""
OUTSIDE_MARGIN = {"lexical": 0.05, "hybrid": 1.0}
"""How much better (fused score; z units in hybrid mode) an entry not in force for the unit must fit
than the best one in force before the bot says the rule belongs elsewhere and abstains. Hybrid:
chosen on the dev split (0.25 to 0.5: 95.1 % resolved; 1.0 and above: 96.0 %, direct answers and
answers on ``none`` unchanged, since the decision model weighs the gap itself): the smallest of
the best, so that "that rule is another unit's" is still said when it clearly is."""


def _sparse_rows(vectors: Sequence[Mapping[str, float]], columns: Mapping[str, int]):
    """``vectors`` (one ``{term: weight}`` per entry) as a ``scipy.sparse`` CSC matrix, entries x ``columns``."""
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for vector in vectors:
        for term, weight in vector.items():
            indices.append(columns[term])
            data.append(weight)
        indptr.append(len(indices))
    return csr_matrix((np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
                      shape=(len(vectors), len(columns))).tocsc()


def _zscore(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 1e-9 else np.zeros_like(values)


class Retriever:
    """Ranks the entries in force for a unit against a question and decides: answer, ask or abstain.

    Args:
        models: the calibrated decision models ``{"hybrid": ..., "lexical": ...}``
            (:func:`bot.decide.load_models`); the one matching the index is used.
            None: the legacy thresholds below decide (tests and ablations).
        min_score / min_margin: without a model, abstain below this score, and when
            the two best entries are closer than the margin (then ask which one,
            when both cover the asked words: ``min_coverage``).
    """

    STRICT_FACTOR = 1.25
    """Without a model, in strict mode (the NLU fell back) the score threshold is this times ``min_score``."""

    def __init__(self, models: Mapping[str, DecisionModel] | None = None, min_score: float = 0.17,
                 min_margin: float = 0.04, min_coverage: float = 0.6):
        self.models = dict(models or {})
        self.min_score = min_score
        self.min_margin = min_margin
        self.min_coverage = min_coverage

    def rank(self, index: CatalogueIndex, question: Question, unit_id: str, parents: Mapping[str, str | None],
             day: dt.date) -> tuple[list[Candidate], Candidate | None, frozenset, str]:
        """``(in-scope candidates best first, best outside candidate, in-scope ids, mode)``.

        ``mode`` is ``hybrid`` (words and meaning, fused) or ``lexical`` (no embedder, or a
        question without an embedding).

        Raises:
            KeyError: ``unit_id`` is not a known unit.
        """
        chain = ancestors(unit_id, parents)
        in_scope = frozenset(e.id for e in select_in_force(index.entries_of(chain), chain, day))
        if not index.entries:
            return [], None, in_scope, "lexical"
        lexical, coverage = index.match(question.text, question.english)
        whole = part = np.zeros(len(index.entries))
        if index.dense is not None and question.embedding is not None:
            mode = "hybrid"
            whole, part = index.dense.scores(question.embedding)
            fused = (FUSION_WEIGHTS["lexical"] * _zscore(lexical) + FUSION_WEIGHTS["dense_whole"] * _zscore(whole)
                     + FUSION_WEIGHTS["dense_part"] * _zscore(part))
        else:
            mode, fused = "lexical", lexical
        rows = index.positions(in_scope)
        mine = np.zeros(len(index.entries), dtype=bool)
        mine[rows] = True
        scope_keys = {index.entries[i].topic_key for i in rows if index.entries[i].topic_key}

        def candidate(i: int) -> Candidate:
            entry = index.entries[i]
            return Candidate(entry.id, entry.unit_id, entry.decision, float(fused[i]), bool(mine[i]),
                             float(coverage[i]), float(lexical[i]), float(whole[i]), float(part[i]))

        order = np.argsort(-fused, kind="stable")
        ranked = [candidate(i) for i in order[mine[order]]]
        outside = next((candidate(i) for i in order[~mine[order]]
                        if index.entries[i].topic_key not in scope_keys), None)
        return ranked, outside, in_scope, mode

    @staticmethod
    def features(question: Question, ranked: Sequence[Candidate], outside: Candidate | None) -> dict[str, float]:
        """The decision model's inputs (:data:`bot.decide.FEATURES`) for a ranking."""
        best, others = ranked[0], ranked[1:]
        second = others[0].score if others else best.score - 1.0
        other_lexical = max((c.lexical for c in others), default=0.0)
        other_dense = max((c.dense_part for c in others), default=0.0)
        values = {
            "fused": best.score, "margin": best.score - second, "lexical": best.lexical,
            "dense_whole": best.dense_whole, "dense_part": best.dense_part, "coverage": best.coverage,
            "outside_gap": (outside.score - best.score) if outside else 0.0,
            "length": math.log1p(len(words(question.text))),
            "lexical_margin": best.lexical - other_lexical, "dense_margin": best.dense_part - other_dense,
            "agree": 0.5 * (best.lexical >= other_lexical) + 0.5 * (best.dense_part >= other_dense),
        }
        english = float(question.english)
        values.update(english=english, english_lexical=english * best.lexical,
                      english_coverage=english * best.coverage, english_dense_part=english * best.dense_part)
        return {name: values[name] for name in FEATURES}

    def retrieve(self, index: CatalogueIndex, question: Question, unit_id: str,
                 parents: Mapping[str, str | None], day: dt.date, strict: bool = False) -> Decision:
        """Rank the entries in force for ``unit_id`` on ``day`` against ``question``, then decide.

        Args:
            index: the catalogue's index.
            question: the parsed message (:func:`bot.question.parse`).
            unit_id: the asker's unit.
            parents: ``{unit_id: parent_id}`` of every unit.
            day: the date that decides validity.
            strict: demand a clearer match (the NLU fell back or called the
                message out of scope, or a short message looks like a follow-up).

        Raises:
            KeyError: ``unit_id`` is not a known unit.
        """
        ranked, outside, in_scope, mode = self.rank(index, question, unit_id, parents, day)
        if not ranked:
            return Decision("abstain", "no_entries" if outside is None else "other_unit", outside=outside,
                            in_scope=in_scope)
        best = ranked[0]
        features = self.features(question, ranked, outside)
        common = dict(candidates=tuple(ranked[:5]), outside=outside, in_scope=in_scope, features=features)
        model = self.models.get(mode)
        if outside is not None and outside.score > best.score + OUTSIDE_MARGIN[mode] and (
                model is not None or outside.score >= self.min_score):
            return Decision("abstain", "other_unit", **common)
        if model is not None:
            action, p_answer, p_resolve = model.decide(features, strict)
            if action == "clarify" and len(ranked) < 2:
                action = "abstain"
            reason = {"answer": "answered", "clarify": "clarify", "abstain": "low_score"}[action]
            return Decision(action, reason, best if action == "answer" else None, p_answer=p_answer,
                            p_resolve=p_resolve, **common)
        threshold = self.min_score * (self.STRICT_FACTOR if strict else 1.0)
        if best.score < threshold:
            return Decision("abstain", "low_score", **common)
        if len(ranked) > 1 and best.score - ranked[1].score < self.min_margin:
            # Two entries fit nearly equally: ask which one, but only when they cover what was
            # asked; "kat ... arbejde" matching two "arbejde" entries is not a question about either.
            both_cover = min(best.coverage, ranked[1].coverage) >= self.min_coverage
            return Decision("clarify" if both_cover else "abstain", "clarify" if both_cover else "low_score",
                            **{**common, "candidates": tuple(ranked[:2]) if both_cover else common["candidates"]})
        return Decision("answer", "answered", best, **common)


MAX_LEARNED_PER_ENTRY = 50
"""At most this many linked questions per entry are kept for :data:`LEARNED_MATCH` (the newest first)."""


def build_index(entries: Iterable, analyzer: DanishAnalyzer, lexicon: Lexicon | None = None,
                unit_names: Iterable[str] = (), learned: Mapping[str, Sequence[str]] | None = None,
                english_lemmas: bool = True, max_per_word: bool = True,
                passage_cache: PassageCache | None = None) -> CatalogueIndex:
    """Index the published entries (model objects or :class:`EntryDoc`); see :class:`CatalogueIndex`.

    Only entries the bot may answer from are indexed (:func:`bot.domain.answerable`): a draft or an
    entry awaiting approval is never ranked, not even as another unit's rule.

    Args:
        learned: ``{mandate_id: [question text, ...]}``: questions that HR linked to
            an entry in the review queue (the employees' own wording; at most
            :data:`MAX_LEARNED_PER_ENTRY` each, in the order given). A question
            that closely matches one of them (:data:`LEARNED_MATCH`) scores that
            entry at least as high, so the next employee who asks the same way
            is answered, without retraining.
    """
    docs = [e if isinstance(e, EntryDoc) else EntryDoc.from_entry(e) for e in entries]
    docs = [d for d in docs if answerable(d.status)]
    if learned:
        docs = [dataclasses.replace(d, learned=tuple(learned[d.id][:MAX_LEARNED_PER_ENTRY]))
                if learned.get(d.id) else d for d in docs]
    return CatalogueIndex(docs, analyzer, lexicon, unit_names, english_lemmas, max_per_word, passage_cache)
