"""``make bench-scale``: the catalogue at municipality scale on SQLite and on PostgreSQL (issue 15).

    python -m scripts.bench_scale [--units 1000] [--entries 100000] [--questions 1000000]
        [--engines sqlite,postgresql] [--pg-url postgresql://postgres@127.0.0.1:5432/mandatbot_bench]
        [--queries 60] [--out reports/bench-scale.md]

For each database engine: a fresh database (SQLite: a temporary file; PostgreSQL: the database of
``--pg-url``, dropped and created again) is migrated and filled in bulk (executemany; PostgreSQL's
``COPY`` for the questions and feedback) with ``--units`` units on three levels (kommune, areas,
teams), ``--entries`` entries (most of them a team's, some an area's or the municipality's) with a
history row each, ``--questions`` stored questions over a year (a quarter without an answer, some
linked by HR to an entry) and feedback; then ``ANALYZE``. Then it measures:

* **retrieval** of one question (``Retriever.retrieve``: words and meaning over every published entry,
  the unit's entries in force, the calibrated decision), p50/p95 over ``--queries`` questions, and
  the whole answer (``MandateService.answer`` without storing: the catalogue fingerprint queries,
  parsing with the e5 embedding, retrieval, rules). The entries' passage vectors are synthetic
  (random unit vectors seeded by the passage text): embedding 300,000 passages with e5 would take
  about 40 minutes here, and the vector arithmetic is the same; the question is embedded for real;
* **admin pages** (entries list, questions queue, aktørskab dashboard and its charts) as HR, admin and a
  leader: the first request and the median of three more, with every SQL statement timed;
  the query plan (SQLite ``EXPLAIN QUERY PLAN``, PostgreSQL ``EXPLAIN ANALYZE``) of each statement
  slower than ``--plan-ms`` is printed.

Writes ``--out`` (Markdown) and prints it. Targets (issue 15): retrieval under 50 ms p95, admin pages
under 500 ms.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import event, insert, text

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/mandatbot_bench"

WORDS = ("vikar vagt kursus bil indkøb ferie hjemmearbejde overarbejde nøgle medicin borger beboer pårørende "
         "telefon computer møde pause tøj sko budget regning kørsel materiel værktøj rengøring måltid udflugt "
         "aktivitet maling reparation affald skilt sne græs vej træ bygning tilladelse ansøgning tandbørste "
         "legetøj bleer mad frugt bus tur gave blomster kaffe kage printer papir kontor skab lås alarm "
         "cykel parkering taxa tog fly hotel konference foredrag bog abonnement licens software opdatering "
         "skærm mus tastatur headset stol bord lampe gardin plante maleri musik fjernsyn radio avis blad "
         "frokost morgenmad julefrokost sommerfest reception jubilæum afsked fødselsdag barsel sygdom "
         "lægebesøg tandlæge briller høreapparat hjælpemiddel lift kørestol rollator seng madras dyne "
         "vasketøj opvask køleskab komfur ovn mikroovn kaffemaskine vandkoger støvsuger moppe spand "
         "handsker mundbind forklæde uniform navneskilt badge kort nøglebrik kode adgang vagtplan "
         "vagtbytte afspadsering flekstid deltid fuldtid weekend helligdag nattevagt aftenvagt dagvagt").split()
DECISIONS = ("employee", "team", "leader", "other")
AREAS = 9
MANDATE_COLUMNS = ("id", "unit_id", "topic", "topic_key", "decision", "decided_by", "summary", "conditions",
                   "exceptions", "limit_value", "limit_unit", "route", "inform", "how", "examples", "keywords",
                   "source", "contact", "valid_from", "valid_to", "review_by", "status", "version", "updated_at")


def percentiles(values: list[float]) -> tuple[float, float]:
    """(median, 95th percentile) of ``values``."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


# -- filling ------------------------------------------------------------------------------------------
def _units(n_units: int) -> tuple[list[dict], list[str], list[str]]:
    units = [dict(id="kommune", name="Storby Kommune", parent_id=None, aliases=[])]
    areas = [f"omraade-{a:02d}" for a in range(AREAS)]
    units += [dict(id=a, name=f"Område {i + 1}", parent_id="kommune", aliases=[]) for i, a in enumerate(areas)]
    teams = []
    for t in range(n_units - 1 - AREAS):
        area = areas[t % AREAS]
        teams.append(f"team-{t:04d}")
        units.append(dict(id=teams[-1], name=f"Team {t + 1}", parent_id=area, aliases=[]))
    return units, areas, teams


