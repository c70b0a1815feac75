"""Import and export: YAML and XLSX round trips, dry run, all-or-nothing, rights."""
from __future__ import annotations

import io
import re

import yaml
from openpyxl import load_workbook

from bot.admin.xlsx import read_catalogue, write_catalogue
from bot.catalogue.schema import LINE, validate
from tests.admin.test_entries import _entry

TRICKY = {
    "version": 2,
    "units": [{"id": "test-enhed", "name": "Test & Enhed", "aliases": ["TE", "enhed | test"]}],
    "mandates": [
        {"id": "t-formel", "unit": "test-enhed", "topic": "=SUM(A1:A2) ligner en formel", "topic_key": "formel",
         "decision": "other", "decided_by": "Økonomi", "summary": "+45 ring ikke; -minus; @at",
         "conditions": ["Én betingelse | med lodret streg"],
         "exceptions": [{"case": "gavekort", "decision": "nobody"},
                        {"case": "ny computer = dyr", "decision": "leader"},
                        {"case": "kørsel (langt)", "decision": "other", "decided_by": "Visitationen"}],
         "limit": {"value": 2.5, "unit": "timer"}, "route": "concern", "inform": None, "how": None,
         "examples": ["Må jeg selv?", "Kan vi\u00a0selv?"], "keywords": ["æble", "øl", "ål"], "source": "2024",
         "contact": "Leder", "valid_from": "2025-01-01", "valid_to": "2027-12-31", "review_by": "2026-06-30"},
        {"id": "t-minimal", "unit": "test-enhed", "topic": "Minimal", "topic_key": None, "decision": "employee",
         "decided_by": None, "summary": "Kort.", "conditions": [], "limit": {"value": 25000, "unit": "kr"},
         "inform": None, "how": None,
         "examples": [], "keywords": [], "source": None, "contact": None, "valid_from": None, "valid_to": None,
         "review_by": None},
    ],
}


def _strip_lines(value):
    if isinstance(value, dict):
        return {k: _strip_lines(v) for k, v in value.items() if k != LINE}
    if isinstance(value, list):
        return [_strip_lines(v) for v in value]
    return value


def _specs(doc, parents=None):
    import dataclasses

    catalogue = validate(doc, "x", parents or {})
    return [dataclasses.asdict(m) for m in catalogue.mandates], [dataclasses.asdict(u) for u in catalogue.units]


def test_xlsx_round_trip_gives_back_what_went_in():
    data = write_catalogue(TRICKY)
    doc = read_catalogue(data, "katalog.xlsx")
    assert _specs(doc) == _specs(TRICKY)
    # Formula-looking text is stored as text, not as a formula.
    sheet = load_workbook(io.BytesIO(data))["Poster"]
    assert sheet["C2"].value == "=SUM(A1:A2) ligner en formel" and sheet["C2"].data_type == "s"
    assert doc["mandates"][0][LINE] == 2 and doc["mandates"][1][LINE] == 3


def test_xlsx_accepts_hand_written_cells():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Poster"
    ws.append(["id", "unit", "topic", "decision", "summary", "keywords", "limit_dkk", "review_by"])
    ws.append(["hand-1", "dagplejen", "Håndskrevet", "team", "Tekst", "a | b | c", "5.000", "2027-01-31"])
    ws.append([None] * 8)
    ws.append([2024, "dagplejen", 42, "employee", "Tal som tekst", None, 300.0, None])
    out = io.BytesIO()
    wb.save(out)
    doc = read_catalogue(out.getvalue())
    first, second = doc["mandates"]
    assert first["keywords"] == ["a", "b", "c"] and first["limit_dkk"] == 5000 and first["review_by"] == "2027-01-31"
    assert second["id"] == "2024" and second["topic"] == "42" and second["limit_dkk"] == 300
    assert second[LINE] == 4


