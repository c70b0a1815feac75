"""The aktørskab dashboard: how staff use the bot, and the "already yours" share.

"Already yours": of the answered questions, the share about decisions the
employee or the team already owns (``Question.decision`` in employee/team).
It measures the habit the municipality wants to unlearn: asking permission
for what one may decide oneself. Charts are PNG images rendered on the server
(:mod:`bot.admin.charts`), each with its numbers written on it; the page also
lists the entries whose review date has passed, per leader.

The figures count the live ``questions`` rows plus the weekly counts the
retention purge kept when it deleted older questions (``question_stats``,
:mod:`bot.retention`), so they survive a purge.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import case, func, or_, select

from bot.admin import charts
from bot.admin.auth import current, login_required
from bot.admin.common import db, forbidden, parse_int, today, unit_tree
from bot.catalogue.tree import descendants
from bot.db.models import Mandate, Question, QuestionStat, User

bp = Blueprint("dashboard", __name__)

YOURS = ("employee", "team")
WEEK_CHOICES = (8, 13, 26, 52)
CHARTS = ("uger", "besvaret", "emner", "egne-enheder", "egne-uger")
_cache_lock = threading.Lock()


@dataclass
class Scope:
    """Which questions the dashboard counts: units (None = all) and period."""

    unit: str
    units: tuple[str, ...] | None
    weeks: int
    first_monday: dt.date
    end: dt.date

    @property
    def start(self) -> dt.datetime:
        """First moment of the period."""
        return dt.datetime.combine(self.first_monday, dt.time())

    def mondays(self) -> list[dt.date]:
        """The Monday of every week in the period."""
        return [self.first_monday + dt.timedelta(weeks=i) for i in range(self.weeks)]

    def where(self) -> list:
        """SQL conditions on questions."""
        where = [Question.asked_at >= self.start,
                 Question.asked_at < dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())]
        if self.units is not None:
            where.append(Question.unit_id.in_(self.units))
        return where

    def stats_where(self) -> list:
        """SQL conditions on the stored weekly counts of purged questions (``question_stats``)."""
        where = [QuestionStat.week >= self.first_monday, QuestionStat.week <= self.end]
        if self.units is not None:
            where.append(QuestionStat.unit_id.in_(self.units))
        return where


def _scope() -> Scope:
    access = current().access
    tree = unit_tree()
    unit = request.args.get("enhed") or ""
    weeks = parse_int(request.args.get("uger"), 26)
    weeks = weeks if weeks in WEEK_CHOICES else 26
    units: set[str] | None = None if access.question_units is None else set(access.question_units)
    if unit:
        if unit not in tree.parents:
            abort(404)
        if not access.can_see_question(unit):
            forbidden("Du kan kun se tal for dine egne enheder og enhederne under dem.")
        units = {u for u in descendants(unit, tree.parents) if access.can_see_question(u)}
    end = today()
    monday = end - dt.timedelta(days=end.weekday())
    return Scope(unit, tuple(sorted(units)) if units is not None else None, weeks,
                 monday - dt.timedelta(weeks=weeks - 1), end)


def _day(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def weekly(scope: Scope) -> dict[str, list]:
    """Per week: answered, unanswered, already yours; plus the shares."""
    index = {m: i for i, m in enumerate(scope.mondays())}
    n = len(index)
    answered, unanswered, yours = [0] * n, [0] * n, [0] * n
    day = func.date(Question.asked_at)
    rows = db().execute(select(day, Question.outcome, Question.decision, func.count())
                        .where(*scope.where()).group_by(day, Question.outcome, Question.decision)).all()
    rows += db().execute(select(QuestionStat.week, QuestionStat.outcome, QuestionStat.decision,
                                func.sum(QuestionStat.count)).where(*scope.stats_where())
                         .group_by(QuestionStat.week, QuestionStat.outcome, QuestionStat.decision)).all()
    for raw_day, outcome, decision, count in rows:
        d = _day(raw_day)
        count = int(count or 0)
        i = index.get(d - dt.timedelta(days=d.weekday()))
        if i is None:
            continue
        if outcome == "answered":
            answered[i] += count
            if decision in YOURS:
                yours[i] += count
        else:
            unanswered[i] += count
    totals = [a + u for a, u in zip(answered, unanswered)]
    return {
        "weeks": scope.mondays(), "answered": answered, "unanswered": unanswered, "yours": yours,
        "totals": totals,
        "answered_share": [a / t if t else None for a, t in zip(answered, totals)],
        "yours_share": [y / a if a else None for y, a in zip(yours, answered)],
    }


def per_unit(scope: Scope) -> list[dict]:
    """Per unit with answered questions: answered, already yours and the share, largest share first."""
    yours_case = func.sum(case((Question.decision.in_(YOURS), 1), else_=0))
    rows = db().execute(select(Question.unit_id, func.count(), yours_case)
                        .where(*scope.where(), Question.outcome == "answered").group_by(Question.unit_id)).all()
    stored_yours = func.sum(case((QuestionStat.decision.in_(YOURS), QuestionStat.count), else_=0))
    rows += db().execute(select(QuestionStat.unit_id, func.sum(QuestionStat.count), stored_yours)
                         .where(*scope.stats_where(), QuestionStat.outcome == "answered")
                         .group_by(QuestionStat.unit_id)).all()
    totals: dict = {}
    for u, a, y in rows:
        answered, yours = totals.get(u, (0, 0))
        totals[u] = (answered + int(a or 0), yours + int(y or 0))
    tree = unit_tree()
    result = [{"unit": u, "name": tree.label(u), "answered": a, "yours": y, "share": y / a}
              for u, (a, y) in totals.items() if a]
    result.sort(key=lambda r: (-r["share"], -r["answered"]))
    return result


def top_topics(scope: Scope, limit: int = 10) -> list[dict]:
    """The entries that answered most questions in the period."""
    counts: dict[str, int] = dict(db().execute(
        select(Question.mandate_id, func.count())
        .where(*scope.where(), Question.outcome == "answered", Question.mandate_id.is_not(None))
        .group_by(Question.mandate_id)).all())
    for mandate_id, n in db().execute(
            select(QuestionStat.mandate_id, func.sum(QuestionStat.count))
            .where(*scope.stats_where(), QuestionStat.outcome == "answered", QuestionStat.mandate_id.is_not(None))
            .group_by(QuestionStat.mandate_id)).all():
        counts[mandate_id] = counts.get(mandate_id, 0) + int(n or 0)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    ids = [mandate_id for mandate_id, _ in ranked]
    topics = dict(db().execute(select(Mandate.id, Mandate.topic).where(Mandate.id.in_(ids))).all()) if ids else {}
    decisions = dict(db().execute(select(Mandate.id, Mandate.decision).where(Mandate.id.in_(ids))).all()) if ids else {}
    return [{"id": m, "topic": topics.get(m, m), "count": n, "decision": decisions.get(m)} for m, n in ranked]


def overdue_per_leader() -> list[dict]:
    """Entries in force whose review date has passed, per leader (and units without a leader)."""
    access = current().access
    tree = unit_tree()
    day = today()
    overdue = [Mandate.review_by < day, or_(Mandate.valid_to.is_(None), Mandate.valid_to >= day)]
    per_unit_count = dict(db().execute(select(Mandate.unit_id, func.count()).where(*overdue)
                                       .group_by(Mandate.unit_id)).all())
    leaders = db().execute(select(User).where(User.role == "leader", User.active.is_(True))
                           .order_by(User.display_name, User.username)).scalars().all()
    if access.role == "leader":
        leaders = [u for u in leaders if u.username == access.username]

    def oldest(units: set[str]) -> list:
        if not units:
            return []
        return db().execute(select(Mandate.id, Mandate.topic, Mandate.unit_id, Mandate.review_by)
                            .where(*overdue, Mandate.unit_id.in_(sorted(units)))
                            .order_by(Mandate.review_by, Mandate.id).limit(5)).all()

    covered: set[str] = set()
    result = []
    for leader in leaders:
        units: set[str] = set()
        for unit_id in leader.units or []:
            if unit_id in tree.parents:
                units |= descendants(unit_id, tree.parents)
        covered |= units
        count = sum(per_unit_count.get(u, 0) for u in units)
        result.append({"leader": leader.display_name or leader.username, "username": leader.username,
                       "units": [tree.label(u) for u in leader.units or []], "count": count,
                       "oldest": oldest(units) if count else []})
    if access.role != "leader":
        rest = {u for u, n in per_unit_count.items() if n and u not in covered}
        if rest:
            result.append({"leader": "Enheder uden leder i admin-appen", "username": None, "units": [],
                           "count": sum(per_unit_count[u] for u in rest), "oldest": oldest(rest)})
    result.sort(key=lambda r: -r["count"])
    return result


def aggregates(scope: Scope) -> dict:
    """``weekly``, ``per_unit`` and ``topics`` of ``scope``, cached until a question is added.

    The page and its five charts need the same numbers; computing them once
    keeps the dashboard fast on a large question table.
    """
    fingerprint = tuple(db().execute(select(func.count(Question.id), func.max(Question.id))).one()) + (
        db().execute(select(func.max(QuestionStat.id))).scalar(),)
    topics_state = db().execute(select(func.max(Mandate.updated_at))).scalar()
    key = (scope.units, scope.weeks, scope.end, fingerprint, topics_state)
    with _cache_lock:
        cache: OrderedDict = current_app.extensions.setdefault("mandat_dashboard_cache", OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    result = {"weekly": weekly(scope), "per_unit": per_unit(scope), "topics": top_topics(scope), "key": key}
    with _cache_lock:
        cache[key] = result
        while len(cache) > 32:
            cache.popitem(last=False)
    return result


@bp.route("/aktoerskab")
@login_required()
def overview():
    """The dashboard page: key figures, charts, overdue reviews."""
    scope = _scope()
    access = current().access
    tree = unit_tree()
    numbers = aggregates(scope)
    data = numbers["weekly"]
    answered, total = sum(data["answered"]), sum(data["totals"])
    yours = sum(data["yours"])
    new_where = [Question.outcome == "unanswered", Question.status == "new"]
    if scope.units is not None:
        new_where.append(Question.unit_id.in_(scope.units))
    new_count = db().execute(select(func.count(Question.id)).where(*new_where)).scalar()
    figures = {
        "total": total, "answered": answered, "answered_share": answered / total if total else None,
        "yours": yours, "yours_share": yours / answered if answered else None, "new": new_count,
    }
    return render_template(
        "dashboard.html", scope=scope, figures=figures, data=data, units=numbers["per_unit"][:15],
        topics=numbers["topics"],
        overdue=overdue_per_leader(), unit_choices=tree.choices(access.question_units), week_choices=WEEK_CHOICES,
        chart_args={"enhed": scope.unit or None, "uger": scope.weeks},
    )


@bp.route("/aktoerskab/graf/<name>.png")
@login_required()
def chart(name: str):
    """One chart as PNG (same filters as the page)."""
    if name not in CHARTS:
        abort(404)
    scope = _scope()
    numbers = aggregates(scope)
    key = (name, numbers["key"])
    with _cache_lock:
        cache: OrderedDict = current_app.extensions.setdefault("mandat_chart_cache", OrderedDict())
        png = cache.get(key)
    if png is None:
        png = _render(name, numbers)
        with _cache_lock:
            cache[key] = png
            while len(cache) > 64:
                cache.popitem(last=False)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "private, max-age=60"})


def _render(name: str, numbers: dict) -> bytes:
    if name == "emner":
        topics = numbers["topics"]
        return charts.horizontal_bars([t["topic"] for t in topics], [t["count"] for t in topics],
                                      "Mest stillede emner (besvarede spørgsmål)")
    if name == "egne-enheder":
        units = numbers["per_unit"][:15]
        return charts.horizontal_bars([u["name"] for u in units], [u["share"] for u in units],
                                      "»Det må du allerede selv« pr. enhed (andel af besvarede)",
                                      notes=[f"{u['yours']} af {u['answered']}" for u in units], percent=True,
                                      colour=charts.GREEN)
    data = numbers["weekly"]
    if name == "uger":
        return charts.questions_per_week(data["weeks"], data["answered"], data["unanswered"])
    if name == "besvaret":
        return charts.share_per_week(data["weeks"], data["answered_share"], data["totals"],
                                     "Andel besvaret af botten pr. uge", colour=charts.BLUE)
    return charts.share_per_week(data["weeks"], data["yours_share"], data["answered"],
                                 "»Det må du allerede selv« pr. uge (andel af besvarede)")
