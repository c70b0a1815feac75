"""A spreadsheet's columns and values -> a catalogue document (the one import contract).

A municipality's own mandate list has its own column names ("Beslutning",
"Hvem", "Beløbsgrænse") and Danish values ("Medarbejder", "Team", "Leder",
"Andre"; "Ingen"/"Aldrig" for an exception; "2.000 kr" for a limit). This
module knows the catalogue's columns (:data:`COLUMNS`: the Danish name the
XLSX export writes, the format-v2 field name and synonyms), proposes which of
a sheet's columns is which field (:func:`propose_mapping`), and turns the rows
into a format-v2 document (:func:`to_document`), which then goes through
:func:`bot.catalogue.schema.validate` like any YAML file. A cell that cannot be
read is a :class:`CellError` naming row and column; so are validation errors
after :func:`locate`.

The XLSX reader (:mod:`bot.admin.xlsx`) uses the same conversion with the
exact-name mapping (:func:`exact_mapping`), so a file with the export's Danish
column names, or with the old English field names, imports without a mapping step.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from rapidfuzz import fuzz

from bot.catalogue.schema import (
    LINE, LIST_FIELDS, STATUS_FIELD, CatalogueError, parse_exceptions,
)
from bot.domain import LIMIT_UNITS
from bot.language import fold_ascii, normalise


@dataclass(frozen=True)
class Column:
    """One column the catalogue understands.

    Attributes:
        field: the format-v2 field (``limit_value``/``limit_unit`` are the limit's two parts,
            ``limit_dkk`` an amount in kr, ``status`` the publication status).
        name: the Danish column name the XLSX export writes.
        synonyms: other names a municipality's sheet may use (Danish and English), lower case.
    """

    field: str
    name: str
    synonyms: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("id", "Id", ("nr", "nummer", "løbenummer", "post id", "postid", "key", "ref", "reference nr")),
    Column("unit", "Enhed", ("team", "afdeling", "arbejdssted", "enhed id", "organisatorisk enhed", "område",
                             "org enhed", "unit id")),
    Column("topic", "Emne", ("overskrift", "titel", "beslutning", "opgave", "beslutningsområde", "område for beslutning",
                             "kompetenceområde", "title", "subject", "hvad")),
    Column("topic_key", "Emnenøgle", ("topic key", "nøgle", "emne nøgle", "emnekode")),
    Column("decision", "Hvem beslutter", ("hvem", "beslutter", "kompetence", "beslutningskompetence", "niveau",
                                          "beslutningsniveau", "myndighed", "ansvar", "who decides", "who",
                                          "delegeret til", "kompetenceniveau", "hvem bestemmer", "hvem træffer beslutningen",
                                          "beslutningstager", "hvem må beslutte")),
    Column("decided_by", "Besluttes af", ("decided by", "hvem andre", "andre hvem", "hvem er andre", "instans",
                                          "besluttes hos")),
    Column("summary", "Kort svar", ("svar", "beskrivelse", "forklaring", "tekst", "uddybning", "description",
                                    "answer", "indhold")),
    Column("conditions", "Betingelser", ("betingelse", "forudsætninger", "forudsætning", "vilkår", "krav",
                                         "condition")),
    Column("exceptions", "Undtagelser", ("undtagelse", "undtagen", "exception")),
    Column("limit_value", "Grænse", ("beløbsgrænse", "maks", "maksimum", "max", "beløb", "ramme", "økonomisk ramme",
                                     "grænseværdi", "limit", "limit value")),
    Column("limit_unit", "Grænsens enhed", ("enhed for grænse", "grænseenhed", "limit unit", "måleenhed")),
    Column("limit_dkk", "Beløbsgrænse (kr.)", ("beløbsgrænse kr", "grænse kr", "kr", "kroner", "limit dkk",
                                               "beløb kr", "dkk")),
    Column("route", "Vej ved fejl eller bekymring", ("vej", "route", "rute", "fejl eller bekymring")),
    Column("inform", "Giv besked til", ("besked til", "orientér", "orienter", "skal orienteres", "informér",
                                        "informer", "orientering", "inform", "giv besked")),
    Column("how", "Sådan gør du", ("fremgangsmåde", "hvordan", "procedure", "how", "sådan")),
    Column("examples", "Eksempler på spørgsmål", ("eksempler", "eksempel", "spørgsmål", "examples",
                                                  "typiske spørgsmål")),
    Column("keywords", "Søgeord", ("nøgleord", "stikord", "tags", "keywords", "søgeord")),
    Column("source", "Kilde", ("hjemmel", "lovgrundlag", "dokument", "source", "kilder", "reference")),
    Column("contact", "Kontakt", ("kontaktperson", "contact", "spørg")),
    Column("valid_from", "Gælder fra", ("fra", "fra dato", "startdato", "gyldig fra", "ikrafttræden",
                                        "i kraft fra", "valid from")),
    Column("valid_to", "Gælder til", ("til", "til dato", "slutdato", "gyldig til", "udløber", "valid to")),
    Column("review_by", "Gennemgås senest", ("revision", "næste revision", "revideres", "gennemgang",
                                             "gennemgås", "review", "review by", "revideres senest")),
    Column(STATUS_FIELD, "Status", ("tilstand", "offentliggjort", "udgivet", "publiceret")),
)
"""Every column of a catalogue sheet, in the export's order (``limit_dkk`` is read, not written)."""
BY_FIELD = {c.field: c for c in COLUMNS}
EXPORT_FIELDS = tuple(c.field for c in COLUMNS if c.field != "limit_dkk")
"""The fields the XLSX export writes, in order (one column each)."""

