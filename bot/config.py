"""Runtime configuration, read from environment variables.

Every setting has a default that makes ``make run`` work on one machine with
SQLite. See README.md ("Configuration") for the list.
"""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value in (None, "") else value


@dataclass(frozen=True)
class Settings:
    """All settings of one process.

    Attributes:
        database_url: SQLAlchemy URL (``MANDAT_DATABASE_URL``), default
            ``sqlite:///<project>/var/mandat.db``.
        spacy_model: path or package name of the spaCy pipeline used for
            lemmas (``MANDAT_SPACY_MODEL``), default ``<project>/var/spacy-da``
            (built by ``mandat build-spacy``).
        today: the date used to decide which entries are in force
            (``MANDAT_TODAY``, ISO date; default: the real date).
        retention_days: days stored questions and feedback are kept
            (``MANDAT_RETENTION_DAYS``, default 180).
        pseudonym_key: secret for the keyed hash of user ids
            (``MANDAT_PSEUDONYM_KEY``).
        min_score: retrieval score below which the bot abstains
            (``MANDAT_MIN_SCORE``, 0..1).
        min_margin: minimal lead of the best entry over the second
            (``MANDAT_MIN_MARGIN``, 0..1); closer means ambiguous: abstain.
    """

    database_url: str
    spacy_model: str
    today_override: str | None
    retention_days: int
    pseudonym_key: str
    min_score: float
    min_margin: float

    def today(self) -> dt.date:
        """The date that decides validity (``MANDAT_TODAY`` or the real date)."""
        if self.today_override:
            return dt.date.fromisoformat(self.today_override)
        return dt.date.today()


def get_settings() -> Settings:
    """Read the settings from the environment (cheap; call when needed).

    Raises:
        ValueError: a numeric or date setting is malformed (the message names it).
    """
    var = Path(_env("MANDAT_VAR_DIR", str(PROJECT_ROOT / "var")))
    try:
        settings = Settings(
            database_url=_env("MANDAT_DATABASE_URL", f"sqlite:///{var / 'mandat.db'}"),
            spacy_model=_env("MANDAT_SPACY_MODEL", str(var / "spacy-da")),
            today_override=os.environ.get("MANDAT_TODAY") or None,
            retention_days=int(_env("MANDAT_RETENTION_DAYS", "180")),
            pseudonym_key=_env("MANDAT_PSEUDONYM_KEY", "dev-only-change-me"),
            min_score=float(_env("MANDAT_MIN_SCORE", "0.22")),
            min_margin=float(_env("MANDAT_MIN_MARGIN", "0.04")),
        )
        settings.today()
    except ValueError as exc:
        raise ValueError(f"Bad MANDAT_* environment setting: {exc}") from exc
    return settings
