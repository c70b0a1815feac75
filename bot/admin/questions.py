"""The review queue: questions the bot could not answer, and answers with a thumbs-down.

HR sees every question, a leader those of their units and the units below.
Similar questions are grouped (:mod:`bot.admin.grouping`); a group can be
marked answered (optionally by an entry) or not relevant, or turned into a
new entry whose form is prefilled with the group's questions. HR and admins
can delete questions (after a confirmation page; their counts stay on the
dashboard, :func:`bot.retention.delete_questions`).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request
from sqlalchemy import and_, func, or_, select

from bot.admin import audit
from bot.admin.auth import current, login_required
from bot.admin.common import (
    STATUS_LABELS, db, forbidden, make_page, parse_date, safe_next, service, unit_tree,
)
from bot.admin.grouping import DEFAULT_THRESHOLD, group_texts
from bot.admin.preview import LinkPreview, link_preview
from bot.catalogue.tree import descendants
from bot.domain import NEGATIVE_FEEDBACK
from bot.inbox import clear_answer, mark_answered
from bot.db.models import QUESTION_STATUSES, Feedback, Mandate, Question, utcnow

bp = Blueprint("questions", __name__)

MAX_GROUPED = 2000
MAX_GROUPED_CSV = 10000
GROUPS_PER_PAGE = 20
ROWS_PER_PAGE = 50
STATUS_FILTERS = {"ny": "Nye", "besvaret": "Besvaret", "ikke-relevant": "Ikke relevante", "alle": "Alle"}
KIND_FILTERS = {"": "Ubesvarede og negativ feedback", "ubesvaret": "Kun ubesvarede",
                "feedback": "Kun svar med negativ feedback"}
FEEDBACK_LABELS = {"up": "👍", "down": "👎", "mistake": "Fejl i svaret"}
MAX_LINK_PREVIEWS = 3
"""Before a link, the answers of at most this many of the group's formulations are shown and checked."""
_cache_lock = threading.Lock()
DELETE_ROLES = ("hr", "admin")
"""Roles that may delete stored questions (a leader may not: HR keeps the record of what staff ask)."""


@dataclass
class Filters:
    """The queue's filters, from the query string."""

    unit: str = ""
    start: dt.date | None = None
    end: dt.date | None = None
    status: str = "ny"
    kind: str = ""
    text: str = ""
    mandate: str = ""
    view: str = "grupper"

    @classmethod
    def from_request(cls) -> "Filters":
        """Read and sanitise ``request.args``."""
        args = request.args
        status = args.get("status", "ny")
        kind = args.get("type", "")
        return cls(
            unit=args.get("enhed", ""), start=parse_date(args.get("fra")), end=parse_date(args.get("til")),
            status=status if status in STATUS_FILTERS else "ny", kind=kind if kind in KIND_FILTERS else "",
            text=(args.get("q") or "").strip()[:100], mandate=(args.get("post") or "")[:64],
            view="liste" if args.get("visning") == "liste" else "grupper",
        )

    def key(self) -> tuple:
        """Hashable form (for the grouping cache)."""
        return (self.unit, self.start, self.end, self.status, self.kind, self.text, self.mandate)


def review_status(question: Any) -> str:
    """``new``, ``answered`` or ``not_relevant`` as the queue sees it.

    An answered question with a thumbs-down that nobody reviewed yet is new
    (the bot stored it with status ``answered``).
    """
    if question.status_by is None and question.outcome != "unanswered":
        return "new"
    return question.status


def _negative_feedback():
    return select(Feedback.question_id).where(Feedback.value.in_(NEGATIVE_FEEDBACK), Feedback.question_id.is_not(None))


