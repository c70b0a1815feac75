""""Gode historier": HR reviews the good stories told in the chat; everyone sees the approved ones.

* ``GET /gode-historier``: HR and admins see the stories by review status (new first) and approve
  or decline each one; a leader sees the approved stories of their units and the units below them
  that may be shared (:meth:`bot.admin.access.Access.can_see_story`).
* ``POST /gode-historier/<id>/status``: approve, decline or reopen a story (HR and admins; CSRF
  protected like every form; ``status_by``/``status_at`` and an audit row ``story.status``).
* ``GET /gode-historier/intranet.md``: the approved stories that may be shared, of the units the
  user may see, as a short Markdown text for the intranet (:func:`bot.stories.export_markdown`:
  Danish headings, no pseudonyms).

The dashboard shows the newest shared stories of its scope through :func:`dashboard_stories`, a
template global used by ``dashboard_stories.html``.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request
from sqlalchemy import func, select

from bot.admin import audit
from bot.admin.auth import current, login_required
from bot.admin.common import db, forbidden, make_page, safe_next, today, unit_tree
from bot.catalogue.tree import descendants
from bot.db.models import Story, utcnow
from bot.localtime import danish_date
from bot.stories import export_markdown, review, shared_stories

bp = Blueprint("stories", __name__)

PAGE_SIZE = 25
DASHBOARD_STORIES = 5
STATUS_FILTERS = {"ny": "new", "godkendt": "approved", "afvist": "declined", "alle": None}
"""The page's status filter (query ``status``) and the stored status it shows (None: all)."""
STORY_STATUS_LABELS = {"new": "Ny", "approved": "Godkendt", "declined": "Afvist"}
REVIEW_MESSAGES = {"approved": "Historien er godkendt.", "declined": "Historien er afvist.",
                   "new": "Historien er sat til ny igen."}


def _units(unit: str) -> set[str] | None:
    """The unit ids the user may see stories of, within ``unit`` and the units below it (None: all)."""
    access = current().access
    tree = unit_tree()
    units = None if access.question_units is None else set(access.question_units)
    if unit:
        if unit not in tree.parents:
            abort(404)
        if not access.can_see_question(unit):
            forbidden("Du kan kun se historier fra dine egne enheder og enhederne under dem.")
        units = {u for u in descendants(unit, tree.parents) if access.can_see_question(u)}
    return units


@bp.route("/gode-historier")
@login_required()
def page():
    """The stories the user may see: HR by status with approve/decline, leaders the approved ones."""
    access = current().access
    unit = request.args.get("enhed") or ""
    units = _units(unit)
    if access.can_review_stories:
        key = request.args.get("status", "ny")
        key = key if key in STATUS_FILTERS else "ny"
    else:
        key = "godkendt"
    status = STATUS_FILTERS[key]
    where = []
    if status:
        where.append(Story.status == status)
    if not access.can_review_stories:  # leaders: what may be shared (Access.can_see_story)
        where.append(Story.may_share.is_(True))
    if units is not None:
        where.append(Story.unit_id.in_(sorted(units)))
    total = db().execute(select(func.count(Story.id)).where(*where)).scalar_one()
    pg = make_page(total, PAGE_SIZE)
    rows = db().execute(select(Story).where(*where).order_by(Story.created_at.desc(), Story.id.desc())
                        .offset(pg.offset).limit(pg.size)).scalars().all()
    rows = [s for s in rows if access.can_see_story(s.unit_id, s.status, s.may_share)]
    counts = dict(db().execute(select(Story.status, func.count(Story.id)).group_by(Story.status)).all()) \
        if access.can_review_stories else {}
    return render_template("stories.html", stories=rows, page=pg, total=total, status_key=key,
                           status_filters=STATUS_FILTERS, labels=STORY_STATUS_LABELS, counts=counts,
                           tree=unit_tree(), unit=unit, unit_choices=unit_tree().choices(access.question_units),
                           can_review=access.can_review_stories)


@bp.route("/gode-historier/<int:story_id>/status", methods=["POST"])
@login_required("hr", "admin")
def set_status(story_id: int):
    """Approve (``approved``), decline (``declined``) or reopen (``new``) one story."""
    if not current().access.can_review_stories:
        forbidden()
    status = request.form.get("status", "")
    if status not in STORY_STATUS_LABELS:
        abort(400, description="Ukendt status.")
    story = db().get(Story, story_id)
    if story is None:
        abort(404)
    review(story, status, current().username, utcnow())
    audit.record(db(), current(), "story.status", story.id, {"status": status})
    db().commit()
    flash(REVIEW_MESSAGES[status], "success")
    return redirect(safe_next(request.form.get("next"), "stories.page"))


@bp.route("/gode-historier/intranet.md")
@login_required()
def export():
    """The approved stories that may be shared (of the units the user may see) as Markdown."""
    unit = request.args.get("enhed") or ""
    units = _units(unit)
    stories = shared_stories(db(), units=units)
    title = "Gode historier" + (f" fra {unit_tree().label(unit)}" if unit else "")
    text = export_markdown(stories, unit_tree().names, title=title)
    name = f"gode-historier-{today().isoformat()}.md"
    return Response(text, mimetype="text/markdown",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})


@bp.app_template_global()
def dashboard_stories(units, start: dt.datetime | None = None, limit: int = DASHBOARD_STORIES) -> list[dict]:
    """The newest approved, shareable stories of ``units`` (None: all) told since ``start`` (naive UTC):
    the dashboard's "Gode historier" section (``dashboard_stories.html``).

    Returns:
        ``[{"id", "unit" (the unit's name, "" when unknown), "date" (Danish, local), "what", "own"}]``.
    """
    tree = unit_tree()
    return [{"id": s.id, "unit": tree.label(s.unit_id) if s.unit_id else "", "date": danish_date(s.created_at),
             "what": s.what_happened, "own": s.own_decision}
            for s in shared_stories(db(), units=units, start=start, limit=limit)]
