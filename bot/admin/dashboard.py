"""The aktørskab dashboard: how staff use the bot, and the "already yours" share.

"Already yours": of the answered questions, the share about decisions the
employee or the team already owns (``Question.decision`` in employee/team),
leaving out answers that were disputed: given a thumbs-down or reported wrong
("Fejl i svaret"; :data:`bot.domain.NEGATIVE_FEEDBACK`) on the same question.
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
from sqlalchemy import and_, case, func, or_, select

from bot.admin import charts
from bot.admin.auth import current, login_required
from bot.admin.common import db, forbidden, parse_int, today, unit_tree
from bot.admin.grouping import DEFAULT_THRESHOLD, group_texts
from bot.catalogue.tree import descendants
from bot.db.models import Feedback, Mandate, Question, QuestionStat, Story, User
from bot.domain import NEGATIVE_FEEDBACK, SELF_DECISIONS

bp = Blueprint("dashboard", __name__)

YOURS = SELF_DECISIONS
WEEK_CHOICES = (8, 13, 26, 52)
CHARTS = ("uger", "besvaret", "emner", "egne-enheder", "egne-uger", "temaer", "tommel-ned")
MAX_THEME_QUESTIONS = 3000
"""The unanswered-themes chart groups at most this many of the period's latest unanswered questions."""
_cache_lock = threading.Lock()


@dataclass
class Scope:
    """Which questions the dashboard counts: units (None = all) and period."""

    unit: str
    units: tuple[str, ...] | None
    weeks: int
    first_monday: dt.date
    end: dt.date
    first_day: dt.date | None = None  # a period that starts inside its first week (the LMU report)

    @classmethod
    def for_period(cls, unit: str, units: tuple[str, ...] | None, first_day: dt.date, end: dt.date) -> "Scope":
        """The days ``first_day..end`` (both included). The weekly counts kept for purged questions
        (``question_stats``) count by whole weeks: those of the weeks starting in the period."""
        monday = first_day - dt.timedelta(days=first_day.weekday())
        weeks = (end - monday).days // 7 + 1
        return cls(unit, units, weeks, monday, end, first_day)

    @property
    def start(self) -> dt.datetime:
        """First moment of the period."""
        return dt.datetime.combine(self.first_day or self.first_monday, dt.time())

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
        where = [QuestionStat.week >= (self.first_day or self.first_monday), QuestionStat.week <= self.end]
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


def disputed_questions():
    """``SELECT question_id`` of the questions whose answer was disputed: a thumbs-down or "Fejl i
    svaret" (:data:`bot.domain.NEGATIVE_FEEDBACK`) on that question."""
    return select(Feedback.question_id).where(Feedback.value.in_(NEGATIVE_FEEDBACK),
                                              Feedback.question_id.is_not(None))


def _yours():
    """SQL condition: an answered question about a decision staff own, whose answer nobody disputed."""
    return and_(Question.outcome == "answered", Question.decision.in_(YOURS),
                Question.id.not_in(disputed_questions()))


def weekly(scope: Scope) -> dict[str, list]:
    """Per week (Mondays of ``scope``): answered, unanswered, already yours, disputed (answers about
    decisions staff own with a thumbs-down or "Fejl i svaret", left out of ``yours``); plus the shares
    (0..1, None for a week without questions)."""
    index = {m: i for i, m in enumerate(scope.mondays())}
    n = len(index)
    answered, unanswered, yours, disputed = [0] * n, [0] * n, [0] * n, [0] * n
    day = func.date(Question.asked_at)
    is_disputed = func.sum(case((Question.id.in_(disputed_questions()), 1), else_=0))
    rows = db().execute(select(day, Question.outcome, Question.decision, func.count(), is_disputed)
                        .where(*scope.where()).group_by(day, Question.outcome, Question.decision)).all()
    # Purged questions: the purge stores a disputed answer without its decision (bot.retention).
    rows += db().execute(select(QuestionStat.week, QuestionStat.outcome, QuestionStat.decision,
                                func.sum(QuestionStat.count), 0).where(*scope.stats_where())
                         .group_by(QuestionStat.week, QuestionStat.outcome, QuestionStat.decision)).all()
    for raw_day, outcome, decision, count, n_disputed in rows:
        d = _day(raw_day)
        count = int(count or 0)
        i = index.get(d - dt.timedelta(days=d.weekday()))
        if i is None:
            continue
        if outcome == "answered":
            answered[i] += count
            if decision in YOURS:
                yours[i] += count - int(n_disputed or 0)
                disputed[i] += int(n_disputed or 0)
        else:
            unanswered[i] += count
    totals = [a + u for a, u in zip(answered, unanswered)]
    return {
        "weeks": scope.mondays(), "answered": answered, "unanswered": unanswered, "yours": yours,
        "disputed": disputed, "totals": totals,
        "answered_share": [a / t if t else None for a, t in zip(answered, totals)],
        "yours_share": [y / a if a else None for y, a in zip(yours, answered)],
    }


def per_unit(scope: Scope) -> list[dict]:
    """Per unit with answered questions: answered, already yours and the share, largest share first."""
    yours_case = func.sum(case((_yours(), 1), else_=0))
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


