"""Import and export of a unit's catalogue as YAML (imports format v1 and v2, exports v2) or XLSX.

An import is validated as a whole (the checks of ``mandat import``, plus the
user's rights) before anything is written: all or nothing. A dry run shows
per entry what would be created, changed (field by field) or deleted; the
confirmation re-sends the same file, which is checked again.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import yaml
from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy import select

from bot.admin import audit
from bot.admin.access import Access
from bot.admin.auth import current, login_required, require_read
from bot.admin.common import db, forbidden, today, unit_tree
from bot.admin.drafts import publish_status
from bot.admin.forms import FieldDiff, diff_values, spec_values
from bot.admin.xlsx import read_catalogue, write_catalogue
from bot.catalogue.edit import mandate_values
from bot.catalogue.io import apply_catalogue, dump_yaml, export_catalogue
from bot.catalogue.schema import (
    LINE, Catalogue, CatalogueError, CatalogueValidationError, load_yaml, validate,
)
from bot.catalogue.tree import descendants
from bot.db.models import Mandate, Unit
from bot.domain import PUBLISHED

bp = Blueprint("transfer", __name__)

MAX_FILE_BYTES = 5 * 1024 * 1024
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class ImportPlan:
    """What an import does: per entry and unit, and the field changes."""

    created: list[str] = field(default_factory=list)
    updated: list[tuple[str, list[FieldDiff]]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    units_updated: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        """Number of entries and units that change."""
        return (len(self.created) + len(self.updated) + len(self.deleted)
                + len(self.units_created) + len(self.units_updated))


def parse_upload(data: bytes, filename: str) -> dict[str, Any]:
    """A YAML or XLSX file -> a catalogue document (not yet validated).

    Raises:
        CatalogueValidationError: unreadable file (with a Danish message).
    """
    if filename.lower().endswith(".xlsx") or data[:2] == b"PK":
        return read_catalogue(data, filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogueValidationError([CatalogueError(filename, 0, "fil", "", "filen er ikke UTF-8-tekst")]) from exc
    return load_yaml(text, filename)


def _lines(doc: Any) -> tuple[dict[str, int], dict[str, int]]:
    units, mandates = {}, {}
    if isinstance(doc, dict):
        for key, target in (("units", units), ("mandates", mandates)):
            for item in doc.get(key) or []:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    target.setdefault(item["id"], item.get(LINE, 0))
    return units, mandates


def check_rights(catalogue: Catalogue, doc: Any, file: str, access: Access, replace: bool) -> list[CatalogueError]:
    """What the user may not import: other units' entries, unit changes (admins only)."""
    session = db()
    unit_lines, mandate_lines = _lines(doc)
    errors = []
    for unit in catalogue.units:
        stored = session.get(Unit, unit.id)
        line = unit_lines.get(unit.id, 0)
        if stored is None:
            if not access.is_admin:
                errors.append(CatalogueError(file, line, f"units[{unit.id}]", "",
                                             "nye enheder kan kun oprettes af en administrator"))
        elif (stored.name, stored.parent_id, list(stored.aliases or [])) != (unit.name, unit.parent, list(unit.aliases)):
            if not access.is_admin:
                errors.append(CatalogueError(file, line, f"units[{unit.id}]", "",
                                             "enheders navn, overordnede enhed og aliasser kan kun ændres af en administrator"))
        if replace and not access.can_edit_unit(unit.id):
            errors.append(CatalogueError(file, line, f"units[{unit.id}]", "",
                                         "du kan ikke erstatte posterne for en enhed, du ikke har ansvar for"))
    ids = [m.id for m in catalogue.mandates]
    stored_units = dict(session.execute(select(Mandate.id, Mandate.unit_id).where(Mandate.id.in_(ids))).all()) if ids else {}
    for spec in catalogue.mandates:
        line = mandate_lines.get(spec.id, 0)
        if not access.can_edit_unit(spec.unit):
            errors.append(CatalogueError(file, line, f"mandates[{spec.id}]", "unit",
                                         f"du kan ikke importere poster for '{spec.unit}': kun for dine egne enheder og enhederne under dem"))
        elif spec.id in stored_units and not access.can_edit_unit(stored_units[spec.id]):
            errors.append(CatalogueError(file, line, f"mandates[{spec.id}]", "id",
                                         "id'et bruges af en post i en enhed, du ikke har ansvar for"))
    return errors


def pending_where_needed(catalogue: Catalogue, access: Access) -> Catalogue:
    """The catalogue with the entries it would publish set to ``pending`` where the user needs approval
    (:func:`bot.admin.drafts.publish_status`): a new entry without a status, or one the file publishes
    that is not published yet. An entry that is already published stays so."""
    ids = [m.id for m in catalogue.mandates]
    stored = dict(db().execute(select(Mandate.id, Mandate.status).where(Mandate.id.in_(ids))).all()) if ids else {}
    mandates = []
    for spec in catalogue.mandates:
        now = stored.get(spec.id)
        wanted = spec.status or now or PUBLISHED
        if wanted == PUBLISHED and now != PUBLISHED and publish_status(access, spec.unit) != PUBLISHED:
            spec = dataclasses.replace(spec, status="pending")
        mandates.append(spec)
    return Catalogue(units=catalogue.units, mandates=mandates)


