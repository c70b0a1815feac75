"""Generated demo history: eight weeks of questions, feedback and good stories for the demo catalogue.

``mandat demo --history`` (``make run``) adds it, so the dashboard and the LMU report show
trends on a fresh demo. Everything it adds is marked ``demo=True`` (``questions.demo``,
``feedback.demo``, ``stories.demo``); the dashboard and the report say "Demodata" while such
rows exist, and :func:`remove_history` (``mandat demo --remove-history``) deletes exactly them.

The history is deterministic: the same seed, catalogue and day give the same rows. It spreads
Danish questions, redacted as the bot stores them (``[NAVN]``, ``[ADRESSE]``, ...), over the
bottom units of the tree and the weeks, with more questions each week (the bot being adopted),
a falling share about decisions staff already own (the habit the municipality wants to
unlearn), unanswered questions on a handful of recurring themes, thumbs-up, thumbs-down and
"Fejl i svaret" (more of them on a few entries), and a few approved good stories.
Generated rows have no user pseudonym: nobody is told about them, and no entry learns from them.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from bot.catalogue.tree import entries_in_force
from bot.db.models import Feedback, Question, Story, Unit
from bot.domain import SELF_DECISIONS

SEED = 16
WEEKS = 8

MISSING_THEMES = {
    "blomster": [
        "Må jeg købe blomster til [NAVN], der fylder 90 i morgen?",
        "Kan vi selv købe en buket til en beboer med fødselsdag?",
        "må jeg give blomster til en borger på fødselsdagen",
        "Må jeg købe blomster til borgeren på [ADRESSE], hun har fødselsdag?",
        "maa vi kobe blomster til en beboer der har fodselsdag",
    ],
    "hund": [
        "Må jeg tage min hund med på arbejde?",
        "Kan jeg have hunden med i bilen på ruten?",
        "må jeg have min hund med på kontoret om fredagen",
    ],
    "jul": [
        "Må vi selv holde julefrokost i personalestuen?",
        "Hvem bestemmer, om vi må pynte op til jul i fællesrummet?",
        "Må vi købe et juletræ til afdelingen for vores egne penge?",
    ],
    "parkering": [
        "Må jeg parkere på borgerens plads på [ADRESSE]?",
        "Kan jeg holde i indkørslen hos [NAVN], når jeg er på besøg?",
        "må jeg parkere foran [ADRESSE] når der ikke er andre pladser",
    ],
    "telefon": [
        "Må jeg bruge min egen telefon til at tage billeder af et sår?",
        "Kan jeg selv vælge en ny tjenestetelefon, når den gamle er gået i stykker?",
    ],
    "kage": [
        "Må jeg købe kage til teamet for afdelingens penge, når vi har haft travlt?",
        "kan vi bestille kage til fredagsmødet på afdelingens regning",
    ],
    "elcykel": [
        "Må jeg låne en af kommunens elcykler med hjem efter vagten?",
        "kan jeg tage elcyklen med hjem i weekenden",
    ],
}
SINGLE_MISSING = [
    "Må jeg ringe til [TELEFON] for at høre, om borgeren er hjemme?",
    "Borgeren [NAVN] vil gerne have sin medicin en time tidligere, må jeg det?",
    "Må jeg sende vagtplanen til [E-MAIL]?",
    "Hvem bestemmer farven på væggene i personalestuen?",
    "Må jeg tage min papegøje med på arbejde?",
]
CONTEXT = ["Hos [NAVN] i dag: ", "Borgeren på [ADRESSE] spørger: ", "Kort spørgsmål: ", ""]
"""Openings that make an answered question look like a real, redacted one."""
COMMENTS = ["Det passer ikke hos os", "Svaret var for generelt", "Vores leder siger noget andet", None]
REPLIES = [
    "Det må du gerne, når du skriver det i journalen bagefter.",
    "Tal med din leder først; vi laver en post om det til næste personalemøde.",
    "Nej, det skal gå gennem visitationen.",
]
STORIES = [
    (("hjemmeplejen-syd", "hjemmeplejen-nord"),
     "En borger manglede sin medicin fra apoteket, og hjemmesygeplejersken kunne ikke nå det. Jeg hentede "
     "den selv på vej til næste borger og gav besked bagefter.",
     "At hente medicinen inden for min rute, uden at ringe til lederen først."),
    (("dagtilbud-solsikken", "dagplejen"),
     "Regnen væltede ned på udflugtsdagen. Vi flyttede turen til biblioteket, så børnene alligevel kom ud.",
     "At ændre udflugtens mål samme morgen og skrive til forældrene i appen."),
    (("vej-og-park",),
     "Et væltet træ spærrede cykelstien ved skolen. Vi ryddede det med det samme og meldte det bagefter.",
     "At rydde stien med det samme i stedet for at vente på en arbejdsordre."),
    (("tandplejen", "plejecenter-egely"),
     "En mor kom for sent til sit barns tid. Jeg flyttede næste tid ti minutter, så barnet ikke skulle komme igen.",
     "At rykke tiderne på dagen selv, når det ikke går ud over andre."),
]
"""Good stories: (units to put it in, first one that exists; what happened; what the employee decided)."""


@dataclass(frozen=True)
class HistoryReport:
    """What :func:`add_history` added (or :func:`remove_history` deleted)."""

    questions: int
    feedback: int
    stories: int

    def summary(self, verb: str = "tilføjet") -> str:
        """One Danish line for the console."""
        return (f"Demohistorik {verb}: {self.questions} spørgsmål, {self.feedback} feedback og "
                f"{self.stories} gode historier (markeret som demodata).")


def has_history(session: Session) -> bool:
    """True when generated demo questions exist."""
    return session.execute(select(Question.id).where(Question.demo.is_(True)).limit(1)).first() is not None


def _leaf_units(session: Session) -> list[str]:
    rows = session.execute(select(Unit.id, Unit.parent_id)).all()
    parents = {r.parent_id for r in rows}
    return sorted(r.id for r in rows if r.parent_id is not None and r.id not in parents)


def _moment(rnd: random.Random, day: dt.date) -> dt.datetime:
    """A working-day moment (naive UTC, 06:00-14:30) on ``day``."""
    return dt.datetime.combine(day, dt.time(6)) + dt.timedelta(minutes=rnd.randrange(0, 510))


def add_history(session: Session, today: dt.date, *, weeks: int = WEEKS, seed: int = SEED) -> HistoryReport:
    """Add ``weeks`` weeks of demo history up to ``today`` (the caller commits).

    Args:
        session: open session on a database with a catalogue (the demo catalogue or any other).
        today: the last day of the history (``Settings.today()``).
        weeks: how many weeks (the first starts on a Monday).
        seed: the random seed (the same seed, catalogue and day give the same rows).

    Returns:
        What was added. Nothing is added to a catalogue without units below the top.
    """
    rnd = random.Random(seed)
    units = _leaf_units(session)
    if not units:
        return HistoryReport(0, 0, 0)
    usable: dict[str, list] = {}
    for unit in units:
        # Route entries (what to do after a mistake, concern for a citizen) are not "may I" questions.
        entries = [e for e in entries_in_force(session, unit, today)
                   if e.examples and not e.route and getattr(e, "status", "published") == "published"]
        usable[unit] = sorted(entries, key=lambda e: e.id)
    all_entries = sorted({e.id: e for items in usable.values() for e in items}.values(), key=lambda e: e.id)
    if not all_entries:
        return HistoryReport(0, 0, 0)
    # A few entries whose answers people often disagree with: the thumbs-down chart has a story to tell.
    reach = {e.id: sum(e.id in {x.id for x in items} for items in usable.values()) for e in all_entries}
    common = sorted(all_entries, key=lambda e: (-reach[e.id], e.id))[:12]
    weak = {e.id for e in rnd.sample(common, min(3, len(common)))}
    first_monday = today - dt.timedelta(days=today.weekday()) - dt.timedelta(weeks=weeks - 1)
    themes = sorted(MISSING_THEMES)
    # Each unit has two themes of its own, so a unit's unanswered questions repeat (as in real life).
    unit_themes = {u: rnd.sample(themes, 2) for u in units}
    questions, feedback_plan = [], []
    for week in range(weeks):
        monday = first_monday + dt.timedelta(weeks=week)
        days = [monday + dt.timedelta(days=d) for d in range(5) if monday + dt.timedelta(days=d) <= today]
        if not days:
            continue
        progress = week / max(weeks - 1, 1)
        count = round((14 + 5 * week) * len(days) / 5)
        for _ in range(count):
            unit = rnd.choice(units)
            asked = _moment(rnd, rnd.choice(days))
            if usable[unit] and rnd.random() < 0.62 + 0.16 * progress:
                yours = [e for e in usable[unit] if e.decision in SELF_DECISIONS]
                others = [e for e in usable[unit] if e.decision not in SELF_DECISIONS]
                pick_yours = rnd.random() < 0.68 - 0.28 * progress
                entry = rnd.choice((yours if pick_yours else others) or usable[unit])
                text = rnd.choice(CONTEXT) + rnd.choice(entry.examples)
                questions.append(dict(asked_at=asked, unit_id=unit, text=text, intent="ask_mandate",
                                      outcome="answered", mandate_id=entry.id, decision=entry.decision,
                                      best_mandate_id=entry.id, best_score=round(rnd.uniform(0.4, 0.9), 4),
                                      status="answered", demo=True))
                negative = 0.4 if entry.id in weak else 0.05
                roll = rnd.random()
                if roll < negative:
                    value = "mistake" if rnd.random() < 0.3 else "down"
                    feedback_plan.append((len(questions) - 1, value, rnd.choice(COMMENTS)))
                elif roll < negative + 0.12:
                    feedback_plan.append((len(questions) - 1, "up", None))
            else:
                theme = rnd.choice(unit_themes[unit]) if rnd.random() < 0.85 else None
                text = rnd.choice(MISSING_THEMES[theme]) if theme else rnd.choice(SINGLE_MISSING)
                best = rnd.choice(all_entries)
                row = dict(asked_at=asked, unit_id=unit, text=text, intent="ask_mandate", outcome="unanswered",
                           mandate_id=None, decision=None, best_mandate_id=best.id,
                           best_score=round(rnd.uniform(0.05, 0.2), 4), status="new", demo=True)
                age = (today - asked.date()).days
                if age > 21 and rnd.random() < 0.3:  # a leader answered it with a one-off reply
                    answered = asked + dt.timedelta(days=rnd.randint(1, 4))
                    row.update(status="answered", status_by="leder", status_at=answered,
                               reply_text=rnd.choice(REPLIES), answered_by="leder", answered_at=answered,
                               notified_at=answered)
                elif age > 21 and rnd.random() < 0.15:
                    row.update(status="not_relevant", status_by="hr", status_at=asked + dt.timedelta(days=2))
                questions.append(row)
    order = sorted(range(len(questions)), key=lambda i: questions[i]["asked_at"])
    position = {old: new for new, old in enumerate(order)}
    rows = [questions[i] for i in order]
    for row in rows:  # every row carries every key (one executemany)
        for key in ("status_by", "status_at", "reply_text", "answered_by", "answered_at", "notified_at"):
            row.setdefault(key, None)
    session.execute(insert(Question), rows)
    session.flush()
    ids = session.execute(select(Question.id).where(Question.demo.is_(True)).order_by(Question.id.desc())
                          .limit(len(rows))).scalars().all()[::-1]
    feedback = []
    for index, value, comment in feedback_plan:
        row = rows[position[index]]
        feedback.append(dict(created_at=row["asked_at"] + dt.timedelta(minutes=rnd.randint(1, 5)),
                             question_id=ids[position[index]], mandate_id=row["mandate_id"],
                             unit_id=row["unit_id"], value=value, comment=comment if value != "up" else None,
                             demo=True))
    if feedback:
        session.execute(insert(Feedback), feedback)
    stories = []
    for i, (candidates, what, own) in enumerate(STORIES):
        unit = next((u for u in candidates if u in units), units[i % len(units)])
        told = _moment(rnd, first_monday + dt.timedelta(days=4 + 12 * i))
        if told.date() > today:
            continue
        stories.append(Story(created_at=told, unit_id=unit, what_happened=what, own_decision=own, may_share=True,
                             status="approved", status_by="hr", status_at=told + dt.timedelta(days=1), demo=True))
    session.add_all(stories)
    session.flush()
    return HistoryReport(len(rows), len(feedback), len(stories))


def remove_history(session: Session) -> HistoryReport:
    """Delete every generated demo row (questions, their feedback, stories); the caller commits."""
    demo_questions = select(Question.id).where(Question.demo.is_(True))
    feedback = session.execute(delete(Feedback).where(
        (Feedback.demo.is_(True)) | Feedback.question_id.in_(demo_questions)).execution_options(
        synchronize_session=False)).rowcount or 0
    questions = session.execute(delete(Question).where(Question.demo.is_(True)).execution_options(
        synchronize_session=False)).rowcount or 0
    stories = session.execute(delete(Story).where(Story.demo.is_(True)).execution_options(
        synchronize_session=False)).rowcount or 0
    return HistoryReport(questions, feedback, stories)


def count_history(session: Session) -> HistoryReport:
    """How many demo rows exist."""
    return HistoryReport(*(session.execute(select(func.count(m.id)).where(m.demo.is_(True))).scalar() or 0
                           for m in (Question, Feedback, Story)))
