"""The entry form: form fields <-> format-v2 values, validation, diffs, the save warning.

Validation is the one of ``mandat import``: the form becomes a one-entry
catalogue document (format v2) and goes through
:func:`bot.catalogue.schema.validate`; its
:class:`~bot.catalogue.schema.CatalogueError` messages are shown next to the
fields they name. The limit is two inputs (``limit_value``, ``limit_unit``);
exceptions are a textarea, one per line, ``case = decision (decided_by)``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from markupsafe import Markup, escape

from bot.admin.common import FIELD_LABELS, field_label
from bot.catalogue.columns import slugify as _slugify
from bot.catalogue.edit import assign, spec_values as _spec_values
from bot.catalogue.schema import (
    DATE_FIELDS, LIST_FIELDS, MANDATE_FIELDS, CatalogueValidationError, MandateSpec, format_exception,
    parse_exceptions, validate,
)
from bot.db.models import Mandate
from bot.domain import convert

FORM_FILE = "formularen"
TEXT_AREAS = ("summary", "how", "inform")
FORM_FIELDS = tuple(
    column for name in MANDATE_FIELDS for column in (("limit_value", "limit_unit") if name == "limit" else (name,))
)
"""The inputs of the entry form (the limit as value + unit)."""
LEGACY_FORM_FIELDS = ("limit_dkk",)
"""Inputs still accepted from older forms: ``limit_dkk`` is a limit in kr."""
EXCEPTION_DECISION_LABELS = {
    "employee": "medarbejderen selv", "team": "teamet", "leader": "lederen",
    "other": "andre (skriv hvem i parentes)", "nobody": "ingen: aldrig tilladt",
}
"""Who decides an exception, as the form's help text explains the codes."""
ROUTE_LABELS = {
    "mistake": "Efter en fejl (utilsigtet hændelse, medicinfejl, brud på datasikkerheden)",
    "concern": "Ved bekymring (for et barn eller en borger, vold, overgreb)",
}
"""What an entry can be the route for (:data:`bot.domain.ROUTES`), in Danish."""
WARN_FIELDS = ("summary", "conditions", "how", "inform")
"""Free-text fields the save warning reads for amounts and durations."""
_LIMIT_NUMBER = re.compile(r"^(\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)$")
_AMOUNT = re.compile(r"^\s*(?:kr\.?\s*)?(\d{1,3}(?:[.\s]\d{3})+|\d+)(?:,\d{1,2})?\s*(?:kr\.?|kroner|,-)?\s*$",
                     re.IGNORECASE)


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


