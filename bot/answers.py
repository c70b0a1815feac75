"""Danish answer texts and chat payloads built from mandate entries.

The headline never says more than the rule: with a :class:`bot.rules.RuleCheck` it says "Ja"
only when nothing in the question touches an exception, condition or limit
(:func:`verdict_for`), and the badge and the card's tone match the headline.

Tone (DESIGN.md): encourage acting within the mandate, make clear that
learning from mistakes is expected, and point to the leader where the
decision is the leader's.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping, Sequence

from bot.domain import DECISIONS, SELF_DECISIONS, Limit, convert
from bot.localtime import danish_date
from bot.quantities import Quantity, describe, format_quantity
from bot.rules import RuleCheck, as_payload, entry_exceptions, entry_limit, restriction_exception

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
OVER_OTHER_LIMIT_BADGE = "Over grænsen: kræver godkendelse"
"""Badge when a duration, a number of persons or of times exceeds the limit."""
RESTRICTION_BADGE = "Undtagelse: tjek reglen"
"""Badge when the question names a case that the entry restricts (:mod:`bot.restrictions`)."""
CHECK_BADGE = "Tjek reglen først"
"""Badge when the bot cannot tell whether the rule allows it (:class:`bot.rules.RuleCheck` ``check``)."""
NOBODY_BADGE = "Ikke tilladt"
"""Badge of an exception that nobody may decide ("aldrig", "må ikke")."""
CONDITION_BADGES = {"employee": "Ja, på betingelse", "team": "I beslutter, på betingelse"}
"""Badges of a "Ja, når ..." answer (the question touches a condition)."""
OVER_NOBODY_CLOSING = "Er du i tvivl om beløbet eller grænsen, så spørg din leder: det er helt i orden at spørge."
"""Closing of an answer over a limit where the rule says no ("Større gaver siger du pænt nej tak til.")."""
RESTRICTION_CLOSING = "Er du i tvivl, om undtagelsen gælder for dig, så spørg din leder: det er helt i orden at spørge."
CHECK_CLOSING = "Er du i tvivl, så spørg din leder: det er helt i orden at spørge, og du må gerne komme med et forslag."

TONES = ("yes", "caution", "stop", "leader")
"""Colour of an answer card, matching its headline: ``yes`` (green: you or your team decide),
``caution`` (amber: yes on a condition, or check first), ``stop`` (red: not allowed),
``leader`` (blue: your leader or someone else decides, or approves over the limit)."""


def _sentence(text: str) -> str:
    """``text`` ending in one full stop ("2.000 kr." stays, not "2.000 kr..")."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _lower_first(text: str) -> str:
    """``text`` without a final full stop and with a lower-case first letter, to go inside a
    sentence; a word in capitals ("IT-udstyr", "MobilePay") keeps its first letter."""
    text = text.strip().rstrip(".").strip()
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def over_limit(entry, amount: int | None) -> bool:
    """True when ``amount`` (DKK) exceeds the limit of an entry the employee or team decides.

    Above the limit the decision is no longer the employee's or team's
    (the entry's contact or the leader approves), so the card must not say
    "Det må du selv".
    """
    limit_dkk = getattr(entry, "limit_dkk", None)
    return (entry.decision in ("employee", "team") and limit_dkk is not None
            and amount is not None and amount > limit_dkk)


def _decision_headline(entry) -> str:
    decision = entry.decision
    if decision == "employee":
        return "Ja, det må du gerne selv beslutte."
    if decision == "team":
        return "Det beslutter I selv i teamet."
    if decision == "leader":
        return "Det er din leders beslutning."
    return f"Det beslutter {entry.decided_by or 'en anden end dig'}."


def _decision_badge(entry) -> str:
    if entry.decision == "other" and entry.decided_by:
        return f"Det beslutter {entry.decided_by}"
    return DECISION_BADGES[entry.decision]


OVER_LIMIT_CLOSING = "Spørg om godkendelse, før du går videre: det er helt i orden at spørge, og du må gerne komme med et forslag."


def _closing(decision: str) -> str:
    if decision == "employee":
        return "Brug din faglige vurdering inden for rammen. Går noget skævt, lærer vi af det sammen."
    if decision == "team":
        return "Tag beslutningen sammen i teamet, og brug jeres faglige vurdering inden for rammen."
    if decision == "leader":
        return "Tal med din leder om det: det er helt i orden at spørge, og du må gerne komme med et forslag."
    return "Kontakt dem, der beslutter. Du må gerne komme med et forslag."


