"""Mandate entries: list, view, create, edit, retire, history, answer preview.

Every write goes through :func:`bot.catalogue.edit.save_mandate` with the
version the form was loaded with, so a concurrent change is reported as a
conflict (both versions shown), never overwritten silently.
"""
from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from bot.admin import audit
from bot.admin.auth import current, login_required, require_edit, require_read
from bot.admin.common import FIELD_LABELS, db, forbidden, make_page, parse_date, parse_int, today, unit_tree
from bot.admin.forms import (
    EXCEPTION_DECISION_LABELS, FORM_FIELDS, LEGACY_FORM_FIELDS, ROUTE_LABELS, EntryForm, diff_values, display,
    draft_entry, exception_text, field_label, format_limit, limit_warnings, slugify, spec_values, validate_form,
    values_to_form,
)
from bot.admin.preview import draft_answer, saved_answer
from bot.admin.drafts import card_message, publish_status, requested_status, status_action, status_message
from bot.catalogue.edit import EditConflict, mandate_values, save_mandate, set_status
from bot.catalogue.schema import EXCEPTION_SYNTAX, MANDATE_FIELDS, MandateSpec
from bot.catalogue.tree import ancestors, descendants
from bot.db.models import DECISIONS, Mandate, MandateHistory, Question, utcnow
from bot.domain import LIMIT_UNITS, PUBLISHED
from bot.inbox import mark_answered

bp = Blueprint("entries", __name__)

PAGE_SIZE = 50
SHOW_FILTERS = {
    "": "Alle",
    "i-kraft": "I kraft",
    "udloebet": "Udløbet eller ikke trådt i kraft",
    "gennemgang": "Gennemgang overskredet",
    "tilsidesaetter": "Tilsidesætter en overordnet post",
    "arvet": "Arvet ovenfra (kun læse)",
    "kladder": "Kladder og poster, der afventer godkendelse",
}
MAX_QUESTION_LINKS = 200
_override_lock = threading.Lock()


# -- helpers ----------------------------------------------------------------
def _get_entry(mandate_id: str) -> Mandate:
    entry = db().get(Mandate, mandate_id)
    if entry is None:
        abort(404)
    return entry


def _in_force_clause(day: dt.date):
    return and_(or_(Mandate.valid_from.is_(None), Mandate.valid_from <= day),
                or_(Mandate.valid_to.is_(None), Mandate.valid_to >= day))


def overriding_ids() -> frozenset[str]:
    """Ids of all entries that override an entry with the same topic_key on a unit above.

    Needs the unit tree, so it is computed in Python; cached until the catalogue changes.
    """
    state = tuple(db().execute(select(func.count(Mandate.id), func.max(Mandate.updated_at))).one()) + (
        db().execute(select(func.max(MandateHistory.id))).scalar(), tuple(sorted(unit_tree().parents.items())))
    with _override_lock:
        cached = current_app.extensions.get("mandat_overrides")
        if cached and cached[0] == state:
            return cached[1]
    parents = unit_tree().parents
    rows = db().execute(select(Mandate.id, Mandate.unit_id, Mandate.topic_key)
                        .where(Mandate.topic_key.is_not(None))).all()
    units_by_key: dict[str, set[str]] = {}
    for _id, unit_id, key in rows:
        units_by_key.setdefault(key, set()).add(unit_id)
    chains: dict[str, list[str]] = {}
    found = set()
    for mandate_id, unit_id, key in rows:
        holders = units_by_key[key]
        if len(holders) < 2 or unit_id not in parents:
            continue
        if unit_id not in chains:
            chains[unit_id] = ancestors(unit_id, parents)[1:]
        if any(u in holders for u in chains[unit_id]):
            found.add(mandate_id)
    result = frozenset(found)
    with _override_lock:
        current_app.extensions["mandat_overrides"] = (state, result)
    return result


