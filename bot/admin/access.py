"""Who may read and change what: the authorisation rules of the admin app.

Rules (issue 4):
    * admin: reads and changes everything, manages users, reads the audit log;
    * hr: reads everything (entries, questions, dashboard); edits entries
      only when an admin granted it (``User.can_edit``); creates entries from
      questions (any unit) when the municipality allows it (``MANDAT_HR_CAN_CREATE``,
      :attr:`bot.config.Settings.hr_can_create`, default on);
    * drafts (issue 16, part 7): where the municipality asks for approval
      (``MANDAT_DRAFT_APPROVAL``), an entry a leader publishes waits ("Afventer
      godkendelse") until a leader of a unit above its unit, HR or an admin approves it
      (:meth:`Access.can_approve_unit`);
    * leader: edits the entries of their units and every unit below them
      (:func:`bot.catalogue.tree.descendants`); reads those plus the entries
      inherited from the units above (read-only); sees the questions and the
      dashboard of their own units and the units below them only;
    * good stories: HR and admins read and review all; a leader reads the approved stories that
      may be shared, of their units and the units below them;
    * answering a stored question (ask an expert: link, new entry, one-off reply) follows
      seeing it; confirming an entry's review ("Stadig rigtig") follows editing it.

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
    approvable: frozenset[str] | None = frozenset()
    """Unit ids whose published entries the user approves (None: all): a leader, the units strictly below
    their own units; HR and admins, all."""
    hr_creates: bool = False
    """HR may create entries from questions (the municipality's ``hr_can_create``)."""

    @classmethod
    def for_user(cls, user: User, parents: Mapping[str, str | None], hr_can_create: bool = False) -> "Access":
        """The permissions of ``user`` in the tree ``{unit_id: parent_id}`` (``hr_can_create``: the setting)."""
        if user.role == "admin":
            return cls("admin", user.username, None, None, None, approvable=None)
        if user.role == "hr":
            return cls("hr", user.username, None if user.can_edit else frozenset(), None, None, approvable=None,
                       hr_creates=bool(hr_can_create))
        own = tuple(u for u in (user.units or []) if u in parents)
        editable: set[str] = set()
        above: set[str] = set()
        below: set[str] = set()
        for unit_id in own:
            subtree = descendants(unit_id, parents)
            editable |= subtree
            below |= subtree - {unit_id}
            try:
                above.update(ancestors(unit_id, parents))
            except (KeyError, UnitCycleError):
                pass
        return cls("leader", user.username, frozenset(editable), frozenset(editable | above),
                   frozenset(editable), own, approvable=frozenset(below))

    # -- entries ------------------------------------------------------------
    def can_read_unit(self, unit_id: str | None) -> bool:
        """May the user read the entries of ``unit_id``?"""
        return self.readable is None or (unit_id is not None and unit_id in self.readable)

    def can_edit_unit(self, unit_id: str | None) -> bool:
        """May the user create, change or retire entries of ``unit_id``?"""
        if unit_id is None:
            return False
        return self.editable is None or unit_id in self.editable

    def can_create_unit(self, unit_id: str | None, from_questions: bool = False) -> bool:
        """May the user create an entry in ``unit_id``? Those who edit the unit; HR also for any unit
        when the entry answers questions from the queue (``from_questions``) and the municipality allows
        it (:attr:`hr_creates`)."""
        if self.can_edit_unit(unit_id):
            return True
        return from_questions and unit_id is not None and self.role == "hr" and self.hr_creates

    def can_create_any(self, from_questions: bool = False) -> bool:
        """May the user create entries at all (``from_questions``: from questions in the queue)?"""
        return self.can_edit_any or (from_questions and self.role == "hr" and self.hr_creates)

    def can_approve_unit(self, unit_id: str | None) -> bool:
        """May the user approve (publish right away) an entry of ``unit_id`` where the municipality asks
        for approval? HR and admins; a leader for the units below their own (the area leader of a team)."""
        if unit_id is None:
            return False
        return self.approvable is None or unit_id in self.approvable

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

    def can_answer_question(self, unit_id: str | None) -> bool:
        """May the user answer a question asked in ``unit_id`` (link or create an entry, or reply;
        :mod:`bot.admin.inbox`)? HR and admins: every question. A leader: the questions of their units
        and the units below them, which include every question routed to them (:mod:`bot.inbox` routes
        a question to the nearest leader at or above the asker's unit)."""
        return self.can_see_question(unit_id)

    def can_confirm_review(self, unit_id: str | None) -> bool:
        """May the user confirm that an entry of ``unit_id`` past its review date is still right
        ("Stadig rigtig", a new review date)? Those who may edit the unit's entries."""
        return self.can_edit_unit(unit_id)

    # -- good stories -------------------------------------------------------
    @property
    def can_review_stories(self) -> bool:
        """May the user approve or decline the good stories told in the chat? HR and admins."""
        return self.role in ("hr", "admin")

    def can_see_story(self, unit_id: str | None, status: str, may_share: bool) -> bool:
        """May the user read a good story of ``unit_id`` with review ``status``? HR and admins: every
        story; a leader: the approved stories that may be shared, of their units and the units below
        them (a story the employee kept for HR stays with HR)."""
        if self.can_review_stories:
            return True
        return status == "approved" and may_share and unit_id is not None and self.can_see_question(unit_id)

    def editable_units(self, all_units: list[str]) -> list[str]:
        """The units of ``all_units`` the user may edit, in the same order."""
        return [u for u in all_units if self.can_edit_unit(u)]

    def readable_units(self, all_units: list[str]) -> list[str]:
        """The units of ``all_units`` the user may read, in the same order."""
        return [u for u in all_units if self.can_read_unit(u)]

    def question_unit_list(self, all_units: list[str]) -> list[str]:
        """The units of ``all_units`` whose questions the user may see."""
        return [u for u in all_units if self.can_see_question(u)]
