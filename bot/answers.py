"""Danish answer texts and chat payloads built from mandate entries.

Tone (DESIGN.md): encourage acting within the mandate, make clear that
learning from mistakes is expected, and point to the leader where the
decision is the leader's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from bot.db.models import DECISIONS

DECISION_BADGES = {
    "employee": "Det må du selv",
    "team": "Det beslutter I i teamet",
    "leader": "Det beslutter din leder",
    "other": "Det beslutter en anden",
}
"""Short Danish label of who decides, as shown on answer cards."""

LIST_HEADINGS = {
    "employee": "Det må du selv beslutte",
    "team": "Det beslutter I selv i teamet",
    "leader": "Det beslutter din leder",
    "other": "Det beslutter andre",
}


def format_dkk(amount: int | float) -> str:
    """Danish amount text: 25000 -> ``"25.000 kr."``."""
    return f"{int(round(amount)):,}".replace(",", ".") + " kr."


@dataclass(frozen=True)
class Reply:
    """A bot message: Danish ``text`` and the machine-readable ``custom`` payload."""

    text: str
    custom: dict


OVER_LIMIT_BADGE = "Over beløbsgrænsen: kræver godkendelse"
"""Badge when the asked amount exceeds the limit of an employee's or team's mandate."""
RESTRICTION_BADGE = "Undtagelse: tjek reglen"
"""Badge when the question names a case that the entry restricts (:mod:`bot.restrictions`)."""
RESTRICTION_CLOSING = "Er du i tvivl, om undtagelsen gælder for dig, så spørg din leder: det er helt i orden at spørge."


def _sentence(text: str) -> str:
    """``text`` ending in one full stop ("2.000 kr." stays, not "2.000 kr..")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def over_limit(entry, amount: int | None) -> bool:
    """True when ``amount`` (DKK) exceeds the limit of an entry the employee or team decides.

    Above the limit the decision is no longer the employee's or team's
    (the entry's contact or the leader approves), so the card must not say
    "Det må du selv".
    """
    return (entry.decision in ("employee", "team") and entry.limit_dkk is not None
            and amount is not None and amount > entry.limit_dkk)


def _headline(entry, amount: int | None, restriction: str | None = None) -> str:
    """The first line of an answer; ``restriction`` only for an employee's or team's decision within
    its limit (:func:`mandate_reply` filters it)."""
    decision = entry.decision
    if restriction:
        rest = "må du selv beslutte" if decision == "employee" else "beslutter I selv i teamet"
        return f"Se undtagelsen først: {_sentence(restriction)} Passer den ikke på dit tilfælde, {rest}."
    if over_limit(entry, amount):
        who = "du" if decision == "employee" else "I i teamet"
        return (
            f"Ikke ved det beløb: {who} må selv beslutte op til {format_dkk(entry.limit_dkk)}, "
            f"og du nævner {_sentence(format_dkk(amount))} Over grænsen skal du have det godkendt af din leder."
        )
    if decision == "employee":
        return "Ja, det må du gerne selv beslutte."
    if decision == "team":
        return "Det beslutter I selv i teamet."
    if decision == "leader":
        return "Det er din leders beslutning."
    return f"Det beslutter {entry.decided_by or 'en anden end dig'}."


OVER_LIMIT_CLOSING = "Spørg om godkendelse, før du går videre: det er helt i orden at spørge, og du må gerne komme med et forslag."


def _closing(decision: str) -> str:
    if decision == "employee":
        return "Brug din faglige vurdering inden for rammen. Går noget skævt, lærer vi af det sammen."
    if decision == "team":
        return "Tag beslutningen sammen i teamet, og brug jeres faglige vurdering inden for rammen."
    if decision == "leader":
        return "Tal med din leder om det: det er helt i orden at spørge, og du må gerne komme med et forslag."
    return "Kontakt dem, der beslutter. Du må gerne komme med et forslag."


