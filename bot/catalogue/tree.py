"""Organisational-tree logic: which entries are in force for a unit.

Rules (DESIGN.md, "The catalogue"):
    * an entry applies to its unit and every unit below it;
    * an entry on a lower unit with the same ``topic_key`` overrides the
      higher one for that unit and its children (the nearest one wins);
    * entries outside ``valid_from..valid_to`` are never used, and an expired
      entry hides nothing (the parent's entry applies again);
    * only published entries are used (:func:`bot.domain.answerable`): a draft or an
      entry awaiting approval is never answered from, listed or inherited, and hides nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Mandate, Unit
from bot.domain import answerable


class UnitCycleError(ValueError):
    """The parent links of the units form a cycle."""


def ancestors(unit_id: str, parents: Mapping[str, str | None]) -> list[str]:
    """``unit_id`` followed by its parent, grandparent, ... up to the root.

    Raises:
        KeyError: ``unit_id`` is not in ``parents``.
        UnitCycleError: the chain loops.
    """
    chain: list[str] = []
    current: str | None = unit_id
    if unit_id not in parents:
        raise KeyError(unit_id)
    while current is not None:
        if current in chain:
            raise UnitCycleError(" -> ".join(chain + [current]))
        chain.append(current)
        current = parents.get(current)
    return chain


def find_cycle(parents: Mapping[str, str | None]) -> list[str] | None:
    """A unit chain that loops (e.g. ``[a, b, a]``), or None when the tree is sound."""
    for unit_id in parents:
        try:
            ancestors(unit_id, parents)
        except UnitCycleError as exc:
            return str(exc).split(" -> ")
    return None


def descendants(unit_id: str, parents: Mapping[str, str | None]) -> set[str]:
    """``unit_id`` and every unit below it."""
    children: dict[str | None, list[str]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), [unit_id]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        todo.extend(children.get(current, []))
    return found


def unit_parents(session: Session) -> dict[str, str | None]:
    """``{unit_id: parent_id}`` for every unit in the database."""
    return dict(session.execute(select(Unit.id, Unit.parent_id)).all())


def select_in_force(
    entries: Iterable[Mandate], chain: list[str], day: dt.date
) -> list[Mandate]:
    """Apply publication, validity and nearest-wins to ``entries`` of the units in ``chain``.

    Args:
        entries: candidate entries (any units; others are ignored; an entry whose ``status`` is not
            published is ignored, see :func:`bot.domain.answerable`).
        chain: the asker's unit first, then its ancestors (see :func:`ancestors`).
        day: the date that decides validity.

    Returns:
        The entries in force, nearest unit first, one per ``topic_key``
        (an entry without ``topic_key`` is its own key).
    """
    depth = {unit_id: i for i, unit_id in enumerate(chain)}
    valid = [e for e in entries
             if e.unit_id in depth and answerable(getattr(e, "status", None)) and e.in_force(day)]
    valid.sort(key=lambda e: (depth[e.unit_id], e.id))
    chosen: dict[str, Mandate] = {}
    for entry in valid:
        chosen.setdefault(entry.topic_key or f"id:{entry.id}", entry)
    return list(chosen.values())


def entries_in_force(session: Session, unit_id: str, day: dt.date) -> list[Mandate]:
    """The entries that apply to ``unit_id`` on ``day`` (see module rules).

    Raises:
        KeyError: the unit does not exist.
    """
    chain = ancestors(unit_id, unit_parents(session))
    rows = session.execute(select(Mandate).where(Mandate.unit_id.in_(chain))).scalars()
    return select_in_force(rows, chain, day)
