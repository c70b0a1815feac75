"""The question checked against an entry's exceptions, conditions and limit, before the headline.

DESIGN.md ("Answering", step 4): "The answer never says more than its rule: the
question is checked against the entry's exceptions, conditions and limit (in
its unit ...) before the headline is chosen; 'Ja' only when nothing is in
doubt." A wrong "ja, det må du" is the worst failure, so every doubt the check
finds turns into a status that the headline (:mod:`bot.answers`) must honour:

========== ===============================================================
status     meaning
========== ===============================================================
clear      nothing in the question touches an exception, condition or limit
within_limit every quantity of the limit's unit is within the limit
condition  the question touches one of the entry's conditions
exception  an exception case applies (catalogue v2 ``exceptions``, or a
           sentence of the entry that restricts, :mod:`bot.restrictions`)
over_limit a quantity is over the limit
check      the bot cannot tell (a weak match of an exception case, or a
           duration in a unit that does not convert to the limit's unit)
========== ===============================================================

Order of the checks (the first that fires wins): an exception carried from the
previous question, an exception named fully by words, a restricting sentence,
an exception by meaning (strong), the limit (over), "cannot tell" (a case named
only in part by words, or weakly by meaning; a duration that does not convert, a range or an
open quantity with the limit inside it), a
touched condition, the limit (within), clear. Exceptions come first because they say who decides a case whatever its
size; a touched condition still lets the answer say "Ja, når ...", so it comes
after everything that withdraws the "Ja".
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
import yaml

from bot.domain import SELF_DECISIONS, Limit, convert, duration_range
from bot.language import DATA_DIR, DanishAnalyzer, english_lemma, is_stop_word, normalise, stem_term, words
from bot.quantities import Quantity, format_quantity, parse_quantities
from bot.restrictions import restriction_for, restricts

STATUSES = ("clear", "condition", "exception", "over_limit", "within_limit", "check")
"""Every :attr:`RuleCheck.status`."""

STRONG_MARGIN = 0.035
"""By meaning, an exception case applies when the question is nearer the entry's topic with the case
("Frivillige: forflytninger") than the entry's topic with its summary (what it allows) by at least
this much (cosines of multilingual-e5-small; the question as a query, both texts as passages).

Why a margin and not a raw cosine: e5-small puts almost every pair of workplace sentences between
0.78 and 0.91, so a raw threshold cannot tell "about this case" from "about this entry"; the margin
asks whether the question is nearer what the entry excepts than what it allows. Chosen on the dev
split of the rules set (``tests/data/eval/rules_dev.yaml``, the entries with an exception that
withdraws the "Ja", 52 questions): every question at or above 0.035 is about the case (insulin
visits, "en ny bærbar" for a new computer, the child in your own car); questions not about a
case reach at most +0.020. Before, the margin over the topic alone (0.065, from the table in
``tests/test_rules.py``) did not separate the dev questions at all."""
TOPIC_STRONG_MARGIN = 0.065
"""The second way (:func:`_by_meaning`): cos(question, case) over cos(question, topic), chosen on the
labelled table ``MEANING_TABLE`` of ``tests/test_rules.py`` (6 entries, 35 questions, Danish and
English): the questions not about the case reach at most +0.050, those about it up to +0.111."""
TOPIC_WEAK_MARGIN = 0.025
"""From the same table: not-the-case questions that share no word with the case reach at most +0.024;
the about-the-case questions that only meaning catches start at +0.042 ("50 timer den uge" for
"Et bytte, der giver overarbejde")."""
WEAK_MARGIN = 0.012
"""Between this margin and :data:`STRONG_MARGIN` the case may apply: the answer says "Det kommer an
på" (status ``check``) instead of "Ja". On the rules dev split this catches the about-the-case
questions down to "lån" for 500 kroner in cash (+0.011 just misses) and asks on three that are not
(+0.012 to +0.020): asking costs a sentence, a wrong "Ja" teaches staff to act wrongly."""

MIN_PART = 4
"""A case term counts inside a longer question term (a compound: "insulin" in "insulinbesøg") only
when it has at least this many letters, so "bil" does not match "mobil" or "bybil"."""

SPECIFIC_TERM = 7
"""A case term this long (folded, stemmed: "overarbejd", "facebook", "gavekort") names its case
alone; shorter ones ("bil", "boern", "peng") only together with the case's other terms."""

TIME_UNITS = ("minutter", "timer", "dage")

_LIMIT_WORDS = re.compile(r"grænse|graense|\bhøjst\b|\bmaks", re.IGNORECASE)
"""A condition with these words speaks of the entry's limit, which the limit check judges."""

_NOBODY = re.compile(
    r"\baldrig\b|\bforbudt\b|\bnej tak\b"
    r"|\bmå\s+(?:du\s+|i\s+|de\s+|man\s+|den\s+|det\s+|vi\s+)?ikke\b"
    r"|\bikke\s+må\b"
)
"""A restricting sentence that forbids ("aldrig", "må ikke", "forbudt", "nej tak"): nobody decides
it; any other restricting sentence ("kun", "kræver", "bestiller din leder") goes to the leader."""