def format_number(value: float) -> str:
    """A number as a Danish input shows it: 2500 -> "2500", 2.5 -> "2,5"."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:g}".replace(".", ",")


def format_limit(limit: Mapping[str, Any] | None) -> str:
    """``{"value": 2500, "unit": "kr"}`` -> "2.500 kr."; None -> ""."""
    from bot.quantities import format_quantity

    return format_quantity(limit["value"], limit["unit"]) if limit else ""


def values_to_form(values: Mapping[str, Any]) -> dict[str, str]:
    """Format-v2 values (``mandate_values``) -> the text shown in the inputs (:data:`FORM_FIELDS`)."""
    out: dict[str, str] = {}
    limit = values.get("limit")
    for name in FORM_FIELDS:
        value = values.get(name)
        if name == "limit_value":
            out[name] = format_number(limit["value"]) if limit else ""
        elif name == "limit_unit":
            out[name] = limit["unit"] if limit else ""
        elif name == "exceptions":
            out[name] = "\n".join(format_exception(item) for item in value or [])
        elif name in LIST_FIELDS:
            out[name] = "\n".join(value or [])
        elif value is None:
            out[name] = ""
        else:
            out[name] = str(value)
    return out


def _split_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").replace("\r", "").split("\n") if line.strip()]


def _limit_number(text: str) -> float | str:
    """ "2.500", "2500 kr.", "2,5", "1.5" -> a number; anything else is returned as it was (validation
    then names it). A point followed by exactly three digits groups thousands, as in Danish."""
    stripped = re.sub(r"\s*(kr\.?|kroner|,-)$", "", text.strip(), flags=re.IGNORECASE).replace(" ", "")
    if not _LIMIT_NUMBER.match(stripped):
        return text
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", stripped):
        stripped = stripped.replace(".", "")
    number = float(stripped.replace(",", "."))
    return int(number) if number.is_integer() else number


def form_to_raw(form: Mapping[str, str]) -> dict[str, Any]:
    """Form text -> a raw format-v2 mandate (as if loaded from a file), unvalidated.

    Empty inputs are left out; lists are one item per line (keywords may also
    be separated by commas); amounts accept "25.000", "25000 kr." and the like.
    ``limit_value`` + ``limit_unit`` become ``limit`` (no value: no limit, the unit
    alone is ignored); an old form's ``limit_dkk`` is passed on as such. Exceptions
    are parsed line by line; when a line is malformed they are left out here
    (:func:`validate_form` reports the line).
    """
    raw: dict[str, Any] = {}
    for name in FORM_FIELDS + LEGACY_FORM_FIELDS:
        text = form.get(name)
        if text is None:
            continue
        if name == "limit_unit":
            continue
        if name == "limit_value":
            if text.strip():
                raw["limit"] = {"value": _limit_number(text), "unit": (form.get("limit_unit") or "").strip() or None}
            continue
        if name == "exceptions":
            try:
                items = parse_exceptions(text)
            except ValueError:
                continue
            if items:
                raw[name] = items
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
    from bot.admin.common import DECISION_LABELS

    if "limit_dkk eller limit" in message:
        return "angiv kun én grænse"
    for name in ("valid_from", "valid_to", "review_by", "decided_by"):
        message = message.replace(name, f"«{FIELD_LABELS[name]}»")
    if "decision er 'other'" in message:
        message = message.replace("decision er 'other'", f"«Hvem beslutter» er «{DECISION_LABELS['other']}»")
    return message


def _form_field(error_field: str, message: str) -> tuple[str, str]:
    """A validation error's field (``limit.unit``, ``exceptions[2].decision``, ...) -> (form input, message)."""
    match = re.match(r"^exceptions\[(\d+)\](?:\.(\w+))?$", error_field)
    if match:
        number, part = match.groups()
        if part == "decided_by":
            return "exceptions", (f"Undtagelse {number}: skriv i parentes, hvem der beslutter, "
                                  "fx 'kørsel = other (Visitationen)'")
        return "exceptions", f"Undtagelse {number}: {message}"
    if error_field in ("limit", "limit.value", "limit_dkk") or error_field.startswith("limit."):
        return ("limit_unit" if error_field == "limit.unit" else "limit_value"), _danish(message)
    return (error_field if error_field in FORM_FIELDS else ""), _danish(message)


def validate_form(form: EntryForm, parents: Mapping[str, str | None]) -> MandateSpec | None:
    """Validate the form like ``mandat import`` (format v2); errors go to ``form.errors``.

    Returns:
        The validated :class:`MandateSpec`, or None when there are errors.
    """
    try:
        parse_exceptions(form.values.get("exceptions") or "")
    except ValueError as exc:
        form.error("exceptions", str(exc))
    raw = form_to_raw(form.values)
    raw["__line__"] = 0
    try:
        catalogue = validate({"version": 2, "mandates": [raw]}, FORM_FILE, parents)
    except CatalogueValidationError as exc:
        for error in exc.errors:
            form.error(*_form_field(error.field, error.message))
        return None
    return catalogue.mandates[0] if form.ok else None


def limit_warnings(spec: MandateSpec) -> list[str]:
    """Danish warnings when the entry's text names an amount or duration that differs from its limit.

    Reads :data:`WARN_FIELDS` with :func:`bot.quantities.parse_quantities`. With a limit, every
    quantity whose unit converts into the limit's unit (:func:`bot.domain.convert`) and differs
    from it is named ("«Kort svar» nævner 2.000 kr., men grænsen er 2.500 kr."). Without a limit,
    an amount in kr is named (the text sets a limit the field does not have). Quantities in other
    units (a duration next to an amount limit) are not compared.

    Returns:
        One message per differing quantity (each text span once per field), in field order.
    """
    from bot.quantities import format_quantity, parse_quantities

    limit = spec.limit
    warnings: list[str] = []
    for name in WARN_FIELDS:
        value = getattr(spec, name)
        text = "\n".join(value) if isinstance(value, list) else (value or "")
        seen: set[str] = set()
        for quantity in parse_quantities(text):
            named = quantity.text.strip()
            if named in seen:
                continue
            if limit is None:
                if quantity.unit != "kr":
                    continue
                message = (f"«{field_label(name)}» nævner {named}, men posten har ingen grænse. "
                           f"Skriv grænsen i feltet «{field_label('limit')}», så botten kan bruge den.")
            else:
                in_limit_unit = convert(quantity.value, quantity.unit, limit.unit)
                if in_limit_unit is None or abs(in_limit_unit - float(limit.value)) < 1e-9:
                    continue
                message = (f"«{field_label(name)}» nævner {named}, men grænsen er "
                           f"{format_quantity(float(limit.value), limit.unit)}. "
                           "Tjek, at teksten og grænsen passer sammen.")
            seen.add(named)
            warnings.append(message)
    return warnings