def test_yaml_and_xlsx_export_import_round_trip_through_the_app(admin_db, client_for):
    client = client_for("leder")
    for fmt in ("yaml", "xlsx"):
        exported = client.get(f"/eksport?enhed=hjemmeplejen-nord&format={fmt}")
        assert exported.status_code == 200
        name = f"katalog.{fmt}"
        if fmt == "yaml":
            doc = yaml.safe_load(exported.data)
            assert [m["id"] for m in doc["mandates"]] == ["hpn-rutebytte", "hpn-smaaindkoeb", "hpn-vikar-pilot-2025"]
        response = client.post("/import", data={"file": (io.BytesIO(exported.data), name), "dry_run": "1"},
                               content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code == 200, html[:2000]
        assert "<strong>0</strong> ændrede poster" in html and "<strong>3</strong> uændrede poster" in html
        assert "Filen ændrer intet" in html


def test_xlsx_edit_dry_run_then_import(admin_db, client_for):
    client = client_for("leder")
    data = client.get("/eksport?enhed=hjemmeplejen-syd&format=xlsx").data
    wb = load_workbook(io.BytesIO(data))
    ws = wb["Poster"]
    header = [c.value for c in ws[1]]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "hps-elcykel")
    row[header.index("Kort svar")].value = "Ny tekst fra regnearket."
    row[header.index("Søgeord")].value = "elcykel\ncykel\nrute"
    ws.append(["hps-ny", "hjemmeplejen-syd", "Ny post fra regneark", None, "Team", None, "Det beslutter I."])
    out = io.BytesIO()
    wb.save(out)
    version = _entry(admin_db, "hps-elcykel").version
    dry = client.post("/import", data={"file": (io.BytesIO(out.getvalue()), "syd.xlsx"), "dry_run": "1"},
                      content_type="multipart/form-data")
    html = dry.get_data(as_text=True)
    assert "Prøvekørsel" in html and "<strong>1</strong> nye poster" in html and "<strong>1</strong> ændrede" in html
    assert "<ins>Ny</ins>" in html or "Ny tekst fra regnearket." in html
    assert _entry(admin_db, "hps-elcykel").version == version and _entry(admin_db, "hps-ny") is None
    import re

    payload = re.search(r'name="payload" value="([^"]+)"', html).group(1)
    done = client.post("/import", data={"payload": payload, "filename": "syd.xlsx"})
    assert done.status_code == 200 and "Filen er indlæst" in done.get_data(as_text=True)
    assert _entry(admin_db, "hps-elcykel").summary == "Ny tekst fra regnearket."
    assert _entry(admin_db, "hps-elcykel").keywords == ["elcykel", "cykel", "rute"]
    assert _entry(admin_db, "hps-ny").decision == "team"
    history = client.get("/poster/hps-elcykel/historik").get_data(as_text=True)
    assert "leder (import af syd.xlsx)" in history


