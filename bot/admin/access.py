"""Who may read and change what: the authorisation rules of the admin app.

Rules (issue 4):
    * admin: reads and changes everything, manages users, reads the audit log;
    * hr: reads everything (entries, questions, dashboard); edits entries
      only when an admin granted it (``User.can_edit``);
    * leader: edits the entries of their units and every unit below them
      (:func:`bot.catalogue.tree.descendants`); reads those plus the entries
      inherited from the units above (read-only); sees the questions and the
      dashboard of their own units and the units below them only.

Every route asks an :class:`Access` object; nothing relies on hidden buttons.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from bot.catalogue.tree import UnitCycleError, ancestors, descendants
from bot.db.models import User


@dataclass
class Access:
    """The permissions of one user, given the unit tree.

    Attributes:
        role: ``leader``, ``hr`` or ``admin``.
        editable: unit ids whose entries the user may change (None: all).
        readable: unit ids whose entries the user may read (None: all).
        question_units: unit ids whose questions the user may see (None: all,
            including questions without a unit).
    """

    role: str
    username: str
    editable: frozenset[str] | None
    readable: frozenset[str] | None
    question_units: frozenset[str] | None
    own_units: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def for_user(cls, user: User, parents: Mapping[str, str | None]) -> "Access":
        """The permissions of ``user`` in the tree ``{unit_id: parent_id}``."""
        if user.role == "admin":
            return cls("admin", user.username, None, None, None)
        if user.role == "hr":
            return cls("hr", user.username, None if user.can_edit else frozenset(), None, None)
        own = tuple(u for u in (user.units or []) if u in parents)
        editable: set[str] = set()
        above: set[str] = set()
        for unit_id in own:
            editable |= descendants(unit_id, parents)
            try:
                above.update(ancestors(unit_id, parents))
            except (KeyError, UnitCycleError):
                pass
        return cls("leader", user.username, frozenset(editable), frozenset(editable | above),
                   frozenset(editable), own)

    # -- entries ------------------------------------------------------------
    def can_read_unit(self, unit_id: str | None) -> bool:
        """May the user read the entries of ``unit_id``?"""
        return self.readable is None or (unit_id is not None and unit_id in self.readable)

    def can_edit_unit(self, unit_id: str | None) -> bool:
        """May the user create, change or retire entries of ``unit_id``?"""
        if unit_id is None:
            return False
        return self.editable is None or unit_id in self.editable

    @property
    def can_edit_any(self) -> bool:
        """May the user change entries at all?"""
        return self.editable is None or bool(self.editable)

    @property
    def is_admin(self) -> bool:
        """Is the user an administrator?"""
        return self.role == "admin"

    @property
    def can_see_audit(self) -> bool:
        """May the user read the audit log ("Revisionslog": logins and changes)? Administrators only."""
        return self.role == "admin"

    # -- questions ----------------------------------------------------------
    def can_see_question(self, unit_id: str | None) -> bool:
        """May the user see a question asked in ``unit_id``?"""
        if self.question_units is None:
            return True
        return unit_id is not None and unit_id in self.question_units

    def editable_units(self, all_units: list[str]) -> list[str]:
        """The units of ``all_units`` the user may edit, in the same order."""
        return [u for u in all_units if self.can_edit_unit(u)]

    def readable_units(self, all_units: list[str]) -> list[str]:
        """The units of ``all_units`` the user may read, in the same order."""
        return [u for u in all_units if self.can_read_unit(u)]

    def question_unit_list(self, all_units: list[str]) -> list[str]:
        """The units of ``all_units`` whose questions the user may see."""
        return [u for u in all_units if self.can_see_question(u)]
