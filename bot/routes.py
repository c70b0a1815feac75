"""Routes: what to do after a mistake at work, and when worried about a child or a citizen.

A unit's leader marks entries as the *route* for a situation (``Mandate.route``,
:data:`bot.domain.ROUTES`): ``mistake`` (a medicine error, a data breach, an
adverse event: what to do after a mistake at work) and ``concern`` (concern for
a child or a citizen, violence, threats, abuse: the duty to report and how).
This module finds those entries (:func:`route_entries`), picks the one that
fits a message best (:func:`best_entry`), tells whether a message voices a
concern (:func:`detect_concern`), and writes the replies
(:func:`mistake_reply`, :func:`concern_reply`, :func:`route_answer`).

Tone (DESIGN.md, aktørskab): room for mistakes and psychological safety: it is
normal to make mistakes, what matters is to act on it and learn. The replies
never invent rules: without a route entry they only point to the nearest
leader (and 112 when someone is in acute danger).

Every function here runs in time linear in the message: the regular
expressions have no nested quantifiers, and texts are capped at
:data:`MAX_TEXT` characters.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterable, Sequence

from sqlalchemy.orm import Session

from bot.answers import Reply
from bot.catalogue.tree import entries_in_force
from bot.db.models import Mandate
from bot.domain import ROUTES

MAX_TEXT = 4000
"""Characters of a message looked at (the message path caps messages anyway)."""

# -- concern -----------------------------------------------------------------
# Conservative: a word or phrase that on its own voices concern for someone's
# safety. Ordinary words that also occur in mandate questions ("slå vagter
# sammen", "voldsomt travlt", "Østervold", "misbrug af kortet") do not match.
_CONCERN_PATTERNS = [
    # Danish
    r"\bvold(?:en|elig|elige|eligt|sramt\w*|sudøv\w*|shandling\w*|sepisode\w*|strussel|struslen|s(?:offer|ofre)\w*)?\b",
    r"\b(?:partner|kæreste|familie|børne|hus)vold\b",
    r"\btrus(?:sel|len|ler|lerne|lende)\b",
    r"\btru(?:er|ede|et|ende)\s+(?:mig|os|ham|hende|dem|med|en|et|barnet|borgeren|personalet|kollega\w*)\b",
    r"\b(?:seksuel(?:le|t)?\s+)?overgreb\w*\b",
    r"\b(?:seksuel|seksuelle|seksuelt)\s+(?:krænk\w*|misbrug\w*)\b",
    r"\bkrænk(?:et|ede|elser?|elsen)\b",
    r"\bmisbrug(?:t|er|es)?\s+(?:af\s+)?(?:barnet|børn\w*|hende|ham|et\s+barn|en\s+borger|borgeren)\b",
    r"\b(?:blå|blåt|gule|grønne)\s+mærker\b",
    r"\bmærker\s+på\s+(?:kroppen|armen|armene|halsen|ryggen|benene|kinden)\b",
    r"\bomsorgssvigt\w*\b",
    r"\bvanrøgt\w*\b",
    r"\bmistriv(?:es|sel|sels\w*)\b",
    r"\bunderretning(?:en|er|spligt\w*)?\b",
    r"\bunderrette\b",
    r"\bselvskad\w*\b",
    r"\bskær(?:er|e|ede)\s+i\s+(?:sig\s+selv|armene|armen|sine\s+arme)\b",
    r"\bselvmord\w*\b",
    r"\btage\s+sit\s+(?:eget\s+)?liv\b",
    r"\bvil\s+ikke\s+leve\b",
    r"\b(?:slår|slog|slået|slås)\s+(?:sit|sin|sine|hans|hendes|deres|barnet|børnene|drengen|pigen|hende|ham|mig|en\s+borger|borgeren|beboeren)\b",
    r"\b(?:blevet|bliver|blev)\s+(?:slået|sparket|kvalt|truet|skubbet|krænket|misbrugt)\b",
    r"\b(?:tør|turde)\s+ikke\s+(?:at\s+)?gå\s+hjem\b",
    r"\bbange\s+for\s+(?:at\s+gå\s+hjem|sin\s+(?:far|mor|stedfar|stedmor|papfar|papmor|kæreste|mand|kone))\b",
    # English
    r"\bviolen(?:ce|t)\b",
    r"\bthreat(?:s|en|ens|ened|ening)?\b",
    r"\babus(?:e|ed|es|ing|ive)\b",
    r"\bbruis(?:e|es|ed|ing)\b",
    r"\bneglect(?:ed|ing|s)?\b",
    r"\bself[- ]?harm\w*\b",
    r"\bsuicid\w*\b",
    r"\b(?:hit|hits|hitting|beaten|beats|beating|kicked|kicking|slapped|slapping|molested)\s+"
    r"(?:by|him|her|them|me|the\s+child|a\s+child|the\s+kid|the\s+old\s+\w+|his|their)\b",
    # Touching a child in a way the child does not want (sexual abuse as children and staff say it).
    r"\btouch(?:es|ed|ing)?\s+(?:her|him|them|the\s+child|the\s+girl|the\s+boy)\s+(?:in\s+a\s+way|inappropriately|"
    r"where|when|in\s+(?:her|his)\s+private)",
    r"\brør(?:er|te)?\s+ved\s+(?:hende|ham|barnet|pigen|drengen|dem)\s+(?:på\s+en\s+måde|hvor|et\s+sted|når)",
    r"\bbefaml\w*\b",
    r"\bsexual(?:ly)?\s+(?:abuse\w*|assault\w*|harass\w*)",
    r"\bgrooming\b",
]
_CONCERN_RE = re.compile("|".join(f"(?:{p})" for p in _CONCERN_PATTERNS), re.IGNORECASE)

# Worry (Danish/English) is a concern only about a person: "bekymret for en dreng",
# "worried about a child"; or the noun "bekymring" with a person anywhere in the message.
_PERSON = (
    r"(?:barn|barnet|børn|børnene|dreng|drengen|pige|pigen|elev|eleven|baby|babyen|spædbarn\w*|"
    r"teenager\w*|unge|ung\s+pige|ung\s+mand|borger|borgeren|beboer|beboeren|bruger|brugeren|patient\w*|"
    r"familie|familien|hjemmet|child|children|kid|kids|boy|girl|pupil|resident|citizen|patient)"
)
_WORRY_RE = re.compile(
    r"\b(?:bekymr\w*|urolig|worried|concerned)\s+(?:mig\s+)?(?:for|over|om|omkring|about)[\s,]+"
    r"(?:\w+[\s,]+){0,3}" + _PERSON + r"\b",
    re.IGNORECASE)
_WORRY_NOUN_RE = re.compile(r"\bbekymring(?:en|er|erne|sbrev\w*)?\b", re.IGNORECASE)
_PERSON_RE = re.compile(r"\b" + _PERSON + r"\b", re.IGNORECASE)

_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _words(text: str) -> str:
    """``text`` lower-cased as its words joined by single spaces, padded with a space each side."""
    return " " + " ".join(_WORD_RE.findall(text.lower())) + " "


_PERMISSION_OPENER = re.compile(
    r"^\s*(?:hej[,!.]?\s+|hello[,!.]?\s+|hi[,!.]?\s+)?(?:må|maa|kan|ka|skal|bør|have\s+lov\s+til|har\s+jeg\s+lov|"
    r"er\s+det\s+ok|is\s+it\s+ok(?:ay)?|may|can|could|should|am\s+i\s+allowed)\s+(?:jeg|vi|man|i|we|to)\b",
    re.IGNORECASE)
_MISTAKE_CUE = re.compile(
    r"\b(?:fejl\w*|kom\s+til\s+at|kommet\s+til\s+at|glem\w*|forkert\w*|uheld\w*|utilsigte\w*|mistake\w*|"
    r"forgot\w*|wrong\w*|accident\w*|error\w*|by\s+mistake)", re.IGNORECASE)


def asks_permission(text: str) -> bool:
    """True for a message that asks permission ("Må jeg komme 45 minutter senere til en borger?",
    "Can we ...") and names no mistake ("fejl", "kom til at", "glemt", "forkert", "by mistake"):
    a mandate question, even where the NLU reads it as a mistake at work (coming late to a visit)."""
    text = (text or "")[:MAX_TEXT]
    return bool(_PERMISSION_OPENER.search(text)) and not _MISTAKE_CUE.search(text)


def detect_concern(text: str, terms: Iterable[str] = ()) -> bool:
    """True when ``text`` voices concern for a child or a citizen: violence, threats, abuse,
    bruises, neglect, self-harm, or worry about a person (Danish and English).

    Conservative: ordinary mandate questions ("Må jeg slå to vagter sammen?",
    "Vi har voldsomt travlt") do not match.

    Args:
        text: the message.
        terms: extra words or phrases (e.g. the keywords of the unit's concern
            entries), matched as whole words, case-insensitive.
    """
    text = (text or "")[:MAX_TEXT]
    if not text.strip():
        return False
    if _CONCERN_RE.search(text):
        return True
    if _WORRY_RE.search(text) or (_WORRY_NOUN_RE.search(text) and _PERSON_RE.search(text)):
        return True
    padded = _words(text)
    return any(w != "  " and w in padded for w in (_words(t) for t in terms if t and t.strip()))


# -- which route entry fits ----------------------------------------------------
_KINDS = {
    # mistake routes
    "medicine": r"\b(?:medicin\w*|medecin\w*|dosis|doser|dosering|pille\w*|tablet\w*|insulin|sprøjte\w*|"
                r"ordination\w*|medication|medicine|dose|pills?)\b",
    "data": r"\b(?:mail\w*|e-mail\w*|brev\w*|cpr\w*|personoplysning\w*|personfølsom\w*|persondata|databrud\w*|"
            r"sikkerhedsbrud\w*|gdpr|journal\w*|usb\w*|telefon\w*|computer\w*|pc|fil|filen|filer|"
            r"dokument\w*|sms\w*|adresse\w*|email|letter|data|breach|privacy|gdpr)\b",
    "adverse": r"\b(?:utilsigte\w*|uth|hændelse\w*|fald|faldt|falder|forflyt\w*|lift\w*|skade\w*|slog\s+sig|"
               r"tilsyn\w*|tilse|glemt\w*\s+(?:et\s+)?besøg|adverse|incident|fell|fall|injur\w*)\b",
    # concern routes
    "child": r"\b(?:barn\w*|børn\w*|dreng\w*|pige\w*|elev\w*|baby\w*|spædbarn\w*|unge|child\w*|kids?)\b",
    "violence": r"\b(?:vold\w*|trus\w*|truet|slå\w*|slog|slået|threat\w*|violen\w*|hit)\b",
    "abuse": r"\b(?:overgreb\w*|krænk\w*|misbrug\w*|seksuel\w*|abus\w*|molest\w*)\b",
    "selfharm": r"\b(?:selvskad\w*|selvmord\w*|self-?harm\w*|suicid\w*)\b",
    "neglect": r"\b(?:omsorgssvigt\w*|vanrøgt\w*|mistriv\w*|neglect\w*)\b",
}
_KIND_RES = {kind: re.compile(p, re.IGNORECASE) for kind, p in _KINDS.items()}
_STOP = frozenset("""at af alle andre de den der det du efter eller en er et for fra har hvad hvis hvem
hvordan i ikke jeg kan med mig min mit må når og om os på sig skal som til ved vi være""".split())


def _kinds(text: str) -> set[str]:
    return {kind for kind, rx in _KIND_RES.items() if rx.search(text)}


def _stems(text: str) -> set[str]:
    """Five-letter prefixes of the words of ``text`` that are not stop words (a crude Danish stem)."""
    return {w[:5] for w in _WORD_RE.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def _entry_text(entry: Mandate) -> str:
    parts = [entry.topic or "", entry.summary or "", " ".join(entry.keywords or []),
             " ".join(entry.examples or []), entry.how or ""]
    return " ".join(parts)[:MAX_TEXT]


def best_entry(entries: Sequence[Mandate], text: str) -> Mandate | None:
    """The entry of ``entries`` that fits ``text`` best, or None when none fits better than the rest.

    Score: 3 per kind of situation both name (medicine, data breach, adverse
    event; child, violence, abuse, self-harm, neglect: :data:`_KINDS`) plus 1 per
    shared word stem; ties go to the entry listed first. A single entry is the
    best whatever the text (it is the unit's one route).
    """
    if not entries:
        return None
    if len(entries) == 1:
        return entries[0]
    text = (text or "")[:MAX_TEXT]
    kinds, stems = _kinds(text), _stems(text)
    scored = []
    for entry in entries:
        body = _entry_text(entry)
        scored.append((3 * len(kinds & _kinds(body)) + len(stems & _stems(body)), entry))
    top = max(score for score, _ in scored)
    if top == 0 or sum(score == top for score, _ in scored) > 1:
        return None
    return next(entry for score, entry in scored if score == top)


# -- entries -----------------------------------------------------------------
def route_entries(session: Session, unit_id: str | None, day: dt.date, kind: str) -> list[Mandate]:
    """The entries in force for ``unit_id`` on ``day`` that are the route for ``kind``.

    Inheritance and nearest-wins as for every entry (:func:`bot.catalogue.tree.entries_in_force`).
    No unit: an empty list.

    Raises:
        ValueError: ``kind`` is not one of :data:`bot.domain.ROUTES`.
        KeyError: ``unit_id`` is not a known unit.
    """
    if kind not in ROUTES:
        raise ValueError(f"route kind must be one of {ROUTES}, not {kind!r}")
    if not unit_id:
        return []
    return [e for e in entries_in_force(session, unit_id, day) if e.route == kind]


# -- replies -----------------------------------------------------------------
MISTAKE_OPENING = (
    "Tak, fordi du siger det: det er præcis det rigtige at gøre. Alle laver fejl i deres arbejde, "
    "og hos os er der rum til fejl. Det vigtige er, at du handler på den nu, og at vi lærer af den "
    "sammen, ikke hvem der har skylden."
)
MISTAKE_NO_ROUTE = (
    "Jeres mandatkatalog har ingen fast fremgangsmåde for fejl endnu. Fortæl det til din nærmeste leder "
    "så hurtigt som muligt, så finder I sammen ud af, hvad der skal ske."
)
CONCERN_OPENING = (
    "Tak, fordi du reagerer på din bekymring: det skal du, og det er ikke noget, du skal vurdere alene. "
    "Når du er bekymret for et barn, en ung eller en borger, har du pligt til at handle på det."
)
CONCERN_NO_ROUTE = (
    "Jeres mandatkatalog har ingen fast fremgangsmåde for bekymringer endnu. Tal med din nærmeste leder "
    "i dag om det, du har set eller hørt."
)
DANGER = "Er nogen i akut fare, så ring 112."


def _sentence(text: str) -> str:
    text = (text or "").strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."


def _entry_lines(entry: Mandate) -> list[str]:
    lines = [f"{entry.topic}: {_sentence(entry.summary)}"]
    if entry.how:
        lines.append(f"Sådan gør du: {_sentence(entry.how)}")
    if entry.inform:
        lines.append(f"Giv besked: {_sentence(entry.inform)}")
    if entry.contact:
        lines.append(f"Kontakt: {_sentence(entry.contact)}")
    lines.append(f"Kilde: {_sentence(entry.source)}" if entry.source else "Kilde: jeres mandatkatalog.")
    return lines


def _payload(kind: str, entries: Sequence[Mandate], best: Mandate | None) -> dict:
    return {
        "type": "route",
        "route": kind,
        "mandate_id": best.id if best else None,
        "unit": best.unit_id if best else None,
        "decision": best.decision if best else None,
        "options": [{"mandate_id": e.id, "topic": e.topic} for e in entries],
    }


def _route_reply(kind: str, opening: str, no_route: str, entries: Sequence[Mandate],
                 best: Mandate | None, closing: str | None) -> Reply:
    lines = [opening]
    if not entries:
        lines.append(no_route)
    else:
        if best is not None:
            lines.append("Sådan gør I hos jer:")
            lines.extend(_entry_lines(best))
        others = [e for e in entries if best is None or e.id != best.id]
        if others:
            lines.append("Andre fremgangsmåder i jeres katalog:" if best is not None
                         else "Jeres katalog har disse fremgangsmåder; vælg den, der passer:")
            lines.extend(f"• {e.topic}: {_sentence(e.summary)}" for e in others)
        lines.append("Er du i tvivl om, hvad der passer, så spørg din nærmeste leder.")
    if closing:
        lines.append(closing)
    return Reply("\n".join(lines), _payload(kind, entries, best))


def mistake_reply(entries: Sequence[Mandate], best: Mandate | None) -> Reply:
    """Support after a mistake at work, then the unit's route entries (``best`` first, the others listed).

    Without entries: tell the nearest leader (no invented rules). Payload:
    ``{"type": "route", "route": "mistake", "mandate_id", "unit", "decision", "options": [{"mandate_id", "topic"}]}``.
    """
    return _route_reply("mistake", MISTAKE_OPENING, MISTAKE_NO_ROUTE, entries, best,
                        "Du er ikke alene med det, og det er godt, at du tager hånd om det.")


def concern_reply(entries: Sequence[Mandate], best: Mandate | None) -> Reply:
    """The duty to act on a concern, then the unit's concern route entries; always ends with 112 for acute danger.

    Without entries: talk to the nearest leader today. Payload as :func:`mistake_reply` with ``"route": "concern"``.
    """
    return _route_reply("concern", CONCERN_OPENING, CONCERN_NO_ROUTE, entries, best, DANGER)


def route_answer(session: Session, unit_id: str | None, day: dt.date, kind: str, text: str) -> Reply:
    """The reply for ``kind`` (``mistake`` or ``concern``) to ``text`` from a unit's route entries.

    An unknown or missing unit gives the reply without entries.

    Raises:
        ValueError: ``kind`` is not one of :data:`bot.domain.ROUTES`.
    """
    try:
        entries = route_entries(session, unit_id, day, kind)
    except KeyError:
        entries = []
    best = best_entry(entries, text)
    return (mistake_reply if kind == "mistake" else concern_reply)(entries, best)
