"""Domain rules of the mandate catalogue, defined once (DESIGN.md, "Layout": ``bot/domain``).

Everything else (models, catalogue import, retrieval, rules, answers, the
admin app) imports these names instead of repeating them:

* who decides (:data:`DECISIONS`), and who decides an exception
  (:data:`EXCEPTION_DECISIONS`: the four, or ``nobody`` for "never");
* the units a limit can have (:data:`LIMIT_UNITS`) and which of them convert
  into each other (:func:`convert`);
* the situations an entry can be the route for (:data:`ROUTES`);
* when an entry is in force (:func:`in_force`), and that only published entries are
  answered from (:func:`answerable`);
* the review statuses of a stored question (:data:`QUESTION_STATUSES`) and
  of an entry's review date (:func:`review_status`), and the period a confirmed entry
  gets until its next review (:data:`REVIEW_PERIOD_MONTHS`, :func:`next_review_date`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

DECISIONS = ("employee", "team", "leader", "other")
"""Who decides: the employee, the team, the leader, or someone else (``decided_by`` names them)."""

SELF_DECISIONS = ("employee", "team")
"""Decisions that let the asker (or their team) act without asking: the "Ja" side of an answer."""

EXCEPTION_DECISIONS = (*DECISIONS, "nobody")
"""Who decides a case an entry's exception lists; ``nobody``: it is never allowed ("aldrig")."""

LIMIT_UNITS = ("kr", "minutter", "timer", "dage", "personer", "gange")
"""Units of an entry's limit (catalogue format v2, ``limit: {value, unit}``)."""

ROUTES = ("mistake", "concern")
"""What an entry can be the route for: ``mistake`` (an adverse event, a medicine error, a data
breach: what to do after a mistake at work), ``concern`` (concern for a child or a citizen,
violence, abuse: the duty to report and how). Set on an entry by its leader (format v2, ``route``)."""

QUESTION_STATUSES = ("new", "answered", "not_relevant")
"""Review status of a stored question: new (in HR's queue), answered (an entry or a reply
answers it), not_relevant (HR set it aside)."""

ENTRY_STATUSES = ("published", "draft", "pending")
"""Publication status of an entry: ``published`` (the bot answers from it), ``draft`` (a leader's
unsaved-for-the-bot work, previewed as a card) or ``pending`` (awaiting an area leader's approval,
where the municipality asks for it). Only published entries are ever answered from."""

PUBLISHED = "published"
"""The one :data:`ENTRY_STATUSES` value the bot answers from."""


def answerable(status: str | None) -> bool:
    """True when an entry of publication ``status`` may be answered from, listed or inherited.

    Only published entries are: a draft or an entry awaiting approval is never ranked, never
    listed ("Hvad må jeg selv bestemme?"), never inherited by the units below and hides no
    entry above it. ``None`` (an entry built before statuses existed) counts as published.
    """
    return status is None or status == PUBLISHED

NEGATIVE_FEEDBACK = ("down", "mistake")
"""Feedback that disputes an answer: a thumbs-down (``down``) or "Fejl i svaret" (``mistake``).
A disputed answer is not counted as "already yours" on the dashboard, in the LMU report, nor in
the weekly counts the retention purge keeps."""

STORY_STATUSES = ("new", "approved", "declined")
"""HR's review of a good story told in the chat: new, approved (shown on the dashboard and in
the LMU report, exportable for the intranet) or declined."""

_MINUTES = {"minutter": 1.0, "timer": 60.0}
"""Units of time that convert exactly. Days do not: a working day is not 24 hours, and
"2 dage" of a substitute is not 48 hours, so days compare only with days."""


@dataclass(frozen=True)
class Limit:
    """An entry's limit: ``value`` in ``unit`` (one of :data:`LIMIT_UNITS`).

    Raises:
        ValueError: on construction, for an unknown unit or a negative value.
    """

    value: float
    unit: str

    def __post_init__(self):
        if self.unit not in LIMIT_UNITS:
            raise ValueError(f"limit unit must be one of {', '.join(LIMIT_UNITS)}, not {self.unit!r}")
        if self.value < 0:
            raise ValueError(f"limit value must be >= 0, not {self.value!r}")


WORKDAY_HOURS = 7.4
"""Hours of a working day: the 37-hour full-time week of the Danish public sector's collective
agreements over 5 days. A day is between 7.4 and 24 hours (:func:`duration_range`)."""


def duration_range(value: float, unit: str, to_unit: str) -> tuple[float, float] | None:
    """``value`` in ``unit`` as ``(smallest, largest)`` in ``to_unit`` when days meet hours or
    minutes: a day is a working day (:data:`WORKDAY_HOURS`) or a calendar day (24 hours), so
    "1½ time" is 0.06 to 0.2 days and "2 dage" 14.8 to 48 hours. None when they convert exactly
    (:func:`convert`) or are not both durations."""
    hours_per = {"minutter": 1 / 60, "timer": 1.0}
    if unit == "dage" and to_unit in hours_per:
        return value * WORKDAY_HOURS / hours_per[to_unit], value * 24 / hours_per[to_unit]
    if to_unit == "dage" and unit in hours_per:
        hours = value * hours_per[unit]
        return hours / 24, hours / WORKDAY_HOURS
    return None


def convert(value: float, unit: str, to_unit: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to_unit``, or None when the two do not convert.

    Minutes and hours convert (60 minutes an hour); every other unit only into itself.
    """
    if unit == to_unit:
        return value
    if unit in _MINUTES and to_unit in _MINUTES:
        return value * _MINUTES[unit] / _MINUTES[to_unit]
    return None


def in_force(valid_from: dt.date | None, valid_to: dt.date | None, day: dt.date) -> bool:
    """True when ``day`` lies within ``valid_from..valid_to`` (both inclusive; None is open)."""
    return not ((valid_from and day < valid_from) or (valid_to and day > valid_to))


def review_status(review_by: dt.date | None, day: dt.date) -> str:
    """``none`` (no review date), ``due`` (``review_by`` is before ``day``) or ``ok``."""
    if review_by is None:
        return "none"
    return "due" if review_by < day else "ok"


REVIEW_PERIOD_MONTHS = 12
"""When a leader confirms that an entry past its review date is still right ("Stadig rigtig"), its
next review date is this many months after the day of the confirmation (:func:`next_review_date`)."""


def next_review_date(day: dt.date, months: int = REVIEW_PERIOD_MONTHS) -> dt.date:
    """``day`` plus ``months`` calendar months (the 29-31st become the month's last day when missing).

    Raises:
        ValueError: ``months`` is negative.
    """
    if months < 0:
        raise ValueError(f"months must be >= 0, not {months!r}")
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = (following - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))
