"""Engines and sessions. Nothing here touches the database until called.

Callers open sessions themselves::

    with session_scope() as session:
        ...

The transaction commits when the block ends and rolls back on an exception.
"""
from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import get_settings


@functools.lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    """The (cached) engine for ``url`` (default: ``MANDAT_DATABASE_URL``).

    For SQLite the parent folder is created, foreign keys are enforced and
    WAL journaling lets the admin app and the action server share the file.
    """
    url = url or get_settings().database_url
    kwargs: dict = {"future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if url.startswith("sqlite"):

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine


@functools.lru_cache(maxsize=8)
def _factory(url: str | None) -> sessionmaker:
    return sessionmaker(bind=get_engine(url), future=True, expire_on_commit=False)


def new_session(url: str | None = None) -> Session:
    """A new session on ``url`` (default: ``MANDAT_DATABASE_URL``); the caller closes it."""
    return _factory(url)()


@contextlib.contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    session = new_session(url)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