@dataclass(frozen=True)
class RuleCheck:
    """What the question does to the entry's rule (see the module docstring for the statuses).

    Attributes:
        status: one of :data:`STATUSES`.
        decision: the entry's decision (``employee|team|leader|other``).
        decided_by: the entry's ``decided_by`` (for ``other``).
        condition: for ``condition``, the condition text touched; for ``check``, what to check
            (Danish, lower case, no final full stop).
        exception: for ``exception`` (and a weak ``check``), the exception dict ``{"case",
            "decision", "decided_by"}``; a restricting sentence carries ``"sentence": True``.
        limit: the entry's limit, when it has one.
        quantity: the question's quantity compared with the limit (the largest over it, or the
            largest within it), or the one the bot cannot judge for ``check``.
        case: the exception case to carry into a follow-up question (``carried_case``).
        beyond: for ``over_limit``, the entry's own sentence on what happens over the limit
            ("Større ændringer aftaler du med planlæggeren."), when it has one
            (:func:`beyond_limit_sentence`).
    """

    status: str
    decision: str = "employee"
    decided_by: str | None = None
    condition: str | None = None
    exception: dict | None = None
    limit: Limit | None = None
    quantity: Quantity | None = None
    case: str | None = None
    beyond: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {self.status!r}")

    @property
    def decides(self) -> str:
        """Who the headline lets decide: one of ``employee|team|leader|other|nobody|unsure``.

        The entry's decision for clear, within_limit and condition; the exception's for exception
        (``nobody``: never allowed); over the limit the leader decides for an employee's or team's
        entry, and someone else for a leader's or other's entry (above a leader's own limit the
        leader cannot approve alone); ``unsure`` for check.
        """
        if self.status == "exception":
            return (self.exception or {}).get("decision") or "leader"
        if self.status == "over_limit":
            if self.beyond:
                return beyond_decides(self.beyond)
            return "leader" if self.decision in SELF_DECISIONS else "other"
        if self.status == "check":
            return "unsure"
        return self.decision


# --------------------------------------------------------------------------- entry fields

def entry_limit(entry) -> Limit | None:
    """The entry's limit: its ``limit`` (catalogue v2), else ``limit_dkk`` as kroner, else None."""
    limit = getattr(entry, "limit", None)
    if isinstance(limit, Limit):
        return limit
    if isinstance(limit, dict) and limit.get("unit"):
        return Limit(float(limit["value"]), limit["unit"])
    value, unit = getattr(entry, "limit_value", None), getattr(entry, "limit_unit", None)
    if value is not None and unit:
        return Limit(float(value), unit)
    dkk = getattr(entry, "limit_dkk", None)
    return Limit(float(dkk), "kr") if dkk is not None else None


def entry_exceptions(entry) -> list[dict]:
    """The entry's exception cases (catalogue v2), each ``{"case", "decision", "decided_by"}``."""
    out = []
    for item in getattr(entry, "exceptions", None) or ():
        if isinstance(item, dict) and item.get("case"):
            out.append({"case": item["case"], "decision": item.get("decision") or "leader",
                        "decided_by": item.get("decided_by")})
    return out


def restriction_exception(sentence: str) -> dict:
    """A restricting sentence as an exception: ``nobody`` when it forbids (:data:`_NOBODY`), else ``leader``."""
    decision = "nobody" if _NOBODY.search(normalise(sentence)) else "leader"
    return {"case": sentence, "decision": decision, "decided_by": None, "sentence": True}


# --------------------------------------------------------------------------- the check

@functools.lru_cache(maxsize=1)
def default_analyzer() -> DanishAnalyzer:
    """The shared analyser (lookup lemmas) when the caller passes none."""
    return DanishAnalyzer()