def entry_flags(entries: list[Mandate]) -> dict[str, dict[str, Any]]:
    """Per entry: ``expired``, ``not_yet``, ``review_due``, ``overrides`` (the
    parent entry it overrides), ``overridden_in`` (units below with their own
    entry for the topic), ``editable`` and ``status`` (publication: :data:`bot.domain.ENTRY_STATUSES`)."""
    parents = unit_tree().parents
    access = current().access
    day = today()
    keys = {e.topic_key for e in entries if e.topic_key}
    same_key: dict[str, list[tuple[str, str]]] = {}
    if keys:
        for row in db().execute(select(Mandate.id, Mandate.unit_id, Mandate.topic_key)
                                .where(Mandate.topic_key.in_(keys))):
            same_key.setdefault(row.topic_key, []).append((row.unit_id, row.id))
    flags = {}
    for entry in entries:
        overrides = None
        below: list[str] = []
        holders = same_key.get(entry.topic_key or "", [])
        if len(holders) > 1 and entry.unit_id in parents:
            by_unit = {u: mid for u, mid in holders if mid != entry.id}
            for unit_id in ancestors(entry.unit_id, parents)[1:]:
                if unit_id in by_unit:
                    overrides = by_unit[unit_id]
                    break
            subtree = descendants(entry.unit_id, parents) - {entry.unit_id}
            below = sorted(u for u in by_unit if u in subtree)
        flags[entry.id] = {
            "expired": bool(entry.valid_to and entry.valid_to < day),
            "not_yet": bool(entry.valid_from and entry.valid_from > day),
            "review_due": bool(entry.review_by and entry.review_by < day),
            "overrides": overrides,
            "overridden_in": below,
            "editable": access.can_edit_unit(entry.unit_id),
            "status": entry.status or PUBLISHED,
        }
    return flags


def _form_from_request(mandate_id: str | None = None) -> EntryForm:
    values = {name: request.form.get(name, "") for name in FORM_FIELDS}
    values.update({name: request.form[name] for name in LEGACY_FORM_FIELDS if name in request.form})
    if mandate_id is not None:
        values["id"] = mandate_id
    return EntryForm(values)


def _question_ids(raw: str | None) -> list[int]:
    ids = []
    for part in (raw or "").replace(" ", "").split(","):
        if part.isdigit():
            ids.append(int(part))
    return list(dict.fromkeys(ids))[:MAX_QUESTION_LINKS]


def _visible_questions(ids: list[int]) -> list[Question]:
    """The questions ``ids``; 403 when any of them is outside the user's units."""
    if not ids:
        return []
    rows = db().execute(select(Question).where(Question.id.in_(ids)).order_by(Question.asked_at)).scalars().all()
    access = current().access
    if any(not access.can_see_question(q.unit_id) for q in rows):
        forbidden("Et af spørgsmålene hører til en enhed, du ikke har adgang til.")
    return rows


def _render_form(form: EntryForm, *, mode: str, entry: Mandate | None = None, version: int | None = None,
                 questions: list[Question] | None = None, status: int = 200, copied_from: str | None = None,
                 draft_preview: dict[str, Any] | None = None):
    tree = unit_tree()
    access = current().access
    # HR creating from questions (hr_can_create) may choose any unit; everyone else the units they edit.
    creatable = None if (mode == "new" and questions and access.can_create_unit("", True)) else access.editable
    choices = tree.choices(creatable)
    return render_template(
        "entry_form.html", form=form, mode=mode, entry=entry, version=version, unit_choices=choices,
        labels=FIELD_LABELS, limit_units=LIMIT_UNITS, route_labels=ROUTE_LABELS,
        exception_labels=EXCEPTION_DECISION_LABELS, exception_syntax=EXCEPTION_SYNTAX,
        decisions=DECISIONS, questions=questions or [], question_ids=",".join(str(q.id) for q in questions or []),
        question_texts=Counter(q.text.strip() for q in questions or []).most_common(),
        preview_units=choices, copied_from=copied_from, draft_preview=draft_preview,
        publish_to=publish_status(access, form.values.get("unit", "").strip() or (entry.unit_id if entry else "")),
        preview_url=url_for("entries.preview_edit", mandate_id=entry.id) if mode == "edit" else url_for(
            "entries.preview_new"),
    ), status