def plan_import(catalogue: Catalogue, replace: bool) -> ImportPlan:
    """Compare the file with the database (nothing is written)."""
    session = db()
    plan = ImportPlan()
    for unit in catalogue.units:
        stored = session.get(Unit, unit.id)
        if stored is None:
            plan.units_created.append(unit.id)
        elif (stored.name, stored.parent_id, list(stored.aliases or [])) != (unit.name, unit.parent, list(unit.aliases)):
            plan.units_updated.append(unit.id)
    ids = [m.id for m in catalogue.mandates]
    stored = {m.id: m for m in session.execute(select(Mandate).where(Mandate.id.in_(ids))).scalars()} if ids else {}
    for spec in catalogue.mandates:
        entry = stored.get(spec.id)
        if entry is None:
            plan.created.append(spec.id)
            continue
        diffs = diff_values(mandate_values(entry), spec_values(spec))
        if spec.status is not None and spec.status != (entry.status or PUBLISHED):
            diffs.append(FieldDiff("status", entry.status or PUBLISHED, spec.status))
        if diffs:
            plan.updated.append((spec.id, diffs))
        else:
            plan.unchanged.append(spec.id)
    if replace and catalogue.units:
        keep = set(ids)
        unit_ids = [u.id for u in catalogue.units]
        plan.deleted = sorted(
            mid for mid in session.execute(select(Mandate.id).where(Mandate.unit_id.in_(unit_ids))).scalars()
            if mid not in keep)
    return plan


def _dump_yaml(doc: dict[str, Any]) -> str:
    """Like :func:`bot.catalogue.io.dump_yaml` (same text), with libyaml's emitter when available."""
    dumper = getattr(yaml, "CSafeDumper", None)
    if dumper is None:
        return dump_yaml(doc)
    return yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)


@bp.route("/import-eksport")
@login_required()
def page():
    """The import/export page."""
    access = current().access
    tree = unit_tree()
    return render_template("transfer.html", export_units=tree.choices(access.readable),
                           can_import=access.can_edit_any, default_unit=(access.own_units or ("",))[0])


@bp.route("/eksport")
@login_required()
def export():
    """Download a unit's catalogue (with the units below it) as YAML or XLSX."""
    access = current().access
    tree = unit_tree()
    unit = request.args.get("enhed") or ""
    fmt = request.args.get("format", "yaml")
    if fmt not in ("yaml", "xlsx"):
        abort(400)
    if unit:
        if unit not in tree.parents:
            abort(404)
        require_read(unit)
        units = descendants(unit, tree.parents) if request.args.get("under", "1") == "1" else {unit}
    elif access.readable is None:
        units = None
    else:
        units = set(access.editable or ())
    if units is not None:
        units = sorted(u for u in units if access.can_read_unit(u))
    doc = export_catalogue(db(), units)
    stamp = today().isoformat()
    name = f"mandatkatalog-{unit or 'alle'}-{stamp}"
    if fmt == "xlsx":
        return Response(write_catalogue(doc), mimetype=XLSX_MIME,
                        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})
    return Response(_dump_yaml(doc), mimetype="application/x-yaml; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'})


@bp.route("/import", methods=["POST"])
@login_required()
def import_catalogue():
    """Check (dry run) or carry out an import; all or nothing."""
    access = current().access
    if not access.can_edit_any:
        forbidden("Du har ikke ret til at ændre poster, og derfor heller ikke til at importere.")
    replace = request.form.get("replace") == "1"
    dry_run = request.form.get("dry_run") == "1"
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        filename = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:100]
        data = upload.read(MAX_FILE_BYTES + 1)
    else:
        filename = (request.form.get("filename") or "katalog.yaml")[:100]
        try:
            data = base64.b64decode(request.form.get("payload") or "", validate=True)
        except (binascii.Error, ValueError):
            data = b""
    if not data:
        return render_template("transfer_result.html", errors=[CatalogueError(
            filename, 0, "fil", "", "vælg en fil (YAML eller XLSX)")], filename=filename), 400
    if len(data) > MAX_FILE_BYTES:
        return render_template("transfer_result.html", errors=[CatalogueError(
            filename, 0, "fil", "", "filen er større end 5 MB")], filename=filename), 400
    session = db()
    try:
        doc = parse_upload(data, filename)
        catalogue = validate(doc, filename, dict(session.execute(select(Unit.id, Unit.parent_id)).all()))
        rights = check_rights(catalogue, doc, filename, access, replace)
        if rights:
            raise CatalogueValidationError(rights)
    except CatalogueValidationError as exc:
        return render_template("transfer_result.html", errors=exc.errors, filename=filename), 400
    catalogue = pending_where_needed(catalogue, access)
    plan = plan_import(catalogue, replace)
    if dry_run:
        return render_template("transfer_result.html", plan=plan, dry_run=True, filename=filename, replace=replace,
                               payload=base64.b64encode(data).decode("ascii"), errors=[])
    try:
        apply_catalogue(session, catalogue, f"{current().username} (import af {filename})", replace)
        audit.record(session, current(), "import", filename, {"replace": replace, "created": len(plan.created),
                                                              "updated": len(plan.updated),
                                                              "deleted": len(plan.deleted)})
        session.commit()
    except Exception:
        session.rollback()
        raise
    return render_template("transfer_result.html", plan=plan, dry_run=False, filename=filename, replace=replace,
                           errors=[], done_at=dt.datetime.now())
