"""Retention: `mandat purge` deletes old conversations, questions and feedback; the dashboard keeps its figures."""
from __future__ import annotations

import datetime as dt
import sqlite3
import time

import pytest

from sqlalchemy import select

from tests.conftest import stored_counts

NOW = dt.datetime(2026, 11, 29, 12, 0)


@pytest.fixture()
def filled(db_url, tmp_path, monkeypatch):
    """Questions and feedback 10 and 200 days old; a tracker database with an old and a new conversation."""
    from bot.db.models import Feedback, Question
    from bot.db.session import new_session

    tracker = tmp_path / "tracker.db"
    monkeypatch.setenv("MANDAT_TRACKER_DB_URL", f"sqlite:///{tracker}")
    monkeypatch.setenv("MANDAT_RETENTION_DAYS", "180")
    session = new_session(db_url)
    old, new = NOW - dt.timedelta(days=200), NOW - dt.timedelta(days=10)
    rows = [
        Question(asked_at=old, unit_id="hjemmeplejen-syd", text="Må jeg [NAVN]?", outcome="answered",
                 decision="employee", mandate_id="soo-vikar", user_pseudonym="p1"),
        Question(asked_at=old, unit_id="hjemmeplejen-syd", text="Må jeg?", outcome="answered",
                 decision="leader", mandate_id="sk-gaver", user_pseudonym="p1"),
        Question(asked_at=old + dt.timedelta(days=1), unit_id="dagplejen", text="Hvad med?", outcome="unanswered"),
        Question(asked_at=old, unit_id="dagplejen", text="Linket formulering", outcome="unanswered",
                 status="answered", resolved_mandate_id="sk-gaver", user_pseudonym="p2"),
        Question(asked_at=new, unit_id="hjemmeplejen-syd", text="Ny", outcome="answered", decision="team",
                 mandate_id="soo-vikar", user_pseudonym="p1"),
    ]
    session.add_all(rows)
    session.flush()
    session.add_all([
        Feedback(created_at=old, question_id=rows[0].id, value="down"),
        Feedback(created_at=new, question_id=rows[1].id, value="up"),  # new feedback on an old question
        Feedback(created_at=old, question_id=None, value="mistake", comment="gammel"),
        Feedback(created_at=new, question_id=rows[4].id, value="up"),
    ])
    session.commit()
    session.close()
    with sqlite3.connect(tracker) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                     "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), "
                     "data TEXT)")
        epoch = NOW.replace(tzinfo=dt.timezone.utc).timestamp()
        for sender, days in (("w-old", 200), ("w-old", 199), ("w-new", 2), ("w-mixed", 181), ("w-mixed", 1)):
            conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, '{}')",
                         (sender, epoch - days * 86400))
    return db_url, tracker




def test_dry_run_counts_and_changes_nothing(filled):
    from bot.retention import purge

    url, tracker = filled
    report = purge(now=NOW, dry_run=True)
    assert (report.questions, report.feedback, report.linked_kept) == (3, 3, 1)
    assert (report.tracker_events, report.conversations) == (3, 2)
    assert "Prøvekørsel" in report.summary() and "3 spørgsmål" in report.summary()
    assert stored_counts(url) == (5, 4, 0)
    with sqlite3.connect(tracker) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 5


def test_purge_deletes_what_is_older_than_the_retention(filled):
    from bot.db.models import Question
    from bot.db.session import new_session
    from bot.retention import purge

    url, tracker = filled
    report = purge(now=NOW)
    assert (report.questions, report.feedback, report.tracker_events, report.conversations) == (3, 3, 3, 2)
    questions, feedback, stored = stored_counts(url)
    assert (questions, feedback, stored) == (2, 1, 3)
    session = new_session(url)
    kept = {q.text: q.user_pseudonym for q in session.execute(select(Question)).scalars()}
    session.close()
    assert kept == {"Linket formulering": None, "Ny": "p1"}  # the HR-linked phrasing stays, without its user
    with sqlite3.connect(tracker) as conn:
        assert sorted(conn.execute("SELECT sender_id FROM events").fetchall()) == [("w-mixed",), ("w-new",)]
    again = purge(now=NOW)
    assert (again.questions, again.feedback, again.tracker_events) == (0, 0, 0)
    assert stored_counts(url) == (2, 1, 3)


def test_purge_without_a_tracker_table(db_url, tmp_path, monkeypatch):
    """Before Rasa ever started there is no `events` table: the purge still runs."""
    from bot.retention import purge

    monkeypatch.setenv("MANDAT_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'none.db'}")
    assert purge(now=NOW).tracker_events == 0


def test_retention_below_one_day_is_refused(db_url, monkeypatch):
    from bot.retention import purge

    monkeypatch.setenv("MANDAT_RETENTION_DAYS", "0")
    with pytest.raises(ValueError, match="MANDAT_RETENTION_DAYS"):
        purge(now=NOW)


def test_cli_purge(filled, capsys):
    from bot.cli import main

    url, _ = filled
    assert main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Prøvekørsel, intet er slettet" in out and "samtalehændelser" in out
    assert stored_counts(url)[0] == 5
    assert main(["purge"]) == 0
    assert "Slettet:" in capsys.readouterr().out
    # the real clock: the 200-day-old rows (relative to 2026-11-29) are older still
    assert stored_counts(url)[0] <= 2


