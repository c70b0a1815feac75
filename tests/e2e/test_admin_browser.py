"""Browser tests of the admin app: Playwright driving Debian's chromium (headless).

* a leader logs in, edits an entry, previews the answer, and the running bot
  (Rasa + action server with the trained model) answers from the changed
  entry over REST at once, without retraining;
* HR sees similar questions grouped and resolves them;
* a leader turns a group of questions into a new entry.

The admin app runs in a thread on a free port, on the same SQLite file as the
bot. Screenshots of the main pages go to a temporary folder, or to ``docs/``
with ``MANDAT_SCREENSHOTS=docs`` (that is how the README's pictures are made).
Needs ``apt-get install chromium`` (``/usr/bin/chromium``); never ``playwright install``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from bot.config import PROJECT_ROOT
from tests.conftest import DEMO_CATALOGUE, import_catalogue
from tests.e2e.conftest import admin_server

pytestmark = pytest.mark.live

PASSWORD = "browser-test-1"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def live_db(tmp_path_factory) -> str:
    """A migrated database: demo catalogue, demo users (known passwords) and half a year of questions."""
    from bot.cli import ensure_demo_users
    from bot.db.migrate import upgrade
    from bot.db.models import User
    from bot.db.session import session_scope
    from scripts.bench_admin import add_demo_activity

    path = tmp_path_factory.mktemp("admin-live") / "mandat.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    import_catalogue(url, DEMO_CATALOGUE)
    with session_scope(url) as session:
        ensure_demo_users(session)
        for user in session.query(User):
            user.set_password(PASSWORD)
    add_demo_activity(url, n_questions=700)
    return url


@pytest.fixture(scope="module")
def admin_url(live_db) -> str:
    """The admin app (CSRF on, as in production) served from a thread."""
    with admin_server({"DATABASE_URL": live_db, "SECRET_KEY": "browser-test"}) as url:
        yield url




@pytest.fixture()
def page(browser):
    """A fresh page (own cookies) with a Danish locale."""
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: ``docs/`` with ``MANDAT_SCREENSHOTS=docs``, else a temporary folder."""
    if os.environ.get("MANDAT_SCREENSHOTS") == "docs":
        folder = PROJECT_ROOT / "docs"
        folder.mkdir(exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


def log_in(page, base: str, username: str) -> None:
    """Log in through the login form."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/poster")


def _entry(url: str, mandate_id: str):
    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.get(Mandate, mandate_id)
    finally:
        session.close()


def _questions(url: str, like: str):
    from sqlalchemy import select

    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question).where(Question.text.like(like))).scalars().all()
    finally:
        session.close()


@pytest.mark.model
def test_leader_edits_previews_and_the_running_bot_answers_at_once(live_db, admin_url, page, shots):
    from scripts.live import running_bot

    with running_bot({"MANDAT_DATABASE_URL": live_db}) as bot:
        question = "Må jeg tage cyklen i stedet for bilen i dag?"

        def ask() -> list[dict]:
            response = requests.post(f"{bot}/webhooks/rest/webhook", timeout=60, json={
                "sender": "e2e-cykel", "message": question, "metadata": {"team": "hjemmeplejen-syd"}})
            response.raise_for_status()
            return response.json()

        before = [m["custom"] for m in ask() if "custom" in m]
        assert before and before[0]["mandate_id"] == "hps-elcykel" and before[0]["decision"] == "employee"

        log_in(page, admin_url, "leder")
        page.screenshot(path=str(shots / "admin-entries.png"), full_page=False)
        page.goto(f"{admin_url}/poster/hps-elcykel")
        page.click("text=Redigér")
        page.wait_for_url(f"{admin_url}/poster/hps-elcykel/rediger")
        page.select_option("#f-decision", "team")
        page.fill("#f-summary", "I teamet aftaler I selv, hvem der cykler ruten, når vejret tillader det.")

        # Before saving, the preview shows what the bot will say with the unsaved form, as the chat's card.
        page.fill("#p-question", question)
        page.select_option("#p-unit", "hjemmeplejen-syd")
        page.click("button.draft-preview")
        card = page.locator("#preview-result .widget-card .mb-card")
        card.wait_for()
        preview = card.inner_text()
        assert "Det beslutter I selv i teamet." in preview and "I teamet aftaler I selv" in preview
        assert card.get_attribute("data-mandate-id") == "hps-elcykel"
        headline = card.locator(".mb-headline").inner_text()
        assert _entry(live_db, "hps-elcykel").decision == "employee"  # the preview saved nothing
        page.screenshot(path=str(shots / "admin-edit-preview.png"), full_page=True)

        page.click("text=Gem ændringer")
        page.wait_for_url(f"{admin_url}/poster/hps-elcykel")
        assert "Ændringerne er gemt" in page.inner_text(".flash")
        assert _entry(live_db, "hps-elcykel").decision == "team"

        # The running bot answers from the changed entry: no retraining, no restart.
        messages = ask()
        custom = [m["custom"] for m in messages if "custom" in m][0]
        assert custom["mandate_id"] == "hps-elcykel" and custom["decision"] == "team"
        text = "\n".join(m.get("text", "") for m in messages)
        assert "I teamet aftaler I selv, hvem der cykler ruten" in text
        assert headline in text  # the headline the preview showed is the one the bot gives

        page.goto(f"{admin_url}/poster/hps-elcykel/historik")
        assert "leder" in page.inner_text("main") and "Hvem beslutter" in page.inner_text("main")
        page.screenshot(path=str(shots / "admin-history.png"), full_page=True)


def test_hr_sees_grouped_questions_and_resolves_them(live_db, admin_url, page, shots):
    log_in(page, admin_url, "hr")
    page.goto(f"{admin_url}/spoergsmaal")
    groups = page.locator("article.qgroup")
    first = groups.first
    badge = int(first.locator(".count-badge").inner_text().rstrip("×"))
    assert badge >= 10, "the most asked missing topic is one group"
    page.screenshot(path=str(shots / "admin-questions.png"), full_page=False)

    # Mark the parrot group as not relevant: all its questions, with who did it.
    parrot = groups.filter(has_text="papegøje").first
    ids = parrot.get_attribute("data-ids").split(",")
    parrot.locator("button[value=not_relevant]").click()
    page.wait_for_selector(".flash.success")
    assert f"{len(ids)} spørgsmål er markeret som »ikke relevant«" in page.inner_text(".flash.success")
    assert page.locator("article.qgroup").filter(has_text="papegøje").count() == 0
    marked = [q for q in _questions(live_db, "%") if str(q.id) in ids]
    assert len(marked) == len(ids) and all(q.status == "not_relevant" and q.status_by == "hr" for q in marked)

    # Resolve the flower group with an existing entry.
    flowers = page.locator("article.qgroup").filter(has_text="blomster").first
    flower_ids = flowers.get_attribute("data-ids").split(",")
    flowers.locator(".link-form input[name=mandate_id]").fill("sk-gaver")
    flowers.locator(".link-form button").click()
    page.wait_for_selector(".link-confirm")
    # Before linking, HR sees the answer as the chat widget renders it (its own code, in cards mode).
    page.wait_for_function("() => [...document.querySelectorAll('.widget-card')].some("
                           "h => h.shadowRoot && h.shadowRoot.querySelector('.mb-card, .mb-msg'))")
    confirm = page.locator("input[name=confirm_risk]")
    if confirm.count():
        confirm.check()
    page.click(".link-confirm button[type=submit]")
    page.wait_for_selector(".flash.success")
    resolved = [q for q in _questions(live_db, "%lomster%") if str(q.id) in flower_ids]
    assert resolved and all(q.resolved_mandate_id == "sk-gaver" and q.status_by == "hr" for q in resolved)

    page.goto(f"{admin_url}/aktoerskab")
    # The charts are drawn on request (matplotlib): wait until every one has loaded, then check them
    # ("networkidle" alone once let an assertion run before a chart had arrived).
    assert page.locator(".charts img").count() > 0
    page.wait_for_function(
        "() => [...document.querySelectorAll('.charts img')].every(img => img.complete && img.naturalWidth > 400)",
        timeout=30_000)
    for image in page.locator(".charts img").all():
        assert image.evaluate("img => img.complete && img.naturalWidth > 400")
    # docs/admin-dashboard.png shows the demo history instead: tests/e2e/test_report_browser.py.


def test_leader_creates_an_entry_from_a_question_group(live_db, admin_url, page, shots):
    log_in(page, admin_url, "leder")
    page.goto(f"{admin_url}/spoergsmaal")
    group = page.locator("article.qgroup").filter(has_text="hund").first
    ids = group.get_attribute("data-ids").split(",")
    group.locator("text=Opret post ud fra").click()
    page.wait_for_selector("#entry-form")
    assert page.input_value("#f-examples").strip(), "the questions are prefilled as examples"
    page.fill("#f-topic", "Hund med på arbejde")
    page.select_option("#f-decision", "leader")
    page.fill("#f-summary", "Din leder beslutter, om du må have din hund med, fordi det berører kolleger og borgere.")
    page.fill("#f-id", "hp-hund")
    # The unsaved form answers in the preview, rendered as the widget renders it.
    page.fill("#p-question", "Må jeg have min hund med på arbejde?")
    page.click("button.draft-preview")
    page.wait_for_function("() => { const h = document.querySelector('#preview-result .widget-card');"
                           " return h && h.shadowRoot && h.shadowRoot.querySelector('.mb-card'); }")
    card = page.locator("#preview-result .widget-card .mb-card")
    assert "Hund med på arbejde" in card.inner_text() and card.get_attribute("data-mandate-id") == "hp-hund"
    page.screenshot(path=str(shots / "admin-new-from-questions.png"), full_page=True)
    page.click("text=Opret posten")
    page.wait_for_url(f"{admin_url}/poster/hp-hund")
    assert "Posten er oprettet" in page.inner_text(".flash")
    linked = [q for q in _questions(live_db, "%und%") if str(q.id) in ids]
    assert linked and all(q.resolved_mandate_id == "hp-hund" and q.status == "answered" for q in linked)

    # Spreadsheet round trip: export, change one cell, dry run shows the change, then import it.
    page.goto(f"{admin_url}/import-eksport")
    with page.expect_download() as download:
        page.click("button[value=xlsx]")
    import io

    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    sheet = workbook["Poster"]
    header = [cell.value for cell in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "hpn-smaaindkoeb")
    assert header[header.index("Grænse") + 1] == "Grænsens enhed"
    assert row[header.index("Grænsens enhed")].value == "kr"
    row[header.index("Grænse")].value = 2500
    buffer = io.BytesIO()
    workbook.save(buffer)
    page.set_input_files("input[type=file]", files=[{
        "name": "hjemmeplejen.xlsx", "buffer": buffer.getvalue(),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.click("text=Kontrollér og indlæs")
    page.wait_for_selector("ul.summary")
    summary = page.inner_text("ul.summary")
    assert "1 ændrede poster" in summary and "0 nye poster" in summary
    assert _entry(live_db, "hpn-smaaindkoeb").limit_dkk == 2000  # a dry run changes nothing
    page.screenshot(path=str(shots / "admin-import-dry-run.png"), full_page=True)
    page.click("text=Gennemfør importen")
    page.wait_for_selector(".flash.success")
    assert _entry(live_db, "hpn-smaaindkoeb").limit_dkk == 2500


def test_leader_imports_their_own_spreadsheet_through_the_mapping_step(live_db, admin_url, page, shots):
    """A municipality's own sheet (its own column names, Danish values) -> mapping -> preview -> dry run -> import."""
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Mandatliste"
    sheet.append(["Team", "Beslutning", "Hvem beslutter?", "Beløbsgrænse", "Forklaring", "Undtagelser", "Noter"])
    sheet.append(["Hjemmeplejen Nord", "Køb af kaffe til borgermøder", "Medarbejder", "2.000 kr",
                  "Du må selv købe kaffe og kage til et borgermøde.", "spiritus = Aldrig", "fra LMU"])
    sheet.append(["HP Nord", "Planlægning af sommerfest", "Team", None, "I planlægger selv sommerfesten.",
                  None, None])
    sheet.append(["Hjemmeplejen Nord", "Nye arbejdssko", "Chefen selv", None, "Lederen beslutter.", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    log_in(page, admin_url, "leder")
    page.goto(f"{admin_url}/import-eksport")
    page.set_input_files("#own-sheet input[type=file]", files=[{
        "name": "vores-mandatliste.xlsx", "buffer": buffer.getvalue(),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.click("#own-sheet button[type=submit]")
    page.wait_for_selector("#preview")
    # The proposal: the sheet's own names mapped to the catalogue's fields; "Noter" left out.
    assert page.input_value("select[data-header='Team']") == "unit"
    assert page.input_value("select[data-header='Beslutning']") == "topic"
    assert page.input_value("select[data-header='Hvem beslutter?']") == "decision"
    assert page.input_value("select[data-header='Beløbsgrænse']") == "limit_value"
    assert page.input_value("select[data-header='Noter']") == ""
    problems = page.inner_text("table.problems")
    assert "4" in problems and "C («Hvem beslutter?»)" in problems and "«Chefen selv»" in problems
    assert page.locator("button[value=proev]").count() == 0  # no dry run while a row has an error
    page.screenshot(path=str(shots / "admin-import-mapping.png"), full_page=True)

    # The user maps the column "Noter" to keywords and leaves out nothing else; row 4 is fixed in the sheet.
    sheet["C4"] = "Leder"
    buffer = io.BytesIO()
    workbook.save(buffer)
    page.goto(f"{admin_url}/import-eksport")
    page.set_input_files("#own-sheet input[type=file]", files=[{
        "name": "vores-mandatliste.xlsx", "buffer": buffer.getvalue(),
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}])
    page.click("#own-sheet button[type=submit]")
    page.wait_for_selector("#preview")
    page.select_option("select[data-header='Noter']", "keywords")
    page.click("button[value=vis]")
    page.wait_for_selector("text=Alle 3 rækker kan importeres")
    preview = page.inner_text("table.preview-rows")
    assert "Hjemmeplejen Nord" in preview and "Medarbejderen selv" in preview and "2.000 kr." in preview
    page.click("button[value=proev]")
    page.wait_for_selector("#dry-run")
    assert "3 nye poster" in page.inner_text("#dry-run ul.summary")
    entry_id = "hjemmeplejen-nord-koeb-af-kaffe-til-borgermoeder"
    assert _entry(live_db, entry_id) is None  # the dry run wrote nothing
    page.click("button[value=importer]")
    page.wait_for_selector(".flash.success")
    entry = _entry(live_db, entry_id)
    assert (entry.decision, entry.limit_dkk, entry.keywords, entry.status) == ("employee", 2000, ["fra LMU"],
                                                                               "published")
    assert [(e["case"], e["decision"]) for e in entry.exceptions] == [("spiritus", "nobody")]
    assert _entry(live_db, "hjemmeplejen-nord-nye-arbejdssko").decision == "leader"
