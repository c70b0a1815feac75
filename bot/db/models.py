"""SQLAlchemy 1.4 models (2.0-style API) for the catalogue, questions and feedback.

Tables:
    units             organisational tree (kommune -> område -> team)
    mandates          mandate entries (every field of the catalogue format v2)
    mandate_history   who changed which entry when, field by field
    questions         every question the bot handled (redacted text)
    feedback          thumbs up/down and "the answer is wrong" reports
    question_stats    weekly counts of purged questions (the dashboard keeps them)

Migrations live in ``bot/db/migrations``; change a model, then add a revision.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import declarative_base, relationship

from bot import domain
from bot.domain import (DECISIONS, ENTRY_STATUSES, EXCEPTION_DECISIONS, LIMIT_UNITS, QUESTION_STATUSES, ROUTES,
                        STORY_STATUSES, Limit)

__all__ = [
    "Base", "DECISIONS", "EXCEPTION_DECISIONS", "LIMIT_UNITS", "QUESTION_STATUSES", "ROUTES", "ROLES",
    "Unit", "Mandate", "MandateHistory", "Question", "Feedback", "User", "QuestionStat", "Story", "utcnow",
    "ENTRY_STATUSES", "STORY_STATUSES",
]
# DECISIONS and QUESTION_STATUSES are defined in bot.domain and re-exported here,
# so ``from bot.db.models import DECISIONS`` keeps working.

Base = declarative_base()


def _in_list(column: str, values: tuple[str, ...]) -> str:
    """SQL ``column IN ('a', 'b')`` for a CHECK constraint (values are our own constants)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def utcnow() -> dt.datetime:
    """Naive UTC timestamp (stored as such in every table)."""
    return dt.datetime.utcnow()


class Unit(Base):
    """An organisational unit; ``parent_id`` is None for the root (kommune)."""

    __tablename__ = "units"

    id = Column(String(64), primary_key=True)
    name = Column(String(200), nullable=False)
    parent_id = Column(String(64), ForeignKey("units.id"), nullable=True, index=True)
    aliases = Column(JSON, nullable=False, default=list)

    parent = relationship("Unit", remote_side=[id], backref="children")


class Mandate(Base):
    """One mandate entry: who decides a topic for a unit and the units below it.

    ``version`` is SQLAlchemy's optimistic-locking counter: a save based on a
    stale version raises ``StaleDataError`` instead of overwriting.

    Catalogue format v2 fields:
        exceptions: list of ``{"case": str, "decision": one of EXCEPTION_DECISIONS,
            "decided_by": str | None}``: cases the entry's decision does not cover.
        limit_value, limit_unit: the limit (a float >= 0 in one of LIMIT_UNITS), both or neither;
            read them together as :attr:`limit`.
        route: None or one of ROUTES (the entry is the route after a mistake / for a concern).
    """

    __tablename__ = "mandates"

    id = Column(String(64), primary_key=True)
    unit_id = Column(String(64), ForeignKey("units.id"), nullable=False, index=True)
    topic = Column(String(300), nullable=False)
    topic_key = Column(String(64), nullable=True, index=True)
    decision = Column(String(16), nullable=False)
    decided_by = Column(String(300), nullable=True)
    summary = Column(Text, nullable=False)
    conditions = Column(JSON, nullable=False, default=list)
    exceptions = Column(JSON, nullable=False, default=list)
    limit_value = Column(Float, nullable=True)
    limit_unit = Column(String(16), nullable=True)
    route = Column(String(16), nullable=True)
    inform = Column(Text, nullable=True)
    how = Column(Text, nullable=True)
    examples = Column(JSON, nullable=False, default=list)
    keywords = Column(JSON, nullable=False, default=list)
    source = Column(String(500), nullable=True)
    contact = Column(String(300), nullable=True)
    valid_from = Column(Date, nullable=True)
    valid_to = Column(Date, nullable=True)
    review_by = Column(Date, nullable=True)
    # published | draft | pending (bot.domain.ENTRY_STATUSES); the bot answers from published only.
    status = Column(String(16), nullable=False, default="published", server_default="published")
    version = Column(Integer, nullable=False, default=1)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow, index=True)

    unit = relationship("Unit")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "decision IN ('employee', 'team', 'leader', 'other')", name="ck_mandates_decision"
        ),
        CheckConstraint(
            f"limit_unit IS NULL OR {_in_list('limit_unit', LIMIT_UNITS)}", name="ck_mandates_limit_unit"
        ),
        CheckConstraint(
            "(limit_value IS NULL AND limit_unit IS NULL) OR (limit_value IS NOT NULL AND limit_unit IS NOT NULL)",
            name="ck_mandates_limit_pair",
        ),
        CheckConstraint(f"route IS NULL OR {_in_list('route', ROUTES)}", name="ck_mandates_route"),
    )

    @property
    def limit(self) -> Limit | None:
        """The limit as a :class:`bot.domain.Limit`, or None when the entry has none.

        Raises:
            ValueError: the stored unit or value is invalid (the CHECK constraints prevent it).
        """
        if self.limit_value is None or self.limit_unit is None:
            return None
        return Limit(self.limit_value, self.limit_unit)

    @property
    def limit_dkk(self) -> int | None:
        """The limit in whole kroner when its unit is ``kr`` (rounded), else None. Read-only.

        Kept for code written against catalogue format v1; new code reads :attr:`limit`.
        """
        if self.limit_unit != "kr" or self.limit_value is None:
            return None
        return int(round(self.limit_value))

    def in_force(self, day: dt.date) -> bool:
        """True when ``day`` lies within ``valid_from..valid_to`` (both inclusive, open ends)."""
        return domain.in_force(self.valid_from, self.valid_to, day)