def test_dashboard_figures_survive_a_purge(filled, monkeypatch):
    """The weekly figures, per-unit shares and top entries are the same before and after the purge."""
    from bot.admin.dashboard import Scope, per_unit, top_topics, weekly
    from bot.retention import purge

    url, _ = filled
    from tests.admin.conftest import make_app

    app = make_app(url)
    end = NOW.date()
    monday = end - dt.timedelta(days=end.weekday())
    scope = Scope("", None, 52, monday - dt.timedelta(weeks=51), end)

    def figures():
        with app.test_request_context():
            w = weekly(scope)
            return (w["answered"], w["unanswered"], w["yours"], per_unit(scope),
                    [(t["id"], t["count"]) for t in top_topics(scope)])

    before = figures()
    assert sum(before[0]) == 3 and sum(before[1]) == 2
    purge(now=NOW)
    assert figures() == before
    limited = Scope("", ("dagplejen",), 52, scope.first_monday, end)
    with app.test_request_context():
        assert sum(weekly(limited)["unanswered"]) == 2


def test_daily_purge_thread_runs_and_stops(filled):
    from bot.config import get_settings
    from bot.retention import DailyPurge

    url, _ = filled
    thread = DailyPurge(get_settings(), interval_s=3600, first_delay_s=0.01)
    thread.start()
    deadline = time.time() + 30
    while thread.runs == 0 and time.time() < deadline:
        time.sleep(0.05)
    thread.stop()
    thread.join(5)
    assert thread.runs == 1 and not thread.is_alive()
    assert thread.last_report is not None and thread.last_report.questions >= 3


def test_admin_server_process_starts_the_daily_purge(db_url, monkeypatch):
    """create_app() without a config (python -m bot.admin) starts it; tests' apps (with a config) do not."""
    import bot.admin as admin

    started = []
    monkeypatch.setattr(admin, "start_daily_purge", lambda settings: started.append(settings))
    admin.create_app({"DATABASE_URL": db_url, "SECRET_KEY": "x"})
    assert started == []
    monkeypatch.setenv("MANDAT_PURGE_DAILY", "1")
    admin.create_app()
    assert len(started) == 1 and started[0].database_url == db_url
    monkeypatch.setenv("MANDAT_PURGE_DAILY", "0")
    admin.create_app()
    assert len(started) == 1


def test_admin_app_redacts_its_logs(db_url, caplog):
    """create_app installs the log redaction: a CPR number in a log record of the admin process is replaced."""
    import logging

    from bot.admin import create_app
    from bot.privacy import uninstall_log_redaction

    uninstall_log_redaction()
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("werkzeug").info("POST /forhaandsvisning?q=%s", "010203-1234")
        assert "010203-1234" in caplog.text
        caplog.clear()
        app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "x"})
        with caplog.at_level(logging.INFO):
            logging.getLogger("werkzeug").info("POST /forhaandsvisning?q=%s", "010203-1234")
            app.logger.warning("Borgeren har cpr 0102031234")
        assert "010203-1234" not in caplog.text and "0102031234" not in caplog.text
        assert caplog.text.count("[CPR-NR]") == 2
    finally:
        uninstall_log_redaction()


def test_good_stories_follow_the_retention_and_the_employees_deletion(db_url, monkeypatch, tmp_path):
    """Past the period, stories HR did not approve are deleted and approved ones lose the teller's
    pseudonym; "Slet min samtale" deletes every story of the employee, approved ones too."""
    from bot.db.models import Story
    from bot.db.session import new_session
    from bot.privacy import pseudonym
    from bot.retention import delete_user_data, purge

    monkeypatch.setenv("MANDAT_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("MANDAT_RETENTION_DAYS", "180")
    old, new = NOW - dt.timedelta(days=200), NOW - dt.timedelta(days=10)
    me = pseudonym("w-me", "key")
    session = new_session(db_url)
    session.add_all([
        Story(created_at=old, what_happened="gammel ny", status="new", user_pseudonym="p1"),
        Story(created_at=old, what_happened="gammel afvist", status="declined", user_pseudonym="p1"),
        Story(created_at=old, what_happened="gammel godkendt", status="approved", may_share=True, user_pseudonym="p1"),
        Story(created_at=new, what_happened="min nye", status="new", user_pseudonym=me),
        Story(created_at=new, what_happened="min godkendte", status="approved", may_share=True, user_pseudonym=me),
        Story(created_at=new, what_happened="andens", status="new", user_pseudonym="p2"),
    ])
    session.commit()
    purge(now=NOW)
    session.expire_all()
    left = {s.what_happened: s.user_pseudonym for s in session.execute(select(Story)).scalars()}
    assert left == {"gammel godkendt": None, "min nye": me, "min godkendte": me, "andens": "p2"}
    delete_user_data(session, "w-me", "key")
    session.commit()
    assert sorted(s.what_happened for s in session.execute(select(Story)).scalars()) == ["andens", "gammel godkendt"]
    session.close()
