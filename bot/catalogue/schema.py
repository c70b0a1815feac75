"""The catalogue file format (YAML, versions 1 and 2): loading and validation.

Version 1 is specified in ``../shared/acceptance/README.md`` ("Catalogue
format"). Version 2 (``version: 2``) adds per entry what version 1 hid in free
text: ``exceptions: [{case, decision, decided_by?}]`` (``decision`` one of
:data:`bot.domain.EXCEPTION_DECISIONS`), ``limit: {value, unit}`` (``unit`` one
of :data:`bot.domain.LIMIT_UNITS`) and ``route: mistake|concern``. A file
without ``version`` is read as version 1. ``limit_dkk`` (version 1) is accepted
in both versions and becomes ``limit: {value, unit: kr}``; giving both is an error.
Both versions accept an entry's publication ``status`` (one of
:data:`bot.domain.ENTRY_STATUSES`: ``published``, ``draft``, ``pending``); without it
an import creates published entries and keeps the status of an entry it updates.

:func:`load_yaml` keeps each item's line number so that every error names
file, line, entry id and field. Validation collects *all* errors before
anything is written.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import yaml

from bot.domain import DECISIONS, ENTRY_STATUSES, EXCEPTION_DECISIONS, LIMIT_UNITS, ROUTES, Limit

FORMAT_VERSION = 2
"""The version :func:`bot.catalogue.io.export_catalogue` writes."""
FORMAT_VERSIONS = (1, 2)
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
UNIT_FIELDS = ("id", "name", "parent", "aliases")
MANDATE_FIELDS = (
    "id", "unit", "topic", "topic_key", "decision", "decided_by", "summary", "conditions",
    "exceptions", "limit", "route", "inform", "how", "examples", "keywords", "source", "contact",
    "valid_from", "valid_to", "review_by",
)
"""The fields of an entry in format v2, in file order (also the keys of ``mandate_values``)."""
V2_FIELDS = ("exceptions", "limit", "route")
"""Entry fields that only a ``version: 2`` file may have."""
LEGACY_FIELDS = ("limit_dkk",)
"""Version-1 entry fields still accepted on import (in both versions)."""
STATUS_FIELD = "status"
"""An entry's publication status in a file (any version; optional): one of :data:`bot.domain.ENTRY_STATUSES`.
Not one of :data:`MANDATE_FIELDS`: it is no part of an entry's content, and editing an entry keeps it."""
EXCEPTION_FIELDS = ("case", "decision", "decided_by")
LIMIT_FIELDS = ("value", "unit")
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
class ExceptionSpec:
    """A case an entry's decision does not cover, and who decides it.

    Attributes:
        case: the case in the leader's words, e.g. "gavekort".
        decision: one of :data:`bot.domain.EXCEPTION_DECISIONS` (``nobody``: never allowed).
        decided_by: who decides, when ``decision`` is ``other`` (required then), else optional.
    """

    case: str
    decision: str
    decided_by: str | None = None


@dataclass
class MandateSpec:
    """A mandate entry as given in a catalogue file (all format-v2 fields; v1's limit_dkk is in ``limit``)."""

    id: str
    unit: str
    topic: str
    decision: str
    summary: str
    topic_key: str | None = None
    decided_by: str | None = None
    conditions: list[str] = field(default_factory=list)
    exceptions: list[ExceptionSpec] = field(default_factory=list)
    limit: Limit | None = None
    route: str | None = None
    inform: str | None = None
    how: str | None = None
    examples: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    source: str | None = None
    contact: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    review_by: dt.date | None = None
    status: str | None = None
    """Publication status from the file (:data:`bot.domain.ENTRY_STATUSES`); None: not given (a new
    entry is published, an updated one keeps its status)."""


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
            invalid date, wrong types, unknown fields, version; in version 2
            also bad exceptions, limits and routes, and limit_dkk next to limit).
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
    version = doc.get("version", 1)
    if isinstance(version, bool) or version not in FORMAT_VERSIONS:
        err(doc.get(LINE, 1), "fil", "version", f"skal være 1 eller 2, ikke {version!r}", raw=doc)
        version = FORMAT_VERSION  # check the entries as fully as possible
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
            if key in V2_FIELDS and version < 2:
                err(line, label, str(key), "findes først i format version 2; skriv 'version: 2' øverst i filen",
                    raw=raw)
            elif (key not in MANDATE_FIELDS and key not in LEGACY_FIELDS and key != STATUS_FIELD
                  and key not in (LINE, FIELD_LINES)):
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
        limit_dkk = raw.get("limit_dkk")
        limit: Limit | None = None
        if limit_dkk is not None and not _is_number(limit_dkk):
            err(line, label, "limit_dkk", f"skal være et beløb i kr. (et tal >= 0), ikke {limit_dkk!r}", raw=raw)
        elif limit_dkk is not None:
            limit = Limit(_number(limit_dkk), "kr")
        if raw.get("limit") is not None and version >= 2:
            if limit_dkk is not None:
                err(line, label, "limit_dkk", "angiv enten limit_dkk eller limit, ikke begge", raw=raw)
            limit = _check_limit(raw, line, label, err)
        exceptions = _check_exceptions(raw, line, label, err) if version >= 2 else []
        route = raw.get("route") if version >= 2 else None
        if route is not None and route not in ROUTES:
            err(line, label, "route", f"{route!r} er ikke gyldig; brug en af {', '.join(ROUTES)} (eller udelad feltet)",
                raw=raw)
        status = raw.get(STATUS_FIELD)
        if status is not None and status not in ENTRY_STATUSES:
            err(line, label, STATUS_FIELD, f"{status!r} er ikke gyldig; brug en af {', '.join(ENTRY_STATUSES)} "
                "(eller udelad feltet: så er posten offentliggjort)", raw=raw)
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
                exceptions=exceptions, limit=limit, route=route,
                inform=raw.get("inform"), how=raw.get("how"),
                examples=list(raw.get("examples") or []),
                keywords=list(raw.get("keywords") or []),
                source=raw.get("source"), contact=raw.get("contact"),
                valid_from=dates["valid_from"], valid_to=dates["valid_to"],
                review_by=dates["review_by"], status=status,
            )
        )
    if errors:
        raise CatalogueValidationError(errors)
    return Catalogue(units=units, mandates=mandates)