UNIT_COLUMNS: tuple[Column, ...] = (
    Column("id", "Id"), Column("name", "Navn", ("name",)), Column("parent", "Overordnet enhed", ("parent",)),
    Column("aliases", "Andre navne", ("aliases",)),
)
"""The columns of the units sheet."""

DECISION_WORDS = {
    "employee": ("medarbejder", "medarbejderen", "medarbejderen selv", "medarbejdere", "den enkelte",
                 "den enkelte medarbejder", "selv", "du selv", "employee", "m"),
    "team": ("team", "teamet", "i teamet", "teamet selv", "gruppen", "kollegerne", "t"),
    "leader": ("leder", "lederen", "nærmeste leder", "din leder", "chef", "chefen", "ledelsen", "leader", "l"),
    "other": ("andre", "anden", "andre (se besluttes af)", "other", "a"),
}
"""Danish (and English) words for who decides, lower case, per code of :data:`bot.domain.DECISIONS`."""
DECISION_NAMES = {"employee": "Medarbejder", "team": "Team", "leader": "Leder", "other": "Andre"}
"""Who decides, as the XLSX export writes it (and reads it back)."""
STATUS_WORDS = {
    "published": ("offentliggjort", "udgivet", "publiceret", "aktiv", "gældende", "published"),
    "draft": ("kladde", "udkast", "draft"),
    "pending": ("afventer", "afventer godkendelse", "til godkendelse", "pending"),
}
STATUS_NAMES = {"published": "Offentliggjort", "draft": "Kladde", "pending": "Afventer godkendelse"}
"""Publication statuses (:data:`bot.domain.ENTRY_STATUSES`) as the export writes them."""
ROUTE_WORDS = {"mistake": ("fejl", "efter en fejl", "mistake"), "concern": ("bekymring", "ved bekymring", "concern")}
ROUTE_NAMES = {"mistake": "Fejl", "concern": "Bekymring"}
UNIT_WORDS = {
    "kr": ("kr", "kr.", "kroner", "dkk", ",-"), "minutter": ("min", "min.", "minut", "minutter"),
    "timer": ("t", "t.", "time", "timer", "hours"), "dage": ("dag", "dage", "days"),
    "personer": ("person", "personer", "pers.", "deltagere"), "gange": ("gang", "gange", "times"),
}
"""Words for the units of a limit (:data:`bot.domain.LIMIT_UNITS`), lower case."""
MIN_FUZZY = 88.0
"""rapidfuzz ratio (0..100) a column name must reach to be proposed for a field it does not name exactly."""

_NUMBER = re.compile(r"^(\d{1,3}(?:[.\s]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)$")
_LIMIT_TEXT = re.compile(r"^(?P<kr>kr\.?\s*)?(?P<number>[\d.,\s]*\d)\s*(?P<unit>[^\d\s].*)?$", re.IGNORECASE)
_MONEY_HEADER = re.compile(r"beloeb|\bkr\b|kroner|dkk|penge|oekonomi")
_SLUG_CHARS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "é": "e", "ü": "u", "ö": "oe", "ä": "ae"})


def key(text: Any) -> str:
    """A header or value folded for comparison: lower case, æøå folded, punctuation as spaces."""
    text = fold_ascii(normalise(str(text or ""))).lower()
    return " ".join(re.sub(r"[^a-z0-9,.+-]+", " ", text).replace("_", " ").split()).strip(" .")


