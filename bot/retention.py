"""Retention: stored text is kept for ``MANDAT_RETENTION_DAYS`` days, and deleted on request.

* :func:`purge` (``mandat purge [--dry-run]``, and daily in the admin app's
  server process, :class:`DailyPurge`) deletes what is older than the
  retention period: the conversations in Rasa's tracker store (its ``events``
  table, ``MANDAT_TRACKER_DB_URL``), the stored questions and the feedback.
  Before questions are deleted, their weekly counts are added to
  ``question_stats`` (no text, no user), so the dashboard's figures survive.
  A question HR linked to an entry in the review queue is part of the
  catalogue's learned phrasings (:func:`bot.service.linked_questions`): it is
  kept, without its user pseudonym.
* :func:`delete_user_data` deletes one employee's questions and feedback
  ("Slet min samtale"; the conversation itself is deleted by the tracker
  store, :mod:`bot.channels.tracker_store`).
* :func:`delete_questions` deletes questions by id (HR and admins in the
  review queue).

No Rasa imports: the tracker store's table is addressed by name.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

from sqlalchemy import and_, case, column, delete, func, inspect, or_, select, table, update
from sqlalchemy.orm import Session

from bot.config import Settings, get_settings
from bot.db.models import Feedback, Question, QuestionStat, Story, utcnow
from bot.domain import NEGATIVE_FEEDBACK
from bot.privacy import pseudonym

logger = logging.getLogger(__name__)

TRACKER_EVENTS = table("events", column("id"), column("sender_id"), column("timestamp"))
"""Rasa's SQL tracker store table (``SQLTrackerStore.SQLEvent``): one row per event, ``timestamp`` in epoch seconds."""

