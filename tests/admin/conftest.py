"""Fixtures for the admin app: a demo catalogue with users and questions, test clients per role."""
from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import DEMO_CATALOGUE, TODAY

PASSWORD = "test-password-1"
USERS = {
    # username: (role, units, HR may edit)
    "leder": ("leader", ["hjemmeplejen-nord", "hjemmeplejen-syd"], False),
    "omraadeleder": ("leader", ["boern-og-unge"], False),
    "hr": ("hr", [], False),
    "hr-redaktoer": ("hr", [], True),
    "admin": ("admin", [], False),
}
NOW = dt.datetime.combine(TODAY, dt.time(9))


def _fill(url: str) -> None:
    """Users, and questions in two areas (unanswered, answered, thumbs-down)."""
    from bot.cli import add_user
    from bot.db.models import Feedback, Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        for username, (role, units, can_edit) in USERS.items():
            add_user(session, username, role, units, username.capitalize(), can_edit, PASSWORD)
        questions = [
            # (unit, text, outcome, decision, mandate, days ago)
            ("hjemmeplejen-nord", "Må jeg selv købe blomster til en beboer med fødselsdag?", "unanswered", None, None, 1),
            ("hjemmeplejen-syd", "Kan jeg købe blomster til en borgers fødselsdag?", "unanswered", None, None, 2),
            ("hjemmeplejen-nord", "må jeg købe en buket blomster til beboeren", "unanswered", None, None, 3),
            ("hjemmeplejen-nord", "Må jeg tage min papegøje med på arbejde?", "unanswered", None, None, 4),
            ("dagplejen", "Må dagplejerne selv købe legetøj til haven?", "unanswered", None, None, 2),
            ("tandplejen", "Må jeg selv bestille nye tandbørster?", "unanswered", None, None, 5),
            ("hjemmeplejen-syd", "Må jeg selv vælge en vikar, når en kollega er syg?", "answered", "employee", "soo-vikar", 3),
            ("hjemmeplejen-nord", "Må jeg selv bytte vagt?", "answered", "employee", "soo-vagtbytte", 10),
            ("dagplejen", "Hvem bestemmer om jeg må arbejde hjemme?", "answered", "leader", "sk-hjemmearbejde", 9),
        ]
        rows = []
        for unit, text, outcome, decision, mandate, days in questions:
            row = Question(asked_at=NOW - dt.timedelta(days=days), unit_id=unit, text=text, outcome=outcome,
                           decision=decision, mandate_id=mandate, best_mandate_id=mandate or "sk-gaver",
                           best_score=0.6 if mandate else 0.12, status="answered" if mandate else "new")
            session.add(row)
            rows.append(row)
        session.flush()
        # Thumbs-down on the answered dagplejen question and on the hjemmeplejen-syd one.
        session.add(Feedback(question_id=rows[8].id, mandate_id="sk-hjemmearbejde", unit_id="dagplejen",
                             value="down", comment="=HYPERLINK(\"x\") passer ikke"))
        session.add(Feedback(question_id=rows[6].id, mandate_id="soo-vikar", unit_id="hjemmeplejen-syd",
                             value="mistake"))
        session.commit()
    finally:
        session.close()


@pytest.fixture(scope="session")
def admin_template(tmp_path_factory, migrated_template) -> Path:
    """A migrated database with the demo catalogue, users and questions (built once, copied per test)."""
    from sqlalchemy import text

    from bot.catalogue.io import import_file
    from bot.db.session import get_engine, new_session

    path = tmp_path_factory.mktemp("admin-template") / "admin.db"
    shutil.copy(migrated_template, path)
    url = f"sqlite:///{path}"
    session = new_session(url)
    try:
        import_file(session, DEMO_CATALOGUE)
    finally:
        session.close()
    _fill(url)
    engine = get_engine(url)
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return path


@pytest.fixture()
def admin_db(db_url, admin_template) -> str:
    """URL of a fresh copy of the admin template (``db_url``'s file, settings point at it)."""
    shutil.copy(admin_template, db_url.split("///", 1)[1])
    return db_url


def make_app(url: str, **config):
    """The admin app on ``url`` (CSRF off unless ``WTF_CSRF_ENABLED=True`` is passed)."""
    from bot.admin import create_app

    settings = {"DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test-secret", "TESTING": False}
    settings.update(config)
    return create_app(settings)


@pytest.fixture()
def app(admin_db):
    """The admin app on the test database."""
    return make_app(admin_db)


def login(client, username: str, password: str = PASSWORD):
    """Log ``client`` in (asserts success)."""
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


@pytest.fixture()
def client_for(app):
    """``client_for(username)`` -> a logged-in test client (None: anonymous)."""

    def make(username: str | None):
        client = app.test_client()
        return login(client, username) if username else client

    return make


def csrf_token(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


def entry_version(url: str, mandate_id: str) -> int:
    """The stored version of an entry."""
    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.get(Mandate, mandate_id).version
    finally:
        session.close()


def entry_form(url: str, mandate_id: str, **changes) -> dict:
    """The entry form's fields for a stored entry (with its version), with ``changes`` applied."""
    from bot.admin.forms import values_to_form
    from bot.catalogue.edit import mandate_values
    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(url)
    try:
        entry = session.get(Mandate, mandate_id)
        values = values_to_form(mandate_values(entry))
        values["version"] = str(entry.version)
    finally:
        session.close()
    values.update(changes)
    return values