def _unique_id(base: str) -> str:
    candidate, n = base, 2
    while db().get(Mandate, candidate) is not None:
        suffix = f"-{n}"
        candidate = base[: 64 - len(suffix)] + suffix
        n += 1
    return candidate


def _conflict(mine: dict[str, Any], mandate_id: str, status: int = 409):
    db().rollback()
    stored = db().get(Mandate, mandate_id)
    if stored is None:
        flash("Posten er slettet, mens du redigerede den. Dine ændringer er ikke gemt.", "error")
        return redirect(url_for("entries.list_entries"))
    theirs = mandate_values(stored)
    last = db().execute(select(MandateHistory).where(MandateHistory.mandate_id == mandate_id)
                        .order_by(MandateHistory.id.desc()).limit(1)).scalar_one_or_none()
    rows = [(name, field_label(name), display(name, mine.get(name)), display(name, theirs.get(name)),
             mine.get(name) != theirs.get(name)) for name in MANDATE_FIELDS]
    return render_template("conflict.html", entry=stored, rows=rows, mine_form=values_to_form(mine),
                           last=last, tree=unit_tree()), status


def _history_items(rows: list[MandateHistory]) -> list[tuple[MandateHistory, list]]:
    items = []
    for row in rows:
        changes = row.changes or {}
        diffs = diff_values({k: v[0] for k, v in changes.items()}, {k: v[1] for k, v in changes.items()})
        items.append((row, diffs))
    return items


def _flash_limit_warnings(spec: MandateSpec) -> None:
    """Flash the save warning (:func:`bot.admin.forms.limit_warnings`): the entry is saved all the same."""
    for message in limit_warnings(spec):
        flash(f"Bemærk: {message}", "warning")


def _link_questions(questions: list[Question], mandate_id: str) -> None:
    """Mark ``questions`` answered by the new entry (:func:`bot.inbox.mark_answered`: the askers of the
    unanswered ones are told in the chat)."""
    now, who = utcnow(), current().username
    for question in questions:
        mark_answered(question, who, mandate_id=mandate_id, now=now)


# -- routes -----------------------------------------------------------------
@bp.route("/")
@login_required()
def index():
    """Start page: the entries."""
    return redirect(url_for("entries.list_entries"))


