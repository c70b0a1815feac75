"""Ask an expert: who a stored question goes to, a leader's open questions and stale entries, and the
answers a leader gives (issue 16, "Close the loop").

Routing (computed from the unit tree and the accounts on every call, so a new leader account takes
over at once): a question asked in unit U goes to the active leader accounts (``User.role ==
"leader"``) whose ``units`` name U; when U has none, to those of the nearest unit above U that has
one; when no unit up to the root has a leader, to HR (every active ``hr`` account). An entry past its
review date goes to its unit's leaders by the same rule.

Open questions: those the bot could not answer (``outcome == "unanswered"``) and nobody has handled
yet (``status == "new"``); that includes a question where the employee chose "Ingen af dem" after a
clarifying question (the service stores it unanswered with ``offered`` set, and the choice changes
nothing). Generated demo history (``demo``) is never routed.

Callers open sessions and commit.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Mapping

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.catalogue.tree import UnitCycleError, ancestors, unit_parents
from bot.db.models import Mandate, MandateHistory, Question, User, utcnow
from bot.domain import next_review_date
from bot.privacy import redact

HR = "hr"
"""The route of a question no leader account covers (:attr:`Route.to_hr`)."""

MAX_REPLY_CHARS = 2000
"""Longest one-off reply a leader can write (characters, before redaction)."""


@dataclass(frozen=True)
class Route:
    """Who a unit's questions (and stale entries) go to.

    Attributes:
        unit_id: the unit whose leaders get them (the asker's unit or the nearest one above with a
            leader account); None when they go to HR.
        usernames: the leaders' user names (sorted); empty when they go to HR.
    """

    unit_id: str | None
    usernames: tuple[str, ...]

    @property
    def to_hr(self) -> bool:
        """True when no leader account covers the unit: HR gets it."""
        return not self.usernames


class Router:
    """The routes of every unit, from the tree ``{unit_id: parent_id}`` and the leader accounts.

    Args:
        parents: :func:`bot.catalogue.tree.unit_parents`.
        leaders: ``{unit_id: [username, ...]}`` of active leader accounts (:func:`leaders_by_unit`).
    """

    def __init__(self, parents: Mapping[str, str | None], leaders: Mapping[str, Iterable[str]]):
        self.parents = dict(parents)
        self.leaders = {unit: tuple(sorted(set(names))) for unit, names in leaders.items() if names}
        self._routes: dict[str | None, Route] = {}

    @classmethod
    def load(cls, session: Session) -> "Router":
        """The router of the database's current tree and accounts."""
        return cls(unit_parents(session), leaders_by_unit(session))

    def route(self, unit_id: str | None) -> Route:
        """The route of questions asked in ``unit_id`` (an unknown unit or None: HR)."""
        if unit_id not in self._routes:
            route = Route(None, ())
            try:
                chain = ancestors(unit_id, self.parents) if unit_id is not None else []
            except (KeyError, UnitCycleError):
                chain = []
            for unit in chain:
                if unit in self.leaders:
                    route = Route(unit, self.leaders[unit])
                    break
            self._routes[unit_id] = route
        return self._routes[unit_id]

    def units_for(self, username: str) -> set[str]:
        """The units whose questions go to the leader ``username``."""
        return {u for u in self.parents if username in self.route(u).usernames}

    def hr_units(self) -> set[str]:
        """The units whose questions go to HR (no leader account up the tree)."""
        return {u for u in self.parents if self.route(u).to_hr}


def leaders_by_unit(session: Session) -> dict[str, list[str]]:
    """``{unit_id: [username, ...]}`` of the active leader accounts, by the units they lead."""
    out: dict[str, list[str]] = {}
    rows = session.execute(select(User.username, User.units).where(User.role == "leader", User.active.is_(True)))
    for username, units in rows:
        for unit in units or []:
            out.setdefault(unit, []).append(username)
    return out


def hr_accounts(session: Session) -> list[User]:
    """The active HR accounts (they get what no leader covers)."""
    return session.execute(select(User).where(User.role == "hr", User.active.is_(True))
                           .order_by(User.username)).scalars().all()


OPEN = (Question.outcome == "unanswered", Question.status == "new", Question.demo.is_(False))
"""SQL conditions of an open question (see module docstring)."""


def _scope(router: Router, user: User, everything: bool = False) -> list:
    """SQL conditions limiting questions (by ``unit_id``) to those routed to ``user``.

    A leader: the units routed to them. HR and admins: the units routed to HR and questions without a
    known unit, or every question when ``everything``.
    """
    if user.role == "leader":
        return [Question.unit_id.in_(sorted(router.units_for(user.username)))]
    if everything:
        return []
    return [or_(Question.unit_id.in_(sorted(router.hr_units())), Question.unit_id.is_(None),
                Question.unit_id.not_in(sorted(router.parents)))]