@dataclass(frozen=True)
class Verdict:
    """What the card says about the rule: the headline and the badge, tone, closing that match it.

    ``verdict`` is the :class:`bot.rules.RuleCheck` status, or ``decided`` when the entry is
    the leader's or someone else's and nothing changes that; ``decides`` who the headline lets
    decide (:attr:`bot.rules.RuleCheck.decides`).
    """

    verdict: str
    decides: str
    headline: str
    badge: str
    tone: str
    closing: str


_OVER_LEADS = {"kr": "Ikke ved det beløb", "minutter": "Ikke så længe", "timer": "Ikke så længe",
               "dage": "Ikke så længe", "personer": "Ikke så mange", "gange": "Ikke så mange gange"}
"""How an over-the-limit headline starts, by the limit's unit ("Ikke ved det beløb: ...")."""


def _self_tone(decision: str) -> str:
    return "yes" if decision in SELF_DECISIONS else "leader"


def _exception_verdict(entry, exception: dict) -> Verdict:
    """Headline of an exception case: who decides it (``nobody``: it is not allowed)."""
    who = exception.get("decision") or "leader"
    by = exception.get("decided_by")
    case = exception["case"]
    if exception.get("sentence"):  # a sentence of the entry (bot.restrictions), quoted as written
        if who == "nobody":
            return Verdict("exception", who, f"Nej: {_sentence(case)}", NOBODY_BADGE, "stop", RESTRICTION_CLOSING)
        # "kun", "kræver", "bestiller din leder": found by words, so the headline quotes it and asks
        # the employee to check it, and names the leader for the case it covers.
        return Verdict("exception", who,
                       f"Se undtagelsen først: {_sentence(case)} Gælder den for dit tilfælde, så spørg din leder.",
                       RESTRICTION_BADGE, "caution", RESTRICTION_CLOSING)
    case = _lower_first(case)
    if who == "nobody":
        headline = f"Nej: {case} er ikke tilladt."
        if by:
            headline += f" Spørg {by}, hvis du er i tvivl."
        return Verdict("exception", who, headline, NOBODY_BADGE, "stop", RESTRICTION_CLOSING)
    if who == "leader":
        return Verdict("exception", who, f"Ikke selv: {case} beslutter din leder.",
                       DECISION_BADGES["leader"], "leader", _closing("leader"))
    if who == "other":
        name = by or "en anden end dig"
        return Verdict("exception", who, f"Ikke selv: {case} beslutter {name}.",
                       f"Det beslutter {by}" if by else DECISION_BADGES["other"], "leader", _closing("other"))
    if who == "team":
        return Verdict("exception", who, f"Ikke alene: {case} beslutter I sammen i teamet.",
                       DECISION_BADGES["team"], "yes", _closing("team"))
    return Verdict("exception", who, f"Ja: {case} må du gerne selv beslutte.",
                   DECISION_BADGES["employee"], "yes", _closing("employee"))


_IMPERATIVES = frozenset(
    """sørg husk giv ring skriv kontakt tal brug spørg lav tag hold send aftal meld læg del tjek køb
    registrer notér noter informer orienter følg vær få gem aflever vent lad sig ret undgå
    dokumenter""".split())
"""Danish imperatives that conditions in the catalogue often start with ("Sørg først for ...",
"Husk at ..."): such a condition is an instruction, not a clause that can follow "når"."""


def _imperative(condition: str) -> bool:
    """True when ``condition`` starts with an imperative (:data:`_IMPERATIVES`)."""
    first = condition.strip().split(" ", 1)[0].strip(",.:;").lower()
    return first in _IMPERATIVES


def _check_consequence(exception: dict | None) -> str:
    if not exception:
        return ""
    who, by = exception.get("decision"), exception.get("decided_by")
    return {
        "nobody": "; i så fald er det ikke tilladt",
        "leader": "; i så fald beslutter din leder",
        "other": f"; i så fald beslutter {by or 'en anden end dig'}",
        "team": "; i så fald beslutter I i teamet",
        "employee": "; i så fald må du selv",
    }.get(who, "")