ErrorSink = Callable[..., None]
"""``err(line, item, field, message, raw=None)`` of :func:`validate`."""


def _is_number(value: Any) -> bool:
    """True for an int or float >= 0 (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _number(value: float) -> int | float:
    """``value`` as an int when it is whole (2500.0 -> 2500), else as a float."""
    return int(value) if float(value).is_integer() else float(value)


def _line_of(raw: Any, key: str, default: int) -> int:
    """The line of ``key`` in the mapping ``raw`` (from :func:`load_yaml`), else ``default``."""
    if isinstance(raw, dict):
        return raw.get(FIELD_LINES, {}).get(key, raw.get(LINE, default))
    return default


def _check_limit(raw: dict, line: int, label: str, err: ErrorSink) -> Limit | None:
    """Validate ``raw["limit"]`` (``{value, unit}``); errors go to ``err``; None when invalid."""
    value = raw["limit"]
    line = _line_of(raw, "limit", line)
    if not isinstance(value, dict):
        err(line, label, "limit",
            f"skal være et objekt med value og unit, fx {{value: 2500, unit: kr}}, ikke {value!r}")
        return None
    ok = True
    for key in value:
        if key not in LIMIT_FIELDS and key not in (LINE, FIELD_LINES):
            err(_line_of(value, str(key), line), label, f"limit.{key}", "ukendt felt; brug value og unit")
            ok = False
    amount, unit = value.get("value"), value.get("unit")
    if amount is None:
        err(line, label, "limit.value", "mangler (påkrævet)")
        ok = False
    elif not _is_number(amount):
        err(_line_of(value, "value", line), label, "limit.value", f"skal være et tal >= 0, ikke {amount!r}")
        ok = False
    if unit is None:
        err(line, label, "limit.unit", f"mangler (påkrævet); brug en af {', '.join(LIMIT_UNITS)}")
        ok = False
    elif unit not in LIMIT_UNITS:
        err(_line_of(value, "unit", line), label, "limit.unit",
            f"{unit!r} er ikke en gyldig enhed; brug en af {', '.join(LIMIT_UNITS)}")
        ok = False
    return Limit(_number(amount), unit) if ok else None


def _check_exceptions(raw: dict, line: int, label: str, err: ErrorSink) -> list[ExceptionSpec]:
    """Validate ``raw["exceptions"]`` (a list of ``{case, decision, decided_by?}``); errors go to ``err``."""
    items = raw.get("exceptions")
    if items is None:
        return []
    line = _line_of(raw, "exceptions", line)
    if not isinstance(items, list):
        err(line, label, "exceptions", "skal være en liste af undtagelser med case og decision")
        return []
    out: list[ExceptionSpec] = []
    seen: dict[str, int] = {}
    for number, item in enumerate(items, start=1):
        name = f"exceptions[{number}]"
        item_line = item.get(LINE, line) if isinstance(item, dict) else line
        if not isinstance(item, dict):
            err(item_line, label, name, f"skal være et objekt med case og decision, ikke {item!r}")
            continue
        bad = False
        for key in item:
            if key not in EXCEPTION_FIELDS and key not in (LINE, FIELD_LINES):
                err(_line_of(item, str(key), item_line), label, f"{name}.{key}",
                    "ukendt felt; brug case, decision og decided_by")
                bad = True
        case, decision, decided_by = item.get("case"), item.get("decision"), item.get("decided_by")
        if not isinstance(case, str) or not case.strip():
            err(_line_of(item, "case", item_line), label, f"{name}.case",
                "mangler (påkrævet): skriv tilfældet, fx 'gavekort'" if case in (None, "") else
                f"skal være en tekst, ikke {case!r}")
            bad = True
        elif case.strip().casefold() in seen:
            err(_line_of(item, "case", item_line), label, f"{name}.case",
                f"'{case.strip()}' står allerede som undtagelse {seen[case.strip().casefold()]}")
            bad = True
        else:
            seen[case.strip().casefold()] = number
        if decision is None or decision == "":
            err(item_line, label, f"{name}.decision",
                f"mangler (påkrævet); brug en af {', '.join(EXCEPTION_DECISIONS)}")
            bad = True
        elif decision not in EXCEPTION_DECISIONS:
            err(_line_of(item, "decision", item_line), label, f"{name}.decision",
                f"{decision!r} er ikke gyldig; brug en af {', '.join(EXCEPTION_DECISIONS)}")
            bad = True
        if decided_by is not None and not isinstance(decided_by, str):
            err(_line_of(item, "decided_by", item_line), label, f"{name}.decided_by", "skal være en tekst")
            bad = True
        elif decision == "other" and not (decided_by or "").strip():
            err(item_line, label, f"{name}.decided_by", "er påkrævet, når decision er 'other'")
            bad = True
        if not bad:
            out.append(ExceptionSpec(case.strip(), decision, (decided_by or "").strip() or None))
    return out


# -- exceptions as text: one per line, "case = decision (decided_by)" --------------------------
EXCEPTION_ALIASES = {
    "medarbejderen": "employee", "medarbejder": "employee", "teamet": "team", "lederen": "leader",
    "leder": "leader", "andre": "other", "ingen": "nobody", "aldrig": "nobody",
}
"""Danish words accepted for the decision in the text syntax (codes are always accepted)."""
EXCEPTION_SYNTAX = "tilfælde = hvem (besluttet af)"
_EXCEPTION_LINE = re.compile(r"^(?P<case>.*\S)\s*=\s*(?P<decision>[^\s()=]+)\s*(?:\((?P<by>[^()]*)\))?$")
"""The last "=" separates case and decision, so a case may itself contain "="."""


def format_exception(exception: Mapping[str, Any]) -> str:
    """One exception as a line: ``"ny computer = leader"``, ``"kørsel = other (Visitationen)"``."""
    text = f"{exception['case']} = {exception['decision']}"
    if exception.get("decided_by"):
        text += f" ({exception['decided_by']})"
    return text


def parse_exception(line: str) -> dict[str, Any]:
    """One line ``case = decision (decided_by)`` -> ``{"case", "decision", "decided_by"}``.

    The decision is a code of :data:`bot.domain.EXCEPTION_DECISIONS` or a Danish word of
    :data:`EXCEPTION_ALIASES` (any case); ``(decided_by)`` is optional. Only the syntax and the
    decision are checked here; :func:`validate` checks the rest (e.g. decided_by for ``other``).

    Raises:
        ValueError: the line does not follow the syntax or names no known decision (Danish message).
    """
    text = " ".join(line.split())
    match = _EXCEPTION_LINE.match(text)
    if not match:
        raise ValueError(f"'{text}' skal skrives '{EXCEPTION_SYNTAX}', fx 'gavekort = nobody' "
                         "eller 'kørsel = other (Visitationen)'")
    word = match.group("decision").lower()
    decision = EXCEPTION_ALIASES.get(word, word)
    if decision not in EXCEPTION_DECISIONS:
        raise ValueError(f"'{match.group('decision')}' i '{text}' er ikke gyldig; brug en af "
                         f"{', '.join(EXCEPTION_DECISIONS)}")
    by = (match.group("by") or "").strip() or None
    return {"case": match.group("case").strip(), "decision": decision, "decided_by": by}


def parse_exceptions(text: str) -> list[dict[str, Any]]:
    """Several exceptions, one per line (empty lines skipped), as :func:`parse_exception` reads them.

    Raises:
        ValueError: for the first bad line; the message starts with "linje N: " (1-based, in ``text``).
    """
    out = []
    for number, line in enumerate((text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append(parse_exception(line))
        except ValueError as exc:
            raise ValueError(f"linje {number}: {exc}") from None
    return out