def test_import_is_all_or_nothing_with_line_numbers(admin_db, client_for):
    client = client_for("leder")
    text = """version: 1
mandates:
  - id: hpn-smaaindkoeb
    unit: hjemmeplejen-nord
    topic: Ændret
    decision: employee
    summary: Denne ændring må ikke gemmes.
  - id: hpn-fejl
    unit: hjemmeplejen-nord
    topic: Fejl
    decision: boss
    summary: x
"""
    before = _entry(admin_db, "hpn-smaaindkoeb").summary
    response = client.post("/import", data={"file": (io.BytesIO(text.encode()), "fejl.yaml")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "Intet er ændret" in html
    assert "mandates[hpn-fejl]" in html and "&#39;boss&#39; er ikke gyldig" in html and ">11<" in html  # the line of `decision: boss`
    assert _entry(admin_db, "hpn-smaaindkoeb").summary == before


def test_import_refuses_other_units_and_unit_changes(admin_db, client_for):
    client = client_for("leder")
    text = """version: 1
units:
  - id: hjemmeplejen-nord
    name: Omdøbt
    parent: sundhed-og-omsorg
mandates:
  - id: dpl-legestue
    unit: hjemmeplejen-nord
    topic: Kapret
    decision: employee
    summary: x
  - id: hpn-ny
    unit: dagplejen
    topic: Fremmed
    decision: employee
    summary: x
"""
    response = client.post("/import", data={"file": (io.BytesIO(text.encode()), "k.yaml")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "kan kun ændres af en administrator" in html
    assert "id&#39;et bruges af en post i en enhed, du ikke har ansvar for" in html
    assert "du kan ikke importere poster for &#39;dagplejen&#39;" in html
    assert _entry(admin_db, "dpl-legestue").unit_id == "dagplejen"


def test_replace_deletes_missing_entries_after_dry_run(admin_db, client_for):
    client = client_for("leder")
    exported = yaml.safe_load(client.get("/eksport?enhed=hjemmeplejen-nord&format=yaml&under=0").data)
    exported["mandates"] = [m for m in exported["mandates"] if m["id"] != "hpn-rutebytte"]
    text = yaml.safe_dump(exported, allow_unicode=True, sort_keys=False).encode()
    dry = client.post("/import", data={"file": (io.BytesIO(text), "k.yaml"), "dry_run": "1", "replace": "1"},
                      content_type="multipart/form-data").get_data(as_text=True)
    assert "<strong>1</strong> slettede poster" in dry and "hpn-rutebytte" in dry
    assert _entry(admin_db, "hpn-rutebytte") is not None
    done = client.post("/import", data={"file": (io.BytesIO(text), "k.yaml"), "replace": "1"},
                       content_type="multipart/form-data")
    assert done.status_code == 200
    assert _entry(admin_db, "hpn-rutebytte") is None
    history = client.get("/poster/hpn-rutebytte/historik")
    assert history.status_code == 200 and "Slettet" in history.get_data(as_text=True)
    assert client_for("omraadeleder").get("/poster/hpn-rutebytte/historik").status_code == 403


def test_export_whole_catalogue_for_hr(client_for):
    doc = yaml.safe_load(client_for("hr").get("/eksport?format=yaml").data)
    assert len(doc["units"]) == 12 and len(doc["mandates"]) >= 70
    leader_doc = yaml.safe_load(client_for("leder").get("/eksport?format=yaml").data)
    assert {m["unit"] for m in leader_doc["mandates"]} == {"hjemmeplejen-nord", "hjemmeplejen-syd"}


def test_bad_files(client_for):
    client = client_for("leder")
    for name, content, message in (("x.xlsx", b"PK\x03\x04broken", "kan ikke læses som et XLSX-regneark"),
                                   ("x.yaml", b"version: [1", "ugyldig YAML"),
                                   ("x.yaml", "æ".encode("latin-1"), "ikke UTF-8")):
        response = client.post("/import", data={"file": (io.BytesIO(content), name)},
                               content_type="multipart/form-data")
        assert response.status_code == 400 and message in response.get_data(as_text=True), name


def _sheet(header, *rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Poster"
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_xlsx_has_v2_columns_and_old_limit_dkk_sheets_still_import():
    from bot.domain import Limit

    header = [c.value for c in load_workbook(io.BytesIO(write_catalogue(TRICKY)))["Poster"][1]]
    assert header[:7] == ["Id", "Enhed", "Emne", "Emnenøgle", "Hvem beslutter", "Besluttes af", "Kort svar"]
    assert {"Undtagelser", "Grænse", "Grænsens enhed", "Vej ved fejl eller bekymring", "Status"} <= set(header)
    assert "limit_dkk" not in header and "Beløbsgrænse (kr.)" not in header
    old = _sheet(["id", "unit", "topic", "decision", "summary", "limit_dkk"],
                 ["gammel", "dagplejen", "Gammelt ark", "team", "Tekst", "5.000"])
    (spec,), _ = _specs(read_catalogue(old), {"dagplejen": None})
    assert spec["limit"] == {"value": 5000, "unit": "kr"}
    hand = _sheet(["id", "unit", "topic", "decision", "summary", "limit_value", "limit_unit", "route", "exceptions"],
                  ["ny", "dagplejen", "Nyt ark", "team", "Tekst", "2,5", "Timer", "mistake",
                   "gavekort = nobody\nkørsel = other (Visitationen)"])
    catalogue = validate(read_catalogue(hand), "x", {"dagplejen": None})
    (entry,) = catalogue.mandates
    assert entry.limit == Limit(2.5, "timer") and entry.route == "mistake"
    assert [(e.case, e.decision, e.decided_by) for e in entry.exceptions] == [
        ("gavekort", "nobody", None), ("kørsel", "other", "Visitationen")]


def test_xlsx_bad_exception_cell_names_row_and_column():
    import pytest

    from bot.catalogue.schema import CatalogueValidationError

    data = _sheet(["id", "unit", "topic", "decision", "summary", "exceptions"],
                  ["ok", "dagplejen", "Fint", "team", "Tekst", "gavekort = nobody"],
                  ["fejl", "dagplejen", "Fejl", "team", "Tekst", "gavekort = nobody\nny computer: lederen"])
    with pytest.raises(CatalogueValidationError) as info:
        read_catalogue(data, "ark.xlsx")
    (error,) = info.value.errors
    assert (error.file, error.line, error.item, error.field) == ("ark.xlsx", 3, "mandates[fejl]", "exceptions")
    assert error.message.startswith(
        "række 3, kolonne F («exceptions»): linje 2 i cellen: 'ny computer: lederen' skal skrives")


def test_xlsx_bad_limit_unit_is_a_validation_error_of_the_row():
    import pytest

    from bot.catalogue.schema import CatalogueValidationError

    data = _sheet(["id", "unit", "topic", "decision", "summary", "limit_value", "limit_unit"],
                  ["x", "dagplejen", "X", "team", "Tekst", 3, "uger"])
    with pytest.raises(CatalogueValidationError) as info:
        validate(read_catalogue(data, "ark.xlsx"), "ark.xlsx", {"dagplejen": None})
    (error,) = info.value.errors
    assert (error.line, error.item, error.field) == (2, "mandates[x]", "limit.unit") and "'uger'" in error.message


def test_import_errors_name_the_format_v2_fields_in_danish(admin_db, client_for):
    text = """version: 2
units: []
mandates:
  - id: hpn-fejl
    unit: hjemmeplejen-nord
    topic: Fejl
    decision: employee
    summary: x
    limit: {value: 3, unit: uger}
    exceptions:
      - {case: gavekort, decision: boss}
    route: hjemme
"""
    response = client_for("leder").post("/import", data={"file": (io.BytesIO(text.encode()), "v2.yaml")},
                                        content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    fields = re.findall(r"<tr><td class=\"num\">\d*</td><td>[^<]*</td><td>([^<]*)</td>", html)
    assert {"Grænsens enhed", "Undtagelser (nr. 1)", "Vej ved fejl eller bekymring"} <= set(fields), fields


def test_field_labels_have_one_source():
    from bot.admin import forms
    from bot.admin.common import FIELD_LABELS, field_label

    assert not hasattr(forms, "V2_FIELD_LABELS") and forms.field_label is field_label
    assert field_label("limit.value") == FIELD_LABELS["limit_value"] == "Grænse"
    assert field_label("exceptions[2].decided_by") == "Undtagelser (nr. 2)"
    assert field_label("ukendt") == "ukendt"