def verdict_for(entry, check: "RuleCheck") -> Verdict:
    """The headline, badge, tone and closing for ``entry`` after ``check``.

    "Ja, det må du gerne selv beslutte." only for clear and within_limit (DESIGN.md: "Ja" only
    when nothing is in doubt); the leader's and someone else's decisions keep their headline
    unless an exception or the limit changes who decides.
    """
    decision = entry.decision
    status = check.status
    if status == "exception":
        return _exception_verdict(entry, check.exception or {"case": check.case or entry.topic})
    if status == "over_limit" and check.limit is not None and check.quantity is not None:
        limit = format_quantity(check.limit.value, check.limit.unit)
        asked = describe(check.quantity)
        badge = OVER_LIMIT_BADGE if check.limit.unit == "kr" else OVER_OTHER_LIMIT_BADGE
        if decision in SELF_DECISIONS:
            who = "du" if decision == "employee" else "I i teamet"
            # Over the limit: the entry's own sentence on it ("Større ændringer aftaler du med
            # planlæggeren."), else the leader approves.
            then = _sentence(check.beyond) if check.beyond else "Over grænsen skal du have det godkendt af din leder."
            headline = (f"{_OVER_LEADS[check.limit.unit]}: {who} må selv beslutte op til {limit}, og du nævner "
                        f"{_sentence(asked)} {then}")
        else:
            boss = "din leder" if decision == "leader" else (entry.decided_by or "den, der beslutter")
            headline = (f"{_OVER_LEADS[check.limit.unit]}: {boss} kan beslutte det op til {limit}, og du nævner "
                        f"{_sentence(asked)} Over grænsen skal det godkendes højere oppe: spørg din leder, hvem der gør det.")
        if check.decides == "nobody":  # "Større gaver siger du pænt nej tak til.": the badge says the same
            return Verdict("over_limit", "nobody", headline, NOBODY_BADGE, "stop", OVER_NOBODY_CLOSING)
        return Verdict("over_limit", check.decides, headline, badge, "leader", OVER_LIMIT_CLOSING)
    if decision not in SELF_DECISIONS:
        return Verdict("decided", decision, _decision_headline(entry), _decision_badge(entry), "leader",
                       _closing(decision))
    if status == "check":
        what = (check.condition or "om reglen passer på dit tilfælde").rstrip(".")
        headline = f"Det kommer an på: {what}{_check_consequence(check.exception)}. Tjek det, før du går videre."
        return Verdict("check", "unsure", headline, CHECK_BADGE, "caution", CHECK_CLOSING)
    if status == "condition" and check.condition:
        condition = _lower_first(check.condition)
        if _imperative(check.condition):  # "Sørg først for ...": no "når" clause
            lead = "Ja, det må du gerne selv beslutte" if decision == "employee" else "Ja, I beslutter selv i teamet"
            headline = f"{lead}, men husk: {_sentence(check.condition.strip())}"
        else:
            headline = f"Ja, når {condition}." if decision == "employee" else \
                f"Ja, I beslutter selv i teamet, når {condition}."
        return Verdict("condition", decision, headline, CONDITION_BADGES[decision], "caution", _closing(decision))
    return Verdict(status if status in ("clear", "within_limit") else "clear", decision,
                   _decision_headline(entry), DECISION_BADGES[decision], "yes", _closing(decision))


def _legacy_verdict(entry, amount_dkk: int | None, restriction: str | None) -> Verdict:
    """The verdict without a :class:`bot.rules.RuleCheck` (callers that pass ``amount_dkk`` and
    ``restriction`` only): over the kr limit, a restricting sentence, or the entry's decision."""
    decision = entry.decision
    if over_limit(entry, amount_dkk):
        who = "du" if decision == "employee" else "I i teamet"
        headline = (
            f"Ikke ved det beløb: {who} må selv beslutte op til {format_dkk(entry.limit_dkk)}, "
            f"og du nævner {_sentence(format_dkk(amount_dkk))} Over grænsen skal du have det godkendt af din leder."
        )
        return Verdict("over_limit", "leader", headline, OVER_LIMIT_BADGE, "leader", OVER_LIMIT_CLOSING)
    if restriction and decision in SELF_DECISIONS:
        rest = "må du selv beslutte" if decision == "employee" else "beslutter I selv i teamet"
        headline = f"Se undtagelsen først: {_sentence(restriction)} Passer den ikke på dit tilfælde, {rest}."
        return Verdict("exception", "unsure", headline, RESTRICTION_BADGE, "caution", RESTRICTION_CLOSING)
    if decision not in SELF_DECISIONS:
        return Verdict("decided", decision, _decision_headline(entry), DECISION_BADGES[decision], "leader",
                       _closing(decision))
    within = amount_dkk is not None and getattr(entry, "limit_dkk", None) is not None
    return Verdict("within_limit" if within else "clear", decision, _decision_headline(entry),
                   DECISION_BADGES[decision], "yes", _closing(decision))


EXCEPTION_DECIDERS = {"nobody": "aldrig tilladt", "leader": "det beslutter din leder",
                      "employee": "det må du selv", "team": "det beslutter I i teamet"}
"""How the card says who decides an exception's case (``other``: its ``decided_by``)."""


