"""Ask an expert in a browser (issue 16): question -> leader -> answer -> the employee is told.

Starts the action server and the Rasa server (trained model, the widget channel) and the admin app (dev
mode: ``/demo`` and its dev tokens) on one demo-catalogue database, and drives Debian's chromium:

1. an employee of Hjemmeplejen Syd asks two questions the catalogue has no entry for, in the widget;
2. the unit's leader logs in and sees "Spørgsmål til dig (2)" on the start page, opens the inbox,
   writes a one-off reply to one and links an entry to the other (the review queue's link step);
3. the employee opens the widget again: "Dit spørgsmål fra ... er besvaret" with the reply and with the
   entry's card; opened once more, nothing is repeated.

The inbox screenshot goes to ``docs/admin-inbox.png`` with ``MANDAT_SCREENSHOTS=docs`` (README).
"""
from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from scripts.live import catalogue_database
from tests.conftest import DEMO_CATALOGUE
from tests.e2e.conftest import admin_server, widget_ask as ask, widget_ready

pytestmark = [pytest.mark.live, pytest.mark.model]

SECRET = "inbox-browser-test-secret-0123456789"
PSEUDONYM_KEY = "inbox-browser-test-pseudonym-key"
PASSWORD = "browser-test-1"
TIMEOUT_MS = 90_000
REPLY_QUESTION = "Må jeg tage min hund med på arbejde?"
LINK_QUESTION = "Må jeg spille guitar for borgerne under besøget?"
LINKED_ENTRY = "soo-aktivitetsmaterialer"


@pytest.fixture(scope="module")
def live():
    """The running bot and the admin app on one demo database with the demo users (known passwords)."""
    from bot.cli import ensure_demo_users
    from bot.db.models import Mandate, User
    from bot.db.session import session_scope
    from scripts.live import running_bot

    url = catalogue_database(DEMO_CATALOGUE, prefix="mandat-inbox-")
    with session_scope(url) as session:
        ensure_demo_users(session)
        for user in session.query(User):
            user.set_password(PASSWORD)
        # One of the leader's entries is past its review date (shown in the inbox and its screenshot).
        session.get(Mandate, "hpn-smaaindkoeb").review_by = dt.date.today() - dt.timedelta(days=14)
    env = {"MANDAT_DATABASE_URL": url, "MANDAT_JWT_SECRET": SECRET, "MANDAT_PSEUDONYM_KEY": PSEUDONYM_KEY,
           "MANDAT_WIDGET_DEV_MODE": "1", "MANDAT_WIDGET_ORIGINS": ""}
    with pytest.MonkeyPatch.context() as patch, running_bot(env, timeout_s=600) as bot:
        for name, value in env.items():
            patch.setenv(name, value)
        with admin_server({"DATABASE_URL": url, "SECRET_KEY": "inbox-test", "WIDGET_SERVER": bot}) as admin:
            yield {"db": url, "bot": bot, "admin": admin}


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if os.environ.get("MANDAT_SCREENSHOTS") == "docs":
        return PROJECT_ROOT / "docs"
    return tmp_path_factory.mktemp("inbox-screenshots")


def new_page(browser, width: int = 1280, height: int = 900):
    context = browser.new_context(locale="da-DK", viewport={"width": width, "height": height})
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def open_widget(page, live) -> None:
    page.goto(f"{live['admin']}/demo?medarbejder=anna")
    widget_ready(page)


def _stored(url: str, text: str):
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question).where(Question.text == text)).scalars().all()
    finally:
        session.close()


