"""The LMU report: one PDF page per unit and period, with the dashboard's figures; who may make it."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from pypdf import PdfReader

from tests.admin.conftest import NOW

PERIOD = {"fra": "2026-11-01", "til": "2026-11-29"}


def _pdf_text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def _add(url: str, *rows) -> None:
    from bot.db.session import new_session

    session = new_session(url)
    session.add_all(rows)
    session.commit()
    session.close()


def test_pdf_has_the_figures_on_one_page(admin_db, client_for):
    from bot.db.models import Mandate, Story
    from bot.db.session import new_session

    session = new_session(admin_db)
    session.get(Mandate, "hpn-smaaindkoeb").review_by = dt.date(2026, 3, 1)  # stale, in Hjemmeplejen Nord
    session.get(Mandate, "dpl-legestue").review_by = dt.date(2026, 2, 1)  # stale, but in Dagplejen
    session.commit()
    session.close()
    _add(admin_db,
         Story(created_at=NOW - dt.timedelta(days=3), unit_id="hjemmeplejen-syd", status="approved", may_share=True,
               what_happened="Borgeren manglede mælk, så jeg købte den på vejen og gav besked bagefter.",
               own_decision="At købe ind for under 200 kr."),
         Story(created_at=NOW - dt.timedelta(days=3), unit_id="hjemmeplejen-syd", status="approved",
               may_share=False, what_happened="Må ikke deles"),
         Story(created_at=NOW - dt.timedelta(days=3), unit_id="hjemmeplejen-nord", status="new", may_share=True,
               what_happened="Ikke godkendt endnu"),
         Story(created_at=NOW - dt.timedelta(days=90), unit_id="hjemmeplejen-nord", status="approved",
               may_share=True, what_happened="Fra før perioden"))
    response = client_for("leder").get("/lmu-rapport.pdf", query_string={"enhed": "sundhed-og-omsorg", **PERIOD})
    assert response.status_code == 403  # the leader's units are the two home-care teams, not the area

    response = client_for("leder").get("/lmu-rapport.pdf", query_string={"enhed": "hjemmeplejen-nord", **PERIOD})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'filename="lmu-rapport-hjemmeplejen-nord-2026-11-01-2026-11-29.pdf"' in response.headers["Content-Disposition"]
    pages, text = _pdf_text(response.data)
    assert pages == 1
    assert "Aktørskab i Hjemmeplejen Nord" in text and "1. november 2026 – 29. november 2026" in text
    # Hjemmeplejen Nord: 3 unanswered and 1 answered question about the employee's own decision.
    flat = " ".join(text.split())
    assert re.search(r"4 25 % 100 % spørgsmål stillet til Mandatbot besvaret af botten \(1\)", flat), flat[:400]
    assert "Bytte vagt med en kollega: 1 spørgsmål" in flat  # asked permission, though it is theirs
    assert "»Må jeg selv købe blomster til en beboer med fødselsdag?«: 2 spørgsmål" in flat
    assert "papegøje" in flat  # a theme of its own
    assert "Småindkøb i Hjemmeplejen Nord (Hjemmeplejen Nord): skulle gennemgås senest 1. marts 2026" in flat
    assert "legestue" not in flat  # Dagplejen's entry is not this unit's
    assert "Gode historier" in flat and "Ingen godkendte historier" in flat  # the story is Syd's
    assert "Til drøftelse i LMU" in flat and "Hvad er aktørskab for os" in flat
    assert "Demodata" not in flat and "DEMODATA" not in flat

    # The leader's other unit, and HR on the area above both.
    _, text = _pdf_text(client_for("leder").get("/lmu-rapport.pdf", query_string={
        "enhed": "hjemmeplejen-syd", **PERIOD}).data)
    flat = " ".join(text.split())
    assert "Borgeren manglede mælk, så jeg købte den på vejen og gav besked bagefter." in flat
    assert "Selv besluttet: At købe ind for under 200 kr." in flat
    assert "Må ikke deles" not in flat and "Ikke godkendt" not in flat
    # Syd's one answer (about the employee's own decision) was reported wrong: not "already yours".
    assert re.search(r"2 50 % 0 %", flat) and "(1 i perioden)" in flat
    response = client_for("hr").get("/lmu-rapport.pdf", query_string={"enhed": "sundhed-og-omsorg", **PERIOD})
    pages, text = _pdf_text(response.data)
    assert pages == 1 and "Aktørskab i Sundhed og Omsorg" in text


def test_report_figures_are_the_dashboards(admin_db, client_for):
    """The report and the dashboard count the same questions the same way (same period and units)."""
    client = client_for("hr")
    html = client.get("/aktoerskab?uger=8").get_data(as_text=True)
    dashboard = re.findall(r'<span class="big">(?:<a[^>]*>)?([^<]+)', html)[:3]
    monday = dt.date(2026, 11, 29) - dt.timedelta(days=6) - dt.timedelta(weeks=7)
    _, text = _pdf_text(client.get("/lmu-rapport.pdf", query_string={
        "enhed": "storkeby-kommune", "fra": monday.isoformat(), "til": "2026-11-29"}).data)
    flat = " ".join(text.split())
    assert flat.split("spørgsmål stillet")[0].split()[-5:] == [dashboard[0], *dashboard[1].split(), *dashboard[2].split()]
    assert dashboard == ["9", "33 %", "33 %"]


def test_many_and_hostile_texts_stay_on_one_page_and_literal(admin_db, client_for):
    from bot.db.models import Question, Story

    rows = [Question(asked_at=NOW - dt.timedelta(days=1 + i % 20), unit_id="dagplejen", outcome="unanswered",
                     text=f"Må vi {word} <b>fed</b> & \"citat\" i legestuen nr. {i}?")
            for i, word in enumerate(["male", "synge", "bage", "cykle", "danse", "grave", "plante", "save"] * 12)]
    rows += [Story(created_at=NOW - dt.timedelta(days=2), unit_id="dagplejen", status="approved", may_share=True,
                   what_happened="Lang historie om æbler, øl og ål. " * 40, own_decision="<font size=40>stor</font>")
             for _ in range(6)]
    _add(admin_db, *rows)
    response = client_for("omraadeleder").get("/lmu-rapport.pdf", query_string={"enhed": "dagplejen", **PERIOD})
    pages, text = _pdf_text(response.data)
    flat = " ".join(text.split())
    assert pages == 1
    assert "<b>fed</b> & \"citat\"" in flat and "<font size=40>stor</font>" in flat
    assert "æbler, øl og ål" in flat
    assert "… og 3 flere." in flat  # six stories, three shown


def test_the_font_with_aeoeaa_is_embedded(admin_db, client_for):
    response = client_for("hr").get("/lmu-rapport.pdf", query_string={"enhed": "dagplejen", **PERIOD})
    reader = PdfReader(io.BytesIO(response.data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for font in fonts.values():
        font = font.get_object()
        descriptor = font.get("/FontDescriptor")
        if descriptor is not None and "/FontFile2" in descriptor.get_object():  # a TrueType font program
            embedded.append(str(font["/BaseFont"]))
    assert any("DejaVuSans" in name for name in embedded), embedded
    assert "Aktørskab i Dagplejen" in reader.pages[0].extract_text()
    assert reader.metadata.title == "Aktørskab i Dagplejen: rapport til LMU"


def test_report_without_the_embedded_font_still_has_aeoeaa(monkeypatch):
    """Without DejaVu the standard Helvetica (Latin-1) still carries æøå."""
    import matplotlib

    from bot import report

    monkeypatch.setattr(matplotlib, "get_data_path", lambda: "/findes/ikke")
    from reportlab.pdfbase import pdfmetrics

    registered = dict(pdfmetrics._fonts)
    for name in ("MandatSans", "MandatSans-Bold"):
        pdfmetrics._fonts.pop(name, None)
    try:
        data = report.render_pdf(report.LmuReport(
            unit_name="Børnehuset Ærtebjerg", first_day=dt.date(2026, 9, 1), last_day=dt.date(2026, 11, 30),
            made_on=dt.date(2026, 12, 1), total=12, answered=9, answered_share=0.75, yours=3, yours_share=1 / 3,
            themes=[("Må vi gå på skøjter på søen?", 2)], demo=True))
    finally:
        pdfmetrics._fonts.update(registered)
    pages, text = _pdf_text(data)
    flat = " ".join(text.split())
    fonts = {str(f.get_object()["/BaseFont"]) for f in PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values()}
    assert fonts == {"/Helvetica", "/Helvetica-Bold"}
    assert pages == 1 and "Aktørskab i Børnehuset Ærtebjerg" in flat and "skøjter på søen" in flat
    assert "DEMODATA" in flat and "75 %" in flat and "33 %" in flat


@pytest.mark.parametrize("who, unit, status", [
    (None, "dagplejen", 302),  # to the login page
    ("omraadeleder", "dagplejen", 200),  # a unit below the leader's area
    ("omraadeleder", "hjemmeplejen-nord", 403),
    ("leder", "boern-og-unge", 403),
    ("hr", "dagplejen", 200),
    ("admin", "storkeby-kommune", 200),
    ("hr", "findes-ikke", 404),
])
def test_access(client_for, who, unit, status):
    for path in ("/lmu-rapport.pdf", "/lmu-rapport"):
        response = client_for(who).get(path, query_string={"enhed": unit, **PERIOD})
        assert response.status_code == status, (path, response.status_code)


def test_form_lists_the_users_units_and_previews(client_for):
    html = client_for("leder").get("/lmu-rapport").get_data(as_text=True)
    options = re.findall(r'<option value="([^"]+)"', html)
    assert options == ["hjemmeplejen-nord", "hjemmeplejen-syd"]
    assert 'formaction="/lmu-rapport.pdf"' in html and 'name="fra"' in html and 'name="til"' in html
    html = client_for("leder").get("/lmu-rapport", query_string={"enhed": "hjemmeplejen-nord", **PERIOD}).get_data(
        as_text=True)
    assert "Aktørskab i Hjemmeplejen Nord" in html and "Bytte vagt med en kollega" in html
    assert len(re.findall(r'<option value="', client_for("hr").get("/lmu-rapport").get_data(as_text=True))) > 10


@pytest.mark.parametrize("args, message", [
    ({"fra": "2026-11-29", "til": "2026-11-01"}, "»Fra« skal ligge før »Til«."),
    ({"fra": "1. november", "til": "2026-11-29"}, "»Fra« skal være en dato"),
    ({"fra": "2023-01-01", "til": "2026-11-29"}, "højst dække to år"),
])
def test_bad_periods_are_explained(client_for, args, message):
    response = client_for("hr").get("/lmu-rapport.pdf", query_string={"enhed": "dagplejen", **args})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