class MandateHistory(Base):
    """One change of one entry. ``changes`` maps field -> [old, new] (JSON values)."""

    __tablename__ = "mandate_history"

    id = Column(Integer, primary_key=True, autoincrement=True)
    mandate_id = Column(String(64), nullable=False, index=True)
    changed_at = Column(DateTime, nullable=False, default=utcnow)
    changed_by = Column(String(200), nullable=False)
    action = Column(String(16), nullable=False)  # create | update | delete
    changes = Column(JSON, nullable=False, default=dict)


class Question(Base):
    """A question the bot handled, redacted before storing.

    ``outcome`` is ``answered`` (``mandate_id``/``decision`` set) or
    ``unanswered`` (HR reviews these; ``status`` tracks the review).
    """

    __tablename__ = "questions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    asked_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    unit_id = Column(String(64), nullable=True, index=True)
    user_pseudonym = Column(String(64), nullable=True)
    text = Column(Text, nullable=False)
    intent = Column(String(64), nullable=True)
    outcome = Column(String(16), nullable=False, default="unanswered")
    mandate_id = Column(String(64), nullable=True)
    decision = Column(String(16), nullable=True)
    best_mandate_id = Column(String(64), nullable=True)
    best_score = Column(Float, nullable=True)
    status = Column(String(16), nullable=False, default="new")
    status_by = Column(String(200), nullable=True)
    status_at = Column(DateTime, nullable=True)
    # The entry created from this question in the admin app's review queue.
    resolved_mandate_id = Column(String(64), nullable=True, index=True)
    # The entry ids a clarifying question offered ("Handler det om A, B eller C?"), else None.
    offered = Column(JSON, nullable=True)
    # Closing the loop (migration 0007): a leader's one-off reply (redacted), who answered and when
    # (a linked entry, a new entry or a reply), when the asker was told in the widget, when the
    # unit's leaders were e-mailed; ``demo`` marks generated demo history.
    reply_text = Column(Text, nullable=True)
    answered_by = Column(String(200), nullable=True)
    answered_at = Column(DateTime, nullable=True)
    notified_at = Column(DateTime, nullable=True)
    emailed_at = Column(DateTime, nullable=True)
    demo = Column(Boolean, nullable=False, default=False, server_default="0")

    __table_args__ = (Index("ix_questions_outcome_asked", "outcome", "asked_at"),
                      # migration 0008 (make bench-scale): the questions HR linked, read on every answer
                      Index("ix_questions_linked", "status", "resolved_mandate_id", "status_at"))


class Feedback(Base):
    """Feedback on an answer: ``value`` is ``up``, ``down`` or ``mistake``."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True, autoincrement=True)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    question_id = Column(Integer, ForeignKey("questions.id"), nullable=True)
    mandate_id = Column(String(64), nullable=True)
    unit_id = Column(String(64), nullable=True)
    user_pseudonym = Column(String(64), nullable=True)
    value = Column(String(16), nullable=False)
    comment = Column(Text, nullable=True)
    demo = Column(Boolean, nullable=False, default=False, server_default="0")


# ---------------------------------------------------------------------------
# Admin app: accounts, question resolution, indexes for the review pages.
# ---------------------------------------------------------------------------

ROLES = ("leader", "hr", "admin")
"""Admin-app roles: a team leader (with units), HR, and the administrator."""


class User(Base):
    """An account of the admin app.

    ``units`` lists the unit ids a leader is responsible for (the units
    below them are included implicitly). ``can_edit`` lets an HR user edit
    entries (granted by an admin). Passwords are stored as argon2 hashes.
    """

    __tablename__ = "users"

    id = Column(Integer, primary_key=True, autoincrement=True)
    username = Column(String(100), nullable=False, unique=True)
    display_name = Column(String(200), nullable=True)
    role = Column(String(16), nullable=False)
    units = Column(JSON, nullable=False, default=list)
    can_edit = Column(Boolean, nullable=False, default=False)
    active = Column(Boolean, nullable=False, default=True)
    password_hash = Column(String(255), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    password_changed_at = Column(DateTime, nullable=True)
    last_login_at = Column(DateTime, nullable=True)
    # Where notices of new questions and stale entries, and the weekly digest, go (optional).
    email = Column(String(300), nullable=True)

    __table_args__ = (
        CheckConstraint("role IN ('leader', 'hr', 'admin')", name="ck_users_role"),
    )

    def set_password(self, password: str) -> None:
        """Store an argon2 hash of ``password`` (never the password itself)."""
        from argon2 import PasswordHasher

        self.password_hash = PasswordHasher().hash(password)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches; re-hashes if the argon2 parameters changed."""
        from argon2 import PasswordHasher
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = PasswordHasher()
        try:
            hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if hasher.check_needs_rehash(self.password_hash):
            self.password_hash = hasher.hash(password)
        return True

    @staticmethod
    def generate_password() -> str:
        """A random initial password (about 80 bits, easy to type)."""
        import secrets

        alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
        groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
        return "-".join(groups)


