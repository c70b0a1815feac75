"""Browser test of the dashboard with demo history and the LMU report (Playwright + Debian's chromium).

A leader logs in, opens the dashboard (eight weeks of generated demo history, marked "Demodata"),
follows the link to the LMU report, picks a unit and a period, downloads the PDF and its text is
checked with pypdf. Screenshots: the dashboard (``admin-dashboard.png``) and the report's PDF page as
chromium's PDF viewer shows it (``lmu-report.png``): to ``docs/`` with ``MANDAT_SCREENSHOTS=docs``.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.config import PROJECT_ROOT
from tests.conftest import DEMO_CATALOGUE, import_catalogue
from tests.e2e.conftest import admin_server

pytestmark = pytest.mark.live

PASSWORD = "browser-test-1"
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> str:
    """What ``make run`` sets up (``mandat demo --history`` + ``mandat users demo``), with known passwords."""
    from bot.cli import ensure_demo_users
    from bot.config import get_settings
    from bot.db.migrate import upgrade
    from bot.db.models import User
    from bot.db.session import session_scope
    from bot.demo.history import add_history

    path = tmp_path_factory.mktemp("report-live") / "mandat.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    import_catalogue(url, DEMO_CATALOGUE)
    with session_scope(url) as session:
        add_history(session, get_settings().today())
        ensure_demo_users(session)
        for user in session.query(User):
            user.set_password(PASSWORD)
    return url


@pytest.fixture(scope="module")
def admin_url(demo_url) -> str:
    with admin_server({"DATABASE_URL": demo_url, "SECRET_KEY": "browser-test"}) as url:
        yield url


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if os.environ.get("MANDAT_SCREENSHOTS") == "docs":
        folder = PROJECT_ROOT / "docs"
        folder.mkdir(exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


def _log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url


def _charts_loaded(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.charts img')].every(img => img.complete && img.naturalWidth > 400)",
        timeout=TIMEOUT_MS)


def test_leader_downloads_the_lmu_report(admin_url, browser, shots, tmp_path):
    from bot.config import get_settings

    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        _log_in(page, admin_url, "leder")
        page.goto(f"{admin_url}/aktoerskab?uger=26")
        assert "Demodata" in page.inner_text(".demo-notice")
        _charts_loaded(page)
        assert page.locator(".charts img").count() == 7
        for name in ("temaer", "tommel-ned"):
            image = page.locator(f".charts img[src*='/graf/{name}.png']")
            assert image.evaluate("img => img.complete && img.naturalWidth > 400")

        page.click("text=LMU-rapport som PDF")
        page.wait_for_url(re.compile(r".*/lmu-rapport.*"))
        options = page.locator("select[name=enhed] option").all_inner_texts()
        assert [o.strip() for o in options] == ["Hjemmeplejen Nord", "Hjemmeplejen Syd"]
        page.select_option("select[name=enhed]", "hjemmeplejen-syd")
        last = get_settings().today()
        first = last - dt.timedelta(weeks=8) + dt.timedelta(days=1)
        page.fill("input[name=fra]", first.isoformat())
        page.fill("input[name=til]", last.isoformat())
        page.click("text=Vis rapporten")
        page.wait_for_selector(".lmu-report")
        preview = page.inner_text(".lmu-report")
        assert "Aktørskab i Hjemmeplejen Syd" in preview and "Demodata" in preview
        with page.expect_download() as download:
            page.click("text=Hent som PDF")
        assert download.value.suggested_filename == (
            f"lmu-rapport-hjemmeplejen-syd-{first.isoformat()}-{last.isoformat()}.pdf")
        data = Path(download.value.path()).read_bytes()
    finally:
        context.close()

    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Aktørskab i Hjemmeplejen Syd" in text and "DEMODATA" in text
    total, answered, yours = re.search(r"^.*?(\d+) (\d+ %) (\d+ %) spørgsmål stillet til Mandatbot", text).groups()
    assert int(total) > 10  # eight weeks of one team's questions
    for heading in ("Det spørger medarbejderne om lov til, selv om de allerede må",
                    "Det kunne botten ikke svare på (temaer)", "Poster, der skulle have været gennemgået",
                    "Gode historier", "Til drøftelse i LMU"):
        assert heading in text
    assert "Selv besluttet:" in text  # the approved demo story of home care
    # The on-screen preview showed the same figures.
    assert total in preview and answered in preview and yours in preview

    # The PDF page as chromium's PDF viewer shows it: the README's picture of the report.
    pdf = tmp_path / "lmu-rapport.pdf"
    pdf.write_bytes(data)
    viewer = browser.new_context(viewport={"width": 900, "height": 1240})
    try:
        page = viewer.new_page()
        page.goto(pdf.as_uri() + "#toolbar=0&navpanes=0&view=FitH")
        page.wait_for_timeout(2500)  # the viewer draws the page after load
        page.screenshot(path=str(shots / "lmu-report.png"))
    finally:
        viewer.close()


def test_dashboard_with_demo_history_screenshot(admin_url, browser, shots):
    """HR's dashboard over the demo history: every chart has data from the first week on."""
    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        _log_in(page, admin_url, "hr")
        page.goto(f"{admin_url}/aktoerskab?uger=13")
        _charts_loaded(page)
        figures = page.locator(".figures .big").all_inner_texts()
        assert int(figures[0].replace(".", "")) > 150 and figures[1].endswith("%")
        themes = page.locator("details:has(summary:text('Temaerne')) tbody tr").count()
        assert themes >= 5
        page.screenshot(path=str(shots / "admin-dashboard.png"), full_page=True)
    finally:
        context.close()