def mandate_reply(
    entry,
    *,
    unit_name: str | None = None,
    asker_unit_id: str | None = None,
    amount_dkk: int | None = None,
    english: bool = False,
    question_id: int | None = None,
    follow_up: bool = False,
    restriction: str | None = None,
) -> Reply:
    """The answer to a question from one entry.

    Args:
        entry: a :class:`bot.db.models.Mandate` (or an object with its fields).
        unit_name: display name of the entry's unit.
        asker_unit_id: the asker's unit (to say when the entry is inherited).
        amount_dkk: an amount from the question, compared with ``limit_dkk``.
        english: the question was in English (we answer in Danish and say so).
        question_id: id of the stored question (for feedback buttons).
        follow_up: the question referred back to the previous answer.
        restriction: the entry's sentence that restricts what was asked
            (:func:`bot.restrictions.restriction_for`). For an employee's or
            team's decision the answer then leads with it instead of "Ja",
            and the payload carries it as ``restriction``.

    Returns:
        A :class:`Reply`; ``custom`` follows DESIGN.md: ``{"type":
        "mandate_answer", "mandate_id", "unit", "decision", ...}`` plus the
        card fields (topic, conditions, limit, inform, how, source).
    """
    lines = []
    if follow_up:
        lines.append(f"Det følger reglen fra før om \"{entry.topic}\".")
    if english:
        lines.append("(I answer in Danish, the language of the catalogue.)")
    over = over_limit(entry, amount_dkk)
    restriction = restriction if entry.decision in ("employee", "team") and not over else None
    lines.append(f"{_headline(entry, amount_dkk, restriction)} Emne: {entry.topic}.")
    lines.append(entry.summary)
    conditions = list(entry.conditions or [])
    if conditions:
        lines.append("Betingelser:\n" + "\n".join(f"• {c}" for c in conditions))
    if entry.limit_dkk is not None:
        limit = f"Beløbsgrænse: {format_dkk(entry.limit_dkk)}"
        if amount_dkk is not None and amount_dkk <= entry.limit_dkk:
            limit += f" (dit beløb, {format_dkk(amount_dkk)}, er inden for grænsen)"
        lines.append(_sentence(limit))
    if entry.inform:
        lines.append(f"Giv besked: {entry.inform}")
    if entry.how:
        lines.append(f"Sådan gør du: {entry.how}")
    source = f"Kilde: {entry.source}" if entry.source else "Kilde: jeres mandatkatalog"
    if unit_name and asker_unit_id and asker_unit_id != entry.unit_id:
        source += f" (gælder for hele {unit_name})"
    lines.append(_sentence(source))
    if entry.contact:
        lines.append(_sentence(f"Spørgsmål: {entry.contact}"))
    lines.append(OVER_LIMIT_CLOSING if over else RESTRICTION_CLOSING if restriction else _closing(entry.decision))
    custom = {
        "type": "mandate_answer",
        "mandate_id": entry.id,
        "unit": entry.unit_id,
        "decision": entry.decision,
        "badge": OVER_LIMIT_BADGE if over else RESTRICTION_BADGE if restriction else DECISION_BADGES[entry.decision],
        "over_limit": over,
        "restriction": restriction,
        "topic": entry.topic,
        "decided_by": entry.decided_by,
        "summary": entry.summary,
        "conditions": conditions,
        "limit_dkk": entry.limit_dkk,
        "amount_dkk": amount_dkk,
        "inform": entry.inform,
        "how": entry.how,
        "source": entry.source,
        "unit_name": unit_name,
        "question_id": question_id,
    }
    return Reply("\n".join(lines), custom)


def no_answer_reply(
    question_id: int | None,
    *,
    outside_topic: str | None = None,
    outside_unit_name: str | None = None,
    outside_valid_to: dt.date | None = None,
    previous_topic: str | None = None,
) -> Reply:
    """The honest "I don't know" answer; the question is stored for HR.

    Args:
        question_id: id of the stored (redacted) question.
        outside_topic / outside_unit_name / outside_valid_to: a fitting entry
            that is not in force for the asker (another unit's, or expired).
        previous_topic: the topic of the previous answer, when the question
            asked about an amount and that entry has no amount limit.
    """
    lines = ["Det kan jeg ikke finde et klart svar på i jeres mandatkatalog."]
    if previous_topic:
        lines.append(f"Reglen fra før om \"{previous_topic}\" siger ikke noget om beløb.")
    if outside_topic and outside_valid_to:
        lines.append(
            f"Der var en regel om \"{outside_topic}\", men den gjaldt kun til "
            f"{outside_valid_to.strftime('%d.%m.%Y')}."
        )
    elif outside_topic and outside_unit_name:
        lines.append(
            f"Der findes en regel om \"{outside_topic}\" for {outside_unit_name}, "
            "men den gælder ikke for din enhed."
        )
    lines.append(
        "Jeg har gemt dit spørgsmål uden personoplysninger, så HR kan se det og få "
        "beslutningskompetencen beskrevet."
    )
    lines.append("Indtil da: spørg din nærmeste leder.")
    return Reply(" ".join(lines), {"type": "no_mandate", "question_id": question_id})


def clarify_reply(options: Sequence, question_id: int | None) -> Reply:
    """ "Mener du A eller B?" when two entries fit nearly equally well.

    The payload ``{"type": "clarify", "options": [{"mandate_id", "topic"}], "question_id"}``
    carries no answer; the chat shows the options as buttons
    (``/choose_mandate{"mandate_id": ..., "question_id": ...}``).
    """
    topics = [f"\"{o.topic}\"" for o in options]
    text = "Mener du " + " eller ".join(topics) + "? Vælg det, der passer bedst."
    return Reply(text, {
        "type": "clarify",
        "question_id": question_id,
        "options": [{"mandate_id": o.id, "topic": o.topic} for o in options],
    })


def list_reply(entries: Sequence, unit_name: str) -> Reply:
    """The unit's entries in force, grouped by who decides (``list_mandates``)."""
    if not entries:
        return Reply(f"Der er ingen poster i mandatkataloget for {unit_name} endnu.",
                     {"type": "mandate_list", "unit_name": unit_name, "groups": {}})
    groups: dict[str, list] = {d: [] for d in DECISIONS}
    for entry in sorted(entries, key=lambda e: e.topic.lower()):
        groups[entry.decision].append(entry)
    lines = [f"Det her gælder for {unit_name}:"]
    for decision, items in groups.items():
        if not items:
            continue
        lines.append(f"\n{LIST_HEADINGS[decision]}:")
        for entry in items:
            extra = f" ({entry.decided_by})" if decision == "other" and entry.decided_by else ""
            lines.append(f"• {entry.topic}{extra}")
    lines.append("\nSpørg om et af emnerne for at få betingelser og kilde.")
    payload = {
        "type": "mandate_list",
        "unit_name": unit_name,
        "groups": {d: [{"mandate_id": e.id, "topic": e.topic} for e in items] for d, items in groups.items() if items},
    }
    return Reply("\n".join(lines), payload)
