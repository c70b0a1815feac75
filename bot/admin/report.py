"""The LMU report in the admin app: a form (unit, period), an on-screen preview, and the PDF.

* ``GET /lmu-rapport``: the form; with ``?enhed=UNIT&fra=YYYY-MM-DD&til=YYYY-MM-DD`` also the
  report's content on the page.
* ``GET /lmu-rapport.pdf?enhed=...&fra=...&til=...``: the one-page PDF (:func:`bot.report.render_pdf`)
  as a download. A GET: it changes nothing, so it carries no CSRF token.

Access: leaders for their own units and the units below them, HR and admins for every unit
(:meth:`bot.admin.access.Access.can_see_question`, as on the dashboard). The figures are the
dashboard's (:mod:`bot.admin.dashboard`), for the unit with every unit below it: questions asked,
the share answered, the share "already yours" (disputed answers left out), the topics staff asked
permission for that they already own, the themes of unanswered questions. Besides: the unit's
entries in force (published) past their review date (:func:`bot.domain.review_status` ``due``),
and the approved good stories that may be shared (``Story.status == "approved"`` and ``may_share``).
"""
from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import or_, select

from bot.admin import dashboard
from bot.admin.auth import current, login_required
from bot.admin.common import db, forbidden, parse_date, today, unit_tree
from bot.catalogue.tree import descendants
from bot.db.models import Mandate, Story
from bot.domain import review_status
from bot.report import DISCUSSION, MAX_ITEMS, MAX_STORIES, LmuReport, danish_date, more_text, render_pdf

bp = Blueprint("report", __name__)

DEFAULT_WEEKS = 13
"""The default period: the last 13 weeks (a quarter, between two LMU meetings)."""
MAX_DAYS = 731
"""The longest period a report covers (two years)."""
LIST_LIMIT = 20
_LAYOUT = {"max_items": MAX_ITEMS, "max_stories": MAX_STORIES, "discussion": DISCUSSION, "danish_date": danish_date,
           "more_text": more_text}
"""What the on-screen preview shares with the PDF's layout."""


def _period() -> tuple[dt.date, dt.date, list[str]]:
    """``(first day, last day, Danish errors)`` from ``?fra=&til=`` (defaults: the last 13 weeks)."""
    errors = []
    last = today()
    first = last - dt.timedelta(weeks=DEFAULT_WEEKS) + dt.timedelta(days=1)
    raw_first, raw_last = request.args.get("fra"), request.args.get("til")
    if raw_last:
        last = parse_date(raw_last) or last
        if parse_date(raw_last) is None:
            errors.append("»Til« skal være en dato (åååå-mm-dd).")
    if raw_first:
        first = parse_date(raw_first) or first
        if parse_date(raw_first) is None:
            errors.append("»Fra« skal være en dato (åååå-mm-dd).")
    if not errors and first > last:
        errors.append("»Fra« skal ligge før »Til«.")
    if not errors and (last - first).days >= MAX_DAYS:
        errors.append("En rapport kan højst dække to år.")
    return first, last, errors


def _units(unit: str) -> tuple[str, ...]:
    """``unit`` and the units below it the user may see (404 unknown, 403 not the user's)."""
    tree = unit_tree()
    if unit not in tree.parents:
        abort(404)
    access = current().access
    if not access.can_see_question(unit):
        forbidden("Du kan kun lave rapporter for dine egne enheder og enhederne under dem.")
    return tuple(sorted(u for u in descendants(unit, tree.parents) if access.can_see_question(u)))


def build_report(unit: str, first_day: dt.date, last_day: dt.date) -> LmuReport:
    """The report of ``unit`` (with the units below it) for ``first_day..last_day`` (both included).

    Raises:
        werkzeug.exceptions.NotFound / Forbidden: unknown unit / not one of the user's units.
    """
    units = _units(unit)
    tree = unit_tree()
    scope = dashboard.Scope.for_period(unit, units, first_day, last_day)
    figures = dashboard.key_figures(dashboard.weekly(scope))
    yours = dashboard.top_topics(scope, limit=LIST_LIMIT, only_yours=True)
    themes = dashboard.unanswered_themes(scope, limit=LIST_LIMIT)
    day = today()
    stale_rows = db().execute(
        select(Mandate.topic, Mandate.unit_id, Mandate.review_by)
        .where(Mandate.unit_id.in_(units), Mandate.status == "published", Mandate.review_by.is_not(None),
               Mandate.review_by < day, or_(Mandate.valid_from.is_(None), Mandate.valid_from <= day),
               or_(Mandate.valid_to.is_(None), Mandate.valid_to >= day))
        .order_by(Mandate.review_by, Mandate.topic)).all()
    stale = [(r.topic, tree.label(r.unit_id), r.review_by) for r in stale_rows
             if review_status(r.review_by, day) == "due"]
    stories = db().execute(
        select(Story).where(Story.status == "approved", Story.may_share.is_(True), Story.unit_id.in_(units),
                            Story.created_at >= scope.start,
                            Story.created_at < dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time()))
        .order_by(Story.created_at.desc(), Story.id.desc()).limit(LIST_LIMIT)).scalars().all()
    return LmuReport(
        unit_name=tree.label(unit), first_day=first_day, last_day=last_day, made_on=day,
        total=figures["total"], answered=figures["answered"], answered_share=figures["answered_share"],
        yours=figures["yours"], yours_share=figures["yours_share"], disputed=figures["disputed"],
        yours_topics=[(t["topic"], t["count"]) for t in yours],
        themes=[(t["text"], t["count"]) for t in themes],
        stale=stale,
        stories=[(s.what_happened, s.own_decision, tree.label(s.unit_id), s.created_at.date()) for s in stories],
        demo=dashboard.has_demo_data(scope),
    )


def _default_unit() -> str:
    """A leader's first own unit; for HR and admins the top of the tree."""
    access = current().access
    if access.own_units:
        return access.own_units[0]
    tree = unit_tree()
    return tree.ordered[0][0] if tree.ordered else ""


@bp.get("/lmu-rapport")
@login_required()
def form():
    """The form, and the report on screen once a unit is chosen."""
    access = current().access
    tree = unit_tree()
    first, last, errors = _period()
    unit = request.args.get("enhed") or ""
    report = None
    if unit and not errors and "fra" in request.args:
        report = build_report(unit, first, last)
    elif unit:
        _units(unit)  # 404 / 403 for a unit that is not the user's
    return render_template("report.html", report=report, errors=errors, first=first, last=last,
                           unit=unit or _default_unit(), unit_choices=tree.choices(access.question_units),
                           **_LAYOUT)


@bp.get("/lmu-rapport.pdf")
@login_required()
def pdf():
    """The report as a one-page PDF download (400 with the form's errors for a bad period)."""
    first, last, errors = _period()
    unit = request.args.get("enhed") or ""
    if not unit:
        errors.append("Vælg en enhed.")
    if errors:
        access = current().access
        return render_template("report.html", report=None, errors=errors, first=first, last=last, unit=unit,
                               unit_choices=unit_tree().choices(access.question_units), **_LAYOUT), 400
    data = render_pdf(build_report(unit, first, last))
    name = f"lmu-rapport-{re.sub(r'[^A-Za-z0-9_-]+', '-', unit)}-{first.isoformat()}-{last.isoformat()}.pdf"
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
