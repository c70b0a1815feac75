"""The sentence of an entry that restricts exactly what was asked ("... gavekort ... aldrig").

An entry's decision says who decides in general; its summary and conditions
often carve out cases: "En ny computer ... bestiller din leder", "Du må aldrig
tage imod ... gavekort", "Besøg med ... insulin ... må ikke flyttes". When a
question names such a case, a plain "Ja, det må du gerne" is the worst failure
of DESIGN.md ("Answering"): the answer must lead with the restriction instead.

A sentence restricts when it forbids, limits or hands the case to the leader
("må ikke", "aldrig", "kun", "kræver", "bestiller din leder") and does not
itself grant ("må du selv"). A question term is the
restricted case when it is in such a sentence and neither in the entry's topic
nor in a sentence of the summary without a cue (those say what the entry
allows). Terms are :meth:`bot.language.DanishAnalyzer.terms` (lemmas, stems,
ASCII-folded), so inflections and æ/ae meet.
"""
from __future__ import annotations

import functools
import re

from bot.language import DanishAnalyzer, normalise

_RESTRICTION = re.compile(
    r"\b(?:må|kan|skal|bør)\s+(?:du\s+|i\s+|de\s+|man\s+|den\s+|det\s+)?(?:ikke|aldrig)\b"
    r"|\baldrig\b|\bkun\b|\bkræver\b|\bundtagen\b|\bbortset fra\b|\bforbudt\b|\bnej tak\b"
    r"|\b(?:bestiller|beslutter|bestemmer|godkender)\s+(?:din|jeres)\s+leder\b"
    r"|\b(?:din|jeres)\s+leder\s+(?:beslutter|bestemmer|godkender|skal godkende)\b"
    r"|\bskal\s+(?:din|jeres)\s+leder\s+godkende\b"
)
"""What makes a sentence a restriction: "må ikke", "aldrig", "kun", "kræver", "bestiller din leder", ..."""
_PERMISSION = re.compile(r"\b(?:må|kan)\s+(?:du|i)\s+(?:gerne\s+)?selv\b|\b(?:du|i)\s+må\s+(?:gerne\s+)?selv\b")
"""A sentence that grants ("må du selv", "I må gerne selv") says what the entry allows, whatever else it says."""

_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


def _sentences(text: str | None) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text or "") if s.strip()]


def restricts(sentence: str) -> bool:
    """True when ``sentence`` restricts (:data:`_RESTRICTION`) and does not grant (:data:`_PERMISSION`)."""
    text = normalise(sentence)
    return bool(_RESTRICTION.search(text)) and not _PERMISSION.search(text)


def restriction_for(question: str, entry, analyzer: DanishAnalyzer) -> str | None:
    """The first sentence of ``entry`` (conditions, then summary) that restricts what ``question`` asks about.

    Only an employee's or team's decision can be restricted this way (a leader's
    or someone else's is no "Ja" to begin with): for other decisions, None.

    Args:
        question: the user's message.
        entry: a mandate entry (``decision``, ``topic``, ``summary``, ``conditions``; model or snapshot).
        analyzer: the Danish analyser used for retrieval.

    Returns:
        The sentence as written in the catalogue, or None when the question names
        nothing that a restricting sentence singles out.
    """
    if entry.decision not in ("employee", "team"):
        return None
    asked = set(analyzer.terms(question))
    if not asked:
        return None
    allowed, restricting = _profile(analyzer, entry.topic or "", entry.summary or "", tuple(entry.conditions or ()))
    case = asked - allowed
    for sentence, terms in restricting:
        if case & terms:
            return sentence
    return None


@functools.lru_cache(maxsize=1024)
def _profile(analyzer: DanishAnalyzer, topic: str, summary: str,
             conditions: tuple[str, ...]) -> tuple[frozenset, tuple[tuple[str, frozenset], ...]]:
    """``(allowed terms, ((restricting sentence, its terms), ...))`` of an entry's text, once per text
    (not on every answer): the topic and the summary's sentences without a restriction are what
    the entry allows; the restricting sentences come conditions first, then summary."""
    summary_sentences = _sentences(summary)
    allowed = set(analyzer.terms(topic))
    for sentence in summary_sentences:
        if not restricts(sentence):
            allowed |= set(analyzer.terms(sentence))
    restricting = tuple((sentence, frozenset(analyzer.terms(sentence)))
                        for sentence in [*(s for c in conditions for s in _sentences(c)), *summary_sentences]
                        if restricts(sentence))
    return frozenset(allowed), restricting
