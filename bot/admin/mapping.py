"""Importing a municipality's own spreadsheet: column mapping, preview, dry run, import.

One page, ``POST /import/regneark``, in steps:

1. upload an XLSX or CSV file: the app proposes which of its columns holds which catalogue field
   (:func:`bot.catalogue.columns.propose_mapping`: Danish and English names and synonyms); the
   user can change each;
2. ``trin=vis``: a preview of the first rows as they will be imported, and every problem of every
   row with its row and column (:class:`bot.catalogue.columns.CellError`);
3. ``trin=proev``: the dry run (what would be created or changed; nothing is written);
4. ``trin=importer``: the import.

The rows become a format-v2 document (:func:`bot.catalogue.columns.to_document`) that goes through
the one contract of every import: :func:`bot.catalogue.schema.validate`, the user's rights
(:func:`bot.admin.transfer.check_rights`), :func:`bot.admin.transfer.plan_import` and
:func:`bot.catalogue.io.apply_catalogue`, all or nothing. The file travels between the steps in a
hidden form field (base64), so nothing is stored before the import.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, render_template, request
from sqlalchemy import select

from bot.admin import audit
from bot.admin.auth import current, login_required
from bot.admin.common import DECISION_LABELS, ENTRY_STATUS_LABELS, db, forbidden, unit_tree
from bot.admin.forms import exception_text, format_limit
from bot.admin.transfer import MAX_FILE_BYTES, check_rights, pending_where_needed, plan_import
from bot.admin.xlsx import Table, read_table
from bot.catalogue.columns import (
    BY_FIELD, COLUMNS, CellError, column_letter, locate, propose_mapping, to_document,
)
from bot.catalogue.io import apply_catalogue
from bot.catalogue.schema import LINE, Catalogue, CatalogueError, CatalogueValidationError, validate
from bot.db.models import Unit

bp = Blueprint("mapping", __name__)

PREVIEW_ROWS = 10
"""How many rows the preview shows (the problems are listed for every row)."""
REQUIRED = ("topic", "decision", "summary")
"""Fields every entry needs: the mapping step says when no column holds one."""
IGNORE = ""
"""The select value that leaves a column out."""


@dataclass
class MappingResult:
    """What a mapping makes of a sheet.

    Attributes:
        items: the rows as raw format-v2 entries (``LINE`` = row number).
        problems: every problem, row by row (cells that cannot be read, validation, rights).
        warnings: problems of the mapping itself (a field chosen twice, a required field on no column).
        catalogue: the validated catalogue, when there are no problems.
    """

    items: list[dict[str, Any]]
    problems: list[CellError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    catalogue: Catalogue | None = None


def _column_choices() -> list[tuple[str, str]]:
    return [(c.field, c.name) for c in COLUMNS]


def _samples(table: Table, col: int, count: int = 2) -> list[str]:
    out = []
    for _, values in table.entries.rows:
        if col < len(values) and values[col] not in (None, ""):
            text = str(values[col]).replace("\n", " / ")
            out.append(text if len(text) <= 60 else text[:57] + "…")
            if len(out) == count:
                break
    return out


def apply_mapping(table: Table, mapping: list[str | None], default_unit: str | None) -> MappingResult:
    """Convert, validate and check the user's rights; nothing is written.

    Returns:
        A :class:`MappingResult`; ``catalogue`` is set only when no row has a problem.
    """
    headers = table.entries.headers
    session = db()
    units = session.execute(select(Unit)).scalars().all()
    items, problems = to_document(table.entries.rows, headers, mapping, units=units, default_unit=default_unit)
    result = MappingResult(items, list(problems))
    chosen: dict[str, list[int]] = {}
    for col, name in enumerate(mapping):
        if name:
            chosen.setdefault(name, []).append(col)
    for name, cols in chosen.items():
        if len(cols) > 1:
            result.warnings.append(f"«{BY_FIELD[name].name}» er valgt for flere kolonner "
                                   f"({', '.join(column_letter(c) for c in cols)}): vælg én.")
    for name in REQUIRED:
        if name not in chosen:
            result.warnings.append(f"Ingen kolonne er valgt som «{BY_FIELD[name].name}», som hver post skal have.")
    if "unit" not in chosen and not default_unit:
        result.warnings.append("Ingen kolonne er valgt som «Enhed»: vælg den enhed, rækkerne hører til.")
    if result.warnings:
        return result
    doc = {"version": 2, LINE: 1, "mandates": items}
    parents = dict(session.execute(select(Unit.id, Unit.parent_id)).all())
    catalogue = checked = None
    try:
        catalogue = checked = validate(doc, table.file, parents)
    except CatalogueValidationError as exc:
        unreadable = {(p.row, p.field) for p in problems}  # a bad cell is not "missing" as well
        result.problems.extend(locate(e, headers, mapping) for e in exc.errors if (e.line, e.field) not in unreadable)
        bad = {e.line for e in exc.errors}
        doc = {**doc, "mandates": [m for m in items if m[LINE] not in bad]}
        try:  # the rows without errors, so that the user's rights are checked on them too
            checked = validate(doc, table.file, parents)
        except CatalogueValidationError:
            checked = None
    if checked is not None:
        rights = check_rights(checked, doc, table.file, current().access, replace=False)
        result.problems.extend(locate(e, headers, mapping) for e in rights)
    result.problems.sort(key=lambda p: (p.row, p.column))
    if not result.problems:
        result.catalogue = catalogue
    return result


def preview_rows(result: MappingResult) -> list[dict[str, Any]]:
    """The first :data:`PREVIEW_ROWS` rows as the preview shows them (Danish words, the unit's name)."""
    tree = unit_tree()
    rows = []
    bad_rows = {p.row for p in result.problems}
    for item in result.items[:PREVIEW_ROWS]:
        limit = item.get("limit") or {}
        try:
            limit_text = format_limit({"value": float(limit["value"]), "unit": limit["unit"]}) if limit else ""
        except (KeyError, TypeError, ValueError):
            limit_text = f"{limit.get('value', '')} {limit.get('unit', '')}".strip()
        rows.append({
            "row": item[LINE], "id": item.get("id", ""), "unit": tree.label(item["unit"]) if item.get("unit") else "",
            "topic": item.get("topic", ""), "decision": DECISION_LABELS.get(item.get("decision"), item.get("decision", "")),
            "decided_by": item.get("decided_by", ""), "summary": item.get("summary", ""), "limit": limit_text,
            "exceptions": [exception_text(e) for e in item.get("exceptions") or []],
            "status": ENTRY_STATUS_LABELS.get(item.get("status") or "published", item.get("status")),
            "bad": item[LINE] in bad_rows,
        })
    return rows


def _mapping_from_form(columns: int) -> list[str | None]:
    known = {c.field for c in COLUMNS}
    out: list[str | None] = []
    for col in range(columns):
        value = request.form.get(f"kolonne_{col}", IGNORE)
        out.append(value if value in known else None)
    return out


def _render(table: Table, payload: str, mapping: list[str | None], default_unit: str, result: MappingResult | None,
            status: int = 200, plan=None, done: bool = False):
    access = current().access
    tree = unit_tree()
    columns = [{"index": i, "letter": _letter(i), "header": h, "samples": _samples(table, i),
                "field": mapping[i] if i < len(mapping) else None} for i, h in enumerate(table.entries.headers)]
    return render_template(
        "import_mapping.html", filename=table.file, payload=payload, columns=columns, choices=_column_choices(),
        default_unit=default_unit, unit_choices=tree.choices(access.editable), result=result,
        rows=preview_rows(result) if result else [], row_count=len(table.entries.rows), plan=plan, done=done,
    ), status


def _letter(index: int) -> str:
    return column_letter(index)


@bp.route("/import/regneark", methods=["POST"])
@login_required()
def sheet_import():
    """The steps of a spreadsheet import (see the module docstring)."""
    access = current().access
    if not access.can_edit_any:
        forbidden("Du har ikke ret til at ændre poster, og derfor heller ikke til at importere.")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        filename = upload.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:100]
        data = upload.read(MAX_FILE_BYTES + 1)
        step = "kortlaeg"
    else:
        filename = (request.form.get("filename") or "regneark.xlsx")[:100]
        try:
            data = base64.b64decode(request.form.get("payload") or "", validate=True)
        except (binascii.Error, ValueError):
            data = b""
        step = request.form.get("trin") or "vis"
    if not data or len(data) > MAX_FILE_BYTES:
        message = "vælg et regneark (XLSX eller CSV)" if not data else "filen er større end 5 MB"
        return render_template("transfer_result.html", errors=[_file_error(filename, message)],
                               filename=filename), 400
    try:
        table = read_table(data, filename)
    except CatalogueValidationError as exc:
        return render_template("transfer_result.html", errors=exc.errors, filename=filename), 400
    if not table.entries.headers:
        return render_template("transfer_result.html", errors=[_file_error(filename, "regnearket er tomt")],
                               filename=filename), 400
    payload = base64.b64encode(data).decode("ascii")
    default_unit = (request.form.get("enhed") or "").strip()
    if default_unit and not access.can_edit_unit(default_unit):
        default_unit = ""
    if step == "kortlaeg":
        mapping = propose_mapping(table.entries.headers)
        if not default_unit and len(access.own_units) == 1:
            default_unit = access.own_units[0]
    else:
        mapping = _mapping_from_form(len(table.entries.headers))
    result = apply_mapping(table, mapping, default_unit or None)
    if step in ("kortlaeg", "vis") or result.catalogue is None:
        failed = step in ("proev", "importer") and result.catalogue is None
        return _render(table, payload, mapping, default_unit, result, status=400 if failed else 200)
    catalogue = pending_where_needed(result.catalogue, access)
    plan = plan_import(catalogue, replace=False)
    if step == "proev":
        return _render(table, payload, mapping, default_unit, result, plan=plan)
    session = db()
    try:
        apply_catalogue(session, catalogue, f"{current().username} (import af {filename})")
        audit.record(session, current(), "import", filename, {"replace": False, "created": len(plan.created),
                                                              "updated": len(plan.updated), "deleted": 0,
                                                              "mapping": [m or "" for m in mapping]})
        session.commit()
    except Exception:
        session.rollback()
        raise
    return _render(table, payload, mapping, default_unit, result, plan=plan, done=True)


def _file_error(filename: str, message: str) -> CatalogueError:
    return CatalogueError(filename, 0, "fil", "", message)