def draft_entry(spec: MandateSpec) -> Mandate:
    """A transient :class:`Mandate` with the values of a validated form: the draft the answer preview
    puts in place of the stored entry. It belongs to no session (only ``unit_id`` is set, not the
    ``unit`` relationship, so no cascade can add it to one) and is never saved."""
    entry = Mandate(id=spec.id, version=0)
    assign(entry, spec)
    return entry


def slugify(text: str, max_len: int = 48) -> str:
    """A catalogue id from free text: ``"Køb af blomster"`` -> ``"koeb-af-blomster"``
    (:func:`bot.catalogue.columns.slugify`, which a spreadsheet import uses too)."""
    return _slugify(text, max_len)


def spec_values(spec: MandateSpec) -> dict[str, Any]:
    """A spec as format-v2 values (dates as ISO text), exactly like ``mandate_values``."""
    return _spec_values(spec)


@dataclass
class FieldDiff:
    """One field that differs between two versions."""

    name: str
    old: Any
    new: Any

    @property
    def label(self) -> str:
        """Danish field label."""
        return field_label(self.name)

    def render(self) -> tuple[Markup, Markup]:
        """(old, new) as HTML with removed/added parts marked."""
        return render_change(self.name, self.old, self.new)


def diff_values(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldDiff]:
    """The fields whose values differ, in catalogue order; fields outside the format (``limit_dkk`` in
    history recorded before format v2) follow at the end."""
    names = list(MANDATE_FIELDS) + [n for n in dict.fromkeys([*old, *new]) if n not in MANDATE_FIELDS]
    return [FieldDiff(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n)]


def _plain(value: Any) -> str:
    if value is None or value == []:
        return ""
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


EXCEPTION_DISPLAY = {"nobody": "aldrig tilladt", "employee": "medarbejderen selv", "team": "teamet",
                     "leader": "lederen", "other": "andre"}
"""Who decides an exception, as the entry's page and its history show it (the form's help text uses
:data:`EXCEPTION_DECISION_LABELS`, which also explains the codes)."""


def exception_text(item: Mapping[str, Any]) -> str:
    """An exception in Danish: "gavekort: aldrig tilladt", "kørsel: andre (Visitationen)"."""
    who = EXCEPTION_DISPLAY.get(item.get("decision"), item.get("decision"))
    text = f"{item.get('case')}: {who}"
    return text + (f" ({item['decided_by']})" if item.get("decided_by") else "")


def display(name: str, value: Any) -> str:
    """A field value as plain Danish text (lists one item per line, decisions, routes, limits and
    exceptions in words)."""
    from bot.admin.common import DECISION_LABELS, ENTRY_STATUS_LABELS

    if name == "decision" and value in DECISION_LABELS:
        return DECISION_LABELS[value]
    if name == "route" and value in ROUTE_LABELS:
        return ROUTE_LABELS[value]
    if name == "status" and value in ENTRY_STATUS_LABELS:
        return ENTRY_STATUS_LABELS[value]
    if name == "limit" and isinstance(value, dict):
        return format_limit(value)
    if name == "exceptions" and isinstance(value, list):
        return "\n".join(exception_text(item) if isinstance(item, Mapping) else str(item) for item in value)
    return _plain(value)


def render_change(name: str, old: Any, new: Any) -> tuple[Markup, Markup]:
    """An old/new pair as HTML: list items and words that were removed or added are marked.

    Everything is escaped; only the ``<del>``/``<ins>`` marks are markup.
    """
    if name == "exceptions":
        old, new = ([exception_text(i) if isinstance(i, Mapping) else str(i) for i in items or []]
                    for items in (old, new))
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
    if name in DATE_FIELDS or name in ("limit_dkk", "limit", "route", "decision", "unit", "id", "topic_key"):
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