def check(question, entry, *, embedder=None, carried_case: str | None = None,
          analyzer: DanishAnalyzer | None = None, lexicon=None) -> RuleCheck:
    """The question checked against ``entry``'s exceptions, limit and conditions.

    Args:
        question: an object with ``text`` (str), ``terms`` (tuple[str, ...], the analyser's
            terms), ``quantities`` (tuple[Quantity, ...]), ``embedding`` (numpy array (d,),
            L2-normalised, a query embedding, or None) and ``language`` ("da" | "en").
        entry: a mandate (model or snapshot) with ``decision``, ``decided_by``, ``topic``,
            ``summary``, ``conditions`` and optionally ``exceptions``, ``limit``/``limit_dkk``.
        embedder: None, or an object with ``encode_passages(texts) -> np.ndarray`` (n, d) with
            L2-normalised rows; without it (or without ``question.embedding``) exceptions are
            matched by words only.
        carried_case: the case matched in the previous question of a follow-up ("hvad hvis det
            kun er 100 kr?"): when it is still one of the entry's cases, it still applies.
        analyzer: the Danish analyser (default: :func:`default_analyzer`).
        lexicon: the Danish thesaurus (:func:`bot.lexicon.load`), or None: a restrictive case
            is then also named by a word the thesaurus relates to a question word.

    Returns:
        A :class:`RuleCheck`.
    """
    analyzer = analyzer or default_analyzer()
    decision = getattr(entry, "decision", "employee")
    base = {"decision": decision, "decided_by": getattr(entry, "decided_by", None),
            "limit": entry_limit(entry)}
    exceptions = entry_exceptions(entry)
    text = getattr(question, "text", "") or ""

    # 1. The case of the previous question, in a follow-up.
    carried = _carried(carried_case, exceptions, entry)
    if carried is not None:
        return RuleCheck("exception", exception=carried, case=carried["case"], **base)

    asked = _question_terms(question, analyzer)
    allowed = _allowed_terms(analyzer, getattr(entry, "topic", "") or "", getattr(entry, "summary", "") or "")

    # 2. An exception case named by words, fully (a part of it only: see 6.).
    by_words = _by_words(asked, exceptions, allowed, analyzer, text)
    if by_words is not None and by_words[1]:
        return RuleCheck("exception", exception=by_words[0], case=by_words[0]["case"], **base)
    # Below, only cases that withdraw the "Ja" count: a case the employee or team decides
    # ("Høreværn ... må du selv") may grant a "Ja" only when the question names it fully.
    restrictive = [item for item in exceptions if item["decision"] not in SELF_DECISIONS]
    if by_words is not None and by_words[0]["decision"] in SELF_DECISIONS:
        by_words = _by_words(asked, restrictive, allowed, analyzer, text)

    # 2b. A case that withdraws the "Ja", named through the Danish thesaurus ("en ny bærbar" names
    # "ny computer": mythes-da relates "bærbar" to "computer"). Only restrictive cases: a related
    # word never grants a "Ja".
    if lexicon is not None and restrictive:
        related = _related_terms(question, lexicon)
        by_related = _by_words(asked | related, restrictive, allowed, analyzer, text) if related else None
        if by_related is not None and by_related[1]:
            return RuleCheck("exception", exception=by_related[0], case=by_related[0]["case"], **base)

    # 3. A sentence of the entry that restricts what was asked (bot.restrictions, employee/team).
    sentence = restriction_for(text, entry, analyzer) if text else None
    if sentence is None and getattr(question, "language", "da") == "en" and asked:
        sentence = _restriction_by_terms(asked, entry, analyzer, allowed)
    if sentence is not None:
        found = restriction_exception(sentence)
        return RuleCheck("exception", exception=found, case=sentence, **base)

    # 4. An exception case by meaning. Not for a question with no words of its own ("hvad hvis det
    # kun er 100 kr.?"): its embedding is about money in general and lands near any case of money.
    weak = by_words[0] if by_words is not None else None
    for found, margin, (strong, weak_margin) in (_by_meaning(question, entry, restrictive, embedder) if asked else ()):
        if margin >= strong:
            return RuleCheck("exception", exception=found, case=found["case"], **base)
        if margin >= weak_margin and weak is None:
            weak = found

    # 4b. A negated case the question negates too ("forældrene har ikke skrevet noget" for
    # "forældrene har ikke givet besked"): the bot cannot tell, so it asks the employee to check.
    if weak is None:
        weak = _negated_case(text, asked, restrictive, analyzer)

    # 5. The limit.
    limit = base["limit"]
    quantities = getattr(question, "quantities", ()) or ()
    over, within, unclear = _against_limit(limit, quantities)
    if over is not None:
        return RuleCheck("over_limit", quantity=over, beyond=beyond_limit_sentence(entry), **base)
    # 5b. A limit the entry's text states for a unit its limit field does not have ("op til fire
    # uger" in a catalogue of version 1, which has kroner limits only): a quantity over it is over
    # the rule's limit, a range or open quantity with the limit inside it is a "check".
    for text_limit, phrase in text_limits(entry):
        if limit is not None and _related_units(limit.unit, text_limit.unit):
            continue
        # only quantities in the limit's own unit (hours are not judged against "op til fire uger")
        same = [q for q in quantities if convert(q.value, q.unit, text_limit.unit) is not None]
        t_over, _, t_unclear = _against_limit(text_limit, same)
        if t_over is not None:
            return RuleCheck("over_limit", quantity=t_over, beyond=beyond_limit_sentence(entry),
                             **{**base, "limit": text_limit})
        if t_unclear is not None and unclear is None:
            return RuleCheck("check", quantity=t_unclear, condition=(
                f'om {t_unclear.text.strip()} holder sig inden for "{phrase}", som reglen siger'), **base)

    # 6. What the bot cannot tell.
    if weak is not None:
        return RuleCheck("check", condition=f"om dit tilfælde er {_lower_first(weak['case'])}",
                         exception=weak, case=weak["case"], **base)
    if unclear is not None and limit is not None:
        return RuleCheck("check", quantity=unclear, condition=(
            f"om {unclear.text.strip()} er inden for grænsen på {format_quantity(limit.value, limit.unit)}"),
            **base)

    # 7. A condition the question touches.
    condition = _touched_condition(asked, entry, analyzer, allowed)
    if condition is not None:
        return RuleCheck("condition", condition=condition, quantity=within, **base)

    # 8./9.
    if within is not None:
        return RuleCheck("within_limit", quantity=within, **base)
    # 10. A limit the question names no quantity for: the "Ja" holds only within it, so the
    # headline says so ("Ja, når beløbet er på højst 200 kr.": issue 13, "when a condition
    # applies, the headline states it").
    if limit is not None:
        return RuleCheck("condition", condition=limit_condition(limit), **base)
    return RuleCheck("clear", **base)