def queue_conditions(filters: Filters) -> list:
    """SQL conditions of the queue for the current user and ``filters`` (403 for foreign units)."""
    access = current().access
    tree = unit_tree()
    where = []
    if filters.kind == "ubesvaret":
        where.append(Question.outcome == "unanswered")
    elif filters.kind == "feedback":
        where.append(Question.id.in_(_negative_feedback()))
    else:
        where.append(or_(Question.outcome == "unanswered", Question.id.in_(_negative_feedback())))
    if access.question_units is not None:
        where.append(Question.unit_id.in_(sorted(access.question_units)))
    if filters.unit:
        if filters.unit not in tree.parents:
            abort(404)
        if not access.can_see_question(filters.unit):
            forbidden("Du kan kun se spørgsmål fra dine egne enheder og enhederne under dem.")
        units = [u for u in descendants(filters.unit, tree.parents) if access.can_see_question(u)]
        where.append(Question.unit_id.in_(sorted(units)))
    if filters.start:
        where.append(Question.asked_at >= dt.datetime.combine(filters.start, dt.time()))
    if filters.end:
        where.append(Question.asked_at < dt.datetime.combine(filters.end + dt.timedelta(days=1), dt.time()))
    if filters.status == "ny":
        where.append(or_(Question.status == "new",
                         and_(Question.status_by.is_(None), Question.outcome != "unanswered")))
    elif filters.status == "besvaret":
        where.append(and_(Question.status == "answered",
                          or_(Question.outcome == "unanswered", Question.status_by.is_not(None))))
    elif filters.status == "ikke-relevant":
        where.append(Question.status == "not_relevant")
    if filters.text:
        where.append(or_(*[Question.text.like(f"%{v}%") for v in
                           {filters.text, filters.text.lower(), filters.text.capitalize()}]))
    if filters.mandate:
        where.append(Question.resolved_mandate_id == filters.mandate)
    return where


@dataclass
class QuestionGroup:
    """A group of similar questions as shown in the queue."""

    questions: list[Any]
    feedback: Counter = field(default_factory=Counter)
    comments: list[str] = field(default_factory=list)

    @cached_property
    def centre(self):
        """The question that represents the group."""
        return self.questions[0]

    @cached_property
    def ids(self) -> str:
        """Comma-separated question ids (for forms and links)."""
        return ",".join(str(q.id) for q in self.questions)

    @cached_property
    def count(self) -> int:
        """Number of questions."""
        return len(self.questions)

    @cached_property
    def units(self) -> list[tuple[str, int]]:
        """Units asking, most frequent first."""
        return Counter(q.unit_id for q in self.questions).most_common()

    @cached_property
    def first(self) -> dt.datetime:
        """When the group was first asked."""
        return min(q.asked_at for q in self.questions)

    @cached_property
    def last(self) -> dt.datetime:
        """When the group was last asked."""
        return max(q.asked_at for q in self.questions)

    @cached_property
    def best(self) -> tuple[str | None, float | None]:
        """The bot's most frequent best candidate and its highest score in the group."""
        counts = Counter(q.best_mandate_id for q in self.questions if q.best_mandate_id)
        if not counts:
            return None, None
        best_id = counts.most_common(1)[0][0]
        return best_id, max(q.best_score or 0 for q in self.questions if q.best_mandate_id == best_id)

    @cached_property
    def statuses(self) -> Counter:
        """Review statuses in the group."""
        return Counter(review_status(q) for q in self.questions)

    @cached_property
    def offered(self) -> list[str]:
        """Entries a clarifying question offered for the group's questions (turned down or left open)."""
        return list(dict.fromkeys(m for q in self.questions if q.outcome != "answered" for m in (q.offered or ())))

    @cached_property
    def resolved(self) -> list[str]:
        """Entries the group's questions were resolved by."""
        return sorted({q.resolved_mandate_id for q in self.questions if q.resolved_mandate_id})


_COLUMNS = (Question.id, Question.asked_at, Question.unit_id, Question.text, Question.outcome, Question.mandate_id,
            Question.best_mandate_id, Question.best_score, Question.status, Question.status_by,
            Question.status_at, Question.resolved_mandate_id, Question.offered)


def _grouped_ids(filters: Filters, fingerprint: tuple, rows: list) -> list[list[int]]:
    """Group ``rows`` (cached per filter and data state)."""
    feedback_max = db().execute(select(func.max(Feedback.id))).scalar()
    key = (filters.key(), current().access.question_units, tuple(fingerprint), feedback_max)
    with _cache_lock:
        cache: OrderedDict = current_app.extensions.setdefault("mandat_group_cache", OrderedDict())
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
    groups = group_texts([r.text for r in rows], DEFAULT_THRESHOLD)
    result = [[rows[i].id for i in g.members] for g in groups]
    with _cache_lock:
        cache[key] = result
        while len(cache) > 32:
            cache.popitem(last=False)
    return result


