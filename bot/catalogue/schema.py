"""The catalogue file format (YAML, version 1): loading and validation.

The format is specified in ``../shared/acceptance/README.md`` ("Catalogue
format"). :func:`load_yaml` keeps each item's line number so that every error
names file, line, entry id and field. Validation collects *all* errors before
anything is written.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from bot.db.models import DECISIONS

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
UNIT_FIELDS = ("id", "name", "parent", "aliases")
MANDATE_FIELDS = (
    "id", "unit", "topic", "topic_key", "decision", "decided_by", "summary", "conditions",
    "limit_dkk", "inform", "how", "examples", "keywords", "source", "contact",
    "valid_from", "valid_to", "review_by",
)
LIST_FIELDS = ("conditions", "examples", "keywords")
TEXT_FIELDS = ("decided_by", "inform", "how", "source", "contact")
DATE_FIELDS = ("valid_from", "valid_to", "review_by")
LINE = "__line__"
FIELD_LINES = "__field_lines__"


@dataclass(frozen=True)
class CatalogueError:
    """One problem in a catalogue file.

    Attributes:
        file: file name as given by the caller.
        line: 1-based line of the field, else of the item (0 when unknown).
        item: ``units[ID]``, ``mandates[ID]`` or ``units[#3]`` when the id is missing.
        field: the offending field, or "" for the item as a whole.
        message: Danish text saying what is wrong.
    """

    file: str
    line: int
    item: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.item}.{self.field}" if self.field else self.item
        return f"{self.file}:{self.line}: {where}: {self.message}"


class CatalogueValidationError(ValueError):
    """A catalogue file has errors; ``errors`` lists every one of them."""

    def __init__(self, errors: list[CatalogueError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class UnitSpec:
    """A unit as given in a catalogue file."""

    id: str
    name: str
    parent: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass
class MandateSpec:
    """A mandate entry as given in a catalogue file (all YAML v1 fields)."""

    id: str
    unit: str
    topic: str
    decision: str
    summary: str
    topic_key: str | None = None
    decided_by: str | None = None
    conditions: list[str] = field(default_factory=list)
    limit_dkk: int | None = None
    inform: str | None = None
    how: str | None = None
    examples: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    source: str | None = None
    contact: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    review_by: dt.date | None = None


@dataclass
class Catalogue:
    """A validated catalogue document."""

    units: list[UnitSpec]
    mandates: list[MandateSpec]


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that records each mapping's line and keeps dates as text."""


_LineLoader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    mapping[FIELD_LINES] = {
        key.value: key.start_mark.line + 1 for key, _ in node.value if isinstance(key, yaml.ScalarNode)
    }
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, file: str = "<input>") -> Any:
    """Parse YAML text; mappings get a ``__line__`` key, dates stay strings.

    Raises:
        CatalogueValidationError: the text is not valid YAML (with line).
    """
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise CatalogueValidationError(
            [CatalogueError(file, line, "fil", "", f"ugyldig YAML: {getattr(exc, 'problem', exc)}")]
        ) from exc


def _parse_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip())