def top_topics(scope: Scope, limit: int = 10, only_yours: bool = False) -> list[dict]:
    """The entries that answered most questions in the period, most first:
    ``[{"id", "topic", "count", "decision"}]``.

    ``only_yours``: count only the questions that are "already yours" (the topics staff asked
    permission for that they already own; disputed answers left out).
    """
    live = [Question.outcome == "answered", Question.mandate_id.is_not(None)]
    stored = [QuestionStat.outcome == "answered", QuestionStat.mandate_id.is_not(None)]
    if only_yours:
        live.append(_yours())
        stored.append(QuestionStat.decision.in_(YOURS))
    counts: dict[str, int] = dict(db().execute(
        select(Question.mandate_id, func.count())
        .where(*scope.where(), *live)
        .group_by(Question.mandate_id)).all())
    for mandate_id, n in db().execute(
            select(QuestionStat.mandate_id, func.sum(QuestionStat.count))
            .where(*scope.stats_where(), *stored)
            .group_by(QuestionStat.mandate_id)).all():
        counts[mandate_id] = counts.get(mandate_id, 0) + int(n or 0)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    ids = [mandate_id for mandate_id, _ in ranked]
    topics = dict(db().execute(select(Mandate.id, Mandate.topic).where(Mandate.id.in_(ids))).all()) if ids else {}
    decisions = dict(db().execute(select(Mandate.id, Mandate.decision).where(Mandate.id.in_(ids))).all()) if ids else {}
    return [{"id": m, "topic": topics.get(m, m), "count": n, "decision": decisions.get(m)} for m, n in ranked]


def unanswered_themes(scope: Scope, limit: int = 10) -> list[dict]:
    """Themes of the questions the bot could not answer in the period, largest first.

    The review queue's grouping (:func:`bot.admin.grouping.group_texts`) over the period's latest
    :data:`MAX_THEME_QUESTIONS` unanswered questions (those HR set aside as not relevant left out).

    Returns:
        ``[{"text": the group's representative question (redacted), "count": questions,
        "units": unit names, most questions first}]``, at most ``limit``.
    """
    rows = db().execute(select(Question.text, Question.unit_id)
                        .where(*scope.where(), Question.outcome == "unanswered", Question.status != "not_relevant")
                        .order_by(Question.asked_at.desc(), Question.id.desc()).limit(MAX_THEME_QUESTIONS)).all()
    if not rows:
        return []
    tree = unit_tree()
    themes = []
    for group in group_texts([r.text for r in rows], DEFAULT_THRESHOLD)[:limit]:
        per_unit: dict[str, int] = {}
        for i in group.members:
            per_unit[rows[i].unit_id] = per_unit.get(rows[i].unit_id, 0) + 1
        units = [tree.label(u) for u, _ in sorted(per_unit.items(), key=lambda item: (-item[1], str(item[0])))]
        themes.append({"text": rows[group.centre].text, "count": len(group.members), "units": units})
    return themes


def thumbs_down(scope: Scope, limit: int = 10) -> list[dict]:
    """The entries with the most disputed answers in the period: thumbs-down and "Fejl i svaret".

    Feedback counts by when it was given and the asker's unit (``Feedback.unit_id``).

    Returns:
        ``[{"id", "topic", "down", "mistake", "total", "answers"}]`` (``answers``: questions the
        entry answered in the period), most disputed first, at most ``limit``.
    """
    where = [Feedback.value.in_(NEGATIVE_FEEDBACK), Feedback.mandate_id.is_not(None),
             Feedback.created_at >= scope.start,
             Feedback.created_at < dt.datetime.combine(scope.end + dt.timedelta(days=1), dt.time())]
    if scope.units is not None:
        where.append(Feedback.unit_id.in_(scope.units))
    counts: dict[str, dict[str, int]] = {}
    for mandate_id, value, n in db().execute(select(Feedback.mandate_id, Feedback.value, func.count())
                                             .where(*where).group_by(Feedback.mandate_id, Feedback.value)).all():
        counts.setdefault(mandate_id, {"down": 0, "mistake": 0})[value] += int(n)
    ranked = sorted(counts.items(), key=lambda item: (-sum(item[1].values()), item[0]))[:limit]
    ids = [m for m, _ in ranked]
    if not ids:
        return []
    topics = dict(db().execute(select(Mandate.id, Mandate.topic).where(Mandate.id.in_(ids))).all())
    answers = dict(db().execute(select(Question.mandate_id, func.count())
                                .where(*scope.where(), Question.outcome == "answered", Question.mandate_id.in_(ids))
                                .group_by(Question.mandate_id)).all())
    return [{"id": m, "topic": topics.get(m, m), "down": c["down"], "mistake": c["mistake"],
             "total": c["down"] + c["mistake"], "answers": int(answers.get(m, 0))} for m, c in ranked]