_CHUNK = 500
DAY_S = 24 * 3600


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted (or, in a dry run, would delete)."""

    cutoff: dt.datetime
    retention_days: int
    questions: int
    feedback: int
    linked_kept: int
    tracker_events: int
    conversations: int
    dry_run: bool

    def summary(self) -> str:
        """One Danish paragraph for the console and the log."""
        head = "Prøvekørsel, intet er slettet" if self.dry_run else "Slettet"
        verb = "ville blive slettet" if self.dry_run else "er slettet"
        text = (f"{head}: data ældre end {self.retention_days} dage (før {self.cutoff:%Y-%m-%d %H:%M} UTC). "
                f"{self.questions} spørgsmål, {self.feedback} feedback og {self.tracker_events} "
                f"samtalehændelser i {self.conversations} samtaler {verb}.")
        if self.linked_kept:
            text += (f" {self.linked_kept} spørgsmål, som HR har knyttet til en post, beholdes uden "
                     f"bruger-id (de er formuleringer, botten genkender posten på).")
        return text


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def _monday(value) -> dt.date:
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    return day - dt.timedelta(days=day.weekday())


def _linked():
    return and_(Question.resolved_mandate_id.is_not(None), Question.status == "answered")


def _delete_question_ids(session: Session, ids: Sequence[int]) -> tuple[int, int]:
    """Fold the questions ``ids`` into ``question_stats``, then delete them and their feedback.

    Returns:
        (questions deleted, feedback deleted).
    """
    counts: Counter = Counter()
    deleted_q = deleted_f = 0
    day = func.date(Question.asked_at)
    # A disputed answer (thumbs-down or "Fejl i svaret") is kept without its decision: the dashboard
    # does not count it as "already yours" before the purge, nor after.
    disputed = select(Feedback.question_id).where(Feedback.value.in_(NEGATIVE_FEEDBACK),
                                                  Feedback.question_id.is_not(None))
    decision = case((Question.id.in_(disputed), None), else_=Question.decision)
    for chunk in _chunks(list(ids)):
        rows = session.execute(
            select(day, Question.unit_id, Question.outcome, decision, Question.mandate_id, func.count())
            .where(Question.id.in_(chunk))
            .group_by(day, Question.unit_id, Question.outcome, decision, Question.mandate_id)).all()
        for raw_day, unit_id, outcome, decision, mandate_id, n in rows:
            counts[(_monday(raw_day), unit_id, outcome, decision, mandate_id)] += n
        deleted_f += session.execute(delete(Feedback).where(Feedback.question_id.in_(chunk))).rowcount or 0
        deleted_q += session.execute(delete(Question).where(Question.id.in_(chunk))).rowcount or 0
    now = utcnow()
    session.add_all(QuestionStat(week=week, unit_id=unit_id, outcome=outcome, decision=decision,
                                 mandate_id=mandate_id, count=n, created_at=now)
                    for (week, unit_id, outcome, decision, mandate_id), n in counts.items())
    return deleted_q, deleted_f


def _locked_ids(session: Session, *where) -> list[int]:
    """Ids of the questions matching ``where``, locked (PostgreSQL) so two purges cannot count one twice."""
    return list(session.execute(select(Question.id).where(*where).order_by(Question.id).with_for_update())
                .scalars())


def delete_questions(session: Session, ids: Sequence[int]) -> tuple[int, int]:
    """Delete the questions ``ids`` and the feedback on them (HR's "Slet"); their counts stay on the dashboard.

    The caller checks access and commits. Returns (questions, feedback) deleted.
    """
    return _delete_question_ids(session, _locked_ids(session, Question.id.in_(list(ids))))


def delete_user_data(session: Session, user_id: str, key: str) -> tuple[int, int]:
    """Delete every question, feedback and good story of the employee ``user_id`` (the Rasa sender id).

    They are found by the pseudonym the service stored them under
    (:func:`bot.privacy.pseudonym` with ``key``). The dashboard's counts stay.
    The caller commits. Returns (questions, feedback) deleted; the employee's stories
    (:class:`bot.db.models.Story`, approved ones too) are deleted with them.
    """
    who = pseudonym(user_id, key)
    if who is None:
        return 0, 0
    questions, feedback = _delete_question_ids(session, _locked_ids(session, Question.user_pseudonym == who))
    feedback += session.execute(delete(Feedback).where(Feedback.user_pseudonym == who)).rowcount or 0
    session.execute(delete(Story).where(Story.user_pseudonym == who))
    return questions, feedback


def _tracker_counts(url: str, cutoff_epoch: float) -> tuple[int, int]:
    from bot.db.session import get_engine

    engine = get_engine(url)
    if not inspect(engine).has_table("events"):
        return 0, 0
    with engine.connect() as conn:
        old = TRACKER_EVENTS.c.timestamp < cutoff_epoch
        events = conn.execute(select(func.count()).select_from(TRACKER_EVENTS).where(old)).scalar() or 0
        conversations = conn.execute(
            select(func.count(func.distinct(TRACKER_EVENTS.c.sender_id))).where(old)).scalar() or 0
    return events, conversations


def _purge_tracker(url: str, cutoff_epoch: float) -> int:
    from bot.db.session import get_engine

    engine = get_engine(url)
    if not inspect(engine).has_table("events"):
        return 0
    with engine.begin() as conn:
        return conn.execute(delete(TRACKER_EVENTS).where(TRACKER_EVENTS.c.timestamp < cutoff_epoch)).rowcount or 0


def purge(settings: Settings | None = None, *, now: dt.datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """Delete the conversations, questions and feedback older than the retention period.

    Args:
        settings: default :func:`bot.config.get_settings` (``retention_days``,
            ``database_url``, ``tracker_db_url``).
        now: the current UTC time (naive); default the real clock.
        dry_run: only count.

    Raises:
        ValueError: ``MANDAT_RETENTION_DAYS`` is below 1.
    """
    from bot.db.session import session_scope

    settings = settings or get_settings()
    if settings.retention_days < 1:
        raise ValueError(f"MANDAT_RETENTION_DAYS skal være mindst 1 (er {settings.retention_days})")
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=settings.retention_days)
    cutoff_epoch = cutoff.replace(tzinfo=dt.timezone.utc).timestamp()
    old = Question.asked_at < cutoff
    with session_scope(settings.database_url) as session:
        linked = session.execute(select(func.count(Question.id)).where(old, _linked())).scalar() or 0
        if dry_run:
            ids = session.execute(select(Question.id).where(old, ~_linked())).scalars().all()
            feedback = 0
            for chunk in _chunks(list(ids)):
                feedback += session.execute(select(func.count(Feedback.id))
                                            .where(Feedback.question_id.in_(chunk))).scalar() or 0
            feedback += session.execute(select(func.count(Feedback.id)).where(
                Feedback.created_at < cutoff,
                or_(Feedback.question_id.is_(None), Feedback.question_id.not_in(select(Question.id).where(old, ~_linked())))
            )).scalar() or 0
            questions = len(ids)
            session.rollback()
        else:
            questions, feedback = _delete_question_ids(session, _locked_ids(session, old, ~_linked()))
            feedback += session.execute(delete(Feedback).where(Feedback.created_at < cutoff)).rowcount or 0
            session.execute(update(Question).where(old, _linked(), Question.user_pseudonym.is_not(None))
                            .values(user_pseudonym=None))
            # Good stories: past the period, those HR did not approve go; approved ones (shared on the
            # intranet with the teller's consent, redacted) stay without the teller's pseudonym.
            old_story = Story.created_at < cutoff
            session.execute(delete(Story).where(old_story, Story.status != "approved"))
            session.execute(update(Story).where(old_story, Story.user_pseudonym.is_not(None))
                            .values(user_pseudonym=None))
    events, conversations = _tracker_counts(settings.tracker_db_url, cutoff_epoch)
    if not dry_run:
        events = _purge_tracker(settings.tracker_db_url, cutoff_epoch)
    report = PurgeReport(cutoff, settings.retention_days, questions, feedback, linked, events, conversations, dry_run)
    return report


class DailyPurge(threading.Thread):
    """Runs :func:`purge` once a day in a daemon thread (the admin app's server process starts it).

    The first run comes ``first_delay_s`` after start, so a process restarted
    every night still purges; a failed run is logged and retried the next day.

    Why a thread and not APScheduler (which Rasa pins, 3.9): the admin app is a
    threaded Werkzeug server with one job to schedule; a thread waiting on an
    :class:`threading.Event` is all that takes, and stops with the process.
    """

    def __init__(self, settings: Settings | None = None, interval_s: float = DAY_S, first_delay_s: float = 60.0):
        super().__init__(name="mandat-daily-purge", daemon=True)
        self.settings = settings
        self.interval_s = interval_s
        self.first_delay_s = first_delay_s
        self.runs = 0
        self.last_report: PurgeReport | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        delay = self.first_delay_s
        while not self._stop_event.wait(delay):
            try:
                self.last_report = purge(self.settings)
                logger.info("Daily purge: %s", self.last_report.summary())
            except Exception:
                logger.exception("Daily purge failed; it runs again in %.0f s", self.interval_s)
            self.runs += 1
            delay = self.interval_s

    def stop(self) -> None:
        """Stop after the current run (for tests and shutdown)."""
        self._stop_event.set()