@bp.route("/poster")
@login_required()
def list_entries():
    """The entries the user may read, filtered and paginated."""
    access = current().access
    tree = unit_tree()
    day = today()
    unit = request.args.get("enhed") or ""
    decision = request.args.get("beslutning") or ""
    text = (request.args.get("q") or "").strip()[:100]
    show = request.args.get("vis") or ""
    inherited = request.args.get("arvede") == "1"
    where = []
    if access.readable is not None:
        where.append(Mandate.unit_id.in_(sorted(access.readable)))
    if unit:
        if unit not in tree.parents:
            abort(404)
        require_read(unit)
        units = ancestors(unit, tree.parents) if inherited else [unit]
        where.append(Mandate.unit_id.in_([u for u in units if access.can_read_unit(u)]))
    if decision in DECISIONS:
        where.append(Mandate.decision == decision)
    if text:
        like = [f"%{variant}%" for variant in {text, text.lower(), text.capitalize(), text.upper()}]
        where.append(or_(*[Mandate.topic.like(p) for p in like], *[Mandate.id.like(p) for p in like],
                         *[Mandate.topic_key.like(p) for p in like]))
    if show == "i-kraft":
        where.append(_in_force_clause(day))
    elif show == "udloebet":
        where.append(or_(Mandate.valid_to < day, Mandate.valid_from > day))
    elif show == "gennemgang":
        where.append(and_(Mandate.review_by < day, or_(Mandate.valid_to.is_(None), Mandate.valid_to >= day)))
    elif show == "kladder":
        where.append(Mandate.status != PUBLISHED)
    elif show == "arvet" and access.editable is not None:
        where.append(Mandate.unit_id.not_in(sorted(access.editable)))
    order = (Mandate.unit_id, Mandate.topic, Mandate.id)
    if show == "tilsidesaetter":  # needs the unit tree: filtered here, then one page is loaded by id
        overriding = overriding_ids()
        candidates = db().execute(select(Mandate.id).where(*where, Mandate.topic_key.is_not(None))
                                  .order_by(*order)).scalars().all()
        matching = [mandate_id for mandate_id in candidates if mandate_id in overriding]
        page = make_page(len(matching), PAGE_SIZE)
        ids = matching[page.offset:page.offset + page.size]
        rows = db().execute(select(Mandate).where(Mandate.id.in_(ids)).order_by(*order)).scalars().all() if ids else []
    else:
        total = db().execute(select(func.count(Mandate.id)).where(*where)).scalar()
        page = make_page(total, PAGE_SIZE)
        rows = db().execute(select(Mandate).where(*where).order_by(*order)
                            .offset(page.offset).limit(page.size)).scalars().all()
    return render_template(
        "entries.html", rows=rows, flags=entry_flags(rows), page=page, tree=tree,
        unit_choices=tree.choices(access.readable), filters={
            "enhed": unit, "beslutning": decision, "q": text, "vis": show, "arvede": inherited},
        show_filters=SHOW_FILTERS, decisions=DECISIONS,
    )


@bp.route("/poster/<mandate_id>")
@login_required()
def view(mandate_id: str):
    """One entry with its state and latest changes."""
    entry = _get_entry(mandate_id)
    require_read(entry.unit_id)
    history = db().execute(select(MandateHistory).where(MandateHistory.mandate_id == mandate_id)
                           .order_by(MandateHistory.id.desc()).limit(5)).scalars().all()
    linked = db().execute(select(func.count(Question.id)).where(Question.resolved_mandate_id == mandate_id)).scalar()
    access = current().access
    local_units = [] if access.can_edit_unit(entry.unit_id) else [
        u for u in (access.editable or []) if entry.unit_id in ancestors(u, unit_tree().parents)]
    return render_template("entry.html", entry=entry, values=mandate_values(entry), flags=entry_flags([entry])[entry.id],
                           labels=FIELD_LABELS, route_labels=ROUTE_LABELS, exception_text=exception_text,
                           format_limit=format_limit,
                           items=_history_items(history), tree=unit_tree(), linked=linked,
                           can_override=bool(local_units),
                           retire_default=(today() - dt.timedelta(days=1)).isoformat(),
                           card=card_message(entry) if entry.status != PUBLISHED else None,
                           publish_to=publish_status(access, entry.unit_id),
                           can_approve=access.can_approve_unit(entry.unit_id))