def test_question_to_leader_to_answer_and_the_employee_is_told(live, browser, shots):
    from bot.channels.identity import conversation_id
    from bot.privacy import pseudonym

    # 1. The employee asks; the bot has no entry and says so.
    employee = new_page(browser)
    open_widget(employee, live)
    for question in (REPLY_QUESTION, LINK_QUESTION):
        ask(employee, question)
        assert employee.locator("article.mb-card").last.locator(".mb-badge").inner_text() == "Ikke i mandatkataloget"
    stored = _stored(live["db"], REPLY_QUESTION) + _stored(live["db"], LINK_QUESTION)
    assert len(stored) == 2 and {q.outcome for q in stored} == {"unanswered"}
    asker = pseudonym(conversation_id("anna.andersen", PSEUDONYM_KEY), PSEUDONYM_KEY)
    assert {q.user_pseudonym for q in stored} == {asker}
    employee.context.close()

    # 2. The leader sees them on the start page and answers in the inbox.
    leader = new_page(browser)
    leader.goto(f"{live['admin']}/login")
    leader.fill("input[name=username]", "leder")
    leader.fill("input[name=password]", PASSWORD)
    leader.click("form button[type=submit]")
    leader.wait_for_url(f"{live['admin']}/poster")
    leader.click("text=Spørgsmål til dig (2)")
    leader.wait_for_url(f"{live['admin']}/til-dig")
    assert leader.locator("h1").inner_text() == "Spørgsmål til dig (2)"
    assert "Poster, der skal gennemgås (1)" in leader.locator("main").inner_text()
    item = leader.locator("section.inbox-item", has_text=REPLY_QUESTION)
    item.locator("textarea[name=reply]").fill("Nej, ikke på ruten, men gerne i pausen på kontoret. "
                                              "Aftal det med dine kolleger.")
    leader.screenshot(path=str(shots / "admin-inbox.png"), full_page=True)
    item.get_by_role("button", name="Send svaret").click()
    leader.wait_for_selector("text=Svaret er gemt")
    assert leader.locator("h1").inner_text() == "Spørgsmål til dig (1)"

    item = leader.locator("section.inbox-item", has_text=LINK_QUESTION)
    item.locator("input[name=mandate_id]").fill(LINKED_ENTRY)
    item.get_by_role("button", name="Tilknyt en post").click()
    leader.wait_for_selector("form.link-confirm")
    confirm = leader.locator("form.link-confirm")
    if confirm.locator("input[name=confirm_risk]").count():
        confirm.locator("input[name=confirm_risk]").check()
    confirm.locator("button[type=submit]").click()
    leader.wait_for_url(f"{live['admin']}/til-dig")
    assert leader.locator("h1").inner_text() == "Spørgsmål til dig (0)"
    leader.context.close()
    answered = {q.text: q for q in _stored(live["db"], REPLY_QUESTION) + _stored(live["db"], LINK_QUESTION)}
    assert answered[LINK_QUESTION].resolved_mandate_id == LINKED_ENTRY
    assert all(q.answered_at and q.answered_by == "leder" and q.notified_at is None for q in answered.values())

    # 3. The employee opens the widget again and is told, once.
    employee = new_page(browser)
    open_widget(employee, live)
    employee.wait_for_selector("article.mb-reply")
    log = employee.locator("#mb-panel .mb-log").inner_text()
    heads = re.findall(r"Dit spørgsmål fra \d{1,2}\. [a-zæøå]+ er besvaret: «([^»]+)»", log)
    assert heads == [REPLY_QUESTION, LINK_QUESTION], log
    reply = employee.locator("article.mb-reply")
    assert reply.locator(".mb-badge").inner_text() == "Svar fra Lene Leder (Hjemmeplejen)"
    assert "gerne i pausen på kontoret" in reply.inner_text()
    card = employee.locator(f"article.mb-card[data-mandate-id={LINKED_ENTRY}]")
    assert card.count() == 1 and card.get_attribute("data-notice") == "true"
    employee.screenshot(path=str(shots / "widget-answered.png"))
    told = {q.text: q for q in _stored(live["db"], REPLY_QUESTION) + _stored(live["db"], LINK_QUESTION)}
    assert all(q.notified_at is not None for q in told.values())
    employee.reload()
    open_widget(employee, live)
    employee.wait_for_selector("article.mb-card[data-history]")
    assert "er besvaret" not in employee.locator("#mb-panel .mb-log").inner_text()
    employee.context.close()