def open_questions(session: Session, user: User, router: Router | None = None, *, everything: bool = False,
                   limit: int = 200) -> list[Question]:
    """The open questions routed to ``user``, oldest first (at most ``limit``).

    Args:
        everything: HR and admins: every open question, not only those routed to HR (ignored for leaders).
    """
    router = router or Router.load(session)
    return session.execute(select(Question).where(*OPEN, *_scope(router, user, everything))
                           .order_by(Question.asked_at, Question.id).limit(limit)).scalars().all()


def open_count(session: Session, user: User, router: Router | None = None) -> int:
    """How many open questions are routed to ``user`` ("Spørgsmål til dig (N)")."""
    router = router or Router.load(session)
    return session.execute(select(func.count(Question.id)).where(*OPEN, *_scope(router, user))).scalar() or 0


def stale_entries(session: Session, user: User, day: dt.date, router: Router | None = None) -> list[Mandate]:
    """Published entries in force on ``day`` whose review date has passed
    (:func:`bot.domain.review_status` ``due``), routed to ``user`` by their unit; oldest review date first.

    A leader gets those of the units routed to them; HR and admins those of the units routed to HR.
    """
    router = router or Router.load(session)
    units = router.units_for(user.username) if user.role == "leader" else router.hr_units()
    if not units:
        return []
    return session.execute(select(Mandate).where(
        Mandate.unit_id.in_(sorted(units)), Mandate.review_by.is_not(None), Mandate.review_by < day,
        Mandate.status == "published",
        or_(Mandate.valid_from.is_(None), Mandate.valid_from <= day),
        or_(Mandate.valid_to.is_(None), Mandate.valid_to >= day),
    ).order_by(Mandate.review_by, Mandate.id)).scalars().all()


def mark_answered(question: Question, by: str, *, mandate_id: str | None = None, reply: str | None = None,
                  now: dt.datetime | None = None) -> None:
    """Record that ``by`` answered ``question`` with an entry (a link or a new entry) or a one-off reply.

    Sets the review status (``answered``), ``answered_by`` and ``answered_at``, so the asker is told the
    next time they open the chat (:mod:`bot.notices`). Only an unanswered question gets ``answered_at``:
    the bot already answered the others.

    Args:
        mandate_id: the entry that answers it (linked or created from it).
        reply: a one-off reply (redacted here with :func:`bot.privacy.redact`).

    Raises:
        ValueError: neither or both of ``mandate_id`` and ``reply``; an empty or too long reply.
    """
    if (mandate_id is None) == (reply is None):
        raise ValueError("give either mandate_id or reply")
    now = now or utcnow()
    if reply is not None:
        reply = reply.strip()
        if not reply:
            raise ValueError("Svaret er tomt.")
        if len(reply) > MAX_REPLY_CHARS:
            raise ValueError(f"Svaret må højst være {MAX_REPLY_CHARS} tegn.")
        question.reply_text = redact(reply)
        question.resolved_mandate_id = None
    else:
        question.resolved_mandate_id = mandate_id
        question.reply_text = None
    question.status, question.status_by, question.status_at = "answered", by, now
    if question.outcome == "unanswered":
        question.answered_by, question.answered_at = by, now
        question.notified_at = None


def clear_answer(question: Question) -> None:
    """Undo :func:`mark_answered` for an asker not told yet (the question was set back or aside)."""
    if question.notified_at is None:
        question.answered_by = question.answered_at = None
        question.reply_text = None


def confirm_review(session: Session, entry: Mandate, by: str, day: dt.date) -> dt.date:
    """"Stadig rigtig": the entry is still right; its next review date is
    :func:`bot.domain.next_review_date` of ``day``, recorded in the entry's history.

    Returns:
        The new review date.
    """
    new = next_review_date(day)
    old = entry.review_by
    entry.review_by = new
    session.add(MandateHistory(mandate_id=entry.id, changed_by=by, action="update",
                               changes={"review_by": [old.isoformat() if old else None, new.isoformat()]}))
    return new


def recipients(session: Session, router: Router, unit_id: str | None) -> list[User]:
    """The accounts a question of ``unit_id`` (or a stale entry of it) goes to: its leaders, else HR."""
    route = router.route(unit_id)
    if route.to_hr:
        return hr_accounts(session)
    return session.execute(select(User).where(User.username.in_(route.usernames))
                           .order_by(User.username)).scalars().all()


__all__ = ["HR", "MAX_REPLY_CHARS", "OPEN", "Route", "Router", "clear_answer", "confirm_review", "hr_accounts",
           "leaders_by_unit", "mark_answered", "open_count", "open_questions", "recipients", "stale_entries"]
