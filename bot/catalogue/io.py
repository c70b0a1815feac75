"""Import and export of catalogue files (YAML; imports versions 1 and 2, exports version 2).

``import_file`` validates the whole file first, then applies it in one
transaction: all or nothing. Entries and units are upserted by id;
``replace=True`` also deletes the entries of the file's units that the file
does not contain.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.catalogue.edit import delete_mandate, mandate_values, save_mandate, save_unit
from bot.catalogue.schema import FORMAT_VERSION, STATUS_FIELD, V2_FIELDS, Catalogue, load_yaml, validate
from bot.catalogue.tree import unit_parents
from bot.db.models import Mandate, Unit
from bot.domain import PUBLISHED


@dataclass
class ImportReport:
    """What an import did (or, for a dry run, would do).

    ``units`` and ``mandates`` count ``created``/``updated``/``unchanged``/``deleted``.
    """

    units: Counter = field(default_factory=Counter)
    mandates: Counter = field(default_factory=Counter)
    deleted_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One Danish line for the command line."""
        m, u = self.mandates, self.units
        return (
            f"Enheder: {u['created']} nye, {u['updated']} ændrede, {u['unchanged']} uændrede. "
            f"Poster: {m['created']} nye, {m['updated']} ændrede, {m['unchanged']} uændrede, "
            f"{m['deleted']} slettede."
        )


def parse_catalogue(text: str, file: str, session: Session) -> Catalogue:
    """Load and validate catalogue text against the units already stored.

    Raises:
        CatalogueValidationError: every problem found, with file/line/id/field.
    """
    return validate(load_yaml(text, file), file, unit_parents(session))


def apply_catalogue(
    session: Session, catalogue: Catalogue, changed_by: str, replace: bool = False
) -> ImportReport:
    """Upsert a validated catalogue into ``session`` (the caller commits)."""
    report = ImportReport()
    pending = {u.id: u for u in catalogue.units}
    # Parents first, so foreign keys hold at every flush.
    while pending:
        ready = [u for u in pending.values() if u.parent is None or u.parent not in pending]
        for unit in ready:
            report.units[save_unit(session, unit)] += 1
            del pending[unit.id]
        session.flush()
    for spec in catalogue.mandates:
        report.mandates[save_mandate(session, spec, changed_by)] += 1
    if replace:
        keep = {m.id for m in catalogue.mandates}
        unit_ids = [u.id for u in catalogue.units]
        stale = session.execute(
            select(Mandate.id).where(Mandate.unit_id.in_(unit_ids), Mandate.id.not_in(keep))
        ).scalars().all()
        for mandate_id in stale:
            delete_mandate(session, mandate_id, changed_by)
            report.mandates["deleted"] += 1
            report.deleted_ids.append(mandate_id)
    session.flush()
    return report


def import_file(
    session: Session, path: str | Path, replace: bool = False, dry_run: bool = False,
    changed_by: str | None = None,
) -> ImportReport:
    """Validate and import a catalogue file in ``session``'s transaction.

    On success the transaction is committed (rolled back for ``dry_run``);
    on any error it is rolled back, so nothing is half-written.

    Raises:
        CatalogueValidationError: the file has errors (nothing changed).
        OSError: the file cannot be read.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        catalogue = parse_catalogue(text, path.name, session)
        report = apply_catalogue(session, catalogue, changed_by or f"import:{path.name}", replace)
    except BaseException:
        session.rollback()
        raise
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return report


def export_entry(values: dict[str, Any]) -> dict[str, Any]:
    """An entry's ``mandate_values`` as written to a v2 file: the v2 fields only when set
    (no empty ``exceptions``, no ``limit: null``/``route: null``), an exception's
    ``decided_by`` only when given. The v1 fields keep their ``null``s as before."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in V2_FIELDS and value in (None, []):
            continue
        if name == "exceptions":
            value = [{k: v for k, v in item.items() if v is not None} for item in value]
        out[name] = value
    return out


def export_catalogue(session: Session, unit_ids: list[str] | None = None) -> dict[str, Any]:
    """The catalogue (or the given units and their entries) as a format-v2 dict (``version: 2``); each
    entry carries its publication ``status`` (last), so drafts stay drafts when the file is imported."""
    units = session.execute(select(Unit).order_by(Unit.id)).scalars().all()
    if unit_ids is not None:
        units = [u for u in units if u.id in set(unit_ids)]
    # Parents before children, so the file imports in order.
    by_id = {u.id: u for u in units}
    ordered: list[Unit] = []

    def visit(unit: Unit) -> None:
        if unit in ordered:
            return
        if unit.parent_id in by_id:
            visit(by_id[unit.parent_id])
        ordered.append(unit)

    for unit in units:
        visit(unit)
    doc_units = []
    for unit in ordered:
        item: dict[str, Any] = {"id": unit.id, "name": unit.name}
        if unit.parent_id:
            item["parent"] = unit.parent_id
        if unit.aliases:
            item["aliases"] = list(unit.aliases)
        doc_units.append(item)
    query = select(Mandate).order_by(Mandate.unit_id, Mandate.id)
    if unit_ids is not None:
        query = query.where(Mandate.unit_id.in_(list(unit_ids)))
    mandates = [{**export_entry(mandate_values(m)), STATUS_FIELD: m.status or PUBLISHED}
                for m in session.execute(query).scalars()]
    return {"version": FORMAT_VERSION, "units": doc_units, "mandates": mandates}


def dump_yaml(doc: dict[str, Any]) -> str:
    """YAML text of an exported catalogue (UTF-8, field order kept)."""
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)