def _vocabulary(words: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {key(word): code for code, items in words.items() for word in (code, *items)}


_DECISIONS = _vocabulary(DECISION_WORDS)
_STATUSES = _vocabulary(STATUS_WORDS)
_ROUTES = _vocabulary(ROUTE_WORDS)
_UNITS = _vocabulary(UNIT_WORDS)


def slugify(text: str, max_len: int = 48) -> str:
    """A catalogue id from free text: ``"Køb af blomster"`` -> ``"koeb-af-blomster"``."""
    text = (text or "").lower().translate(_SLUG_CHARS)
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:max_len].strip("-") or "post"


def column_letter(index: int) -> str:
    """0-based column index -> spreadsheet letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# -- the mapping ------------------------------------------------------------------------------
def _names(column: Column) -> list[str]:
    return [key(column.field), key(column.name), *(key(s) for s in column.synonyms)]


def exact_mapping(headers: Sequence[Any], columns: Sequence[Column] = COLUMNS) -> list[str | None]:
    """Per header: the field whose Danish name, field name or synonym it is exactly (folded), else None."""
    names = {}
    for column in columns:
        for name in _names(column):
            names.setdefault(name, column.field)
    return [names.get(key(h)) if key(h) else None for h in headers]


def propose_mapping(headers: Sequence[Any]) -> list[str | None]:
    """Which field each of a sheet's columns holds (None: leave it out), each field at most once.

    Exact names first (Danish export name, format-v2 field name, synonyms; folded, so "Beløbsgrænse"
    and "beloebsgraense" are the same), then the closest name by rapidfuzz's ratio when it reaches
    :data:`MIN_FUZZY` (a typo: "Hvem besluter" -> decision). A field is given to the first column
    that names it exactly, else to the column that resembles it most.
    """
    proposal = exact_mapping(headers)
    taken = {f for f in proposal if f}
    named = [bool(f) for f in proposal]
    for i, f in enumerate(proposal):
        if f and proposal.index(f) != i:
            proposal[i] = None  # a second column with the same name: the first one wins
    scored: list[tuple[float, int, str]] = []
    for i, header in enumerate(headers):
        if named[i] or not key(header):
            continue
        for column in COLUMNS:
            if column.field in taken:
                continue
            best = max(fuzz.ratio(key(header), name) for name in _names(column))
            if best >= MIN_FUZZY:
                scored.append((best, -i, column.field))
    for score, neg_i, field in sorted(scored, reverse=True):
        if field not in taken and proposal[-neg_i] is None:
            proposal[-neg_i] = field
            taken.add(field)
    return proposal


# -- rows -> a document -------------------------------------------------------------------------
@dataclass(frozen=True)
class CellError:
    """A problem in one row of a sheet.

    Attributes:
        row: the sheet's row number (1-based; the header is row 1).
        column: the column letter(s), or "" when the problem is no single column's.
        header: the column's name in the file ("" when none).
        field: the catalogue field concerned.
        message: what is wrong, in Danish.
    """

    row: int
    column: str
    header: str
    field: str
    message: str

    def where(self) -> str:
        """ "række 3, kolonne D («Hvem»)" or "række 3"."""
        text = f"række {self.row}"
        if self.column:
            text += f", kolonne {self.column}" + (f" («{self.header}»)" if self.header else "")
        return text

    def as_error(self, file: str, item: str) -> CatalogueError:
        """This problem as a :class:`CatalogueError` of ``item`` (``mandates[ID]``), message led by :meth:`where`."""
        return CatalogueError(file, self.row, item, self.field, f"{self.where()}: {self.message}")


@dataclass(frozen=True)
class UnitName:
    """A unit the rows may name: by id, name or alias."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()


def unit_lookup(units: Iterable[Any]) -> dict[str, str]:
    """``{folded id, name or alias: unit id}`` of objects with ``id``, ``name`` and ``aliases``."""
    out: dict[str, str] = {}
    for unit in units:
        for name in (unit.id, unit.name, *(unit.aliases or ())):
            out.setdefault(key(name), unit.id)
    return out


def split_list(value: Any) -> list[str]:
    """A list cell: one item per line, or (with no line break) items separated by " | "."""
    if value is None:
        return []
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    parts = text.split("\n") if "\n" in text else text.split(" | ")
    return [p.strip() for p in parts if p.strip()]


