"""Shared fixtures: a migrated SQLite database per test, settings, shared data paths."""
from __future__ import annotations

import os

os.environ.setdefault("MANDAT_DEV_MODE", "1")  # development secrets are allowed in tests (bot.config)

import datetime as dt
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT

SHARED = PROJECT_ROOT.parent / "shared"
ACCEPTANCE = SHARED / "acceptance"
DEMO_CATALOGUE = PROJECT_ROOT / "bot" / "demo" / "catalogue.yaml"
TODAY = dt.date(2026, 11, 29)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """A migrated, empty SQLite file, copied for each test (migrating is slow)."""
    from bot.db.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture()
def db_url(tmp_path, migrated_template, monkeypatch) -> str:
    """URL of a fresh migrated database; MANDAT_* settings point at it."""
    import shutil

    path = tmp_path / "mandat.db"
    shutil.copy(migrated_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("MANDAT_DATABASE_URL", url)
    monkeypatch.setenv("MANDAT_TODAY", TODAY.isoformat())
    return url


@pytest.fixture()
def session(db_url):
    from bot.db.session import new_session

    s = new_session(db_url)
    yield s
    s.close()


def import_catalogue(db_url: str, path: Path, replace: bool = False):
    """Import a catalogue file into the database at ``db_url``."""
    from bot.catalogue.io import import_file
    from bot.db.session import new_session

    s = new_session(db_url)
    try:
        return import_file(s, path, replace=replace)
    finally:
        s.close()


@pytest.fixture()
def demo_db(db_url) -> str:
    """Database with the demo catalogue."""
    import_catalogue(db_url, DEMO_CATALOGUE)
    return db_url


@pytest.fixture()
def acceptance_db(db_url) -> str:
    """Database with the shared acceptance catalogue (Lindhøj Kommune)."""
    import_catalogue(db_url, ACCEPTANCE / "catalogue.yaml")
    return db_url


@pytest.fixture()
def service(db_url):
    """A MandateService on the test database."""
    from bot.service import MandateService

    return MandateService()


def stored_counts(url: str) -> tuple[int, int, int]:
    """``(questions, feedback rows, questions counted in the weekly figures)`` stored at ``url``."""
    from sqlalchemy import func, select

    from bot.db.models import Feedback, Question, QuestionStat
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return (session.execute(select(func.count(Question.id))).scalar(),
                session.execute(select(func.count(Feedback.id))).scalar(),
                session.execute(select(func.coalesce(func.sum(QuestionStat.count), 0))).scalar())
    finally:
        session.close()


# -- action tests on trackers (tests/test_actions.py, test_dialogue_edges.py, test_good_stories.py) ----

@pytest.fixture()
def fresh_service(db_url):
    """A new :func:`bot.service.default_service` for this test's database (the cache cleared before and after)."""
    from bot.service import default_service

    default_service.cache_clear()
    yield
    default_service.cache_clear()


def run_action(action, trk, domain: dict):
    """Run a rasa_sdk ``action`` on tracker ``trk``; returns (dispatched messages, events).

    A coroutine runs on a fresh event loop: earlier tests (Sanic) may have closed the default one."""
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, trk, domain)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    return dispatcher.messages, result


def slot_events(events) -> dict:
    """``{slot: value}`` of the SlotSet events among ``events``."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(messages) -> str:
    """The texts of dispatched messages, joined by spaces."""
    return " ".join(m.get("text") or "" for m in messages)


def customs(messages) -> list:
    """The ``custom`` payloads of dispatched messages."""
    return [m["custom"] for m in messages if m.get("custom")]