def validate(
    doc: Any,
    file: str = "<input>",
    existing_units: Mapping[str, str | None] | None = None,
) -> Catalogue:
    """Check a parsed catalogue document and convert it.

    Args:
        doc: what :func:`load_yaml` returned (or an equivalent dict).
        file: name used in error messages.
        existing_units: ``{unit_id: parent_id}`` already in the database;
            entries and units may refer to them.

    Returns:
        The :class:`Catalogue`.

    Raises:
        CatalogueValidationError: with every error found (unknown unit,
            duplicate id, bad decision, missing required field, parent cycle,
            invalid date, wrong types, unknown fields, version).
    """
    from bot.catalogue.tree import find_cycle

    existing_units = dict(existing_units or {})
    errors: list[CatalogueError] = []

    def err(line: int, item: str, fld: str, msg: str, raw: Any = None) -> None:
        # Point at the field's own line when the file has it, else the item's.
        if isinstance(raw, dict) and fld in raw.get(FIELD_LINES, {}):
            line = raw[FIELD_LINES][fld]
        errors.append(CatalogueError(file, line, item, fld, msg))

    if not isinstance(doc, dict):
        raise CatalogueValidationError([CatalogueError(file, 1, "fil", "", "filen skal være et YAML-objekt med 'version', 'units' og 'mandates'")])
    if doc.get("version") != 1:
        err(doc.get(LINE, 1), "fil", "version", f"skal være 1, ikke {doc.get('version')!r}", raw=doc)
    for key in doc:
        if key not in ("version", "units", "mandates", LINE, FIELD_LINES):
            err(doc.get(LINE, 1), "fil", str(key), "ukendt felt", raw=doc)
    raw_units = doc.get("units") or []
    raw_mandates = doc.get("mandates") or []
    if not isinstance(raw_units, list):
        err(doc.get(LINE, 1), "fil", "units", "skal være en liste", raw=doc)
        raw_units = []
    if not isinstance(raw_mandates, list):
        err(doc.get(LINE, 1), "fil", "mandates", "skal være en liste", raw=doc)
        raw_mandates = []

    units: list[UnitSpec] = []
    seen_units: dict[str, int] = {}
    for index, raw in enumerate(raw_units, start=1):
        if not isinstance(raw, dict):
            err(0, f"units[#{index}]", "", "skal være et objekt med id og name")
            continue
        line = raw.get(LINE, 0)
        uid = raw.get("id")
        label = f"units[{uid}]" if isinstance(uid, str) and uid else f"units[#{index}]"
        for key in raw:
            if key not in UNIT_FIELDS and key not in (LINE, FIELD_LINES):
                err(line, label, str(key), "ukendt felt", raw=raw)
        if not isinstance(uid, str) or not uid:
            err(line, label, "id", "mangler (påkrævet)", raw=raw)
            continue
        if not SLUG.match(uid):
            err(line, label, "id", "skal bestå af små bogstaver a-z, tal og bindestreger", raw=raw)
        if uid in seen_units:
            err(line, label, "id", f"findes allerede i linje {seen_units[uid]}", raw=raw)
            continue
        seen_units[uid] = line
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            err(line, label, "name", "mangler (påkrævet)", raw=raw)
        parent = raw.get("parent")
        if parent is not None and not isinstance(parent, str):
            err(line, label, "parent", "skal være et enheds-id", raw=raw)
            parent = None
        aliases = raw.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            err(line, label, "aliases", "skal være en liste af tekster", raw=raw)
            aliases = []
        units.append(UnitSpec(uid, (name or "").strip(), parent, [a.strip() for a in aliases]))

    raw_by_id = {r.get("id"): r for r in raw_units if isinstance(r, dict)}
    parents = dict(existing_units)
    parents.update({u.id: u.parent for u in units})
    for unit in units:
        if unit.parent is not None and unit.parent not in parents:
            err(seen_units[unit.id], f"units[{unit.id}]", "parent", f"ukendt enhed '{unit.parent}'",
                raw=raw_by_id.get(unit.id))
    known_parents = {k: (v if v in parents else None) for k, v in parents.items()}
    cycle = find_cycle(known_parents)
    if cycle:
        first = cycle[0]
        err(seen_units.get(first, 0), f"units[{first}]", "parent", "enhederne danner en ring: " + " -> ".join(cycle),
            raw=raw_by_id.get(first))

    mandates: list[MandateSpec] = []
    seen_mandates: dict[str, int] = {}
    for index, raw in enumerate(raw_mandates, start=1):
        if not isinstance(raw, dict):
            err(0, f"mandates[#{index}]", "", "skal være et objekt")
            continue
        line = raw.get(LINE, 0)
        mid = raw.get("id")
        label = f"mandates[{mid}]" if isinstance(mid, str) and mid else f"mandates[#{index}]"
        before = len(errors)
        for key in raw:
            if key not in MANDATE_FIELDS and key not in (LINE, FIELD_LINES):
                err(line, label, str(key), "ukendt felt", raw=raw)
        if not isinstance(mid, str) or not mid:
            err(line, label, "id", "mangler (påkrævet)", raw=raw)
        elif not SLUG.match(mid):
            err(line, label, "id", "skal bestå af små bogstaver a-z, tal og bindestreger", raw=raw)
        elif mid in seen_mandates:
            err(line, label, "id", f"findes allerede i linje {seen_mandates[mid]}", raw=raw)
        else:
            seen_mandates[mid] = line
        for req in ("unit", "topic", "summary", "decision"):
            value = raw.get(req)
            if not isinstance(value, str) or not value.strip():
                err(line, label, req, "mangler (påkrævet)", raw=raw)
        unit = raw.get("unit")
        if isinstance(unit, str) and unit and unit not in parents:
            err(line, label, "unit", f"ukendt enhed '{unit}'", raw=raw)
        decision = raw.get("decision")
        if isinstance(decision, str) and decision and decision not in DECISIONS:
            err(line, label, "decision", f"'{decision}' er ikke gyldig; brug en af {', '.join(DECISIONS)}", raw=raw)
        if decision == "other" and not (isinstance(raw.get("decided_by"), str) and raw["decided_by"].strip()):
            err(line, label, "decided_by", "er påkrævet, når decision er 'other'", raw=raw)
        topic_key = raw.get("topic_key")
        if topic_key is not None and (not isinstance(topic_key, str) or not SLUG.match(topic_key)):
            err(line, label, "topic_key", "skal bestå af små bogstaver a-z, tal og bindestreger", raw=raw)
        for fld in TEXT_FIELDS:
            if raw.get(fld) is not None and not isinstance(raw.get(fld), str):
                err(line, label, fld, "skal være en tekst", raw=raw)
        for fld in LIST_FIELDS:
            value = raw.get(fld)
            if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
                err(line, label, fld, "skal være en liste af tekster", raw=raw)
        limit = raw.get("limit_dkk")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0):
            err(line, label, "limit_dkk", f"skal være et beløb i kr. (et tal >= 0), ikke {limit!r}", raw=raw)
        dates: dict[str, dt.date | None] = {}
        for fld in DATE_FIELDS:
            try:
                dates[fld] = _parse_date(raw.get(fld))
            except (TypeError, ValueError):
                err(line, label, fld, f"ugyldig dato {raw.get(fld)!r}; brug ÅÅÅÅ-MM-DD", raw=raw)
                dates[fld] = None
        if dates.get("valid_from") and dates.get("valid_to") and dates["valid_to"] < dates["valid_from"]:
            err(line, label, "valid_to", "ligger før valid_from", raw=raw)
        if len(errors) > before:
            continue
        mandates.append(
            MandateSpec(
                id=mid, unit=unit, topic=raw["topic"].strip(), decision=decision,
                summary=raw["summary"].strip(), topic_key=topic_key,
                decided_by=(raw.get("decided_by") or None),
                conditions=list(raw.get("conditions") or []),
                limit_dkk=int(limit) if limit is not None else None,
                inform=raw.get("inform"), how=raw.get("how"),
                examples=list(raw.get("examples") or []),
                keywords=list(raw.get("keywords") or []),
                source=raw.get("source"), contact=raw.get("contact"),
                valid_from=dates["valid_from"], valid_to=dates["valid_to"],
                review_by=dates["review_by"],
            )
        )
    if errors:
        raise CatalogueValidationError(errors)
    return Catalogue(units=units, mandates=mandates)