def exception_line(item: Mapping) -> str:
    """One exception of an entry as the card shows it: "gavekort: aldrig tilladt",
    "kørsel i egen bil: det beslutter Visitationen"."""
    who = (f"det beslutter {item.get('decided_by') or 'en anden'}" if item.get("decision") == "other"
           else EXCEPTION_DECIDERS.get(item.get("decision"), item.get("decision")))
    return f"{item.get('case')}: {who}"


def limit_line(limit: Limit | None, quantity: Quantity | None = None, *, over: bool = False) -> str | None:
    """The card's limit line, rendered from the limit field (never from free text):
    "Beløbsgrænse: 2.500 kr." for kroner, "Grænse: 2 dage" for other units, with the asked quantity
    when it is within ("(dit beløb, 400 kr., er inden for grænsen)"). None without a limit."""
    if limit is None:
        return None
    label = "Beløbsgrænse" if limit.unit == "kr" else "Grænse"
    line = f"{label}: {format_quantity(limit.value, limit.unit)}"
    if quantity is not None and not over:
        value = convert(quantity.value, quantity.unit, limit.unit)
        upper = quantity.upper if quantity.upper is not None else quantity.value
        upper = convert(upper, quantity.unit, limit.unit) if upper != float("inf") else upper
        if value is not None and upper is not None and upper <= limit.value and not quantity.above:
            asked = describe(quantity)
            line += (f" (dit beløb, {asked}, er inden for grænsen)" if limit.unit == "kr"
                     else f" ({asked} er inden for grænsen)")
    return _sentence(line)


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
    check: "RuleCheck | None" = None,
    review_due: bool = False,
) -> Reply:
    """The answer to a question from one entry.

    Args:
        entry: a :class:`bot.db.models.Mandate` (or an object with its fields).
        unit_name: display name of the entry's unit.
        asker_unit_id: the asker's unit (to say when the entry is inherited).
        amount_dkk: an amount from the question, compared with ``limit_dkk`` when no ``check``
            is given (the kr quantity of ``check`` otherwise).
        english: the question was in English (we answer in Danish and say so).
        question_id: id of the stored question (for feedback buttons).
        follow_up: the question referred back to the previous answer.
        restriction: without ``check`` only: the entry's sentence that restricts what was asked
            (:func:`bot.restrictions.restriction_for`); the answer then leads with it.
        check: the question checked against the entry (:func:`bot.rules.check`): chooses the
            headline (:func:`verdict_for`); ``restriction`` is then ignored.
        review_due: the entry is past its review date (:func:`bot.domain.review_status` ``due``):
            the answer says so (:func:`review_notice`), right after the entry's summary.

    Returns:
        A :class:`Reply`; ``custom`` follows DESIGN.md: ``{"type": "mandate_answer",
        "mandate_id", "unit", "decision", ...}`` plus the card fields (badge, topic, conditions,
        limit, inform, how, source) and the verdict: ``verdict``, ``decides``, ``tone``
        (:data:`TONES`), ``exception`` (dict or None), ``limit`` ({"value", "unit"} or None),
        ``quantity`` ({"value", "unit", "text"} or None), ``review_due`` (bool), ``review_by`` (ISO date
        or None) and ``review_notice`` (the Danish line, or None).
    """
    if check is not None:
        verdict = verdict_for(entry, check)
        limit = check.limit if check.limit is not None else entry_limit(entry)
        quantity = check.quantity
        exception = check.exception if check.status in ("exception", "check") else None
        restriction = exception["case"] if exception and check.status == "exception" else None
        if quantity is not None and quantity.unit == "kr":
            amount_dkk = int(quantity.value)
    else:
        restriction = restriction if entry.decision in SELF_DECISIONS and not over_limit(entry, amount_dkk) else None
        verdict = _legacy_verdict(entry, amount_dkk, restriction)
        limit = entry_limit(entry)
        quantity = Quantity(float(amount_dkk), "kr", format_dkk(amount_dkk)) if amount_dkk is not None else None
        exception = restriction_exception(restriction) if restriction else None
    over = verdict.verdict == "over_limit"
    lines = []
    if follow_up:
        lines.append(f"Det følger reglen fra før om \"{entry.topic}\".")
    if english:
        lines.append("(I answer in Danish, the language of the catalogue.)")
    lines.append(f"{verdict.headline} Emne: {entry.topic}.")
    lines.append(entry.summary)
    stale = review_notice(entry.review_by) if review_due and getattr(entry, "review_by", None) else None
    if stale:
        lines.append(stale)
    conditions = list(entry.conditions or [])
    if conditions:
        lines.append("Betingelser:\n" + "\n".join(f"• {c}" for c in conditions))
    exceptions = [exception_line(item) for item in entry_exceptions(entry)]
    if exceptions:
        lines.append("Undtagelser:\n" + "\n".join(f"• {line}" for line in exceptions))
    limit_text = limit_line(limit, quantity if limit is not None and quantity is not None else None, over=over)
    if limit_text:
        lines.append(limit_text)
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
    lines.append(verdict.closing)
    custom = {
        "type": "mandate_answer",
        "mandate_id": entry.id,
        "unit": entry.unit_id,
        "decision": entry.decision,
        "badge": verdict.badge,
        "over_limit": over,
        "restriction": restriction,
        "topic": entry.topic,
        "decided_by": entry.decided_by,
        "summary": entry.summary,
        "conditions": conditions,
        "exceptions": exceptions,
        "limit_dkk": getattr(entry, "limit_dkk", None),
        "amount_dkk": amount_dkk,
        "inform": entry.inform,
        "how": entry.how,
        "source": entry.source,
        "unit_name": unit_name,
        "question_id": question_id,
        "verdict": verdict.verdict,
        "decides": verdict.decides,
        "tone": verdict.tone,
        "exception": dict(exception) if exception else None,
        "limit": as_payload(limit),
        "quantity": as_payload(quantity),
        "review_due": bool(stale),
        "review_by": entry.review_by.isoformat() if stale else None,
        "review_notice": stale,
    }
    return Reply("\n".join(lines), custom)


