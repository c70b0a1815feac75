"""The catalogue as a spreadsheet (XLSX; CSV is read too): one row per entry, round-trippable.

Sheet ``Poster``: a header row with the Danish column names of
:data:`bot.catalogue.columns.COLUMNS` (:data:`ENTRY_COLUMNS`: "Id", "Enhed",
"Emne", "Hvem beslutter", ..., the limit as "Grænse" and "Grænsens enhed",
last "Status"), then one row per entry. Who decides is written in Danish
("Medarbejder", "Team", "Leder", "Andre"), as are the route ("Fejl",
"Bekymring") and the status ("Offentliggjort", "Kladde", "Afventer
godkendelse"). List fields (conditions, examples, keywords) hold one item per
line in the cell (on reading, " | " also separates items when a cell has no
line breaks). ``Undtagelser`` holds one exception per line, written
``tilfælde = hvem (besluttet af)``, e.g. ``gavekort = aldrig``; it is read
back strictly (a bad line is an error naming row and column). Dates are date
cells (text ``ÅÅÅÅ-MM-DD`` is accepted too). Sheet ``Enheder``: Id, Navn,
Overordnet enhed, Andre navne. Sheet ``Vejledning``: help in Danish.

:func:`read_catalogue` reads the Danish column names and the old English field
names alike (:func:`bot.catalogue.columns.exact_mapping`; old sheets with a
``limit_dkk`` column still import), and turns a workbook back into a format-v2
document (row numbers as line numbers), which then goes through the same
validation as a YAML file. :func:`read_table` reads any sheet (XLSX or CSV)
for the column-mapping step (:mod:`bot.admin.mapping`).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from bot.catalogue.columns import (
    BY_FIELD, DECISION_NAMES, EXPORT_FIELDS, UNIT_COLUMNS, convert_cell, exact_mapping, export_value, to_document,
)
from bot.catalogue.schema import (
    DATE_FIELDS, EXCEPTION_SYNTAX, FORMAT_VERSION, LINE, LIST_FIELDS, CatalogueError, CatalogueValidationError,
)
from bot.domain import LIMIT_UNITS

ENTRY_SHEET = "Poster"
UNIT_SHEET = "Enheder"
HELP_SHEET = "Vejledning"
LIST_SEPARATOR = "\n"
ENTRY_COLUMNS = tuple(BY_FIELD[name].name for name in EXPORT_FIELDS)
"""The Danish column names of the ``Poster`` sheet, in order (the fields are :data:`EXPORT_FIELDS`)."""
UNIT_HEADERS = tuple(c.name for c in UNIT_COLUMNS)
"""The column names of the ``Enheder`` sheet."""
EXCEPTION_WORDS = {"employee": "medarbejderen", "team": "teamet", "leader": "lederen", "other": "andre",
                   "nobody": "aldrig"}
"""Who decides an exception, as the export writes it (read back by :func:`bot.catalogue.schema.parse_exception`)."""
WIDTHS = {"id": 24, "unit": 22, "topic": 36, "summary": 60, "conditions": 50, "exceptions": 40, "examples": 50,
          "keywords": 30, "how": 40, "inform": 30, "source": 36, "decision": 18, "status": 18}
HELP = [
    "Sådan bruger du regnearket",
    "Én række pr. post på arket 'Poster'. Overskrifterne i række 1 skal blive stående (de engelske feltnavne "
    "fra ældre filer kan også bruges).",
    "Id: små bogstaver, tal og bindestreger; et nyt id opretter en ny post, et kendt id opdaterer posten.",
    "Hvem beslutter: " + ", ".join(DECISION_NAMES.values()) + " (Andre: udfyld så «Besluttes af»).",
    "Betingelser, Eksempler på spørgsmål og Søgeord: ét punkt pr. linje i cellen (Alt+Enter), eller adskilt "
    "med ' | '.",
    f"Undtagelser: én undtagelse pr. linje, skrevet '{EXCEPTION_SYNTAX}', fx 'gavekort = aldrig' eller "
    "'ny computer = lederen'. Hvem: medarbejderen, teamet, lederen, andre eller aldrig "
    "(andre: skriv hvem i parentes, fx 'kørsel = andre (Visitationen)').",
    f"Grænse og Grænsens enhed: grænsen som tal og enhed, fx 5000 og kr (eller '5.000 kr' i «Grænse»). "
    f"Enheder: {', '.join(LIMIT_UNITS)}. Begge tomme: ingen grænse.",
    "Vej ved fejl eller bekymring: tom, Fejl (hvad man gør efter en fejl) eller Bekymring (bekymring for et barn "
    "eller en borger).",
    "Status: Offentliggjort (botten svarer ud fra posten), Kladde eller Afventer godkendelse. Tom: offentliggjort.",
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


def _exception_line(item: dict[str, Any]) -> str:
    text = f"{item['case']} = {EXCEPTION_WORDS.get(item['decision'], item['decision'])}"
    return text + (f" ({item['decided_by']})" if item.get("decided_by") else "")


def write_catalogue(doc: dict[str, Any]) -> bytes:
    """An exported catalogue (``export_catalogue``'s format-v2 dict; a v1 entry's ``limit_dkk`` is
    written as a limit in kr) as XLSX bytes, with Danish column names and values."""
    wb = Workbook()
    ws = wb.active
    ws.title = ENTRY_SHEET
    header_font, fill = Font(bold=True), PatternFill("solid", fgColor="DCE6F1")
    for col, (name, header) in enumerate(zip(EXPORT_FIELDS, ENTRY_COLUMNS), start=1):
        cell = ws.cell(row=1, column=col)
        _set(cell, header)
        cell.font, cell.fill = header_font, fill
        ws.column_dimensions[get_column_letter(col)].width = WIDTHS.get(name, 16)
    wrap = Alignment(wrap_text=True, vertical="top")
    for row, entry in enumerate(doc.get("mandates", []), start=2):
        limit = entry.get("limit") or ({"value": entry["limit_dkk"], "unit": "kr"}
                                       if entry.get("limit_dkk") is not None else {})
        for col, name in enumerate(EXPORT_FIELDS, start=1):
            if name in ("limit_value", "limit_unit"):
                value = limit.get(name.split("_")[1])
            else:
                value = entry.get(name)
            if value is None or value == []:
                continue
            if name == "exceptions":
                value = LIST_SEPARATOR.join(_exception_line(item) for item in value)
            elif name in LIST_FIELDS:
                value = _join(value)
            elif name in DATE_FIELDS:
                value = dt.date.fromisoformat(value) if isinstance(value, str) else value
            else:
                value = export_value(name, value)
            cell = ws.cell(row=row, column=col)
            _set(cell, value)
            if name in DATE_FIELDS:
                cell.number_format = "yyyy-mm-dd"
            cell.alignment = wrap
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(ENTRY_COLUMNS))}{max(1, len(doc.get('mandates', [])) + 1)}"

    units = wb.create_sheet(UNIT_SHEET)
    for col, header in enumerate(UNIT_HEADERS, start=1):
        cell = units.cell(row=1, column=col)
        _set(cell, header)
        cell.font, cell.fill = header_font, fill
        units.column_dimensions[get_column_letter(col)].width = 28
    for row, unit in enumerate(doc.get("units", []), start=2):
        for col, column in enumerate(UNIT_COLUMNS, start=1):
            value = unit.get(column.field)
            if value is None or value == []:
                continue
            _set(units.cell(row=row, column=col), _join(value) if column.field == "aliases" else value)

    help_sheet = wb.create_sheet(HELP_SHEET)
    help_sheet.column_dimensions["A"].width = 110
    for row, line in enumerate(HELP, start=1):
        _set(help_sheet.cell(row=row, column=1), line)
    help_sheet["A1"].font = header_font
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass
class Sheet:
    """One sheet of a workbook or a CSV file: the header row as written and the rows below it.

    Attributes:
        headers: the header row (row 1), cells as text ("" for an empty cell).
        rows: ``(row number, cell values)`` from row 2 on, blank rows left out.
    """

    headers: list[str]
    rows: list[tuple[int, tuple]] = field(default_factory=list)


@dataclass
class Table:
    """A spreadsheet file as read: its entry sheet and, in an exported workbook, its units sheet."""

    file: str
    entries: Sheet
    units: Sheet | None = None
    sheet_name: str = ""


def _sheet(rows) -> Sheet:
    rows = iter(rows)
    try:
        header = next(rows)
    except StopIteration:
        return Sheet([])
    headers = ["" if h is None else str(h).strip() for h in header]
    body = []
    for number, values in enumerate(rows, start=2):
        values = tuple(values)
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        body.append((number, values))
    while headers and not headers[-1] and not any(len(v) >= len(headers) and v[len(headers) - 1] not in (None, "")
                                                  for _, v in body):
        headers.pop()
    return Sheet(headers, body)


def _read_csv(data: bytes, file: str) -> Table:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") > sample.count(",") else ","
    rows = [[cell if cell.strip() else None for cell in row] for row in csv.reader(io.StringIO(text), dialect)]
    return Table(file, _sheet(rows), None, "CSV")


def read_table(data: bytes, file: str = "katalog.xlsx") -> Table:
    """An XLSX workbook or a CSV file (``;``, ``,`` or tab separated; UTF-8 or Windows-1252) as a :class:`Table`.

    The entry sheet is ``Poster`` when the workbook has one, else its first sheet.

    Raises:
        CatalogueValidationError: the file is not a readable workbook (Danish message).
    """
    if file.lower().endswith(".csv") and data[:2] != b"PK":
        return _read_csv(data, file)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise CatalogueValidationError(
            [CatalogueError(file, 0, "fil", "", f"kan ikke læses som et XLSX-regneark ({type(exc).__name__})")]
        ) from exc
    try:
        name = ENTRY_SHEET if ENTRY_SHEET in wb.sheetnames else wb.sheetnames[0]
        entries = _sheet(wb[name].iter_rows(values_only=True))
        units = _sheet(wb[UNIT_SHEET].iter_rows(values_only=True)) if UNIT_SHEET in wb.sheetnames else None
        return Table(file, entries, units, name)
    finally:
        wb.close()


def read_units(sheet: Sheet) -> list[dict[str, Any]]:
    """The ``Enheder`` sheet as raw catalogue units (Danish or English column names; unknown columns kept,
    so validation names them)."""
    mapping = exact_mapping(sheet.headers, UNIT_COLUMNS)
    items = []
    for number, values in sheet.rows:
        item: dict[str, Any] = {LINE: number}
        for col, value in enumerate(values):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            name = mapping[col] if col < len(mapping) else None
            if name is None:
                header = sheet.headers[col] if col < len(sheet.headers) else ""
                item.setdefault(header.lower() or "(kolonne uden overskrift)", value)
                continue
            item[name] = convert_cell(name, value)
        items.append(item)
    return items


def read_catalogue(data: bytes, file: str = "katalog.xlsx") -> dict[str, Any]:
    """An XLSX workbook -> a format-v2 document for :func:`bot.catalogue.schema.validate`.

    Columns are known by their Danish names or the old English field names; a column with another
    name is kept under its name, so validation reports it ("ukendt felt"). Row numbers become line
    numbers, so errors read ``katalog.xlsx:7: mandates[x].decision: ...``.

    Raises:
        CatalogueValidationError: the file is not a readable workbook, has no ``Poster`` sheet, or a
            cell cannot be read (an ``Undtagelser`` line that is not ``tilfælde = hvem (besluttet af)``,
            an unknown word for who decides, a date that is no date): every such cell, with row and column.
    """
    table = read_table(data, file)
    if table.sheet_name != ENTRY_SHEET:
        raise CatalogueValidationError([CatalogueError(file, 0, "fil", "", f"arket '{ENTRY_SHEET}' mangler")])
    mapping = exact_mapping(table.entries.headers)
    mandates, cell_errors = to_document(table.entries.rows, table.entries.headers, mapping, keep_unknown=True,
                                        make_ids=False)
    if cell_errors:
        by_row = {m[LINE]: m for m in mandates}
        errors = []
        for error in cell_errors:
            mid = by_row.get(error.row, {}).get("id")
            errors.append(error.as_error(file, f"mandates[{mid}]" if mid else f"mandates[række {error.row}]"))
        raise CatalogueValidationError(errors)
    doc: dict[str, Any] = {"version": FORMAT_VERSION, LINE: 1, "mandates": mandates}
    if table.units is not None:
        doc["units"] = read_units(table.units)
    return doc