@bp.route("/poster/ny", methods=["GET", "POST"])
@login_required()
def new():
    """Create an entry (optionally copied from an inherited one, or from questions), published or as a draft.

    HR creates entries from questions when the municipality allows it (``hr_can_create``).
    """
    access = current().access
    from_questions = bool(_question_ids(request.values.get("spoergsmaal") or request.values.get("question_ids")))
    if not access.can_create_any(from_questions):
        forbidden("Du har ikke ret til at oprette poster. En administrator kan give HR-brugere redigeringsret.")
    tree = unit_tree()
    if request.method == "GET":
        values = values_to_form({})
        copied_from = None
        source_id = request.args.get("fra")
        if source_id:
            source = _get_entry(source_id)
            require_read(source.unit_id)
            values = values_to_form(mandate_values(source))
            values["id"] = ""
            values["topic_key"] = source.topic_key or ""
            copied_from = source.id
        questions = _visible_questions(_question_ids(request.args.get("spoergsmaal")))
        if questions:
            texts = list(dict.fromkeys(q.text.strip() for q in questions if q.text.strip()))
            values["examples"] = "\n".join(texts[:8])
        unit = request.args.get("enhed") or (values.get("unit") if copied_from else "")
        if not unit and questions:
            counts: dict[str, int] = {}
            for q in questions:
                if q.unit_id:
                    counts[q.unit_id] = counts.get(q.unit_id, 0) + 1
            unit = max(counts, key=counts.get) if counts else ""
        if copied_from and not access.can_edit_unit(unit):
            unit = next((u for u in (access.editable or []) if source.unit_id in ancestors(u, tree.parents)), "")
        values["unit"] = unit if access.can_create_unit(unit, bool(questions)) else ""
        return _render_form(EntryForm(values), mode="new", questions=questions, copied_from=copied_from)

    form = _form_from_request()
    questions = _visible_questions(_question_ids(request.form.get("question_ids")))
    unit = form.values.get("unit", "").strip()
    if unit in tree.parents and not access.can_create_unit(unit, bool(questions)):
        forbidden("Du kan kun oprette poster for dine egne enheder og enhederne under dem.")
    if not form.values["id"].strip() and form.values.get("topic", "").strip():
        form.values["id"] = _unique_id(slugify(form.values["topic"]))
    form.values["id"] = form.values["id"].strip()
    spec = validate_form(form, tree.parents)
    if spec is not None and db().get(Mandate, spec.id) is not None:
        form.error("id", "Der findes allerede en post med dette id. Vælg et andet.")
        spec = None
    if spec is None:
        return _render_form(form, mode="new", questions=questions, status=400)
    spec.status = requested_status(access, spec.unit, None, request.form.get("gem"))
    save_mandate(db(), spec, changed_by=current().username)
    if spec.status == PUBLISHED:  # a draft answers nobody: its questions stay in the queue
        _link_questions(questions, spec.id)
    audit.record(db(), current(), "entry.create", spec.id, {"unit": spec.unit, "status": spec.status,
                                                           "questions": [q.id for q in questions]})
    try:
        db().commit()
    except IntegrityError:
        db().rollback()
        form.error("id", "Der findes allerede en post med dette id. Vælg et andet.")
        return _render_form(form, mode="new", questions=questions, status=400)
    if spec.status != PUBLISHED:
        flash(status_message(spec.status) + (" Spørgsmålene er ikke markeret som besvaret endnu." if questions else ""),
              "success")
        _flash_limit_warnings(spec)
        return redirect(url_for("entries.view", mandate_id=spec.id))
    message = "Posten er oprettet. Botten svarer ud fra den med det samme."
    if questions:
        message += (f" {len(questions)} spørgsmål er markeret som besvaret af den; spørger nogen igen på samme "
                    "måde, svarer botten med den.")
    flash(message, "success")
    _flash_limit_warnings(spec)
    return redirect(url_for("entries.view", mandate_id=spec.id))