def _copy_rows(conn, table: str, columns: list[str], rows) -> None:
    """PostgreSQL ``COPY table (columns) FROM STDIN`` (CSV) of ``rows`` (tuples; None is NULL)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(["" if v is None else ("t" if v is True else "f" if v is False else v) for v in row])
    buffer.seek(0)
    raw = conn.connection  # the DBAPI (psycopg2) connection of this SQLAlchemy connection
    with raw.cursor() as cur:
        cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def _sqlite_rows(conn, table: str, columns: list[str], rows) -> None:
    """SQLite ``executemany`` of ``rows`` (tuples) on the raw DBAPI cursor, dates as SQLAlchemy stores them."""
    def value(v):
        if isinstance(v, dt.datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S.%f")
        return int(v) if isinstance(v, bool) else v

    cur = conn.connection.cursor()
    cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    ([value(v) for v in row] for row in rows))
    cur.close()


def _bulk(conn, postgres: bool, table: str, columns: list[str], rows) -> None:
    """Insert ``rows`` fast: PostgreSQL ``COPY``, SQLite ``executemany``."""
    (_copy_rows if postgres else _sqlite_rows)(conn, table, columns, rows)


def fill(url: str, n_units: int, n_entries: int, n_questions: int, seed: int = 5) -> dict:
    """Fill the migrated, empty database at ``url``; returns counts and seconds per table."""
    from bot.cli import add_user
    from bot.db.models import Mandate, MandateHistory, Unit
    from bot.db.session import get_engine, new_session

    rnd = random.Random(seed)
    engine = get_engine(url)
    postgres = engine.dialect.name == "postgresql"
    timings: dict[str, float] = {}
    units, areas, teams = _units(n_units)
    now = dt.datetime(2026, 11, 30, 12, 0)
    today = now.date()
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(insert(Unit.__table__), units)
        # Entries: 2 % the municipality's, 18 % the areas', 80 % the teams' (about 100 per team).
        entry_ids = []
        for start in range(0, n_entries, 10_000):
            batch, history = [], []
            for i in range(start, min(start + 10_000, n_entries)):
                share = rnd.random()
                unit = "kommune" if share < 0.02 else rnd.choice(areas) if share < 0.2 else rnd.choice(teams)
                w1, w2, w3 = rnd.sample(WORDS, 3)
                decision = rnd.choice(DECISIONS)
                limit = rnd.choice([None, None, 500, 2000, 10000])
                mandate_id = f"post-{i:06d}"
                entry_ids.append(mandate_id)
                batch.append(dict(
                    id=mandate_id, unit_id=unit, topic=f"{w1.capitalize()} og {w2} ved {w3}",
                    topic_key=f"emne-{rnd.randrange(n_entries // 4):06d}", decision=decision,
                    decided_by="Visitationen" if decision == "other" else None,
                    summary=f"Du må selv beslutte om {w1} og {w2}, når det handler om {w3}.",
                    conditions=[f"Husk at tale med kollegerne om {w3}."], exceptions=[],
                    limit_value=limit, limit_unit="kr" if limit is not None else None, route=None,
                    inform=None, how=None,
                    examples=[f"Må jeg selv bestemme om {w1} til {w3}?", f"Hvem bestemmer {w2} ved {w3}?"],
                    keywords=[w1, w2], source="Personalehåndbogen", contact="Teamleder",
                    valid_from=dt.date(2025, 1, 1), valid_to=rnd.choice([None] * 9 + [dt.date(2025, 12, 31)]),
                    review_by=today + dt.timedelta(days=rnd.randint(-400, 400)),
                    status="draft" if rnd.random() < 0.02 else "published", version=1, updated_at=now))
                history.append(dict(mandate_id=mandate_id, changed_at=now, changed_by="import:bench",
                                    action="create", changes={"topic": [None, batch[-1]["topic"]]}))
            conn.execute(insert(Mandate.__table__), batch)
            conn.execute(insert(MandateHistory.__table__), history)
    timings["units+entries+history"] = time.perf_counter() - t0

    # Questions: a year of them, a quarter without an answer; of those, 4 % linked by HR to an entry.
    t0 = time.perf_counter()
    columns = ["asked_at", "unit_id", "user_pseudonym", "text", "intent", "outcome", "mandate_id", "decision",
               "best_mandate_id", "best_score", "status", "status_by", "status_at", "resolved_mandate_id", "demo"]
    employees = [hashlib.sha1(f"ansat-{i}".encode()).hexdigest()[:32] for i in range(5000)]
    start_time = now - dt.timedelta(days=365)
    linked = 0
    for start in range(0, n_questions, 100_000):
        rows = []
        for _ in range(start, min(start + 100_000, n_questions)):
            asked = start_time + dt.timedelta(seconds=rnd.randrange(365 * 86400))
            unit = rnd.choice(teams)
            if rnd.random() < 0.75:
                mandate_id = rnd.choice(entry_ids)
                w1, w3 = rnd.sample(WORDS, 2)
                rows.append((asked, unit, rnd.choice(employees), f"Må jeg selv bestemme om {w1} til {w3}?",
                             "ask_mandate", "answered", mandate_id, rnd.choice(DECISIONS), mandate_id, 0.6,
                             "answered", None, None, None, False))
            else:
                w1, w2 = rnd.sample(WORDS, 2)
                status = rnd.choice(["new"] * 14 + ["answered", "not_relevant"] * 3)
                resolved = rnd.choice(entry_ids) if status == "answered" and rnd.random() < 0.25 else None
                linked += resolved is not None
                rows.append((asked, unit, rnd.choice(employees),
                             f"Må jeg selv {rnd.choice(['købe', 'bestille', 'låne'])} {w1} til {w2}?",
                             "ask_mandate", "unanswered", None, None, rnd.choice(entry_ids), 0.15, status,
                             "hr" if status != "new" else None,
                             asked + dt.timedelta(days=2) if status != "new" else None, resolved, False))
        with engine.begin() as conn:
            _bulk(conn, postgres, "questions", columns, rows)
    timings["questions"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with engine.begin() as conn:
        top = conn.execute(text("SELECT max(id) FROM questions")).scalar()
        fb_columns = ["created_at", "question_id", "mandate_id", "unit_id", "value", "comment", "demo"]
        fb = [(now - dt.timedelta(days=rnd.randrange(365)), rnd.randrange(1, top + 1), rnd.choice(entry_ids),
               rnd.choice(teams), rnd.choice(["down", "mistake", "up", "up"]),
               rnd.choice([None, "Det passer ikke hos os"]), False) for _ in range(max(1, n_questions // 30))]
        _bulk(conn, postgres, "feedback", fb_columns, fb)
    session = new_session(url)
    try:
        add_user(session, "leder", "leader", [areas[1]], "Leder for område 2", password="benchbench1")
        add_user(session, "hr", "hr", [], "HR", password="benchbench1")
        add_user(session, "admin", "admin", [], "Admin", password="benchbench1")
        session.commit()
    finally:
        session.close()
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT") if postgres else conn
        conn.exec_driver_sql("ANALYZE")
        if not postgres:
            conn.commit()
    timings["feedback+users+analyze"] = time.perf_counter() - t0
    return {"units": len(units), "entries": n_entries, "questions": n_questions, "linked": linked,
            "feedback": len(fb), "seconds": timings, "teams": teams, "areas": areas}


# -- retrieval ----------------------------------------------------------------------------------------
class SyntheticPassages:
    """The real embedder for questions; for passages a random unit vector seeded by the text.

    Args:
        real: the configured embedder (:func:`bot.embeddings.get_embedder`).
    """

    def __init__(self, real):
        self.real = real
        self.dim = real.dim
        self.name = f"{real.name}+synthetic-passages"

    def encode_queries(self, texts):
        return self.real.encode_queries(texts)

    def encode_passages(self, texts):
        out = np.empty((len(texts), self.dim), np.float32)
        for i, passage in enumerate(texts):
            seed = int.from_bytes(hashlib.sha1(passage.encode("utf-8")).digest()[:8], "little")
            out[i] = np.random.default_rng(seed).standard_normal(self.dim, dtype=np.float32)
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out


def bench_retrieval(url: str, filled: dict, n_queries: int, var_dir: str) -> dict:
    """Index build time, and p50/p95 ms of retrieval and of a whole answer over ``n_queries`` questions."""
    from bot.catalogue.tree import unit_parents
    from bot.config import get_settings
    from bot.db.session import session_scope
    from bot.embeddings import get_embedder
    from bot.service import MandateService

    settings = dataclasses.replace(get_settings(), database_url=url, var_dir=var_dir,
                                   today_override="2026-11-30")
    synthetic = SyntheticPassages(get_embedder(settings.embedder))

    class BenchService(MandateService):
        @property
        def embedder(self):
            return synthetic

    service = BenchService(settings)
    rnd = random.Random(3)
    t0 = time.perf_counter()
    with session_scope(url) as session:
        index = service.index(session)
        parents = unit_parents(session)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    with session_scope(url) as session:
        service.index(session)
    fingerprint_ms = (time.perf_counter() - t0) * 1000
    questions = []
    for i in range(n_queries):
        w1, w2, w3 = rnd.sample(WORDS, 3)
        questions.append(rnd.choice([f"Må jeg selv bestemme om {w1} til {w3}?", f"Hvem bestemmer {w2} ved {w3}?",
                                     f"Må jeg tage min papegøje med til {w1}?", f"Kan jeg selv købe {w1}?"]))
    teams = filled["teams"]
    retrieve_ms, parse_ms, answer_ms, actions = [], [], [], {}
    day = settings.today()
    service.answer(questions[0], teams[0], store=False)  # warm (spaCy, e5)
    for i, question in enumerate(questions):
        unit = teams[(i * 37) % len(teams)]
        t0 = time.perf_counter()
        parsed = service.parse(question)
        parse_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        decision = service.retriever.retrieve(index, parsed, unit, parents, day)
        retrieve_ms.append((time.perf_counter() - t0) * 1000)
        actions[decision.action] = actions.get(decision.action, 0) + 1
        t0 = time.perf_counter()
        service.answer(question, unit, store=False)
        answer_ms.append((time.perf_counter() - t0) * 1000)
    return {"index_build_s": build_s, "indexed": len(index.entries), "fingerprint_ms": fingerprint_ms,
            "retrieve": percentiles(retrieve_ms), "parse": percentiles(parse_ms), "answer": percentiles(answer_ms),
            "actions": actions, "queries": n_queries}


# -- admin pages --------------------------------------------------------------------------------------
PAGES = [
    ("Poster (liste)", "/poster"),
    ("Poster, søgning", "/poster?q=vikar"),
    ("Poster, side 100", "/poster?side=100"),
    ("Spørgsmål (kø, grupper)", "/spoergsmaal"),
    ("Spørgsmål (alle, grupper)", "/spoergsmaal?status=alle"),
    ("Spørgsmål (liste)", "/spoergsmaal?visning=liste&status=alle"),
    ("Aktørskab (dashboard)", "/aktoerskab"),
    ("Graf: uger", "/aktoerskab/graf/uger.png"),
    ("Graf: besvaret", "/aktoerskab/graf/besvaret.png"),
    ("Graf: emner", "/aktoerskab/graf/emner.png"),
]


class StatementLog:
    """Every SQL statement of an engine with its duration (ms), while :attr:`on`."""

    def __init__(self, engine):
        self.rows: list[tuple[str, object, float]] = []
        self.on = False

        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn, cursor, statement, parameters, context, executemany):
            conn.info.setdefault("bench_t0", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn, cursor, statement, parameters, context, executemany):
            started = conn.info["bench_t0"].pop()
            if self.on:
                self.rows.append((statement, parameters, (time.perf_counter() - started) * 1000))


def bench_pages(url: str, repeat: int, plan_ms: float) -> tuple[list, list]:
    """``([(role, page, first ms, median ms, status, slowest statement ms)], [(page, ms, sql, plan)])``."""
    from bot.admin import create_app
    from bot.db.session import get_engine

    engine = get_engine(url)
    log = StatementLog(engine)
    results, slow = [], {}
    for role, username in (("hr", "hr"), ("admin", "admin"), ("leader", "leder")):
        app = create_app({"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "bench",
                          "MANDAT_TODAY": "2026-11-30"})
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": "benchbench1"})
        assert response.status_code == 302, f"login failed for {username}"
        for name, path in PAGES:
            times, status = [], 0
            log.rows.clear()
            log.on = True
            for _ in range(repeat + 1):
                t0 = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                status = response.status_code
            log.on = False
            worst = max((ms for _, _, ms in log.rows), default=0.0)
            results.append((role, name, times[0], statistics.median(times[1:]), status, worst))
            for statement, params, ms in log.rows:
                key = " ".join(statement.split())
                if ms >= plan_ms and key.upper().startswith(("SELECT", "WITH")) and ms > slow.get(key, (0,))[0]:
                    slow[key] = (ms, f"{role} {name}", statement, params)
    plans = []
    for key, (ms, page, statement, params) in sorted(slow.items(), key=lambda kv: -kv[1][0])[:12]:
        plans.append((page, ms, key, explain(engine, statement, params)))
    return results, plans


def explain(engine, statement: str, params) -> str:
    """The query plan of ``statement`` with ``params`` (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE)."""
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS OFF) " if postgres else "EXPLAIN QUERY PLAN "
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(prefix + statement, params if params else ()).fetchall()
    if postgres:
        return "\n".join(r[0] for r in rows)
    return "\n".join(f"{'  ' * (r[1] > 0)}{r[-1]}" for r in rows)


# -- one engine ---------------------------------------------------------------------------------------
def prepare(engine_name: str, pg_url: str) -> tuple[str, str]:
    """A fresh, migrated database; ``(url, description)``."""
    from bot.db.migrate import upgrade

    if engine_name == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="mandat-scale-")) / "bench.db"
        url = f"sqlite:///{path}"
    else:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        target = make_url(pg_url)
        admin = create_engine(target.set(database="postgres"), future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}"')
            conn.exec_driver_sql(f'CREATE DATABASE "{target.database}"')
        admin.dispose()
        url = pg_url
    upgrade(url)
    return url, url


def reused(url: str) -> dict:
    """What :func:`fill` returns, read from a database it filled earlier (``--reuse-sqlite``; no fill times)."""
    from bot.db.session import get_engine

    with get_engine(url).connect() as conn:
        count = lambda table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()  # noqa: E731
        units = [u for (u,) in conn.execute(text("SELECT id FROM units ORDER BY id"))]
        filled = {"units": len(units), "entries": count("mandates"), "questions": count("questions"),
                  "linked": None, "feedback": count("feedback"), "seconds": {"reused": 0.0},
                  "teams": [u for u in units if u.startswith("team-")],
                  "areas": [u for u in units if u.startswith("omraade-")]}
    return filled


def run_engine(engine_name: str, args) -> dict:
    from bot.db.session import get_engine

    if engine_name == "sqlite" and args.reuse_sqlite:
        url = where = f"sqlite:///{Path(args.reuse_sqlite).resolve()}"
        filled = reused(url)
        fill_s = 0.0
    else:
        url, where = prepare(engine_name, args.pg_url)
        print(f"[{engine_name}] filling {where} ...", flush=True)
        t0 = time.perf_counter()
        filled = fill(url, args.units, args.entries, args.questions)
        fill_s = time.perf_counter() - t0
    print(f"[{engine_name}] filled in {fill_s:.0f} s {filled['seconds']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="mandat-scale-var-") as var_dir:
        retrieval = bench_retrieval(url, filled, args.queries, var_dir)
    print(f"[{engine_name}] retrieval {retrieval}", flush=True)
    pages, plans = bench_pages(url, args.repeat, args.plan_ms)
    size = None
    with get_engine(url).connect() as conn:
        if engine_name == "postgresql":
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
    if engine_name == "sqlite":
        size = Path(url.split("///", 1)[1]).stat().st_size
    get_engine(url).dispose()
    return {"engine": engine_name, "where": where, "fill_s": fill_s, "filled": filled, "retrieval": retrieval,
            "pages": pages, "plans": plans, "size_mb": (size or 0) / 2**20}


def report(results: list[dict], args, started: float) -> str:
    lines = ["# Data scale (make bench-scale)", "",
             f"- command: `python -m scripts.bench_scale {' '.join(args.argv)}` "
             f"({time.perf_counter() - started:.0f} s in all)",
             f"- machine: {os.cpu_count()} cores shared with other work; load average "
             f"{os.getloadavg()[0]:.1f} at the end; {dt.date.today().isoformat()}",
             f"- data: {args.units:,} units (kommune, {AREAS} areas, {args.units - 1 - AREAS:,} teams), "
             f"{args.entries:,} entries (2 % drafts, 10 % expired) with one history row each, "
             f"{args.questions:,} questions over a year (a quarter unanswered), {args.questions // 30:,} feedback; "
             "`ANALYZE` after the fill.",
             "- targets: retrieval < 50 ms p95; admin pages < 500 ms.", ""]
    lines += ["## Fill and retrieval", "",
              "| | " + " | ".join(r["engine"] for r in results) + " |",
              "|---|" + "---|" * len(results)]

    def row(label, fn):
        lines.append(f"| {label} | " + " | ".join(fn(r) for r in results) + " |")

    row("fill (s): units+entries+history / questions / feedback+analyze",
        lambda r: " / ".join(f"{v:.0f}" for v in r["filled"]["seconds"].values()))
    row("database size (MB)", lambda r: f"{r['size_mb']:.0f}")
    row("index build, first question (s)", lambda r: f"{r['retrieval']['index_build_s']:.1f}")
    row("published entries indexed", lambda r: f"{r['retrieval']['indexed']:,}")
    row("catalogue fingerprint per question (ms)", lambda r: f"{r['retrieval']['fingerprint_ms']:.1f}")
    row("**retrieval p50 / p95 (ms)**", lambda r: "**{:.1f} / {:.1f}**".format(*r["retrieval"]["retrieve"]))
    row("parse incl. e5 embedding p50 / p95 (ms)", lambda r: "{:.1f} / {:.1f}".format(*r["retrieval"]["parse"]))
    row("whole answer, not stored, p50 / p95 (ms)", lambda r: "{:.1f} / {:.1f}".format(*r["retrieval"]["answer"]))
    row("decisions", lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r["retrieval"]["actions"].items())))
    lines += ["", "## Admin pages (ms: first request / median of the next "
              f"{args.repeat}; slowest SQL statement)", ""]
    header = "| role | page | " + " | ".join(f"{r['engine']} ms | {r['engine']} SQL ms" for r in results) + " |"
    lines += [header, "|---|---|" + "---|---|" * len(results)]
    for i, (role, name, *_rest) in enumerate(results[0]["pages"]):
        cells = []
        for r in results:
            _, _, first, median, status, worst = r["pages"][i]
            flag = "" if status == 200 else f" (HTTP {status})"
            over = " **over**" if median > 500 else ""
            cells.append(f"{first:.0f} / {median:.0f}{over}{flag} | {worst:.0f}")
        lines.append(f"| {role} | {name} | " + " | ".join(cells) + " |")
    for r in results:
        lines += ["", f"## Query plans, {r['engine']}: statements slower than {args.plan_ms:.0f} ms", ""]
        if not r["plans"]:
            lines.append("None.")
        for page, ms, sql, plan in r["plans"]:
            lines += [f"**{ms:.0f} ms** ({page}):", "", "```sql", sql[:1200], "```", "", "```", plan, "```", ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("MANDAT_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--plan-ms", type=float, default=50.0, help="explain statements slower than this (ms)")
    parser.add_argument("--out", default=str(ROOT / "reports" / "bench-scale.md"))
    parser.add_argument("--reuse-sqlite", help="a SQLite file this script filled before: measure it, do not fill")
    args = parser.parse_args(argv)
    args.argv = argv if argv is not None else sys.argv[1:]
    started = time.perf_counter()
    results = [run_engine(name.strip(), args) for name in args.engines.split(",") if name.strip()]
    for r in results:
        r["filled"].pop("teams"), r["filled"].pop("areas")
    text_out = report(results, args, started)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text_out, encoding="utf-8")
    print(text_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
