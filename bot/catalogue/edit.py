"""Creating, changing and deleting entries, always with a history record.

Every write path (``mandat import``, the admin app) goes through these
functions, so each change is kept as who/when/field-by-field diff and a save
based on a stale version is refused (optimistic locking).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from bot.catalogue.schema import MANDATE_FIELDS, MandateSpec, UnitSpec
from bot.db.models import Mandate, MandateHistory, Unit
from bot.domain import ENTRY_STATUSES, PUBLISHED, Limit

STATUS_ACTIONS = {"publish": "offentliggjort", "submit": "sendt til godkendelse", "approve": "godkendt",
                  "unpublish": "trukket tilbage som kladde"}
"""History actions of a status change (:func:`set_status`), with their Danish words for the history page."""


class EditConflict(Exception):
    """The entry changed since the editor loaded it (``expected`` != ``actual`` version)."""

    def __init__(self, mandate_id: str, expected: int, actual: int):
        self.mandate_id, self.expected, self.actual = mandate_id, expected, actual
        super().__init__(
            f"Posten '{mandate_id}' er ændret af en anden (version {actual}, du redigerede version {expected})."
        )


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return list(value)
    return value


def limit_values(limit: Limit | None) -> dict[str, Any] | None:
    """A limit as ``{"value": 2500, "unit": "kr"}`` (whole values as int), or None."""
    if limit is None:
        return None
    value = float(limit.value)
    return {"value": int(value) if value.is_integer() else value, "unit": limit.unit}


def exception_values(items: list[Any]) -> list[dict[str, Any]]:
    """Exceptions (:class:`~bot.catalogue.schema.ExceptionSpec` or stored dicts) as
    ``[{"case", "decision", "decided_by"}]``, ``decided_by`` None when not given."""
    out = []
    for item in items or []:
        if not isinstance(item, dict):
            item = dataclasses.asdict(item)
        out.append({"case": item["case"], "decision": item["decision"], "decided_by": item.get("decided_by") or None})
    return out


def mandate_values(entry: Mandate) -> dict[str, Any]:
    """The entry as a format-v2 dict: the keys of ``MANDATE_FIELDS`` in order, dates as ISO text,
    ``limit`` as :func:`limit_values`, ``exceptions`` as :func:`exception_values`."""
    values = {}
    for name in MANDATE_FIELDS:
        if name == "limit":
            values[name] = limit_values(entry.limit)
        elif name == "exceptions":
            values[name] = exception_values(entry.exceptions)
        else:
            attr = "unit_id" if name == "unit" else name
            values[name] = _json_value(getattr(entry, attr))
    return values


def spec_values(spec: MandateSpec) -> dict[str, Any]:
    """A validated spec as the same dict :func:`mandate_values` gives for the stored entry."""
    values = {}
    for name in MANDATE_FIELDS:
        value = getattr(spec, name)
        if name == "limit":
            values[name] = limit_values(value)
        elif name == "exceptions":
            values[name] = exception_values(value)
        else:
            values[name] = _json_value(value)
    return values


def save_mandate(
    session: Session, spec: MandateSpec, changed_by: str, expected_version: int | None = None
) -> str:
    """Create or update the entry ``spec.id`` and record the change.

    Args:
        session: open session; the caller commits.
        spec: the complete new state (validated).
        changed_by: who makes the change (user name, or ``import:FILE``).
        expected_version: the version the editor started from; None skips
            the check (imports are authoritative).

    The publication status is ``spec.status`` when given; otherwise a new entry is published and an
    updated one keeps its status. A status change is recorded with the other changes (``status``).

    Returns:
        ``"created"``, ``"updated"`` or ``"unchanged"``.

    Raises:
        EditConflict: the stored version differs from ``expected_version``.
    """
    entry = session.get(Mandate, spec.id)
    new = spec_values(spec)
    if entry is None:
        entry = Mandate(id=spec.id, status=spec.status or PUBLISHED)
        assign(entry, spec)
        session.add(entry)
        changes = {k: [None, v] for k, v in new.items() if v not in (None, [])}
        if entry.status != PUBLISHED:
            changes["status"] = [None, entry.status]
        session.add(MandateHistory(mandate_id=spec.id, changed_by=changed_by, action="create", changes=changes))
        return "created"
    if expected_version is not None and entry.version != expected_version:
        raise EditConflict(spec.id, expected_version, entry.version)
    old = mandate_values(entry)
    changes = {k: [old[k], new[k]] for k in MANDATE_FIELDS if old[k] != new[k]}
    if spec.status is not None and spec.status != (entry.status or PUBLISHED):
        changes["status"] = [entry.status or PUBLISHED, spec.status]
        entry.status = spec.status
    if not changes:
        return "unchanged"
    assign(entry, spec)
    session.add(MandateHistory(mandate_id=spec.id, changed_by=changed_by, action="update", changes=changes))
    return "updated"


def set_status(session: Session, mandate_id: str, status: str, changed_by: str, action: str,
               expected_version: int | None = None) -> None:
    """Change an entry's publication status and record it in the history as ``action``.

    Args:
        status: one of :data:`bot.domain.ENTRY_STATUSES`.
        action: one of :data:`STATUS_ACTIONS` (``publish``, ``submit``, ``approve``, ``unpublish``).
        expected_version: the version the user saw (None skips the check).

    Raises:
        KeyError: no entry ``mandate_id``.
        ValueError: an unknown status or action.
        EditConflict: the stored version differs from ``expected_version``.
    """
    if status not in ENTRY_STATUSES or action not in STATUS_ACTIONS:
        raise ValueError(f"unknown status {status!r} or action {action!r}")
    entry = session.get(Mandate, mandate_id)
    if entry is None:
        raise KeyError(mandate_id)
    if expected_version is not None and entry.version != expected_version:
        raise EditConflict(mandate_id, expected_version, entry.version)
    old = entry.status or PUBLISHED
    entry.status = status
    session.add(MandateHistory(mandate_id=mandate_id, changed_by=changed_by, action=action,
                               changes={"status": [old, status]}))


def delete_mandate(session: Session, mandate_id: str, changed_by: str) -> None:
    """Delete an entry, keeping its last state in the history."""
    entry = session.get(Mandate, mandate_id)
    if entry is None:
        return
    old = mandate_values(entry)
    session.add(MandateHistory(mandate_id=mandate_id, changed_by=changed_by, action="delete",
                               changes={k: [v, None] for k, v in old.items() if v not in (None, [])}))
    session.delete(entry)


def save_unit(session: Session, spec: UnitSpec) -> str:
    """Create or update a unit; returns ``created``, ``updated`` or ``unchanged``."""
    unit = session.get(Unit, spec.id)
    if unit is None:
        session.add(Unit(id=spec.id, name=spec.name, parent_id=spec.parent, aliases=list(spec.aliases)))
        return "created"
    if (unit.name, unit.parent_id, list(unit.aliases or [])) == (spec.name, spec.parent, list(spec.aliases)):
        return "unchanged"
    unit.name, unit.parent_id, unit.aliases = spec.name, spec.parent, list(spec.aliases)
    return "updated"


def assign(entry: Mandate, spec: MandateSpec) -> None:
    """Set every field of ``entry`` from ``spec`` (the limit as value and unit, exceptions as dicts)."""
    for name in MANDATE_FIELDS:
        if name == "id":
            continue
        value = getattr(spec, name)
        if name == "limit":
            entry.limit_value = float(value.value) if value is not None else None
            entry.limit_unit = value.unit if value is not None else None
        elif name == "exceptions":
            entry.exceptions = exception_values(value)
        else:
            attr = "unit_id" if name == "unit" else name
            setattr(entry, attr, list(value) if isinstance(value, list) else value)
