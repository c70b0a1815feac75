"""A municipality's own spreadsheet: column mapping, preview with row/column errors, dry run, import;
the XLSX export with Danish column names and its round trip (issue 16, part 6)."""
from __future__ import annotations

import base64
import csv
import io
import re
from html import unescape

import yaml
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.catalogue.columns import propose_mapping
from tests.admin.test_entries import _entry

OWN_HEADERS = ["Nr.", "Team", "Beslutning", "Hvem beslutter?", "Beløbsgrænse", "Forklaring", "Undtagelser",
               "Kilde", "Noter"]
OWN_ROWS = [
    [None, "Hjemmeplejen Syd", "Køb af blomster til en borger", "Medarbejder", "300 kr",
     "Du må selv købe blomster til en borger ved en mærkedag.", "gavekort = Aldrig\nspiritus = Ingen",
     "Retningslinje for gaver 2026", "Aftalt på LMU"],
    [None, "HP Syd", "Planlægning af teammøder", "Team", None, "I planlægger selv jeres teammøder.", None, None, None],
    ["hps-ny-bil", "hjemmeplejen-syd", "Leje af bil til kursus", "Leder", "2.000", "Lederen beslutter.", None, None,
     None],
]


def _xlsx(headers, rows, title="Mandater") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(client, data: bytes, name: str = "vores-mandater.xlsx"):
    return client.post("/import/regneark", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _step(client, html: str, step: str, **overrides):
    """Post the mapping form of ``html`` again with ``trin=step`` (selects as chosen, ``overrides`` applied)."""
    fields = {"payload": re.search(r'name="payload" value="([^"]+)"', html).group(1),
              "filename": re.search(r'name="filename" value="([^"]+)"', html).group(1), "trin": step}
    for name, body in re.findall(r'<select name="(kolonne_\d+|enhed)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    fields.update(overrides)
    return client.post("/import/regneark", data=fields)


def _counts(url: str) -> tuple[int, int]:
    from bot.db.models import Mandate, MandateHistory
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return (session.execute(select(func.count(Mandate.id))).scalar(),
                session.execute(select(func.count(MandateHistory.id))).scalar())
    finally:
        session.close()


def test_mapping_proposal_by_danish_and_english_names_and_synonyms():
    assert propose_mapping(OWN_HEADERS) == [
        "id", "unit", "topic", "decision", "limit_value", "summary", "exceptions", "source", None]
    assert propose_mapping(["id", "unit", "topic", "decision", "summary", "limit_value", "limit_unit", "status"]) == [
        "id", "unit", "topic", "decision", "summary", "limit_value", "limit_unit", "status"]
    assert propose_mapping(["Emne", "Hvem beslutter", "Kort svar", "Grænse", "Grænsens enhed", "Gennemgås senest"]) == [
        "topic", "decision", "summary", "limit_value", "limit_unit", "review_by"]
    # A second column with the same name is left out; a close spelling is still found.
    assert propose_mapping(["Emne", "Emne", "Hvem besluter", "Kort  svar"]) == [
        "topic", None, "decision", "summary"]


def test_upload_proposes_a_mapping_and_previews_the_rows_in_danish(admin_db, client_for):
    response = _upload(client_for("leder"), _xlsx(OWN_HEADERS, OWN_ROWS))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:3000]
    assert re.search(r'name="kolonne_3"[^>]*>.*?<option value="decision" selected>Hvem beslutter</option>', html, re.S)
    assert re.search(r'name="kolonne_8"[^>]*>\s*<option value="">', html) and 'value="" selected' not in html
    assert "Alle 3 rækker kan importeres" in html
    preview = html[html.index("De første rækker"):]
    assert "hjemmeplejen-syd-koeb-af-blomster-til-en-borger" in preview and "Hjemmeplejen Syd" in preview
    assert "Medarbejderen selv" in preview and "300 kr." in preview and "gavekort: aldrig tilladt" in preview
    assert "Teamet" in preview and "2.000 kr." in preview and "Offentliggjort" in preview


def test_preview_errors_say_what_is_wrong_and_where(admin_db, client_for):
    rows = [list(OWN_ROWS[0]),
            [None, "Hjemmeplejen Syd", "Noget", "Borgmesteren", None, "Tekst.", None, None, None],
            [None, "Hjemmeplejen Syd", "Andet", "Leder", "mange penge", "Tekst.", "ny computer: lederen", None, None],
            [None, "Tandplejen", "Fremmed enhed", "Team", None, "Tekst.", None, None, None],
            [None, "Ukendt Team", "Ingen enhed", "Team", None, None, None, None, None]]
    html = _upload(client_for("leder"), _xlsx(OWN_HEADERS, rows)).get_data(as_text=True)
    problems = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>', html)
    by_row = {}
    for row, column, message in problems:
        by_row.setdefault(int(row), []).append((unescape(column), unescape(message)))
    assert set(by_row) == {3, 4, 5, 6}, problems
    assert by_row[3] == [("D («Hvem beslutter?»)", "«Borgmesteren» er ikke et kendt svar på, hvem der beslutter; brug "
                                                  "Medarbejder, Team, Leder eller Andre")]
    columns_4 = sorted(c for c, _ in by_row[4])
    assert columns_4 == ["E («Beløbsgrænse»)", "G («Undtagelser»)"], by_row[4]
    assert any("«mange penge» er ikke en grænse" in m for _, m in by_row[4])
    assert any(c == "B («Team»)" and "kun for dine egne enheder" in m for c, m in by_row[5]), by_row[5]
    assert ("B («Team»)", "ukendt enhed 'Ukendt Team'") in by_row[6]
    assert any(c == "F («Forklaring»)" and "mangler" in m for c, m in by_row[6])
    assert "Prøvekørsel</button>" not in html  # no dry run while a row has an error


def test_changing_the_mapping_and_the_default_unit(admin_db, client_for):
    client = client_for("leder")
    headers = ["Beslutning", "Kompetence", "Svar", "Noter"]
    rows = [["Kaffe til mødet", "Medarbejder", "Du må selv købe kaffe.", "x"]]
    html = _upload(client, _xlsx(headers, rows)).get_data(as_text=True)
    assert "Ingen kolonne er valgt som «Enhed»" not in html or 'value="hjemmeplejen-nord" selected' not in html
    html = _step(client, html, "vis", kolonne_3="keywords", enhed="hjemmeplejen-nord").get_data(as_text=True)
    assert "Alle 1 rækker kan importeres" in html, html[html.find("Forhåndsvisning"):][:2000]
    assert "hjemmeplejen-nord-kaffe-til-moedet" in html and "Hjemmeplejen Nord" in html
    twice = _step(client, html, "vis", kolonne_3="topic").get_data(as_text=True)
    assert "«Emne» er valgt for flere kolonner (A, D): vælg én." in twice


def test_dry_run_writes_nothing_then_import_with_danish_columns_and_values(admin_db, client_for):
    from bot.domain import Limit

    client = client_for("leder")
    before = _counts(admin_db)
    html = _upload(client, _xlsx(OWN_HEADERS, OWN_ROWS)).get_data(as_text=True)
    dry = _step(client, html, "proev")
    dry_html = dry.get_data(as_text=True)
    assert dry.status_code == 200 and "<strong>3</strong> nye poster" in dry_html, dry_html[-3000:]
    assert _counts(admin_db) == before
    assert _entry(admin_db, "hjemmeplejen-syd-koeb-af-blomster-til-en-borger") is None
    done = _step(client, dry_html, "importer")
    assert done.status_code == 200 and "Regnearket er indlæst: 3 nye" in done.get_data(as_text=True)
    flowers = _entry(admin_db, "hjemmeplejen-syd-koeb-af-blomster-til-en-borger")
    assert (flowers.unit_id, flowers.decision, flowers.limit, flowers.status) == (
        "hjemmeplejen-syd", "employee", Limit(300, "kr"), "published")
    assert [(e["case"], e["decision"]) for e in flowers.exceptions] == [("gavekort", "nobody"), ("spiritus", "nobody")]
    assert flowers.source == "Retningslinje for gaver 2026"
    meetings = _entry(admin_db, "hjemmeplejen-syd-planlaegning-af-teammoeder")
    assert (meetings.unit_id, meetings.decision, meetings.limit) == ("hjemmeplejen-syd", "team", None)
    car = _entry(admin_db, "hps-ny-bil")
    assert (car.decision, car.limit) == ("leader", Limit(2000, "kr"))
    history = client.get("/poster/hps-ny-bil/historik").get_data(as_text=True)
    assert "leder (import af vores-mandater.xlsx)" in history
    # The same sheet again: the generated ids find the same entries, nothing changes.
    again = _step(client, _upload(client, _xlsx(OWN_HEADERS, OWN_ROWS)).get_data(as_text=True), "proev")
    assert "<strong>3</strong> uændrede poster" in again.get_data(as_text=True)


def test_csv_with_semicolons_and_windows_encoding(admin_db, client_for):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(["Emne", "Hvem beslutter", "Kort svar", "Enhed", "Grænse"])
    writer.writerow(["Køb af frugt", "Team", "I køber selv frugt til mødet.", "Hjemmeplejen Nord", "500 kr."])
    client = client_for("leder")
    html = _upload(client, out.getvalue().encode("cp1252"), "liste.csv").get_data(as_text=True)
    assert "Alle 1 rækker kan importeres" in html and "Køb af frugt" in html and "500 kr." in html


def test_the_xlsx_export_has_danish_columns_and_values_and_imports_again(admin_db, client_for):
    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(admin_db)
    session.get(Mandate, "hps-elcykel").status = "draft"
    session.commit()
    session.close()
    client = client_for("leder")
    data = client.get("/eksport?enhed=hjemmeplejen-syd&format=xlsx").data
    sheet = load_workbook(io.BytesIO(data))["Poster"]
    header = [c.value for c in sheet[1]]
    assert header[:7] == ["Id", "Enhed", "Emne", "Emnenøgle", "Hvem beslutter", "Besluttes af", "Kort svar"]
    assert header[-1] == "Status"
    rows = {r[0].value: {h: c.value for h, c in zip(header, r)} for r in sheet.iter_rows(min_row=2)}
    assert {r["Hvem beslutter"] for r in rows.values()} <= {"Medarbejder", "Team", "Leder", "Andre"}
    assert rows["hps-elcykel"]["Status"] == "Kladde" and rows["hps-elcykel"]["Hvem beslutter"] == "Medarbejder"
    assert any("= aldrig" in (r["Undtagelser"] or "") or "= lederen" in (r["Undtagelser"] or "")
               for r in rows.values())
    # The file imports again, as it is (the strict import) and through the mapping step: nothing changes.
    direct = client.post("/import", data={"file": (io.BytesIO(data), "syd.xlsx"), "dry_run": "1"},
                         content_type="multipart/form-data").get_data(as_text=True)
    assert "<strong>0</strong> ændrede poster" in direct and "Filen ændrer intet" in direct
    html = _upload(client, data, "syd.xlsx").get_data(as_text=True)
    selected = re.findall(r'<option value="([a-z_]+)" selected>', html)
    assert selected[:len(header)] == ["id", "unit", "topic", "topic_key", "decision", "decided_by", "summary",
                                      "conditions", "exceptions", "limit_value", "limit_unit", "route", "inform",
                                      "how", "examples", "keywords", "source", "contact", "valid_from", "valid_to",
                                      "review_by", "status"]
    dry = _step(client, html, "proev").get_data(as_text=True)
    assert "<strong>0</strong> ændrede poster" in dry and "Filen ændrer intet" in dry
    assert _entry(admin_db, "hps-elcykel").status == "draft"
    # The YAML export carries the status too.
    doc = yaml.safe_load(client.get("/eksport?enhed=hjemmeplejen-syd&format=yaml").data)
    assert {m["id"]: m["status"] for m in doc["mandates"]}["hps-elcykel"] == "draft"


def test_old_english_column_names_still_import(admin_db, client_for):
    data = _xlsx(["id", "unit", "topic", "decision", "summary", "limit_dkk"],
                 [["hps-gammel", "hjemmeplejen-syd", "Gammelt ark", "employee", "Tekst.", "1.500"]], title="Poster")
    response = client_for("leder").post("/import", data={"file": (io.BytesIO(data), "gammel.xlsx")},
                                        content_type="multipart/form-data")
    assert response.status_code == 200 and "Filen er indlæst" in response.get_data(as_text=True)
    assert _entry(admin_db, "hps-gammel").limit_dkk == 1500


def test_only_editors_reach_the_mapping_step(admin_db, client_for):
    response = _upload(client_for("hr"), _xlsx(OWN_HEADERS, OWN_ROWS))
    assert response.status_code == 403
    payload = base64.b64encode(_xlsx(OWN_HEADERS, OWN_ROWS)).decode()
    forged = client_for("leder").post("/import/regneark", data={
        "payload": payload, "filename": "x.xlsx", "trin": "importer", "kolonne_2": "topic",
        "kolonne_3": "decision", "kolonne_5": "summary", "enhed": "tandplejen"})
    assert forged.status_code == 400  # another leader's unit is no default unit: nothing is imported
    assert _entry(admin_db, "hjemmeplejen-syd-koeb-af-blomster-til-en-borger") is None