@bp.route("/poster/<mandate_id>/rediger", methods=["GET", "POST"])
@login_required()
def edit(mandate_id: str):
    """Edit an entry; a save based on an old version shows the conflict page."""
    entry = _get_entry(mandate_id)
    require_edit(entry.unit_id)
    if request.method == "GET":
        return _render_form(EntryForm(values_to_form(mandate_values(entry))), mode="edit", entry=entry,
                            version=entry.version)
    form = _form_from_request(mandate_id)
    version = parse_int(request.form.get("version"), -1)
    new_unit = form.values.get("unit", "").strip()
    if new_unit in unit_tree().parents:
        require_edit(new_unit)
    spec = validate_form(form, unit_tree().parents)
    if spec is None:
        return _render_form(form, mode="edit", entry=entry, version=version, status=400)
    old_status = entry.status or PUBLISHED
    status = requested_status(current().access, spec.unit, old_status, request.form.get("gem"))
    try:
        result = save_mandate(db(), spec, changed_by=current().username, expected_version=version)
        audit.record(db(), current(), "entry.update", mandate_id, {"fields": audit.pending_fields(db(), mandate_id)})
        if status != old_status:
            set_status(db(), mandate_id, status, current().username, status_action(old_status, status))
        db().commit()
    except (EditConflict, StaleDataError):
        return _conflict(spec_values(spec), mandate_id)
    if status != old_status:
        flash(status_message(status), "success")
        _flash_limit_warnings(spec)
    elif status != PUBLISHED:
        flash("Ændringerne er gemt. " + ("Posten er stadig en kladde: botten bruger den ikke."
                                         if status == "draft" else "Posten afventer stadig godkendelse."), "success")
    elif result == "unchanged":
        flash("Der var ingen ændringer at gemme.", "info")
    else:
        flash("Ændringerne er gemt. Botten svarer ud fra dem med det samme.", "success")
        _flash_limit_warnings(spec)
    return redirect(url_for("entries.view", mandate_id=mandate_id))


@bp.route("/poster/<mandate_id>/udfas", methods=["POST"])
@login_required()
def retire(mandate_id: str):
    """Retire an entry: set its last valid day (default: yesterday, so it stops today)."""
    entry = _get_entry(mandate_id)
    require_edit(entry.unit_id)
    version = parse_int(request.form.get("version"), -1)
    last_day = parse_date(request.form.get("valid_to")) or (today() - dt.timedelta(days=1))
    values = mandate_values(entry)
    values["valid_to"] = last_day.isoformat()
    form = EntryForm(values_to_form(values))
    spec = validate_form(form, unit_tree().parents)
    if spec is None:
        for messages in form.errors.values():
            for message in messages:
                flash(f"Posten kan ikke udfases: {message}", "error")
        return redirect(url_for("entries.view", mandate_id=mandate_id))
    try:
        save_mandate(db(), spec, changed_by=current().username, expected_version=version)
        audit.record(db(), current(), "entry.retire", mandate_id, {"valid_to": last_day.isoformat()})
        db().commit()
    except (EditConflict, StaleDataError):
        return _conflict(spec_values(spec), mandate_id)
    flash(f"Posten er udfaset: den gælder til og med {last_day.strftime('%d.%m.%Y')}.", "success")
    return redirect(url_for("entries.view", mandate_id=mandate_id))


@bp.route("/poster/<mandate_id>/historik")
@login_required()
def history(mandate_id: str):
    """Every change of an entry: who, when, field by field."""
    entry = db().get(Mandate, mandate_id)
    query = select(MandateHistory).where(MandateHistory.mandate_id == mandate_id)
    if entry is not None:
        require_read(entry.unit_id)
    else:  # deleted entry: the unit of its last known state decides
        last = db().execute(query.order_by(MandateHistory.id.desc()).limit(1)).scalar_one_or_none()
        if last is None:
            abort(404)
        unit_change = (last.changes or {}).get("unit") or [None, None]
        require_read(unit_change[0] or unit_change[1])
    total = db().execute(select(func.count(MandateHistory.id)).where(MandateHistory.mandate_id == mandate_id)).scalar()
    page = make_page(total, 50)
    rows = db().execute(query.order_by(MandateHistory.id.desc()).offset(page.offset).limit(page.size)).scalars().all()
    return render_template("history.html", entry=entry, mandate_id=mandate_id, items=_history_items(rows),
                           page=page)


@bp.route("/forhaandsvisning", methods=["GET", "POST"])
@login_required()
def preview():
    """What the bot would answer for a question and a unit (nothing is stored)."""
    access = current().access
    tree = unit_tree()
    question = (request.values.get("question") or "").strip()[:500]
    unit = request.values.get("unit") or (access.own_units[0] if access.own_units else "")
    result = None
    if request.method == "POST":
        if unit not in tree.parents:
            abort(400, description="Vælg en enhed.")
        require_read(unit)
        if question:
            result = saved_answer(question, unit)
    fragment = request.headers.get("X-Requested-With") == "fetch"
    template = "preview_result.html" if fragment else "preview.html"
    return render_template(template, result=result, question=question, unit=unit,
                           unit_choices=tree.choices(access.readable), tree=tree)


