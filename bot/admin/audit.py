"""The audit log: every login attempt and every admin change, and the admins' page "Revisionslog".

One function writes it, :func:`record`, called where things change (login and
logout in :mod:`bot.admin.auth`, entries, import, questions, users). It adds a
row to the caller's database session, so the row is committed (or rolled back)
together with the change it describes. The row's address is the request's
client address (``request.remote_addr``, which honours ``MANDAT_TRUSTED_PROXIES``
through werkzeug's ProxyFix). ``detail`` holds ids, field names and reason
codes only: never a password, never a question's text.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, has_request_context, render_template, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.admin.auth import login_required
from bot.admin.common import FIELD_LABELS, db, make_page, parse_date
from bot.db.models import AuditLog, MandateHistory, utcnow
from bot.localtime import LOCAL_TZ

bp = Blueprint("audit", __name__)

PAGE_SIZE = 50

ACTION_LABELS = {
    "login.success": "Logget ind",
    "login.failure": "Mislykket login",
    "login.blocked": "Login afvist: for mange forsøg",
    "logout": "Logget ud",
    "password.change": "Egen adgangskode skiftet",
    "entry.create": "Post oprettet",
    "entry.update": "Post ændret",
    "entry.retire": "Post udfaset",
    "entry.delete": "Post slettet",
    "import": "Import",
    "user.create": "Bruger oprettet",
    "user.update": "Bruger ændret",
    "user.password_reset": "Ny adgangskode til bruger",
    "question.status": "Status på spørgsmål",
    "question.link": "Spørgsmål tilknyttet post",
    "question.delete": "Spørgsmål slettet",
    "story.status": "Status på god historie",
    "question.reply": "Spørgsmål besvaret med et kort svar",
    "entry.review": "Post bekræftet: stadig rigtig",
    "user.email": "Egen e-mailadresse ændret",
    "mail.digest": "Ugentlig oversigt sendt på e-mail",
}
"""Danish labels of the actions (an unknown action is shown as it is)."""

ACTION_GROUPS = {
    "login": "Alle logins",
    "entry": "Alle ændringer af poster",
    "user": "Alle ændringer af brugere",
    "question": "Alle ændringer af spørgsmål",
    "story": "Alle ændringer af gode historier",
}
"""Filter groups: every action that starts with ``<group>.``."""

_DETAIL_LABELS = {
    "reason": "årsag", "fields": "felter", "unit": "enhed", "valid_to": "gælder til", "questions": "spørgsmål",
    "status": "status", "mandate": "post", "file": "fil", "replace": "erstat alt", "created": "oprettet",
    "updated": "ændret", "deleted": "slettet", "role": "rolle", "units": "enheder", "active": "aktiv",
    "can_edit": "må redigere", "retry_after_s": "vent (sekunder)", "sessions_ended": "sessioner afsluttet",
    "feedback": "feedback",
}
_VALUE_LABELS = {
    "wrong_password": "forkert adgangskode", "unknown_user": "ukendt brugernavn",
    "inactive": "deaktiveret bruger",
}


def _name(actor: Any) -> str | None:
    if actor is None or isinstance(actor, str):
        return actor
    return getattr(actor, "username", None) or str(actor)


def record(session: Session, actor: Any, action: str, target: Any = None,
           detail: dict[str, Any] | None = None) -> AuditLog:
    """Add an audit row to ``session`` (the caller commits it with the change).

    Args:
        session: the database session that carries the change.
        actor: who did it: a user name, an object with ``username`` (the current
            user or a ``User`` row), or None (an unknown user name at login).
        action: one of :data:`ACTION_LABELS` (``group.verb``).
        target: what it was done to (an entry id, a user name, question ids), or None.
        detail: small JSON-able facts (ids, field names, reason codes); never a
            password or a question's text.

    Returns:
        The new (pending) row.
    """
    name = _name(actor)
    address = request.remote_addr if has_request_context() else None
    row = AuditLog(at=utcnow(), actor=name[:100] if name else None, action=action[:32],
                   target=None if target is None else str(target)[:200],
                   address=address[:64] if address else None, detail=detail or None)
    session.add(row)
    return row


def pending_fields(session: Session, mandate_id: str) -> list[str]:
    """The fields of ``mandate_id`` that the session's not yet committed history rows change (sorted)."""
    fields: set[str] = set()
    for obj in session.new:
        if isinstance(obj, MandateHistory) and obj.mandate_id == mandate_id:
            fields.update((obj.changes or {}).keys())
    return sorted(fields)


def describe(detail: dict[str, Any] | None) -> str:
    """``detail`` as Danish text for the page, e.g. ``felter: Resumé, Gælder til``."""
    parts = []
    for key, value in (detail or {}).items():
        if isinstance(value, (list, tuple)):
            shown = ", ".join(FIELD_LABELS.get(str(v), str(v)) if key == "fields" else str(v) for v in value) or "–"
        elif isinstance(value, bool):
            shown = "ja" if value else "nej"
        elif isinstance(value, str):
            shown = _VALUE_LABELS.get(value, value)
        else:
            shown = str(value)
        parts.append(f"{_DETAIL_LABELS.get(key, key)}: {shown}")
    return "; ".join(parts)


def _utc_start(day: dt.date) -> dt.datetime:
    """Local midnight at the start of ``day`` as naive UTC (the stored form)."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ)
    return local.astimezone(dt.timezone.utc).replace(tzinfo=None)


@bp.route("/revisionslog")
@login_required("admin")
def page():
    """The audit log for administrators: filter by user, action and date (local days), newest first."""
    user = (request.args.get("bruger") or "").strip()[:100]
    action = (request.args.get("handling") or "").strip()[:32]
    day_from, day_to = parse_date(request.args.get("fra")), parse_date(request.args.get("til"))
    conditions = []
    if user:
        conditions.append(func.lower(AuditLog.actor) == user.lower())
    if action in ACTION_GROUPS:
        conditions.append(or_(AuditLog.action == action, AuditLog.action.like(f"{action}.%")))
    elif action:
        conditions.append(AuditLog.action == action)
    if day_from:
        conditions.append(AuditLog.at >= _utc_start(day_from))
    if day_to:
        conditions.append(AuditLog.at < _utc_start(day_to + dt.timedelta(days=1)))
    total = db().execute(select(func.count()).select_from(AuditLog).where(*conditions)).scalar_one()
    pg = make_page(total, PAGE_SIZE)
    rows = db().execute(
        select(AuditLog).where(*conditions).order_by(AuditLog.at.desc(), AuditLog.id.desc())
        .offset(pg.offset).limit(pg.size)
    ).scalars().all()
    actors = db().execute(select(AuditLog.actor).where(AuditLog.actor.is_not(None)).distinct()
                          .order_by(AuditLog.actor).limit(500)).scalars().all()
    return render_template("audit.html", rows=rows, page=pg, total=total, actors=actors,
                           labels=ACTION_LABELS, groups=ACTION_GROUPS, describe=describe,
                           filters={"bruger": user, "handling": action,
                                    "fra": day_from.isoformat() if day_from else "",
                                    "til": day_to.isoformat() if day_to else ""})
