"""Drafts: an entry a leader saves without the bot using it, previews as a card, and publishes.

Statuses (:data:`bot.domain.ENTRY_STATUSES`): ``draft`` (the leader's work), ``pending`` (published
by a leader who needs approval, where the municipality asks for it: ``MANDAT_DRAFT_APPROVAL``) and
``published`` (the bot answers from it; :func:`bot.domain.answerable`). Who approves:
:meth:`bot.admin.access.Access.can_approve_unit` (a leader of a unit above, HR, an admin).

Routes (POST, CSRF-protected, with the version the user saw):

* ``/poster/<id>/offentliggoer``: a draft -> published, or pending when the user needs approval;
* ``/poster/<id>/godkend``: a pending entry -> published (approvers only);
* ``/poster/<id>/til-kladde``: a pending entry back to draft (its editors and approvers).

Each change is kept in the entry's history (``publish``, ``submit``, ``approve``, ``unpublish``).
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy.orm.exc import StaleDataError

from bot.admin import audit
from bot.admin.access import Access
from bot.admin.auth import current, login_required
from bot.admin.common import ENTRY_STATUS_LABELS, db, forbidden, parse_int, settings, unit_tree
from bot.catalogue.edit import EditConflict, set_status
from bot.db.models import Mandate
from bot.domain import PUBLISHED

bp = Blueprint("drafts", __name__)

SAVE_AS_DRAFT = "kladde"
"""The value of the entry form's ``gem`` button that saves a draft (any other value publishes)."""


def publish_status(access: Access, unit_id: str) -> str:
    """The status an entry of ``unit_id`` gets when ``access``'s user publishes it: ``published``, or
    ``pending`` where the municipality asks for approval (``draft_approval``) and the user may not
    approve entries of the unit (a team leader)."""
    if settings().draft_approval and not access.can_approve_unit(unit_id):
        return "pending"
    return PUBLISHED


def requested_status(access: Access, unit_id: str, current_status: str | None, button: str | None) -> str:
    """The status a save of the entry form asks for: ``button`` is the form's ``gem`` value.

    A new entry or a draft: "Gem som kladde" keeps (or makes) it a draft, any other save publishes it
    (:func:`publish_status`). A published or pending entry keeps its status when edited.
    """
    if current_status in (PUBLISHED, "pending"):
        return current_status
    if button == SAVE_AS_DRAFT:
        return "draft"
    return publish_status(access, unit_id)


def status_message(status: str) -> str:
    """What a save with ``status`` means for the bot, in Danish (flashed after saving)."""
    if status == "draft":
        return "Posten er gemt som kladde. Botten bruger den ikke, før den er offentliggjort."
    if status == "pending":
        return ("Posten afventer godkendelse af en leder over din enhed eller HR. Botten bruger den, "
                "når den er godkendt.")
    return "Posten er offentliggjort. Botten svarer ud fra den med det samme."


def status_action(old: str | None, new: str) -> str:
    """The history action of a change from ``old`` to ``new``: publish, submit, approve or unpublish."""
    if new == "draft":
        return "unpublish"
    if new == "pending":
        return "submit"
    return "approve" if old == "pending" else "publish"


def _entry(mandate_id: str) -> Mandate:
    entry = db().get(Mandate, mandate_id)
    if entry is None:
        abort(404)
    return entry


def _change(entry: Mandate, status: str) -> Any:
    version = parse_int(request.form.get("version"), -1)
    old = entry.status
    try:
        set_status(db(), entry.id, status, current().username, status_action(old, status), expected_version=version)
        audit.record(db(), current(), f"entry.{status_action(old, status)}", entry.id, {"status": [old, status]})
        db().commit()
    except (EditConflict, StaleDataError):
        db().rollback()
        flash("Posten er ændret af en anden, mens du så på den. Se den nye version, og prøv igen.", "error")
        return redirect(url_for("entries.view", mandate_id=entry.id))
    flash(status_message(status) if status != "draft" else
          "Posten er sendt tilbage som kladde. Botten bruger den ikke.", "success")
    return redirect(url_for("entries.view", mandate_id=entry.id))


@bp.route("/poster/<mandate_id>/offentliggoer", methods=["POST"])
@login_required()
def publish(mandate_id: str):
    """Publish a draft (or send it for approval)."""
    entry = _entry(mandate_id)
    access = current().access
    if not access.can_edit_unit(entry.unit_id):
        forbidden("Du kan kun offentliggøre poster for dine egne enheder og enhederne under dem.")
    if entry.status != "draft":
        flash("Posten er ikke en kladde.", "info")
        return redirect(url_for("entries.view", mandate_id=mandate_id))
    return _change(entry, publish_status(access, entry.unit_id))


@bp.route("/poster/<mandate_id>/godkend", methods=["POST"])
@login_required()
def approve(mandate_id: str):
    """Approve a pending entry: the bot answers from it from now on."""
    entry = _entry(mandate_id)
    if not current().access.can_approve_unit(entry.unit_id):
        forbidden("Kun en leder af en enhed over postens enhed eller HR kan godkende posten.")
    if entry.status != "pending":
        flash("Posten afventer ikke godkendelse.", "info")
        return redirect(url_for("entries.view", mandate_id=mandate_id))
    return _change(entry, PUBLISHED)


@bp.route("/poster/<mandate_id>/til-kladde", methods=["POST"])
@login_required()
def back_to_draft(mandate_id: str):
    """Send a pending entry back to its leader as a draft."""
    entry = _entry(mandate_id)
    access = current().access
    if not (access.can_edit_unit(entry.unit_id) or access.can_approve_unit(entry.unit_id)):
        forbidden("Du kan kun ændre poster for dine egne enheder og enhederne under dem.")
    if entry.status != "pending":
        flash("Kun en post, der afventer godkendelse, kan sendes tilbage som kladde.", "info")
        return redirect(url_for("entries.view", mandate_id=mandate_id))
    return _change(entry, "draft")


def card_message(entry: Mandate) -> dict[str, Any]:
    """The entry's answer card as the chat widget receives it (``{text, custom}``), asked in its own unit:
    how a draft will look once published."""
    from bot.admin.preview import widget_message
    from bot.answers import mandate_reply

    reply = mandate_reply(entry, unit_name=unit_tree().label(entry.unit_id), asker_unit_id=entry.unit_id)
    return widget_message(reply)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"ENTRY_STATUS_LABELS": ENTRY_STATUS_LABELS}