def _attach_feedback(groups: list[QuestionGroup]) -> None:
    ids = [q.id for g in groups for q in g.questions]
    if not ids:
        return
    by_question: dict[int, QuestionGroup] = {q.id: g for g in groups for q in g.questions}
    rows = []
    for start in range(0, len(ids), 900):
        rows += db().execute(select(Feedback.question_id, Feedback.value, Feedback.comment)
                             .where(Feedback.question_id.in_(ids[start:start + 900]))).all()
    for row in rows:
        group = by_question[row.question_id]
        group.feedback[row.value] += 1
        if row.comment and len(group.comments) < 5:
            group.comments.append(row.comment)


def _topics(ids: set[str]) -> dict[str, str]:
    ids.discard(None)
    if not ids:
        return {}
    return dict(db().execute(select(Mandate.id, Mandate.topic).where(Mandate.id.in_(sorted(ids)))).all())


@bp.route("/spoergsmaal")
@login_required()
def queue():
    """The review queue (grouped or as a list)."""
    filters = Filters.from_request()
    where = queue_conditions(filters)
    access = current().access
    tree = unit_tree()
    fingerprint = db().execute(
        select(func.count(Question.id), func.max(Question.id), func.max(Question.status_at)).where(*where)).one()
    total = fingerprint[0]
    groups: list[QuestionGroup] = []
    if filters.view == "grupper":
        rows = db().execute(select(*_COLUMNS).where(*where).order_by(Question.asked_at.desc(), Question.id.desc())
                            .limit(MAX_GROUPED)).all()
        by_id = {r.id: r for r in rows}
        id_groups = _grouped_ids(filters, tuple(fingerprint), rows)
        page = make_page(len(id_groups), GROUPS_PER_PAGE)
        groups = [QuestionGroup([by_id[i] for i in ids]) for ids in id_groups[page.offset:page.offset + page.size]]
        shown_rows = len(rows)
    else:
        page = make_page(total, ROWS_PER_PAGE)
        rows = db().execute(select(*_COLUMNS).where(*where).order_by(Question.asked_at.desc(), Question.id.desc())
                            .offset(page.offset).limit(page.size)).all()
        groups = [QuestionGroup([r]) for r in rows]
        shown_rows = len(rows)
    _attach_feedback(groups)
    guesses = {g.ids: _best_guess(g) for g in groups}
    topics = _topics({g.best[0] for g in groups} | {m for g in groups for m in g.resolved}
                     | {m for g in groups for m in g.offered}
                     | {q.mandate_id for g in groups for q in g.questions if q.mandate_id}
                     | {m for m in guesses.values() if m})
    return render_template(
        "questions.html", groups=groups, page=page, total=total, filters=filters, tree=tree,
        unit_choices=tree.choices(access.question_units), status_filters=STATUS_FILTERS, kind_filters=KIND_FILTERS,
        topics=topics, review_status=review_status, feedback_labels=FEEDBACK_LABELS,
        grouped_limit=MAX_GROUPED if filters.view == "grupper" and total > MAX_GROUPED else None,
        shown_rows=shown_rows, can_create=access.can_edit_any, guesses=guesses,
        can_delete=access.role in DELETE_ROLES,
    )


def _best_guess(group: QuestionGroup) -> str | None:
    """The entry the link form is pre-filled with: the one the group is already linked to, else the bot's
    best candidate when it stored the questions, else a fresh ranking of the group's question (nothing
    is stored). Only entries the user may read."""
    access = current().access
    stored = [*group.resolved, group.best[0]]
    for mandate_id in stored:
        if mandate_id:
            entry = db().get(Mandate, mandate_id)
            if entry is not None and access.can_read_unit(entry.unit_id):
                return mandate_id
    centre = group.centre
    if not centre.unit_id or centre.unit_id not in unit_tree().parents:
        return None
    outcome = service().answer(centre.text, centre.unit_id, store=False)
    for candidate in outcome.result.candidates:
        if access.can_read_unit(candidate.unit_id):
            return candidate.mandate_id
    return None


def _selected_questions(ids: list[int]) -> list[Question]:
    """The questions ``ids`` in id order; 404 when one is missing, 403 when one is outside the user's units."""
    rows = db().execute(select(Question).where(Question.id.in_(ids)).order_by(Question.id)).scalars().all()
    if len(rows) != len(set(ids)):
        abort(404)
    access = current().access
    if any(not access.can_see_question(q.unit_id) for q in rows):
        forbidden("Et af spørgsmålene hører til en enhed, du ikke har adgang til.")
    return rows


