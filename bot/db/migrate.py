"""Run Alembic migrations from code (``mandat db upgrade`` and start-up scripts).

Source: Alembic's "Running migrations from code" recipe
(https://alembic.sqlalchemy.org/en/latest/api/commands.html).
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from bot.config import get_settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` for ``url`` (default: ``MANDAT_DATABASE_URL``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (creates it if missing)."""
    from bot.db.session import get_engine

    get_engine(url)  # creates the SQLite folder
    command.upgrade(alembic_config(url), revision)