def limit_condition(limit: Limit) -> str:
    """The limit as the condition of a "Ja, når ...": "beløbet er på højst 200 kr." (kroner), "det er
    inden for grænsen på 2 dage" (any other unit)."""
    value = format_quantity(limit.value, limit.unit)
    if limit.unit == "kr":
        return f"beløbet er på højst {value.rstrip('.')}"
    return f"det er inden for grænsen på {value}"


# --------------------------------------------------------------------------- parts

def _lower_first(text: str) -> str:
    """``text`` stripped, without a final full stop, first letter lower case unless it starts an
    acronym or name written in capitals ("IT-udstyr", "MobilePay" stay)."""
    text = text.strip().rstrip(".").strip()
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?;])\s+", text or "") if s.strip()]


@functools.lru_cache(maxsize=2048)
def _allowed_terms(analyzer: DanishAnalyzer, topic: str, summary: str) -> frozenset:
    """Terms of what the entry allows in general: its topic and the summary's sentences that do not
    restrict. A case or condition term among them says nothing particular about the question."""
    allowed = set(analyzer.terms(topic))
    for sentence in _sentences(summary):
        if not restricts(sentence):
            allowed |= set(analyzer.terms(sentence))
    return frozenset(allowed)


@functools.lru_cache(maxsize=4096)
def _terms(analyzer: DanishAnalyzer, text: str) -> frozenset:
    return frozenset(analyzer.terms(text))


