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

    Args:
        question: the user's message.
        entry: a mandate entry (``topic``, ``summary``, ``conditions``; model or snapshot).
        analyzer: the Danish analyser used for retrieval.

    Returns:
        The sentence as written in the catalogue, or None when the question names
        nothing that a restricting sentence singles out.
    """
    asked = set(analyzer.terms(question))
    if not asked:
        return None
    summary = _sentences(entry.summary)
    conditions = [s for c in (entry.conditions or []) for s in _sentences(c)]
    allowed = set(analyzer.terms(entry.topic or ""))
    for sentence in summary:
        if not restricts(sentence):
            allowed |= set(analyzer.terms(sentence))
    case = asked - allowed
    if not case:
        return None
    for sentence in [*conditions, *summary]:
        if restricts(sentence) and case & set(analyzer.terms(sentence)):
            return sentence
    return None
