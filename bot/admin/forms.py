"""The entry form: form fields <-> YAML-v1 values, validation, diffs.

Validation is the one of ``mandat import``: the form becomes a one-entry
catalogue document and goes through :func:`bot.catalogue.schema.validate`;
its :class:`~bot.catalogue.schema.CatalogueError` messages are shown next to
the fields they name.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from markupsafe import Markup, escape

from bot.catalogue.schema import (
    DATE_FIELDS, LIST_FIELDS, MANDATE_FIELDS, CatalogueValidationError, MandateSpec, validate,
)

FORM_FILE = "formularen"
TEXT_AREAS = ("summary", "how", "inform")
_AMOUNT = re.compile(r"^\s*(?:kr\.?\s*)?(\d{1,3}(?:[.\s]\d{3})+|\d+)(?:,\d{1,2})?\s*(?:kr\.?|kroner|,-)?\s*$",
                     re.IGNORECASE)
_SLUG_CHARS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"})


@dataclass
class EntryForm:
    """The values of an entry form as text (what the inputs show) and its errors."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        """Attach ``message`` to field ``name`` ("" = the form as a whole)."""
        self.errors.setdefault(name, []).append(message)

    @property
    def ok(self) -> bool:
        """No errors."""
        return not self.errors


def values_to_form(values: Mapping[str, Any]) -> dict[str, str]:
    """YAML-v1 values (``mandate_values``) -> the text shown in the inputs."""
    out: dict[str, str] = {}
    for name in MANDATE_FIELDS:
        value = values.get(name)
        if name in LIST_FIELDS:
            out[name] = "\n".join(value or [])
        elif value is None:
            out[name] = ""
        else:
            out[name] = str(value)
    return out


def _split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]


def form_to_raw(form: Mapping[str, str]) -> dict[str, Any]:
    """Form text -> a raw YAML-v1 mandate (as if loaded from a file), unvalidated.

    Empty inputs are left out; lists are one item per line (keywords may also
    be separated by commas); amounts accept "25.000", "25000 kr." and the like.
    """
    raw: dict[str, Any] = {}
    for name in MANDATE_FIELDS:
        text = form.get(name)
        if text is None:
            continue
        if name in LIST_FIELDS:
            items = _split_lines(text)
            if name == "keywords":
                items = [part.strip() for item in items for part in item.split(",") if part.strip()]
            if items:
                raw[name] = items
            continue
        text = text.strip()
        if not text:
            continue
        if name == "limit_dkk":
            match = _AMOUNT.match(text)
            raw[name] = int(re.sub(r"[.\s]", "", match.group(1))) if match else text
        else:
            raw[name] = text
    return raw


def _danish(message: str) -> str:
    """Name fields by their Danish labels in validation messages."""
    from bot.admin.common import DECISION_LABELS, FIELD_LABELS

    for name in ("valid_from", "valid_to", "review_by", "decided_by"):
        message = message.replace(name, f"«{FIELD_LABELS[name]}»")
    if "decision er 'other'" in message:
        message = message.replace("decision er 'other'", f"«Hvem beslutter» er «{DECISION_LABELS['other']}»")
    return message


def validate_form(form: EntryForm, parents: Mapping[str, str | None]) -> MandateSpec | None:
    """Validate the form like ``mandat import``; errors go to ``form.errors``.

    Returns:
        The validated :class:`MandateSpec`, or None when there are errors.
    """
    raw = form_to_raw(form.values)
    raw["__line__"] = 0
    try:
        catalogue = validate({"version": 1, "mandates": [raw]}, FORM_FILE, parents)
    except CatalogueValidationError as exc:
        for error in exc.errors:
            form.error(error.field if error.field in MANDATE_FIELDS else "", _danish(error.message))
        return None
    return catalogue.mandates[0] if form.ok else None


def slugify(text: str, max_len: int = 48) -> str:
    """A catalogue id from free text: ``"Køb af blomster"`` -> ``"koeb-af-blomster"``."""
    text = (text or "").lower().translate(_SLUG_CHARS)
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:max_len].strip("-") or "post"


def spec_values(spec: MandateSpec) -> dict[str, Any]:
    """A spec as YAML-v1 values (dates as ISO text), like ``mandate_values``."""
    import dataclasses

    out = {}
    for key, value in dataclasses.asdict(spec).items():
        out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


@dataclass
class FieldDiff:
    """One field that differs between two versions."""

    name: str
    old: Any
    new: Any

    @property
    def label(self) -> str:
        """Danish field label."""
        from bot.admin.common import FIELD_LABELS

        return FIELD_LABELS.get(self.name, self.name)

    def render(self) -> tuple[Markup, Markup]:
        """(old, new) as HTML with removed/added parts marked."""
        return render_change(self.name, self.old, self.new)


def diff_values(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldDiff]:
    """The fields whose values differ, in catalogue order."""
    return [FieldDiff(n, old.get(n), new.get(n)) for n in MANDATE_FIELDS if old.get(n) != new.get(n)]


def _plain(value: Any) -> str:
    if value is None or value == []:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def display(name: str, value: Any) -> str:
    """A field value as plain Danish text (lists one item per line, decisions by their labels)."""
    from bot.admin.common import DECISION_LABELS

    if name == "decision" and value in DECISION_LABELS:
        return DECISION_LABELS[value]
    return _plain(value)


def render_change(name: str, old: Any, new: Any) -> tuple[Markup, Markup]:
    """An old/new pair as HTML: list items and words that were removed or added are marked.

    Everything is escaped; only the ``<del>``/``<ins>`` marks are markup.
    """
    if name in LIST_FIELDS or isinstance(old, list) or isinstance(new, list):
        old_items, new_items = list(old or []), list(new or [])
        old_html = [Markup("<del>%s</del>") % i if i not in new_items else escape(i) for i in old_items]
        new_html = [Markup("<ins>%s</ins>") % i if i not in old_items else escape(i) for i in new_items]
        return (Markup("<br>").join(old_html) or Markup("<em>tom</em>"),
                Markup("<br>").join(new_html) or Markup("<em>tom</em>"))
    old_text, new_text = display(name, old), display(name, new)
    if not old_text:
        return Markup("<em>tom</em>"), Markup("<ins>%s</ins>") % new_text
    if not new_text:
        return Markup("<del>%s</del>") % old_text, Markup("<em>tom</em>")
    if name in DATE_FIELDS or name in ("limit_dkk", "decision", "unit", "id", "topic_key"):
        return Markup("<del>%s</del>") % old_text, Markup("<ins>%s</ins>") % new_text
    a, b = re.findall(r"\S+|\s+", old_text), re.findall(r"\S+|\s+", new_text)
    old_out, new_out = [], []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        left, right = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            old_out.append(escape(left))
            new_out.append(escape(right))
            continue
        if left:
            old_out.append(Markup("<del>%s</del>") % left)
        if right:
            new_out.append(Markup("<ins>%s</ins>") % right)
    return Markup("").join(old_out), Markup("").join(new_out)
