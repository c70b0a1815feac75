""""Spørgsmål til dig": a leader's (or HR's) inbox of open questions and entries past their review date.

Which questions and entries a user gets is :mod:`bot.inbox`'s routing (the asker's unit's leaders, else
the nearest leaders above, else HR). HR and admins see those routed to HR, and every open question with
``?vis=alle``. Each question is answered in one of three ways:

* linking an entry: the review queue's link flow (``questions.link`` shows the answer first, then
  ``questions.set_status`` links; both set ``answered_at``);
* creating an entry from it: the entry form prefilled from the question (``entries.new``);
* a one-off reply (:func:`reply`), redacted before it is stored.

The asker is told in the chat the next time they open it (:mod:`bot.notices`). An entry past its review
date gets one button, "Stadig rigtig" (:func:`confirm`): a new review date
(:data:`bot.domain.REVIEW_PERIOD_MONTHS` ahead), recorded in the entry's history. A user sets the address
their notices go to on their account page (:func:`set_email`).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from bot import inbox
from bot.admin import audit
from bot.admin.auth import current, login_required
from bot.admin.common import db, parse_int, today, unit_tree
from bot.db.models import Mandate, Question
from bot.domain import REVIEW_PERIOD_MONTHS
from bot.mail import valid_address

bp = Blueprint("inbox", __name__)

EVERYTHING_ROLES = ("hr", "admin")
"""Roles that may list every open question, not only those routed to them."""


def _everything() -> bool:
    return current().role in EVERYTHING_ROLES and request.args.get("vis") == "alle"


@bp.app_context_processor
def _inbox_context():
    """``inbox_count``: the open questions routed to the logged-in user (the nav and the start page)."""
    if not current_user.is_authenticated or request.endpoint in (None, "static"):
        return {}
    return {"inbox_count": inbox.open_count(db(), current().row, _router())}


def _router() -> inbox.Router:
    from flask import g

    if "inbox_router" not in g:
        g.inbox_router = inbox.Router.load(db())
    return g.inbox_router


@bp.route("/til-dig")
@login_required()
def page():
    """The inbox: open questions routed to the user, and their entries past the review date."""
    me = current()
    router = _router()
    questions = inbox.open_questions(db(), me.row, router, everything=_everything())
    stale = inbox.stale_entries(db(), me.row, today(), router)
    access = me.access
    guesses = {}
    offered_topics = {}
    ids = {m for q in questions for m in (q.offered or [])} | {q.best_mandate_id for q in questions}
    ids.discard(None)
    if ids:
        rows = db().execute(select(Mandate.id, Mandate.topic, Mandate.unit_id).where(Mandate.id.in_(sorted(ids))))
        readable = {r.id: r.topic for r in rows if access.can_read_unit(r.unit_id)}
        offered_topics = readable
        for q in questions:
            guess = next((m for m in [*(q.offered or []), q.best_mandate_id] if m in readable), None)
            guesses[q.id] = guess
    return render_template(
        "inbox.html", questions=questions, stale=stale, tree=unit_tree(), guesses=guesses, topics=offered_topics,
        everything=_everything(), can_list_all=me.role in EVERYTHING_ROLES, route_of=router.route,
        can_create=access.can_edit_any, review_months=REVIEW_PERIOD_MONTHS, max_reply=inbox.MAX_REPLY_CHARS,
    )


def _open_question(question_id: int) -> Question:
    question = db().get(Question, question_id)
    if question is None:
        abort(404)
    if not current().access.can_answer_question(question.unit_id):
        abort(403, description="Spørgsmålet hører til en enhed, du ikke har adgang til.")
    return question


@bp.route("/til-dig/<int:question_id>/svar", methods=["POST"])
@login_required()
def reply(question_id: int):
    """A one-off reply to a question (redacted before it is stored); the asker is told in the chat."""
    question = _open_question(question_id)
    if question.outcome != "unanswered" or question.status != "new":
        flash("Spørgsmålet er allerede besvaret eller lagt til side. Intet er ændret.", "info")
        return redirect(url_for("inbox.page"))
    try:
        inbox.mark_answered(question, current().username, reply=request.form.get("reply") or "")
    except ValueError as exc:
        flash(f"Svaret er ikke sendt: {exc}", "error")
        return redirect(url_for("inbox.page") + f"#q-{question_id}")
    audit.record(db(), current(), "question.reply", str(question.id), {"unit": question.unit_id})
    db().commit()
    flash("Svaret er gemt. Medarbejderen får det i chatten, næste gang de åbner den.", "success")
    return redirect(url_for("inbox.page"))


@bp.route("/til-dig/poster/<mandate_id>/stadig-rigtig", methods=["POST"])
@login_required()
def confirm(mandate_id: str):
    """"Stadig rigtig": the entry past its review date is still right; it gets a new review date."""
    entry = db().get(Mandate, mandate_id)
    if entry is None:
        abort(404)
    if not current().access.can_confirm_review(entry.unit_id):
        abort(403, description="Du kan kun bekræfte poster for dine egne enheder og enhederne under dem.")
    if entry.version != parse_int(request.form.get("version"), entry.version):
        flash(f"Posten »{entry.topic}« er ændret, mens du så på den. Se den igen, før du bekræfter.", "error")
        return redirect(url_for("inbox.page"))
    new = inbox.confirm_review(db(), entry, current().username, today())
    audit.record(db(), current(), "entry.review", mandate_id, {"fields": ["review_by"]})
    db().commit()
    flash(f"»{entry.topic}« er bekræftet. Næste gennemgang: {new.strftime('%d.%m.%Y')}.", "success")
    return redirect(url_for("inbox.page"))


@bp.route("/konto/email", methods=["POST"])
@login_required()
def set_email():
    """The user's own e-mail address for notices of new questions and the weekly digest (empty: none)."""
    address = (request.form.get("email") or "").strip()
    if address and not valid_address(address):
        flash("Det ligner ikke en e-mailadresse. Intet er ændret.", "error")
        return redirect(url_for("auth.account"))
    me = current()
    me.row.email = address or None
    audit.record(db(), me, "user.email", me.username, {"fields": ["email"]})
    db().commit()
    flash("Din e-mailadresse er gemt." if address else "Du får ikke længere e-mails fra Mandatbot.", "success")
    return redirect(url_for("auth.account"))
