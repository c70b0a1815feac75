"""The catalogue as a spreadsheet (XLSX): one row per entry, round-trippable.

Sheet ``Poster``: a header row with the format-v2 field names
(:data:`ENTRY_COLUMNS`: the limit as two columns, ``limit_value`` and
``limit_unit``), then one row per entry. List fields (conditions, examples,
keywords) hold one item per line in the cell (on reading, " | " also separates
items when a cell has no line breaks). ``exceptions`` holds one exception per
line, written ``case = decision (decided_by)``, e.g. ``gavekort = nobody``;
it is read back strictly (a bad line is an error naming row and column).
Dates are date cells (text ``ÅÅÅÅ-MM-DD`` is accepted too). Old sheets with a
``limit_dkk`` column still import (as a limit in kr). Sheet ``Enheder``: id,
name, parent, aliases. Sheet ``Vejledning``: help in Danish.
:func:`read_catalogue` turns a workbook back into a format-v2 document (with
row numbers as line numbers), which then goes through the same validation as
a YAML file.
"""
from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.catalogue.schema import (
    DATE_FIELDS, EXCEPTION_SYNTAX, FORMAT_VERSION, LINE, LIST_FIELDS, MANDATE_FIELDS, UNIT_FIELDS, CatalogueError,
    CatalogueValidationError, format_exception, parse_exceptions,
)
from bot.domain import EXCEPTION_DECISIONS, LIMIT_UNITS, ROUTES

ENTRY_SHEET = "Poster"
UNIT_SHEET = "Enheder"
HELP_SHEET = "Vejledning"
LIST_SEPARATOR = "\n"
ENTRY_COLUMNS = tuple(
    column for name in MANDATE_FIELDS for column in (("limit_value", "limit_unit") if name == "limit" else (name,))
)
"""The columns of the ``Poster`` sheet, in order."""
READ_COLUMNS = ENTRY_COLUMNS + ("limit_dkk",)
"""Columns :func:`read_catalogue` understands (``limit_dkk``: sheets from format v1)."""
WIDTHS = {"id": 24, "unit": 22, "topic": 36, "summary": 60, "conditions": 50, "exceptions": 40, "examples": 50,
          "keywords": 30, "how": 40, "inform": 30, "source": 36}
HELP = [
    "Sådan bruger du regnearket",
    "Én række pr. post på arket 'Poster'. Rækkefølgen og overskrifterne i række 1 skal blive stående.",
    "id: små bogstaver, tal og bindestreger; et nyt id opretter en ny post, et kendt id opdaterer posten.",
    "decision: employee (medarbejderen), team (teamet), leader (lederen) eller other (andre; udfyld så decided_by).",
    "conditions, examples og keywords: ét punkt pr. linje i cellen (Alt+Enter), eller adskilt med ' | '.",
    f"exceptions: én undtagelse pr. linje, skrevet '{EXCEPTION_SYNTAX}', fx 'gavekort = nobody' eller "
    "'ny computer = leader'. Hvem: " + ", ".join(EXCEPTION_DECISIONS)
    + " (nobody: aldrig tilladt; other: skriv hvem i parentes, fx 'kørsel = other (Visitationen)').",
    f"limit_value og limit_unit: grænsen som tal og enhed, fx 5000 og kr. Enheder: {', '.join(LIMIT_UNITS)}. "
    "Begge tomme: ingen grænse.",
    f"route: tom, eller {' eller '.join(ROUTES)} (mistake: hvad man gør efter en fejl; "
    "concern: bekymring for et barn eller en borger).",
    "Datoer: ÅÅÅÅ-MM-DD.",
    "Filen kontrolleres i sin helhed ved import: er der én fejl, gemmes intet.",
]


def _set(cell, value: Any) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, even when the text starts with "="


def _join(items: list[str]) -> str:
    text = LIST_SEPARATOR.join(items)
    if LIST_SEPARATOR not in text and " | " in text:
        text += LIST_SEPARATOR  # one item containing " | ": the line break keeps it whole
    return text


def write_catalogue(doc: dict[str, Any]) -> bytes:
    """An exported catalogue (``export_catalogue``'s format-v2 dict; a v1 entry's ``limit_dkk`` is
    written as a limit in kr) as XLSX bytes."""
    wb = Workbook()
    ws = wb.active
    ws.title = ENTRY_SHEET
    header_font, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    for col, name in enumerate(ENTRY_COLUMNS, start=1):
        cell = ws.cell(row=1, column=col)
        _set(cell, name)
        cell.font, cell.fill = header_font, fill
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS.get(name, 16)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, entry in enumerate(doc.get("mandates", []), start=2):
        limit = entry.get("limit") or ({"value": entry["limit_dkk"], "unit": "kr"}
                                       if entry.get("limit_dkk") is not None else {})
        for col, name in enumerate(ENTRY_COLUMNS, start=1):
            if name in ("limit_value", "limit_unit"):
                value = limit.get(name.split("_")[1])
            else:
                value = entry.get(name)
            if value is None or value == []:
                continue
            if name == "exceptions":
                value = LIST_SEPARATOR.join(format_exception(item) for item in value)
            elif name in LIST_FIELDS:
                value = _join(value)
            elif name in DATE_FIELDS:
                value = dt.date.fromisoformat(value) if isinstance(value, str) else value
            cell = ws.cell(row=row, column=col)
            _set(cell, value)
            if name in DATE_FIELDS:
                cell.number_format = "yyyy-mm-dd"
            cell.alignment = wrap
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ENTRY_COLUMNS))}{max(1, len(doc.get('mandates', [])) + 1)}"

    units = wb.create_sheet(UNIT_SHEET)
    for col, name in enumerate(UNIT_FIELDS, start=1):
        cell = units.cell(row=1, column=col)
        _set(cell, name)
        cell.font, cell.fill = header_font, fill
        units.column_dimensions[get_column_letter(col)].width = 28
    for row, unit in enumerate(doc.get("units", []), start=2):
        for col, name in enumerate(UNIT_FIELDS, start=1):
            value = unit.get(name)
            if value is None or value == []:
                continue
            _set(units.cell(row=row, column=col), _join(value) if name == "aliases" else value)

    help_sheet = wb.create_sheet(HELP_SHEET)
    help_sheet.column_dimensions["A"].width = 110
    for row, line in enumerate(HELP, start=1):
        _set(help_sheet.cell(row=row, column=1), line)
    help_sheet["A1"].font = header_font
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    parts = text.split("\n") if "\n" in text else text.split(" | ")
    return [p.strip() for p in parts if p.strip()]