def _link_previews(rows: list[Question], entry: Mandate) -> list[LinkPreview]:
    """The answers the group's most frequent formulations (at most :data:`MAX_LINK_PREVIEWS`, each in the
    unit it was asked in most often) would get once linked to ``entry`` (:func:`bot.admin.preview.link_preview`)."""
    units: dict[str, Counter] = {}
    parents = unit_tree().parents
    for question in rows:
        text = question.text.strip()
        if text and question.unit_id in parents:
            units.setdefault(text, Counter())[question.unit_id] += 1
    ranked = sorted(units.items(), key=lambda item: -sum(item[1].values()))[:MAX_LINK_PREVIEWS]
    return [link_preview(text, counts.most_common(1)[0][0], entry) for text, counts in ranked]


def _render_link(rows: list[Question], entry: Mandate | None, next_url: str, mandate_id: str = "",
                 status: int = 200):
    """The link step: the answers after the link, the warning, and the form that links."""
    previews = _link_previews(rows, entry) if entry is not None else []
    texts = Counter(q.text.strip() for q in rows if q.text.strip())
    return render_template(
        "link.html", entry=entry, mandate_id=entry.id if entry is not None else mandate_id, previews=previews,
        ids=",".join(str(q.id) for q in rows), count=len(rows), next_url=next_url, tree=unit_tree(),
        excluded=any(p.excluded for p in previews), wrong_yes=any(p.wrong_yes for p in previews),
        more_texts=max(0, len(texts) - len(previews)),
    ), status


@bp.route("/spoergsmaal/tilknyt", methods=["POST"])
@login_required()
def link():
    """Before a link: the answer the questions would get once linked to the entry, with a warning when the
    entry's exceptions or limit exclude them (the link then needs an explicit confirmation). Nothing changes."""
    ids = [int(p) for p in (request.form.get("ids") or "").split(",") if p.strip().isdigit()][:MAX_GROUPED]
    if not ids:
        abort(400, description="Ingen spørgsmål valgt.")
    rows = _selected_questions(ids)
    mandate_id = (request.form.get("mandate_id") or "").strip()[:64]
    entry = db().get(Mandate, mandate_id) if mandate_id else None
    next_url = safe_next(request.form.get("next"), "questions.queue")
    if entry is None or not current().access.can_read_unit(entry.unit_id):
        if mandate_id:
            flash(f"Posten '{mandate_id}' findes ikke (eller du har ikke adgang til den).", "error")
        return _render_link(rows, None, next_url, mandate_id, status=404 if mandate_id else 200)
    return _render_link(rows, entry, next_url)


@bp.route("/spoergsmaal/status", methods=["POST"])
@login_required()
def set_status():
    """Set the review status of questions (a group), optionally linking an entry."""
    status = request.form.get("status", "")
    if status not in QUESTION_STATUSES:
        abort(400, description="Ukendt status.")
    ids = [int(p) for p in (request.form.get("ids") or "").split(",") if p.strip().isdigit()][:MAX_GROUPED]
    if not ids:
        abort(400, description="Ingen spørgsmål valgt.")
    rows = _selected_questions(ids)
    access = current().access
    mandate_id = (request.form.get("mandate_id") or "").strip() or None
    if mandate_id and status == "answered":
        entry = db().get(Mandate, mandate_id)
        if entry is None or not access.can_read_unit(entry.unit_id):
            flash(f"Posten '{mandate_id}' findes ikke (eller du har ikke adgang til den). Intet er ændret.", "error")
            return redirect(safe_next(request.form.get("next"), "questions.queue"))
        if request.form.get("confirm_risk") != "1" and any(p.excluded for p in _link_previews(rows, entry)):
            flash("Intet er tilknyttet: posten udelukker det, der spørges om. Se svaret, og bekræft, "
                  "hvis posten alligevel er den rigtige.", "error")
            return _render_link(rows, entry, request.form.get("next") or "", status=409)
    now, who = utcnow(), current().username
    for question in rows:
        if status == "answered" and mandate_id:  # the asker is told in the chat (bot.inbox, bot.notices)
            mark_answered(question, who, mandate_id=mandate_id, now=now)
            continue
        question.status, question.status_by, question.status_at = status, who, now
        if status != "answered":
            question.resolved_mandate_id = None
            clear_answer(question)
    audit.record(db(), current(), "question.link" if status == "answered" and mandate_id else "question.status",
                 ",".join(str(q.id) for q in rows)[:200], {"status": status, "mandate": mandate_id})
    db().commit()
    message = f"{len(rows)} spørgsmål er markeret som »{STATUS_LABELS[status].lower()}«."
    if status == "answered" and mandate_id:
        message += f" Spørger nogen igen på samme måde, svarer botten med posten »{mandate_id}«."
    flash(message, "success")
    return redirect(safe_next(request.form.get("next"), "questions.queue"))