Index("ix_feedback_question_id", Feedback.question_id)
Index("ix_mandates_review_by", Mandate.review_by)
Index("ix_questions_unit_outcome_asked", Question.unit_id, Question.outcome, Question.asked_at)


class QuestionStat(Base):
    """Weekly counts of questions deleted by the retention purge (:mod:`bot.retention`).

    The dashboard adds these to the live ``questions`` rows, so its figures
    survive a purge. One row per purge run and (week, unit, outcome, decision,
    entry); readers sum ``count`` over the rows. No text, no user: nothing personal.
    """

    __tablename__ = "question_stats"

    id = Column(Integer, primary_key=True, autoincrement=True)
    week = Column(Date, nullable=False, index=True)  # the Monday of the week (UTC date of asked_at)
    unit_id = Column(String(64), nullable=True, index=True)
    outcome = Column(String(16), nullable=False)
    decision = Column(String(16), nullable=True)
    mandate_id = Column(String(64), nullable=True)
    count = Column(Integer, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


# Deleting a user's questions and feedback ("Slet min samtale") looks them up by pseudonym.
Index("ix_questions_user_pseudonym", Question.user_pseudonym)
# Telling an asker their question was answered (bot.notices) looks up answered questions by pseudonym.
Index("ix_questions_user_pseudonym_answered", Question.user_pseudonym, Question.answered_at)
Index("ix_feedback_user_pseudonym", Feedback.user_pseudonym)


# ---------------------------------------------------------------------------
# Admin app: server-side sessions and the audit log (migration 0006).
# ---------------------------------------------------------------------------


class AdminSession(Base):
    """A login to the admin app, kept on the server.

    The session cookie carries only a random token; ``id`` is its SHA-256 (hex),
    so the table alone does not let anyone take over a session. A session is live
    while ``ended_at`` is None, the user is active, their password has not
    changed since (``password_changed_at`` is the user's value at login), and the
    idle and absolute timeouts have not passed (``bot.admin.auth``).
    ``end_reason``: logout, password, idle, expired, deactivated, reset.
    """

    __tablename__ = "admin_sessions"

    id = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)
    ended_at = Column(DateTime, nullable=True)
    end_reason = Column(String(16), nullable=True)
    password_changed_at = Column(DateTime, nullable=True)
    address = Column(String(64), nullable=True)


class AuditLog(Base):
    """One login attempt or admin change: who (``actor``, a user name; None for an
    unknown name), what (``action``, e.g. ``login.failure``, ``entry.update``), on
    what (``target``), from where (``address``), and a small JSON ``detail`` (ids and
    field names, never passwords or question texts)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True, autoincrement=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(100), nullable=True, index=True)
    action = Column(String(32), nullable=False)
    target = Column(String(200), nullable=True)
    address = Column(String(64), nullable=True)
    detail = Column(JSON, nullable=True)

    __table_args__ = (Index("ix_audit_log_action_at", "action", "at"),)


__all__ += ["AdminSession", "AuditLog"]


class Story(Base):
    """A good story told in the chat ("Jeg vil dele en god historie"), redacted before storing.

    ``status`` is one of :data:`STORY_STATUSES`; HR approves or declines. Only approved
    stories with ``may_share`` are shown on the dashboard, in the LMU report and in the export.
    ``demo`` marks generated demo history.
    """

    __tablename__ = "stories"

    id = Column(Integer, primary_key=True, autoincrement=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    unit_id = Column(String(64), nullable=True, index=True)
    user_pseudonym = Column(String(64), nullable=True)
    what_happened = Column(Text, nullable=False)
    own_decision = Column(Text, nullable=True)
    may_share = Column(Boolean, nullable=False, default=False)
    status = Column(String(16), nullable=False, default="new")
    status_by = Column(String(200), nullable=True)
    status_at = Column(DateTime, nullable=True)
    demo = Column(Boolean, nullable=False, default=False, server_default="0")

    __table_args__ = (Index("ix_stories_status_created", "status", "created_at"),)
