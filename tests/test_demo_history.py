"""`mandat demo --history`: eight weeks of generated, deterministic demo history, marked as demo data."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from tests.conftest import TODAY


def _rows(url: str) -> tuple[list, list, list]:
    from bot.db.models import Feedback, Question, Story
    from bot.db.session import new_session

    session = new_session(url)
    try:
        questions = [(q.asked_at, q.unit_id, q.text, q.outcome, q.mandate_id, q.decision, q.status, q.demo)
                     for q in session.execute(select(Question).order_by(Question.id)).scalars()]
        feedback = [(f.created_at, f.question_id, f.value, f.mandate_id, f.demo)
                    for f in session.execute(select(Feedback).order_by(Feedback.id)).scalars()]
        stories = [(s.created_at, s.unit_id, s.status, s.may_share, s.demo)
                   for s in session.execute(select(Story).order_by(Story.id)).scalars()]
        return questions, feedback, stories
    finally:
        session.close()


def _add(url: str):
    from bot.db.session import session_scope
    from bot.demo.history import add_history

    with session_scope(url) as session:
        return add_history(session, TODAY)


def test_history_spreads_over_eight_weeks_and_units(demo_db):
    report = _add(demo_db)
    questions, feedback, stories = _rows(demo_db)
    assert report.questions == len(questions) >= 150 and report.feedback == len(feedback)
    assert all(q[-1] for q in questions) and all(f[-1] for f in feedback) and all(s[-1] for s in stories)
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    weeks = {(monday - (q[0].date() - dt.timedelta(days=q[0].weekday()))).days // 7 for q in questions}
    assert weeks == set(range(8))  # every one of the eight weeks, none later than today
    assert max(q[0].date() for q in questions) <= TODAY
    per_week = [sum(1 for q in questions if q[0].date() >= monday - dt.timedelta(weeks=w)
                    and q[0].date() < monday - dt.timedelta(weeks=w - 1)) for w in (7, 1)]
    assert per_week[1] > per_week[0]  # more questions as the bot is adopted
    units = {q[1] for q in questions}
    assert len(units) >= 6 and "storkeby-kommune" not in units  # the teams, not the top of the tree
    outcomes = {q[3] for q in questions}
    assert outcomes == {"answered", "unanswered"}
    assert 0.15 < sum(q[3] == "unanswered" for q in questions) / len(questions) < 0.45
    # Redacted like stored questions, Danish, and answered ones name an entry of the asker's catalogue.
    assert any(re.search(r"\[(NAVN|ADRESSE|TELEFON|E-MAIL)\]", q[2]) for q in questions)
    assert all(q[4] and q[5] for q in questions if q[3] == "answered")
    values = [f[2] for f in feedback]
    assert values.count("down") >= 3 and values.count("mistake") >= 1 and values.count("up") >= 5
    assert len(stories) >= 3 and all(s[2] == "approved" and s[3] for s in stories)


def test_history_is_deterministic(tmp_path, migrated_template, monkeypatch):
    import shutil

    from tests.conftest import DEMO_CATALOGUE, import_catalogue

    urls = []
    for name in ("a.db", "b.db"):
        shutil.copy(migrated_template, tmp_path / name)
        urls.append(f"sqlite:///{tmp_path / name}")
        import_catalogue(urls[-1], DEMO_CATALOGUE)
        _add(urls[-1])
    assert _rows(urls[0]) == _rows(urls[1])


def test_cli_history_is_a_flag_added_once_and_removable(db_url, capsys):
    from bot.cli import main
    from bot.db.models import Feedback, Question, Story
    from bot.db.session import new_session

    def count(model, demo=None):
        session = new_session(db_url)
        try:
            query = select(func.count(model.id))
            if demo is not None:
                query = query.where(model.demo.is_(demo))
            return session.execute(query).scalar()
        finally:
            session.close()

    assert main(["demo"]) == 0
    assert count(Question) == 0  # the plain demo loads the catalogue only (tests count on an empty history)
    assert main(["demo", "--history"]) == 0
    added = count(Question)
    assert added > 0 and count(Question, demo=False) == 0
    assert "Demohistorik tilføjet" in capsys.readouterr().out
    assert main(["demo", "--history"]) == 0  # make run calls it every time: added once
    assert count(Question) == added and "findes allerede" in capsys.readouterr().out

    # A real question survives removing the demo history.
    session = new_session(db_url)
    session.add(Question(unit_id="dagplejen", text="Må jeg?", outcome="unanswered"))
    session.commit()
    session.close()
    assert main(["demo", "--remove-history"]) == 0
    assert count(Question) == 1 and count(Feedback) == 0 and count(Story) == 0
    assert "Demohistorik slettet" in capsys.readouterr().out


def test_dashboard_marks_and_shows_the_history(demo_db):
    """On the demo history the dashboard says "Demodata", and its weekly charts have data in eight weeks."""
    from flask_login import login_user

    from bot.admin import dashboard
    from bot.admin.auth import CurrentUser
    from bot.cli import add_user
    from bot.db.session import session_scope
    from tests.admin.conftest import make_app

    _add(demo_db)
    with session_scope(demo_db) as session:
        user, _ = add_user(session, "hr", "hr", [], "HR", False, "test-password-1")
        user_id = user.id
    app = make_app(demo_db)
    with app.test_request_context("/aktoerskab?uger=26"):
        from bot.admin.common import db
        from bot.db.models import User

        login_user(CurrentUser(db().get(User, user_id), "t"))
        scope = dashboard._scope()
        numbers = dashboard.aggregates(scope)
        weekly = numbers["weekly"]
        first = dashboard.charts.first_week_index(weekly["weeks"], numbers["first_asked"])
        shown = weekly["totals"][first:]
        assert len(shown) == 8 and all(shown)  # the axis starts at the history's first week
        assert numbers["thumbs_down"] and numbers["themes"][0]["count"] >= 5
        assert dashboard.has_demo_data()
    client = app.test_client()
    client.post("/login", data={"username": "hr", "password": "test-password-1"})
    assert "<strong>Demodata.</strong>" in client.get("/aktoerskab").get_data(as_text=True)