@bp.route("/spoergsmaal/slet", methods=["POST"])
@login_required(*DELETE_ROLES)
def delete():
    """Delete questions (a group) and the feedback on them; HR and admins only.

    Without ``confirm=1`` nothing is deleted: the page shows the questions and asks
    for confirmation. The dashboard's counts keep them (``question_stats``).
    """
    from bot.retention import delete_questions

    ids = [int(p) for p in (request.form.get("ids") or "").split(",") if p.strip().isdigit()][:MAX_GROUPED]
    if not ids:
        abort(400, description="Ingen spørgsmål valgt.")
    rows = _selected_questions(ids)
    next_url = safe_next(request.form.get("next"), "questions.queue")
    if request.form.get("confirm") != "1":
        return render_template("question_delete.html", questions=rows, ids=",".join(str(q.id) for q in rows),
                               next_url=next_url, tree=unit_tree())
    questions, feedback = delete_questions(db(), [q.id for q in rows])
    audit.record(db(), current(), "question.delete", ",".join(str(q.id) for q in rows)[:200],
                 {"questions": questions, "feedback": feedback})
    db().commit()
    current_app.logger.info("%s deleted %d questions (ids %s) and %d feedback", current().username, questions,
                            ",".join(str(i) for i in ids[:50]), feedback)
    flash(f"{questions} spørgsmål og {feedback} feedback er slettet. Tallene på aktørskabssiden er bevaret.",
          "success")
    return redirect(next_url)


def _csv_safe(value: Any) -> Any:
    """Neutralise spreadsheet formulas in user text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@bp.route("/spoergsmaal.csv")
@login_required()
def export_csv():
    """The queue (current filters) as CSV for Excel: UTF-8 with BOM, semicolons."""
    filters = Filters.from_request()
    where = queue_conditions(filters)
    tree = unit_tree()
    rows = db().execute(select(*_COLUMNS).where(*where).order_by(Question.asked_at.desc(), Question.id.desc())
                        .limit(100_000)).all()
    group_of: dict[int, int] = {}
    if len(rows) <= MAX_GROUPED_CSV:
        for number, g in enumerate(group_texts([r.text for r in rows], DEFAULT_THRESHOLD), start=1):
            for i in g.members:
                group_of[rows[i].id] = number
    feedback: dict[int, Counter] = {}
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 5000):
        for row in db().execute(select(Feedback.question_id, Feedback.value)
                                .where(Feedback.question_id.in_(ids[start:start + 5000]))):
            feedback.setdefault(row.question_id, Counter())[row.value] += 1
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["id", "tidspunkt", "enhed", "spørgsmål", "udfald", "gruppe", "bedste post", "score",
                     "feedback", "status", "status sat af", "status sat", "løst af post"])
    from bot.localtime import local_time

    for r in rows:
        fb = feedback.get(r.id, Counter())
        writer.writerow([
            r.id, local_time(r.asked_at).strftime("%Y-%m-%d %H:%M"), tree.label(r.unit_id) if r.unit_id else "",
            _csv_safe(r.text), "besvaret" if r.outcome == "answered" else "ubesvaret", group_of.get(r.id, ""),
            r.best_mandate_id or "", f"{r.best_score:.2f}".replace(".", ",") if r.best_score is not None else "",
            ", ".join(f"{k}:{v}" for k, v in sorted(fb.items())), STATUS_LABELS[review_status(r)],
            r.status_by or "", local_time(r.status_at).strftime("%Y-%m-%d %H:%M") if r.status_at else "",
            r.resolved_mandate_id or r.mandate_id or "",
        ])
    name = f"spoergsmaal-{dt.date.today().isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})