def first_asked(scope: Scope) -> dt.date | None:
    """The day of the first question ever asked in the scope's units (None: no question yet)."""
    live = select(func.min(Question.asked_at))
    stored = select(func.min(QuestionStat.week))
    if scope.units is not None:
        live = live.where(Question.unit_id.in_(scope.units))
        stored = stored.where(QuestionStat.unit_id.in_(scope.units))
    days = [_day(v.date() if isinstance(v, dt.datetime) else v)
            for v in (db().execute(live).scalar(), db().execute(stored).scalar()) if v is not None]
    return min(days) if days else None


def has_demo_data(scope: Scope | None = None) -> bool:
    """True when the database holds generated demo history (``Question.demo``, ``Feedback.demo`` or
    ``Story.demo``: ``mandat demo --history``); with ``scope``: demo questions in its period and units."""
    if scope is not None:
        return db().execute(select(Question.id).where(*scope.where(), Question.demo.is_(True)).limit(1)).first() \
            is not None
    return any(db().execute(select(model.id).where(model.demo.is_(True)).limit(1)).first() is not None
               for model in (Question, Feedback, Story))


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
    """``weekly``, ``per_unit``, ``topics``, ``themes``, ``thumbs_down`` and ``first_asked`` of ``scope``,
    cached until a question, its status or feedback is added or changed.

    The page and its five charts need the same numbers; computing them once
    keeps the dashboard fast on a large question table.
    """
    fingerprint = tuple(db().execute(select(func.count(Question.id), func.max(Question.id),
                                            func.max(Question.status_at))).one()) + (
        db().execute(select(func.max(QuestionStat.id))).scalar(),
        *db().execute(select(func.count(Feedback.id), func.max(Feedback.id))).one())
    topics_state = db().execute(select(func.max(Mandate.updated_at))).scalar()
    key = (scope.units, scope.weeks, scope.end, scope.first_day, fingerprint, topics_state)
    with _cache_lock:
        cache: OrderedDict = current_app.extensions.setdefault("mandat_dashboard_cache", OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    result = {"weekly": weekly(scope), "per_unit": per_unit(scope), "topics": top_topics(scope),
              "themes": unanswered_themes(scope), "thumbs_down": thumbs_down(scope),
              "first_asked": first_asked(scope), "key": key}
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
    new_where = [Question.outcome == "unanswered", Question.status == "new"]
    if scope.units is not None:
        new_where.append(Question.unit_id.in_(scope.units))
    new_count = db().execute(select(func.count(Question.id)).where(*new_where)).scalar()
    figures = dict(key_figures(data), new=new_count)
    return render_template(
        "dashboard.html", scope=scope, figures=figures, data=data, units=numbers["per_unit"][:15],
        topics=numbers["topics"], themes=numbers["themes"], thumbs=numbers["thumbs_down"],
        demo=has_demo_data(), min_points=charts.MIN_POINTS,
        overdue=overdue_per_leader(), unit_choices=tree.choices(access.question_units), week_choices=WEEK_CHOICES,
        chart_args={"enhed": scope.unit or None, "uger": scope.weeks},
    )


def key_figures(data: dict) -> dict:
    """The page's key figures from :func:`weekly`: ``total``, ``answered``, ``answered_share``,
    ``yours``, ``yours_share`` (of the answered; shares 0..1 or None without questions) and
    ``disputed`` (answers about decisions staff own left out of ``yours``)."""
    answered, total, yours = sum(data["answered"]), sum(data["totals"]), sum(data["yours"])
    return {"total": total, "answered": answered, "answered_share": answered / total if total else None,
            "yours": yours, "yours_share": yours / answered if answered else None,
            "disputed": sum(data["disputed"])}


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
    if name == "temaer":
        themes = numbers["themes"]
        return charts.horizontal_bars([t["text"] for t in themes], [t["count"] for t in themes],
                                      "Temaer i spørgsmål, botten ikke kunne besvare", colour=charts.ORANGE,
                                      empty="Ingen ubesvarede spørgsmål i perioden")
    if name == "tommel-ned":
        rows = numbers["thumbs_down"]
        return charts.horizontal_bars(
            [r["topic"] for r in rows], [r["total"] for r in rows],
            "Tommel ned og »Fejl i svaret« pr. post", colour=charts.RED,
            notes=[f"{r['down']} tommel ned, {r['mistake']} fejl; {r['answers']} svar" for r in rows],
            empty="Ingen tommel ned eller »Fejl i svaret« i perioden")
    data = numbers["weekly"]
    # The time axis starts at the first question's week (at least charts.MIN_WEEKS weeks are shown).
    first = charts.first_week_index(data["weeks"], numbers["first_asked"])
    weeks = data["weeks"][first:]
    started = numbers["first_asked"] if numbers["first_asked"] and numbers["first_asked"] >= weeks[0] else None
    if name == "uger":
        return charts.questions_per_week(weeks, data["answered"][first:], data["unanswered"][first:], started=started)
    if name == "besvaret":
        return charts.share_per_week(weeks, data["answered_share"][first:], data["totals"][first:],
                                     "Andel besvaret af botten pr. uge", colour=charts.BLUE, started=started)
    return charts.share_per_week(weeks, data["yours_share"][first:], data["answered"][first:],
                                 "»Det må du allerede selv« pr. uge (andel af besvarede)", started=started)