def _cell(name: str, value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if name in LIST_FIELDS or name == "aliases":
        return _split(value)
    if name in DATE_FIELDS:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value).strip()
    if name == "limit_dkk":
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            digits = value.strip().replace(".", "").replace(" ", "")
            return int(digits) if digits.isdigit() else value
        return value
    if name == "limit_value":
        return _number_cell(value)
    if name in ("limit_unit", "route"):
        return str(value).strip().lower()
    if name == "exceptions":
        return str(value)  # parsed by _rows, which knows the row and the column
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # an id or a text Excel turned into a number
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


_DANISH_NUMBER = re.compile(r"^\d{1,3}(?:\.\d{3})+(?:,\d+)?$|^\d+(?:,\d+)?$")


def _number_cell(value: Any) -> Any:
    """A number cell, or text like "2.500", "2,5", "2500 kr" -> int/float; other text is kept (validation
    then names it)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value) if float(value).is_integer() else float(value)
    text = str(value).strip()
    text = re.sub(r"\s*(kr\.?|kroner)$", "", text, flags=re.IGNORECASE).replace(" ", "")
    if _DANISH_NUMBER.match(text):
        number = float(text.replace(".", "").replace(",", "."))
        return int(number) if number.is_integer() else number
    return str(value)


def _exceptions_cell(text: str, row: int, col: int, values: tuple, names: list[str], file: str,
                     errors: list[CatalogueError] | None) -> list[dict[str, Any]] | None:
    """The exceptions of one cell, one per line; bad lines go to ``errors`` (row, column, line in the cell)."""
    try:
        return parse_exceptions(text)
    except ValueError as exc:
        if errors is not None:
            raw_id = _cell("id", values[names.index("id")]) if "id" in names else None
            item = f"mandates[{raw_id}]" if raw_id else f"mandates[række {row}]"
            where = f"række {row}, kolonne {get_column_letter(col)} (exceptions), "
            errors.append(CatalogueError(file, row, item, "exceptions",
                                         where + str(exc).replace(":", " i cellen:", 1)))
        return None


def _rows(ws, file: str, fields: tuple[str, ...], sheet: str,
          errors: list[CatalogueError] | None = None) -> list[dict[str, Any]]:
    """The rows of ``ws`` as raw catalogue items (``LINE`` = row number).

    On the entry sheet the ``limit_value``/``limit_unit`` cells become ``limit: {value, unit}`` and the
    ``exceptions`` cell is parsed line by line; a bad line is appended to ``errors``, naming row and column.
    """
    rows = ws.iter_rows(values_only=True)
    try:
        header = next(rows)
    except StopIteration:
        return []
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    items = []
    for number, values in enumerate(rows, start=2):
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        item: dict[str, Any] = {LINE: number}
        for col, (name, value) in enumerate(zip(names, values), start=1):
            if not name:
                if value not in (None, ""):
                    item.setdefault("(kolonne uden overskrift)", value)
                continue
            converted = _cell(name, value) if name in fields else value
            if converted is None:
                continue
            if name == "exceptions" and name in fields:
                converted = _exceptions_cell(converted, number, col, values, names, file, errors)
                if not converted:
                    continue
            item[name] = converted
        if "limit_value" in item or "limit_unit" in item:
            limit = {LINE: number}
            for key in ("value", "unit"):
                if f"limit_{key}" in item:
                    limit[key] = item.pop(f"limit_{key}")
            item["limit"] = limit
        items.append(item)
    return items


def read_catalogue(data: bytes, file: str = "katalog.xlsx") -> dict[str, Any]:
    """An XLSX workbook -> a format-v2 document for :func:`bot.catalogue.schema.validate`.

    Row numbers become line numbers, so errors read ``katalog.xlsx:7: mandates[x].decision: ...``.

    Raises:
        CatalogueValidationError: the file is not a readable workbook, has no ``Poster`` sheet, or an
            ``exceptions`` cell has a line that is not ``case = decision (decided_by)`` (every such
            cell is reported, with row and column).
    """
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise CatalogueValidationError(
            [CatalogueError(file, 0, "fil", "", f"kan ikke læses som et XLSX-regneark ({type(exc).__name__})")]
        ) from exc
    try:
        if ENTRY_SHEET not in wb.sheetnames:
            raise CatalogueValidationError(
                [CatalogueError(file, 0, "fil", "", f"arket '{ENTRY_SHEET}' mangler")])
        errors: list[CatalogueError] = []
        doc: dict[str, Any] = {"version": FORMAT_VERSION, LINE: 1,
                               "mandates": _rows(wb[ENTRY_SHEET], file, READ_COLUMNS, ENTRY_SHEET, errors)}
        if errors:
            raise CatalogueValidationError(errors)
        if UNIT_SHEET in wb.sheetnames:
            doc["units"] = _rows(wb[UNIT_SHEET], file, UNIT_FIELDS, UNIT_SHEET)
        return doc
    finally:
        wb.close()