def review_notice(review_by: dt.date) -> str:
    """The answer's line about an entry past its review date: "Bemærk: reglen skulle have været
    gennemgået senest 30. juni 2026. ..." (the entry still applies: it is in force)."""
    return (f"Bemærk: reglen skulle have været gennemgået senest {danish_date(review_by)}, så den kan være "
            "forældet. Spørg din leder, hvis du er i tvivl om, at den stadig gælder.")


_QUANTITY_SUBJECTS = {"kr": "beløb", "minutter": "hvor længe", "timer": "hvor længe", "dage": "hvor længe",
                      "personer": "hvor mange I er", "gange": "hvor mange gange"}
"""What a rule without a limit in a quantity's unit does not speak of ("... siger ikke noget om beløb")."""


def no_answer_reply(
    question_id: int | None,
    *,
    outside_topic: str | None = None,
    outside_unit_name: str | None = None,
    outside_valid_to: dt.date | None = None,
    previous_topic: str | None = None,
    previous_unit: str | None = None,
) -> Reply:
    """The honest "I don't know" answer; the question is stored for HR.

    Args:
        question_id: id of the stored (redacted) question.
        outside_topic / outside_unit_name / outside_valid_to: a fitting entry
            that is not in force for the asker (another unit's, or expired).
        previous_topic: the topic of the previous answer, when the question
            named a quantity that entry has no limit for.
        previous_unit: that quantity's unit (:data:`bot.domain.LIMIT_UNITS`; default kroner).
    """
    lines = ["Det kan jeg ikke finde et klart svar på i jeres mandatkatalog."]
    if previous_topic:
        about = _QUANTITY_SUBJECTS.get(previous_unit or "kr", "beløb")
        lines.append(f"Reglen fra før om \"{previous_topic}\" siger ikke noget om {about}.")
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
        "Jeg har gemt dit spørgsmål uden personoplysninger og sendt det til din leder (eller HR), så det "
        "kan blive besvaret. Svaret får du her i chatten, næste gang du åbner den."
    )
    lines.append("Indtil da: spørg din nærmeste leder.")
    return Reply(" ".join(lines), {"type": "no_mandate", "question_id": question_id})


NONE_OF_THEM = "Ingen af dem"
"""The last option of a clarifying question: the question then stays with HR, with the options offered."""


def clarify_reply(options: Sequence, question_id: int | None) -> Reply:
    """ "Handler det om A, B eller C?" when the question may be about one of a few entries.

    The payload ``{"type": "clarify", "options": [{"mandate_id", "topic"}], "none_label", "question_id"}``
    carries no answer; the chat shows the options as buttons
    (``/choose_mandate{"mandate_id": ..., "question_id": ...}``) plus "Ingen af dem"
    (``mandate_id`` ``"none"``).
    """
    topics = [f"\"{o.topic}\"" for o in options]
    listed = topics[0] if len(topics) == 1 else ", ".join(topics[:-1]) + " eller " + topics[-1]
    text = f"Handler det om {listed}? Vælg det, der passer, eller \"{NONE_OF_THEM}\"."
    return Reply(text, {
        "type": "clarify",
        "question_id": question_id,
        "options": [{"mandate_id": o.id, "topic": o.topic} for o in options],
        "none_label": NONE_OF_THEM,
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