@functools.lru_cache(maxsize=1)
def _glossary() -> dict[str, str]:
    """English -> Danish lemma, ``bot/language_data/english.yaml`` (the glossary retrieval uses)."""
    with open(DATA_DIR / "english.yaml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["words"]


def _question_terms(question, analyzer: DanishAnalyzer) -> frozenset:
    """The question's terms; for an English question also its words translated by the glossary."""
    terms = set(getattr(question, "terms", None) or ())
    text = getattr(question, "text", "") or ""
    if not terms and text:
        terms |= _terms(analyzer, text)
    if getattr(question, "language", "da") == "en" and text:
        glossary = _glossary()
        danish = [glossary.get(w) or glossary.get(english_lemma(w)) for w in words(text)]
        danish = [d for d in danish if d]
        if danish:
            terms |= _terms(analyzer, " ".join(danish))
    return frozenset(terms)


def _named(term: str, asked: frozenset) -> bool:
    """The question names ``term`` itself: the same term, or the term as part of a compound question
    term (at least :data:`MIN_PART` letters, at its start or end: "gavekort" in "gavekortet",
    "insulin" in "insulinbesoeg")."""
    return term in asked or (len(term) >= MIN_PART and any(q.startswith(term) or q.endswith(term) for q in asked))


def _closing_phrase(case: str) -> str:
    """The last two words of a case, padded with spaces (" med hjem ")."""
    return " " + " ".join(words(case)[-2:]) + " "


RELATED_PER_WORD = 10
"""At most this many thesaurus words per question word (mythes-da lists them most common sense first;
the tail of a long list drifts: "pille" also gives "afbarke" and "søjle")."""


def _related_terms(question, lexicon) -> frozenset:
    """Terms of the one-word thesaurus relations of the question's words (:mod:`bot.lexicon`)."""
    found = set()
    for token, lemma in getattr(question, "tokens", ()) or ():
        if len(lemma) < 3 or is_stop_word(lemma):
            continue
        for word in lexicon.related_to(lemma, token)[:RELATED_PER_WORD]:
            if " " not in word and "-" not in word:
                found.add(stem_term(word))
    return frozenset(found)


def _composed(terms: Iterable[str], asked: frozenset) -> frozenset:
    """The ``terms`` that the question writes as two words: "borgerens nøgle" for "borgernøgle"
    (a first part and a last part of at least three letters each, at most three letters between
    them for the linking "-s-"/"-e-" and the ending the stemmer took: "borg" + "er" + "noegl")."""
    found = set()
    for term in terms:
        for first in asked:
            if len(first) < 3 or first == term or not term.startswith(first):
                continue
            rest = term[len(first):]
            if any(len(last) >= 3 and rest.endswith(last) and len(rest) - len(last) <= 3 for last in asked
                   if last != first):
                found.add(term)
                break
    return frozenset(found)


def _touched(term: str, asked: frozenset) -> bool:
    """:func:`_named`, or a question term of at least five letters that starts ``term`` ("mobil" for
    "mobiltelefon", but also "kontakt" for "kontaktperson"): only ever a partial match."""
    return _named(term, asked) or any(len(q) >= MIN_PART + 1 and term.startswith(q) for q in asked)


def _term_hits(case_terms: Iterable[str], asked: frozenset, *, loose: bool = False) -> int:
    """How many ``case_terms`` the question names (:func:`_named`; ``loose``: :func:`_touched`)."""
    test = _touched if loose else _named
    return sum(1 for term in case_terms if test(term, asked))


_ALTERNATIVES = re.compile(r",(?!\s*(?:der|som|hvor|hvis|når)\b)|;|/|\b(?:og|eller|samt|or|and)\b", re.IGNORECASE)
"""What separates the alternatives of a case ("Penge, gavekort og arv"; "Ny computer eller telefon");
not the comma before a relative clause ("Et bytte, der giver overarbejde")."""


def case_alternatives(analyzer: DanishAnalyzer, case: str, allowed: frozenset) -> list[frozenset]:
    """The own terms of each alternative of ``case`` (terms not in ``allowed``), empty ones dropped:
    "Penge, gavekort og arv" -> [{peng}, {gavekort}, {arv}]; "Billeder af børn på Facebook" ->
    [{boern, facebook}] when "billed" is the topic's."""
    out = []
    for part in _ALTERNATIVES.split(case):
        own = _terms(analyzer, part) - allowed
        if own:
            out.append(own)
    return out


def _by_words(asked: frozenset, exceptions: list[dict], allowed: frozenset,
              analyzer: DanishAnalyzer, text: str = "") -> tuple[dict, bool] | None:
    """The exception the question names by words, and whether it names it fully.

    Fully: every own term of one alternative of the case is in the question (:func:`_term_hits`):
    "gavekort" names "Penge, gavekort og arv"; or the alternative's longest own term, when it has
    at least :data:`SPECIFIC_TERM` letters (the case's most specific word, usually a compound:
    "overarbejde" names "Et bytte, der giver overarbejde" without "giver"). Partly: a question
    term that only begins a case term ("kontakt" for "kontaktperson"), or some own term, not all of one alternative:
    "børnene" alone does not name "Billeder af børn på Facebook" (the answer then says "check",
    never "Ja"). None when the question names no own term of any case. The fullest match wins,
    then the one with more terms named.
    """
    whole = asked
    normalised = " ".join(words(text))
    asked = asked - allowed
    best, best_key = None, (False, 0)
    for item in exceptions:
        full, hits = False, 0
        for part in _ALTERNATIVES.split(item["case"]):
            terms = _terms(analyzer, part)
            own, context = terms - allowed, terms & allowed
            if not own:
                # Every word of the case is one the entry uses in general ("tage en borgernøgle med
                # hjem" under "Du må selv tage borgernøgler ud af ..."): named only when the question
                # has all of them and the case's closing phrase ("med hjem") as written.
                heads = {t for t in terms for q in whole if len(q) >= MIN_PART and t.endswith(q)}  # "nøgle" of "borgernøgle"
                if terms and _term_hits(terms, whole | _composed(terms, whole) | heads) == len(terms) and \
                        _closing_phrase(part) in f" {normalised} ":
                    full, hits = True, max(hits, len(terms))
                continue
            mine = asked | _composed(own, whole)
            named = _term_hits(own, mine)
            hits = max(hits, named, _term_hits(own, mine, loose=True))
            longest = max(own, key=lambda t: (len(t), t))
            named_fully = named == len(own) or (len(longest) >= SPECIFIC_TERM and _named(longest, mine))
            # A case that also uses the entry's general words ("tage en borgernøgle med hjem" under
            # "Nøgler til borgernes hjem") is named only with one of them too: "tage en borgernøgle ud
            # af nøgleskabet" is what the entry allows, not the case.
            full = full or (named_fully and (not context or any(
                q == t or (len(q) >= MIN_PART and len(t) >= MIN_PART and q[:MIN_PART] == t[:MIN_PART])
                for t in context for q in whole)))
        if hits and (full, hits) > best_key:
            best, best_key = item, (full, hits)
    return (best, best_key[0]) if best is not None else None


def _restriction_by_terms(asked: frozenset, entry, analyzer: DanishAnalyzer, allowed: frozenset) -> str | None:
    """:func:`bot.restrictions.restriction_for` for terms already made (an English question's
    glossary terms): the first restricting sentence (conditions, then summary) whose terms meet
    the asked terms outside what the entry allows."""
    if getattr(entry, "decision", None) not in SELF_DECISIONS:
        return None
    case = asked - allowed
    sentences = [*(s for c in (getattr(entry, "conditions", None) or ()) for s in _sentences(c)),
                 *_sentences(getattr(entry, "summary", "") or "")]
    for sentence in sentences:
        if restricts(sentence) and case & _terms(analyzer, sentence):
            return sentence
    return None


def _carried(carried_case: str | None, exceptions: list[dict], entry) -> dict | None:
    """The exception named ``carried_case`` when the entry still has it (a case or a restricting sentence)."""
    if not carried_case:
        return None
    key = normalise(carried_case)
    for item in exceptions:
        if normalise(item["case"]) == key:
            return item
    sentences = [*(s for c in (getattr(entry, "conditions", None) or ()) for s in _sentences(c)),
                 *_sentences(getattr(entry, "summary", "") or "")]
    for sentence in sentences:
        if normalise(sentence) == key and restricts(sentence):
            return restriction_exception(sentence)
    return None


_PASSAGES: dict[tuple[tuple[int, str], str], np.ndarray] = {}
"""Passage vectors of exception cases and topics, by ((id and name of the embedder), text): per message only
the question is embedded. Bounded: cleared when it holds :data:`_PASSAGE_CACHE_SIZE` texts."""
_PASSAGE_CACHE_SIZE = 20_000


def passage_vectors(embedder, texts: list[str]) -> np.ndarray:
    """Rows of ``embedder.encode_passages`` for ``texts``, each text embedded once per embedder.

    Raises:
        whatever ``embedder.encode_passages`` raises.
    """
    key = (id(embedder), getattr(embedder, "name", type(embedder).__name__))
    missing = [t for t in dict.fromkeys(texts) if (key, t) not in _PASSAGES]
    if missing:
        if len(_PASSAGES) + len(missing) > _PASSAGE_CACHE_SIZE:
            _PASSAGES.clear()
        vectors = np.asarray(embedder.encode_passages(missing), dtype=np.float32)
        for text, vector in zip(missing, vectors):
            _PASSAGES[(key, text)] = vector
    return np.stack([_PASSAGES[(key, t)] for t in texts])


def _by_meaning(question, entry, exceptions: list[dict], embedder) -> list[tuple[dict, float, tuple[float, float]]]:
    """The exception cases nearest the question by meaning, two ways, each with its margin and its
    ``(strong, weak)`` thresholds: against the entry's topic with its summary
    (:data:`STRONG_MARGIN`, :data:`WEAK_MARGIN`: cos(question, "topic: case") minus
    cos(question, "topic: summary")), and against the topic alone (:data:`TOPIC_STRONG_MARGIN`,
    :data:`TOPIC_WEAK_MARGIN`: cos(question, case) minus cos(question, topic)). Empty without an
    embedder, a question embedding or exceptions."""
    vector = getattr(question, "embedding", None)
    if embedder is None or vector is None or not exceptions:
        return []
    topic = getattr(entry, "topic", "") or ""
    summary = getattr(entry, "summary", "") or ""
    vector = np.asarray(vector, dtype=np.float32).reshape(-1)
    found = []
    for texts, thresholds in (
            ([f"{topic}: {summary}", *(f"{topic}: {item['case']}" for item in exceptions)],
             (STRONG_MARGIN, WEAK_MARGIN)),
            ([topic, *(item["case"] for item in exceptions)], (TOPIC_STRONG_MARGIN, TOPIC_WEAK_MARGIN))):
        rows = passage_vectors(embedder, texts)
        if rows.shape[1] != vector.shape[0]:
            return []
        cosines = rows @ vector
        margins = cosines[1:] - cosines[0]
        best = int(np.argmax(margins))
        found.append((exceptions[best], float(margins[best]), thresholds))
    return found


NEGATIONS = frozenset("ikke ingen intet aldrig uden mangler manglende not no without never nobody "
                      "nothing cannot".split())
"""Words that negate what follows them. Many exception cases are a negated condition ("forældrene
har ikke givet besked", "billeder uden samtykke", "borger, der ikke selv kan give samtykke").
"uden for" ("outside") is a place, not a negation, and does not count."""

NEGATION_WINDOW = 4
"""A negation counts for a content word at most this many words before or after it: "forældrene
har ikke skrevet" (two words), not a negation in another clause of a long message."""


def _negated_words(text: str) -> list[tuple[int, str]]:
    """``(position, word)`` of the negation words of ``text`` (:data:`NEGATIONS`; "n't" too),
    without "uden for" / "uden om" (a place or a way round, not a negation)."""
    tokens = words(text)
    found = []
    for i, token in enumerate(tokens):
        low = token.lower()
        contracted = low == "t" and i > 0 and tokens[i - 1].lower().endswith("n")  # "haven't" -> haven, t
        if contracted or low in NEGATIONS:
            if low == "uden" and i + 1 < len(tokens) and tokens[i + 1].lower() in ("for", "om"):
                continue
            found.append((i, low))
    return found


def _negated_terms(text: str, analyzer: DanishAnalyzer) -> frozenset:
    """The terms of the content words within :data:`NEGATION_WINDOW` words of a negation in ``text``."""
    tokens = words(text)
    near = set()
    for position, _ in _negated_words(text):
        lo, hi = max(0, position - NEGATION_WINDOW), min(len(tokens), position + NEGATION_WINDOW + 1)
        near.update(t for j, t in enumerate(tokens[lo:hi], start=lo) if j != position)
    return _terms(analyzer, " ".join(sorted(near))) if near else frozenset()


def _negated_case(text: str, asked: frozenset, exceptions: list[dict],
                  analyzer: DanishAnalyzer) -> dict | None:
    """The first of ``exceptions`` whose case is a negation ("forældrene har ikke givet besked")
    when the question negates a word of that case too, near the negation ("forældrene har ikke
    skrevet noget i Aula"). Words alone cannot tell that the two negations mean the same, so the
    caller answers "Det kommer an på" (status ``check``), never "Ja". None when none fits.

    Measured on the dev split of the rules set (``scripts.rules_eval --split dev``) with the other
    signals unchanged; see the closing note of the issue "An answer never says more than its rule".
    """
    if not text or not exceptions or not _negated_words(text):
        return None
    negated = _negated_terms(text, analyzer)
    if not negated:
        return None
    for item in exceptions:
        case = item.get("case") or ""
        if not _negated_words(case):
            continue
        case_negated = _negated_terms(case, analyzer)
        if any(_named(term, negated) for term in case_negated if len(term) >= MIN_PART):
            return item
    return None


def _against_limit(limit: Limit | None, quantities: Iterable[Quantity]) -> tuple[
        Quantity | None, Quantity | None, Quantity | None]:
    """``(largest quantity over the limit, largest within it, a quantity the bot cannot judge)``.

    Only quantities that convert to the limit's unit (:func:`bot.domain.convert`) are compared.
    A duration in a unit that does not convert to a duration limit ("3 timer" against "2 dage")
    cannot be judged, nor can a range or an open quantity with the limit inside it ("et par dage"
    against 2 days, "mindst 2 timer" against 3); any other unit ("2 børn" against a kr limit) is
    not about the limit and is ignored. Over the limit: the smallest reading is over it, or the
    quantity is strictly more than the limit ("over 2 timer" against 2 hours).
    """
    if limit is None:
        return None, None, None
    over = within = unclear = None
    over_value = within_value = -1.0
    eps = 1e-9
    for quantity in quantities:
        value = convert(quantity.value, quantity.unit, limit.unit)
        if value is None:
            # Days against hours: judged only when a working day and a calendar day agree
            # ("1½ time" is within 2 days, "3 dage" over 4 hours, "20 timer" against 2 days is not clear).
            spread = duration_range(quantity.value, quantity.unit, limit.unit)
            top = quantity.upper if quantity.upper is not None else quantity.value
            top_spread = duration_range(top, quantity.unit, limit.unit) if top != float("inf") else None
            if spread is None:
                continue
            if spread[0] > limit.value + eps or (quantity.above and spread[0] >= limit.value - eps):
                if spread[0] > over_value:
                    over, over_value = quantity, spread[0]
            elif top_spread is not None and top_spread[1] <= limit.value + eps and not quantity.above:
                if spread[1] > within_value:
                    within, within_value = quantity, spread[1]
            elif unclear is None:
                unclear = quantity
            continue
        upper = value if quantity.upper is None else (
            quantity.upper if quantity.upper == float("inf") else convert(quantity.upper, quantity.unit, limit.unit))
        if value > limit.value + eps or (quantity.above and value >= limit.value - eps):
            if value > over_value:
                over, over_value = quantity, value
        elif upper is not None and upper <= limit.value + eps:
            if value > within_value:
                within, within_value = quantity, value
        elif unclear is None:  # a range or open quantity with the limit inside it
            unclear = quantity
    return over, within, unclear


_UPPER_CUE = re.compile(
    r"(?:\bhøjst|\bop\s+til|\bmaks(?:imalt|imum|\.)?|\bmax(?:imum|\.)?|\bikke\s+(?:mere|længere|over)(?:\s+end)?"
    r"|\bmindre\s+end|\bunder|\bup\s+to|\bat\s+most|\bno\s+more\s+than|\bnot\s+more\s+than)"
    r"(?:\s+(?:i\s+alt|samlet|sammenlagt|in\s+total))?\s*$", re.IGNORECASE)
"""Words right before a quantity in an entry's text that make it an upper limit: "op til fire uger",
"Højst 1.500 kr.", "må højst vare 2 timer", "ikke mere end 3 gange", "under 2 timer". Not "over"
(a lower bound: "møder på over tre timer") and not "inden for"/"senest" (a deadline, not a size)."""


_BEYOND = re.compile(r"\b(?:større|længere|flere|oftere|mere\s+end|højere|derover|ud\s+over|over\s+grænsen"
                     r"|larger|longer|more|above)\b", re.IGNORECASE)
_NOT_BEYOND = re.compile(r"\bikke\s+(?:længere|flere|mere)\b|\bgrænsen\s+er\b|\bgrænsen\s+gælder\b", re.IGNORECASE)
_WHO_THEN = re.compile(r"\b(?:aftal\w*|godkend\w*|beslut\w*|planlægge\w*|bevilg\w*|nej\s+tak|spørg\w*|"
                       r"skal\s+\w+\s+(?:have\s+besked|med)|approv\w*|decid\w*)", re.IGNORECASE)
_LEADER_NAMED = re.compile(r"\w*(?:leder|chef)\w*|\b(?:leader|manager|head)\b", re.IGNORECASE)
"""A leader of the employee's own line ("lederen", "centerlederen", "klinikchefen"): over the limit
that leader decides; a planner, a foreman or a pedagogue is someone else."""


@functools.lru_cache(maxsize=4096)
def _beyond_of(texts: tuple[str, ...]) -> str | None:
    for text in texts:
        for sentence in _sentences(text):
            clause = sentence.split(".")[0] if sentence.count(".") > 1 else sentence
            if _BEYOND.search(sentence) and not _NOT_BEYOND.search(clause) and _WHO_THEN.search(sentence):
                return sentence.strip()
    return None


def beyond_limit_sentence(entry) -> str | None:
    """The entry's own sentence on what happens over its limit, from its summary and conditions:
    a sentence with a comparative ("Større ændringer ...", "Længere fravær ...", "Har du flere med
    ...", "Vil du melde fra oftere ...") and a verb of who decides then ("aftaler du med
    planlæggeren", "planlægger lederen", "siger du pænt nej tak til"); not the sentence that
    states the limit ("Grænsen er antal dage ..."). None when it has none: the answer then sends
    the employee to the leader."""
    conditions = tuple(getattr(entry, "conditions", None) or ())
    texts = tuple(t for t in [getattr(entry, "summary", "") or "", *conditions] if t)
    return _beyond_of(texts)


def beyond_decides(sentence: str) -> str:
    """Who a :func:`beyond_limit_sentence` lets decide: ``nobody`` when it forbids ("siger du pænt nej
    tak til", "må ikke"), ``leader`` when it names a leader or a chief ("Længere fravær planlægger
    lederen", "aftales med centerlederen"), else ``other`` (a planner, a foreman, a pedagogue)."""
    if _NOBODY.search(normalise(sentence)):
        return "nobody"
    if _LEADER_NAMED.search(sentence):
        return "leader"
    return "other"


def _related_units(a: str, b: str) -> bool:
    """The same unit, or both durations (minutes, hours and days are one dimension)."""
    return a == b or (a in TIME_UNITS and b in TIME_UNITS)


@functools.lru_cache(maxsize=4096)
def _text_limits_of(texts: tuple[str, ...]) -> tuple[tuple[Limit, str], ...]:
    found = []
    for text in texts:
        position = 0
        for quantity in parse_quantities(text):
            start = text.find(quantity.text, position)
            if start < 0 or not quantity.exact:
                continue
            position = start + len(quantity.text)
            cue = _UPPER_CUE.search(text[max(0, start - 40):start])
            if cue is None:
                continue
            phrase = (cue.group(0).strip() + " " + quantity.text.strip()).strip()
            found.append((Limit(float(quantity.value), quantity.unit), phrase[0].lower() + phrase[1:]))
    smallest: dict[str, tuple[Limit, str]] = {}  # per unit, in the order the units first appear
    for limit, phrase in found:
        if limit.unit not in smallest or limit.value < smallest[limit.unit][0].value:
            smallest[limit.unit] = (limit, phrase)
    return tuple(smallest.values())


def text_limits(entry) -> tuple[tuple[Limit, str], ...]:
    """Upper limits that ``entry``'s summary and conditions state in words, one per unit (the
    smallest), each ``(Limit, phrase)``: "Du må selv godkende en praktik på op til fire uger" ->
    ``(Limit(28, "dage"), "op til fire uger")``. See :data:`_UPPER_CUE` for what makes a quantity a
    limit. Exceptions and the limit field are read elsewhere (:func:`check`)."""
    texts = tuple(t for t in [getattr(entry, "summary", "") or "", *(getattr(entry, "conditions", None) or ())] if t)
    return _text_limits_of(texts)


def _touched_condition(asked: frozenset, entry, analyzer: DanishAnalyzer, allowed: frozenset) -> str | None:
    """The first condition that the question touches, as written, or None.

    Conservative on purpose: a condition is touched only when the question names two of the
    condition's own content terms, or one specific one (:data:`SPECIFIC_TERM` letters: "sovealarm",
    "hjemmearbejdsdag"), same term or compound part (:func:`_named`). Own terms are those not in
    the topic nor in the summary's allowing sentences: those describe the entry in general and
    every question about it shares them; and one short common word ("borger", "stue") is shared
    by too many questions. Counting those would turn every "Ja" into "Ja, når ...". Restricting conditions are left to the exception check (they are
    no "Ja, når ..."), and a condition that only states the limit is left to the limit check.
    """
    limit = entry_limit(entry)
    for condition in getattr(entry, "conditions", None) or ():
        if not condition or restricts(condition):
            continue
        if limit is not None and (any(convert(q.value, q.unit, limit.unit) is not None
                                      for q in parse_quantities(condition)) or _LIMIT_WORDS.search(condition)):
            continue  # "Højst 1.000 kr. pr. indkøb.", "Beløbsgrænsen gælder pr. bestilling.": the limit
        own = _terms(analyzer, condition) - allowed
        named = [term for term in own if _named(term, asked - allowed)]
        if len(named) >= 2 or any(len(term) >= SPECIFIC_TERM for term in named):
            return condition
    return None


def as_payload(value: Any) -> dict | None:
    """A :class:`Limit` or :class:`Quantity` as a JSON-ready dict (None stays None)."""
    if value is None:
        return None
    if isinstance(value, Quantity):
        return {"value": value.value, "unit": value.unit, "text": value.text}
    return {"value": value.value, "unit": value.unit}
