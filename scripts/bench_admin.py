"""Fill a database with a large catalogue and many questions, then time every admin page.

    .venv/bin/python -m scripts.bench_admin [--entries 10000] [--questions 50000] [--db PATH] [--repeat 3]

Prints a table of milliseconds per page (median of ``--repeat`` requests, the
first request of each page timed separately as "kold"), per role. The same
module provides :func:`add_demo_activity`, realistic questions and feedback for
the demo catalogue (screenshots and browser tests).
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, select

ROOT = Path(__file__).resolve().parent.parent

MISSING_TOPICS = {
    "blomster": [
        "Må jeg selv købe blomster til en beboer, der har fødselsdag?",
        "Kan jeg købe blomster til en borgers fødselsdag?",
        "må jeg købe en buket blomster til beboeren",
        "Må vi selv købe fødselsdagsblomster til beboerne?",
        "kan jeg bruge penge på blomster til en beboers fødselsdag",
        "maa jeg kobe blomster til en beboer",
        "Må jeg give en borger blomster på fødselsdagen?",
        "Blomster til beboer med fødselsdag, må jeg selv købe dem?",
    ],
    "kaeledyr": [
        "Må jeg tage min hund med på arbejde?",
        "kan jeg have min hund med på arbejdet",
        "Må jeg have hunden med på kontoret om fredagen?",
        "må jeg tage hund med på job",
    ],
    "musik": [
        "Må vi spille musik for beboerne om aftenen?",
        "Kan vi selv bestemme at spille musik i fællesstuen?",
        "må vi sætte musik på for beboerne",
    ],
    "maling": [
        "Hvem bestemmer farven på væggene i personalestuen?",
        "Må vi selv male personalestuen?",
        "kan vi male væggene i personalerummet en anden farve",
    ],
    "cykel": [
        "Må jeg låne en af kommunens elcykler til at køre hjem på?",
        "kan jeg tage elcyklen med hjem efter vagten",
    ],
    "kage": [
        "Må jeg købe kage til teamet for afdelingens penge, når vi har haft travlt?",
        "kan vi købe kage for budgettet til personalemødet",
        "Må jeg bestille kage til fredagsmødet på afdelingens regning?",
    ],
}
SINGLE_MISSING = [
    "Må jeg tage min papegøje med på arbejde?",
    "Hvem bestemmer, om vi må have juletræ i gangen?",
    "Kan jeg selv bestemme hvilken telefon jeg får?",
    "Må jeg parkere på borgerens plads?",
    "Må jeg selv vælge min arbejdstøjsstørrelse?",
]
TYPO_CHANGES = [("å", "aa"), ("ø", "oe"), ("æ", "ae"), ("?", ""), ("Må jeg", "må jeg")]


def _vary(text: str, rnd: random.Random) -> str:
    if rnd.random() < 0.3:
        old, new = rnd.choice(TYPO_CHANGES)
        text = text.replace(old, new)
    return text


def add_demo_activity(url: str, n_questions: int = 600, weeks: int = 26, seed: int = 7,
                      today: dt.date | None = None) -> dict:
    """Realistic questions and feedback for the demo catalogue (answered, unanswered, thumbs-down).

    The "already yours" share falls slowly over the weeks, as the municipality hopes.
    Returns counts of what was added.
    """
    from bot.db.models import Feedback, Mandate, Question, Unit
    from bot.db.session import new_session

    rnd = random.Random(seed)
    today = today or dt.date.today()
    session = new_session(url)
    try:
        entries = session.execute(select(Mandate)).scalars().all()
        units = [u.id for u in session.execute(select(Unit)).scalars() if u.parent_id and
                 session.execute(select(Unit.id).where(Unit.parent_id == u.id)).first() is None]
        parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())

        def chain(unit_id):
            out = []
            while unit_id:
                out.append(unit_id)
                unit_id = parents.get(unit_id)
            return out

        start = dt.datetime.combine(today - dt.timedelta(weeks=weeks), dt.time(7))
        span = (weeks * 7 - 1) * 86400
        rows, answered_rows = [], []
        for i in range(n_questions):
            unit = rnd.choice(units)
            offset = rnd.random() ** 0.8 * span
            asked = start + dt.timedelta(seconds=offset)
            progress = offset / span
            if rnd.random() < 0.78:
                applicable = [e for e in entries if e.unit_id in chain(unit) and e.examples]
                yours = [e for e in applicable if e.decision in ("employee", "team")]
                others = [e for e in applicable if e.decision not in ("employee", "team")]
                pick_yours = rnd.random() < 0.72 - 0.3 * progress
                pool = (yours if pick_yours else others) or applicable
                entry = rnd.choice(pool)
                rows.append(dict(asked_at=asked, unit_id=unit, text=_vary(rnd.choice(entry.examples), rnd),
                                 outcome="answered", mandate_id=entry.id, decision=entry.decision,
                                 best_mandate_id=entry.id, best_score=round(rnd.uniform(0.35, 0.9), 4),
                                 status="answered", intent="ask_mandate"))
                answered_rows.append(len(rows) - 1)
            else:
                if rnd.random() < 0.85:
                    topic = rnd.choice(list(MISSING_TOPICS))
                    text = rnd.choice(MISSING_TOPICS[topic])
                else:
                    text = rnd.choice(SINGLE_MISSING)
                best = rnd.choice(entries)
                rows.append(dict(asked_at=asked, unit_id=unit, text=_vary(text, rnd), outcome="unanswered",
                                 mandate_id=None, decision=None, best_mandate_id=best.id, best_score=round(rnd.uniform(0.05, 0.21), 4),
                                 status="new", intent="ask_mandate"))
        rows.sort(key=lambda r: r["asked_at"])
        session.execute(insert(Question), rows)
        session.flush()
        ids = session.execute(select(Question.id, Question.outcome, Question.mandate_id, Question.unit_id,
                                     Question.asked_at).order_by(Question.id.desc()).limit(len(rows))).all()
        feedback = []
        for row in ids:
            if row.outcome == "answered" and rnd.random() < 0.04:
                feedback.append(dict(created_at=row.asked_at + dt.timedelta(minutes=1), question_id=row.id,
                                     mandate_id=row.mandate_id, unit_id=row.unit_id,
                                     value=rnd.choice(["down", "down", "mistake"]),
                                     comment=rnd.choice([None, "Det passer ikke hos os", "Svaret var for generelt"])))
            elif row.outcome == "answered" and rnd.random() < 0.1:
                feedback.append(dict(created_at=row.asked_at + dt.timedelta(minutes=1), question_id=row.id,
                                     mandate_id=row.mandate_id, unit_id=row.unit_id, value="up", comment=None))
        if feedback:
            session.execute(insert(Feedback), feedback)
        session.commit()
        return {"questions": len(rows), "feedback": len(feedback)}
    finally:
        session.close()


WORDS = ("vikar vagt kursus bil indkøb ferie hjemmearbejde overarbejde nøgle medicin borger beboer pårørende "
         "telefon computer møde pause tøj sko budget regning kørsel materiel værktøj rengøring måltid udflugt "
         "aktivitet maling reparation affald skilt sne græs vej træ bygning tilladelse ansøgning tandbørste "
         "legetøj bleer mad frugt bus tur gave blomster kaffe kage").split()
DECISIONS = ("employee", "team", "leader", "other")


def fill_large(url: str, n_entries: int = 10_000, n_questions: int = 50_000, seed: int = 11) -> dict:
    """A municipality-sized database: ~210 units on 3 levels, ``n_entries`` entries, ``n_questions``
    questions (a quarter unanswered, some thumbs-down), history for every entry, and one leader per area."""
    from bot.cli import add_user
    from bot.db.models import Feedback, Mandate, MandateHistory, Question, Unit
    from bot.db.session import new_session

    rnd = random.Random(seed)
    today = dt.date.today()
    session = new_session(url)
    try:
        units = [dict(id="kommune", name="Storby Kommune", parent_id=None, aliases=[])]
        areas, teams = [], []
        for a in range(10):
            area = f"omraade-{a:02d}"
            areas.append(area)
            units.append(dict(id=area, name=f"Område {a + 1}", parent_id="kommune", aliases=[]))
            for t in range(20):
                team = f"team-{a:02d}-{t:02d}"
                teams.append(team)
                units.append(dict(id=team, name=f"Team {a + 1}.{t + 1}", parent_id=area, aliases=[]))
        session.execute(insert(Unit), units)
        unit_ids = ["kommune"] * 20 + areas * 30 + teams * 20
        entries, history = [], []
        now = dt.datetime.utcnow()
        for i in range(n_entries):
            w1, w2, w3 = rnd.sample(WORDS, 3)
            unit = rnd.choice(unit_ids)
            decision = rnd.choice(DECISIONS)
            limit = rnd.choice([None, 500, 2000, 10000])
            entries.append(dict(
                id=f"post-{i:05d}", unit_id=unit, topic=f"{w1.capitalize()} og {w2} ved {w3} ({i})",
                topic_key=f"emne-{i % 2500:04d}", decision=decision,
                decided_by="Visitationen" if decision == "other" else None,
                summary=f"Du må selv beslutte om {w1} og {w2}, når det handler om {w3}.",
                conditions=[f"Husk at tale med kollegerne om {w3}."], limit_value=limit,
                limit_unit="kr" if limit is not None else None,
                inform=None, how=None, examples=[f"Må jeg selv bestemme om {w1} til {w3}?"], keywords=[w1, w2],
                source="Personalehåndbogen", contact="Teamleder",
                valid_from=dt.date(2025, 1, 1), valid_to=rnd.choice([None] * 9 + [dt.date(2025, 12, 31)]),
                review_by=today + dt.timedelta(days=rnd.randint(-400, 400)), version=1, updated_at=now))
            history.append(dict(mandate_id=f"post-{i:05d}", changed_at=now, changed_by="import:bench",
                                action="create", changes={"topic": [None, entries[-1]["topic"]]}))
        for start in range(0, len(entries), 2000):
            session.execute(insert(Mandate), entries[start:start + 2000])
            session.execute(insert(MandateHistory), history[start:start + 2000])
        questions = []
        start_time = now - dt.timedelta(weeks=52)
        for i in range(n_questions):
            unit = rnd.choice(teams)
            asked = start_time + dt.timedelta(seconds=rnd.randint(0, 52 * 7 * 86400))
            if rnd.random() < 0.75:
                entry = entries[rnd.randrange(len(entries))]
                questions.append(dict(asked_at=asked, unit_id=unit, text=entry["examples"][0], outcome="answered",
                                      mandate_id=entry["id"], decision=entry["decision"],
                                      best_mandate_id=entry["id"], best_score=0.6, status="answered",
                                      status_by=None))
            else:
                w1, w2 = rnd.sample(WORDS, 2)
                questions.append(dict(asked_at=asked, unit_id=unit,
                                      text=f"Må jeg selv {rnd.choice(['købe', 'bestille', 'låne'])} {w1} til {w2}?",
                                      outcome="unanswered", mandate_id=None, decision=None,
                                      best_mandate_id=f"post-{rnd.randrange(n_entries):05d}",
                                      best_score=0.15, status=rnd.choice(["new"] * 6 + ["answered", "not_relevant"]),
                                      status_by=None))
        for start in range(0, len(questions), 5000):
            session.execute(insert(Question), questions[start:start + 5000])
        session.flush()
        answered_ids = session.execute(select(Question.id).where(Question.outcome == "answered")).scalars().all()
        feedback = [dict(created_at=now, question_id=qid, value=rnd.choice(["down", "mistake", "up"]))
                    for qid in rnd.sample(answered_ids, min(1500, len(answered_ids)))]
        session.execute(insert(Feedback), feedback)
        for a, area in enumerate(areas):
            add_user(session, f"leder{a:02d}", "leader", [area], f"Leder for område {a + 1}", password="benchbench1")
        add_user(session, "hr", "hr", [], "HR", password="benchbench1")
        add_user(session, "admin", "admin", [], "Admin", password="benchbench1")
        session.commit()
        return {"units": len(units), "entries": len(entries), "questions": len(questions)}
    finally:
        session.close()


PAGES = [
    ("Poster (liste)", "/poster"),
    ("Poster, filter tekst", "/poster?q=vikar"),
    ("Poster, tilsidesætter", "/poster?vis=tilsidesaetter"),
    ("Poster, gennemgang", "/poster?vis=gennemgang"),
    ("Poster, side 100", "/poster?side=100"),
    ("Post", "/poster/post-00042"),
    ("Redigér post", "/poster/post-00042/rediger"),
    ("Historik", "/poster/post-00042/historik"),
    ("Ny post", "/poster/ny"),
    ("Spørgsmål (grupper)", "/spoergsmaal"),
    ("Spørgsmål (alle, grupper)", "/spoergsmaal?status=alle"),
    ("Spørgsmål (liste)", "/spoergsmaal?visning=liste&status=alle"),
    ("Spørgsmål CSV", "/spoergsmaal.csv?status=alle&visning=liste"),
    ("Aktørskab", "/aktoerskab"),
    ("Graf: uger", "/aktoerskab/graf/uger.png"),
    ("Graf: besvaret", "/aktoerskab/graf/besvaret.png"),
    ("Graf: emner", "/aktoerskab/graf/emner.png"),
    ("Graf: egne enheder", "/aktoerskab/graf/egne-enheder.png"),
    ("Graf: egne uger", "/aktoerskab/graf/egne-uger.png"),
    ("Import og eksport", "/import-eksport"),
    ("Eksport YAML (område)", "/eksport?enhed=omraade-01&format=yaml"),
    ("Eksport XLSX (område)", "/eksport?enhed=omraade-01&format=xlsx"),
    ("Brugere", "/brugere"),
    ("Konto", "/konto"),
]


def time_pages(url: str, repeat: int = 3) -> list[tuple[str, str, float, float, int]]:
    """``(role, page, cold ms, median warm ms, status)`` for every page and role."""
    from bot.admin import create_app

    results = []
    for role, username in (("admin", "admin"), ("hr", "hr"), ("leader", "leder01")):
        app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench"})
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": "benchbench1"})
        assert response.status_code == 302, f"login failed for {username}"
        for name, path in PAGES:
            if role == "leader":
                path = path.replace("post-00042", _leader_entry(url))
            times = []
            status = 0
            for _ in range(repeat + 1):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                status = response.status_code
            results.append((role, name, times[0], statistics.median(times[1:]), status))
    return results


def _leader_entry(url: str) -> str:
    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Mandate.id).where(Mandate.unit_id == "team-01-03").limit(1)).scalar()
    finally:
        session.close()


def main(argv: list[str] | None = None) -> int:
    """Fill a fresh database (or reuse ``--db``) and print the timing table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=50_000)
    parser.add_argument("--db", help="SQLite file (filled when it does not exist)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    from bot.db.migrate import upgrade

    path = Path(args.db) if args.db else Path(tempfile.mkdtemp(prefix="mandat-bench-")) / "bench.db"
    url = f"sqlite:///{path}"
    if not path.exists():
        t0 = time.perf_counter()
        upgrade(url)
        counts = fill_large(url, args.entries, args.questions)
        print(f"Fyldt {path} på {time.perf_counter() - t0:.1f} s: {counts}")
    results = time_pages(url, args.repeat)
    print(f"\n{'rolle':<7} {'side':<28} {'kold ms':>8} {'ms':>8}  status")
    for role, name, cold, warm, status in results:
        print(f"{role:<7} {name:<28} {cold:8.0f} {warm:8.0f}  {status}")
    pages = [r for r in results if r[4] == 200 and "CSV" not in r[1] and "Eksport" not in r[1]]
    slowest = max(pages, key=lambda r: r[3])
    slowest_cold = max(pages, key=lambda r: r[2])
    print(f"\nLangsomste side (median): {slowest[1]} som {slowest[0]}: {slowest[3]:.0f} ms; "
          f"langsomste første visning: {slowest_cold[1]} som {slowest_cold[0]}: {slowest_cold[2]:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