@bp.route("/poster/ny/forhaandsvis", methods=["POST"])
@login_required()
def preview_new():
    """"Forhåndsvis svar" on the new-entry form: the answer with the unsaved entry added to the catalogue."""
    if not current().access.can_create_any(bool(_question_ids(request.form.get("question_ids")))):
        forbidden("Du har ikke ret til at oprette poster. En administrator kan give HR-brugere redigeringsret.")
    return _preview_draft(None)


@bp.route("/poster/<mandate_id>/forhaandsvis", methods=["POST"])
@login_required()
def preview_edit(mandate_id: str):
    """"Forhåndsvis svar" on the edit form: the answer with the unsaved form in place of the saved entry."""
    entry = _get_entry(mandate_id)
    require_edit(entry.unit_id)
    return _preview_draft(entry)


def _preview_draft(entry: Mandate | None):
    """The answer to the form's test question with the form's values as a draft entry (nothing is saved).

    The draft must validate like a save; the test question is asked as an employee of one of the user's
    own units (``preview_unit``, default the draft's unit). Fetched (``X-Requested-With: fetch``) it is a
    fragment for the form's side panel; without JavaScript the form is shown again, unsaved values kept,
    with the answer next to it.
    """
    access = current().access
    tree = unit_tree()
    form = _form_from_request(entry.id if entry is not None else None)
    unit = form.values.get("unit", "").strip()
    from_questions = entry is None and bool(_question_ids(request.form.get("question_ids")))
    if unit in tree.parents and not access.can_create_unit(unit, from_questions):
        require_edit(unit)
    question = (request.form.get("preview_question") or "").strip()[:500]
    asker = (request.form.get("preview_unit") or unit).strip()
    if asker in tree.parents and not access.can_create_unit(asker, from_questions):
        forbidden("Du kan kun forhåndsvise svar for dine egne enheder og enhederne under dem.")
    if entry is None:
        form.values["id"] = form.values.get("id", "").strip()
        if not form.values["id"] and form.values.get("topic", "").strip():
            form.values["id"] = _unique_id(slugify(form.values["topic"]))
    spec = validate_form(form, tree.parents)
    if spec is not None and entry is None and db().get(Mandate, spec.id) is not None:
        form.error("id", "Der findes allerede en post med dette id. Vælg et andet.")
        spec = None
    problems = []
    if spec is None:
        fields = ", ".join(f"«{field_label(name)}»" if name else "formularen" for name in form.errors)
        problems.append(f"Ret først felterne markeret med rødt ({fields}): udkastet skal være gyldigt, før botten "
                        "kan svare ud fra det.")
    if not question:
        problems.append("Skriv et spørgsmål, som en medarbejder ville stille det.")
    if asker not in tree.parents:
        problems.append("Vælg medarbejderens enhed.")
    draft = draft_entry(spec) if spec is not None else None
    result = draft_answer(question, asker, draft) if not problems else None
    preview = {"result": result, "problems": problems, "question": question, "asker": asker,
               "warnings": limit_warnings(spec) if spec is not None else []}
    status = 400 if problems else 200
    if request.headers.get("X-Requested-With") == "fetch":
        return render_template("preview_draft_result.html", **preview, tree=tree), status
    questions = _visible_questions(_question_ids(request.form.get("question_ids"))) if entry is None else []
    return _render_form(form, mode="edit" if entry is not None else "new", entry=entry,
                        version=parse_int(request.form.get("version"), -1) if entry is not None else None,
                        questions=questions, status=status, draft_preview=preview)