def number(value: Any) -> int | float | None:
    """A number cell or Danish number text ("2.500", "2,5", "2 500") -> int/float; None when it is none."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() else float(value)
    text = str(value).strip()
    if not _NUMBER.match(text):
        return None
    if re.fullmatch(r"\d{1,3}(?:[.\s]\d{3})+(?:,\d+)?", text):
        text = re.sub(r"[.\s]", "", text)
    result = float(text.replace(",", "."))
    return int(result) if result.is_integer() else result


def parse_limit(value: Any) -> tuple[int | float, str | None]:
    """ "2.000 kr", "kr. 500", "2,5 timer", "3 dage", 4000 -> ``(value, unit or None)``.

    Raises:
        ValueError: the cell is no number with an optional known unit (Danish message).
    """
    amount = number(value)
    if amount is not None:
        return amount, None
    text = " ".join(str(value).split())
    match = _LIMIT_TEXT.match(text)
    amount = number(match["number"].strip()) if match else None
    unit_word = key(match["unit"] or "") if match else ""
    unit = _UNITS.get(unit_word) if unit_word else ("kr" if match and match["kr"] else None)
    if amount is None or (unit_word and unit is None) or (match["kr"] and unit != "kr"):
        raise ValueError(f"«{text}» er ikke en grænse; skriv et tal og en enhed, fx «2.000 kr» eller «2 timer» "
                         f"(enheder: {', '.join(LIMIT_UNITS)})")
    return amount, unit


def parse_date(value: Any) -> str:
    """A date cell or text (ÅÅÅÅ-MM-DD, D.M.ÅÅÅÅ, D-M-ÅÅÅÅ, D/M/ÅÅÅÅ) -> ISO text.

    Raises:
        ValueError: not a date (Danish message).
    """
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})", text)
    if match:
        try:
            return dt.date(int(match[3]), int(match[2]), int(match[1])).isoformat()
        except ValueError:
            pass
    raise ValueError(f"«{text}» er ikke en dato; skriv fx 2026-12-31 eller 31.12.2026")


def _word(value: Any, vocabulary: Mapping[str, str], what: str, choices: str) -> str:
    found = vocabulary.get(key(value))
    if found is None:
        raise ValueError(f"«{str(value).strip()}» er ikke {what}; brug {choices}")
    return found


def convert_cell(field: str, value: Any) -> Any:
    """One non-empty cell as the format-v2 value of ``field`` (lists split, words -> codes, numbers, dates).

    Raises:
        ValueError: the cell cannot be read as ``field`` (Danish message; the caller adds row and column).
    """
    if field in LIST_FIELDS or field == "aliases":
        return split_list(value)
    if field == "exceptions":
        return parse_exceptions(str(value))
    if field == "decision":
        return _word(value, _DECISIONS, "et kendt svar på, hvem der beslutter",
                     "Medarbejder, Team, Leder eller Andre")
    if field == STATUS_FIELD:
        return _word(value, _STATUSES, "en kendt status", "Offentliggjort, Kladde eller Afventer godkendelse")
    if field == "route":  # an unknown word is passed on: validation names it with the valid routes
        return _ROUTES.get(key(value), str(value).strip().lower())
    if field == "limit_unit":  # likewise, with the valid units
        return _UNITS.get(key(value), str(value).strip().lower())
    if field == "limit_dkk":
        amount, unit = parse_limit(value)
        if unit not in (None, "kr"):
            raise ValueError(f"«{value}» er ikke et beløb i kr.")
        return amount
    if field in ("valid_from", "valid_to", "review_by"):
        return parse_date(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # an id or a text Excel turned into a number
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def to_document(
    rows: Iterable[tuple[int, Sequence[Any]]], headers: Sequence[Any], mapping: Sequence[str | None], *,
    units: Iterable[Any] = (), default_unit: str | None = None, keep_unknown: bool = False,
    make_ids: bool = True,
) -> tuple[list[dict[str, Any]], list[CellError]]:
    """A sheet's entry rows -> raw format-v2 mandates (``LINE`` = row number) and the cells that could not be read.

    Args:
        rows: ``(row number, cell values)`` (blank rows are skipped). A limit cell may carry its unit
            ("2.000 kr"), else the limit-unit column gives it, else a column named for money
            ("Beløbsgrænse") means kr.
        headers: the header row as written in the file.
        mapping: per column, the field it holds (:func:`propose_mapping`), None to leave it out.
        units: the known units (``id``, ``name``, ``aliases``): a unit cell may name a unit by name or alias.
        default_unit: the unit of rows without one (no unit column, or an empty cell).
        keep_unknown: keep unmapped columns under their (lower-case) header, so that validation
            names them "ukendt felt" (the strict reading of an exported file); else they are left out.
        make_ids: a row without an id gets one from its unit and topic ("hjemmeplejen-syd-koeb-af-blomster";
            the same row gets the same id on the next import, so it updates the entry).

    Returns:
        ``(mandates, errors)``: a bad cell is left out of its row, and its error names row and column;
        validation (:func:`bot.catalogue.schema.validate`) then checks the rest.
    """
    lookup = unit_lookup(units)
    items: list[dict[str, Any]] = []
    errors: list[CellError] = []
    used_ids: dict[str, int] = {}
    headers = [("" if h is None else str(h).strip()) for h in headers]
    for number_, values in rows:
        if all(_blank(v) for v in values):
            continue
        item: dict[str, Any] = {LINE: number_}
        limit_text: tuple[int, Any] | None = None
        for col, value in enumerate(values):
            field = mapping[col] if col < len(mapping) else None
            header = headers[col] if col < len(headers) else ""
            if field is None:
                if keep_unknown and not _blank(value):
                    item.setdefault(header.lower() or "(kolonne uden overskrift)", value)
                continue
            if _blank(value):
                continue
            if field == "limit_value":
                limit_text = (col, value)
                continue
            try:
                converted = convert_cell(field, value)
            except ValueError as exc:
                message = str(exc)
                if field == "exceptions":  # "linje 2: ..." is the line in the cell
                    message = message.replace(":", " i cellen:", 1)
                errors.append(CellError(number_, column_letter(col), header, field, message))
                continue
            if field == "unit":
                converted = lookup.get(key(converted), converted)
            if converted in ([], ""):
                continue
            item[field] = converted
        if limit_text is not None:
            col, value = limit_text
            try:
                amount, unit = parse_limit(value)
            except ValueError as exc:
                errors.append(CellError(number_, column_letter(col), headers[col], "limit_value", str(exc)))
            else:
                money = "kr" if _MONEY_HEADER.search(key(headers[col])) else None  # "Beløbsgrænse": 2000 is kr
                item["limit"] = {LINE: number_, "value": amount, "unit": unit or item.pop("limit_unit", None) or money}
                item.pop("limit_unit", None)
                if item["limit"]["unit"] is None:
                    del item["limit"]["unit"]  # validation asks for the unit
        elif "limit_unit" in item:
            item["limit"] = {LINE: number_, "unit": item.pop("limit_unit")}
        if "unit" not in item and default_unit:
            item["unit"] = default_unit
        if make_ids and "id" not in item and isinstance(item.get("topic"), str) and isinstance(item.get("unit"), str):
            base = slugify(f"{item['unit']} {item['topic']}", 60)
            used_ids[base] = used_ids.get(base, 0) + 1
            item["id"] = base if used_ids[base] == 1 else f"{base}-{used_ids[base]}"
        items.append(item)
    return items, errors


def locate(error: CatalogueError, headers: Sequence[Any], mapping: Sequence[str | None]) -> CellError:
    """A validation error of a converted row (``line`` = row) as a :class:`CellError` with its column.

    ``limit.unit`` is the limit-unit column (else the limit column), ``exceptions[2].decision`` the
    exceptions column, ``limit_dkk`` its own; a field no column holds has no column (e.g. a missing
    unit when the sheet has no unit column).
    """
    field = error.field
    wanted = [field]
    if field.startswith("limit"):
        wanted = (["limit_unit", "limit_value"] if field == "limit.unit" else ["limit_value", "limit_dkk"])
    elif field.startswith("exceptions"):
        wanted = ["exceptions"]
    for name in wanted:
        if name in mapping:
            col = list(mapping).index(name)
            header = "" if col >= len(headers) or headers[col] is None else str(headers[col]).strip()
            return CellError(error.line, column_letter(col), header, field, error.message)
    return CellError(error.line, "", "", field, error.message)


def export_value(field: str, value: Any) -> Any:
    """A format-v2 value as the XLSX export writes it in the column of ``field``: Danish words for
    who decides, the route and the status; other values unchanged."""
    if field == "decision":
        return DECISION_NAMES.get(value, value)
    if field == "route":
        return ROUTE_NAMES.get(value, value)
    if field == STATUS_FIELD:
        return STATUS_NAMES.get(value, value)
    return value


