"""A good story from the chat to the dashboard, in a browser (issue 16, part 3).

Starts the action server and the Rasa server (trained model, widget channel) on a demo-catalogue
database and the admin app (CSRF on, dev mode for the demo page) in a thread, as
``test_widget_browser.py`` does; drives Debian's chromium with Playwright:

1. an employee writes "Jeg vil dele en god historie" in the widget, answers the three questions
   (with a CPR number and a colleague's name in the story) and presses "Ja, del den";
2. the story is stored redacted, under the pseudonym, for the employee's unit, and not as a question;
3. HR logs in, opens "Gode historier" and approves it;
4. the dashboard shows it, and the intranet text has it without a pseudonym.

Screenshots go to a temporary folder, or to ``docs/`` with ``MANDAT_SCREENSHOTS=docs``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import PROJECT_ROOT
from scripts.live import catalogue_database
from tests.conftest import DEMO_CATALOGUE
from tests.e2e.conftest import admin_server
from tests.e2e.test_widget_browser import new_page, open_demo

pytestmark = [pytest.mark.live, pytest.mark.model]

SECRET = "story-browser-test-secret-0123456789"
PSEUDONYM_KEY = "story-browser-test-pseudonym-key"
PASSWORD = "story-browser-test-1"
STORY = ("En borger med CPR 010190-1234 faldt om morgenen. Min kollega Mette Hansen var syg, så jeg flyttede "
         "selv de næste besøg og ringede efter en vikar.")
OWN = "Jeg flyttede selv besøgene og bestilte vikaren uden at vente på min leder."


@pytest.fixture(scope="module")
def live():
    """The running bot and the admin app on one demo-catalogue database with the demo users."""
    from bot.cli import ensure_demo_users
    from bot.db.models import User
    from bot.db.session import session_scope
    from scripts.live import running_bot

    url = catalogue_database(DEMO_CATALOGUE, prefix="mandat-story-")
    with session_scope(url) as session:
        ensure_demo_users(session)
        for user in session.query(User):
            user.set_password(PASSWORD)
    env = {"MANDAT_DATABASE_URL": url, "MANDAT_JWT_SECRET": SECRET, "MANDAT_PSEUDONYM_KEY": PSEUDONYM_KEY,
           "MANDAT_WIDGET_DEV_MODE": "1", "MANDAT_WIDGET_ORIGINS": ""}
    with pytest.MonkeyPatch.context() as patch, running_bot(env) as bot:
        for name, value in env.items():
            patch.setenv(name, value)
        with admin_server({"DATABASE_URL": url, "SECRET_KEY": "story-test", "WIDGET_SERVER": bot}) as admin:
            yield {"db": url, "bot": bot, "admin": admin}


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: ``docs/`` with ``MANDAT_SCREENSHOTS=docs``, else a temporary folder."""
    if os.environ.get("MANDAT_SCREENSHOTS") == "docs":
        return PROJECT_ROOT / "docs"
    return tmp_path_factory.mktemp("story-screenshots")


def say(page, text: str, expect: str) -> None:
    """Send ``text`` in the widget and wait for a bot message containing ``expect``."""
    page.fill("#mb-input", text)
    page.press("#mb-input", "Enter")
    page.locator("p.mb-bot", has_text=expect).last.wait_for()


def stored(url: str):
    from bot.db.models import Question, Story
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return (session.execute(select(Story).order_by(Story.id)).scalars().all(),
                session.execute(select(Question.text)).scalars().all())
    finally:
        session.close()


def test_a_good_story_from_the_chat_to_hr_and_the_dashboard(live, browser, shots):
    from bot.channels.identity import conversation_id
    from bot.privacy import pseudonym

    chat = new_page(browser)
    open_demo(chat, live)  # Anna Andersen, Hjemmeplejen Syd
    say(chat, "Jeg vil dele en god historie", "Fortæl kort, hvad der skete")
    say(chat, STORY, "Hvad besluttede du selv")
    say(chat, OWN, "Må historien deles")
    chat.locator(".mb-replies").last.get_by_role("button", name="Ja, del den").click()
    chat.locator("p.mb-bot", has_text="Tak, fordi du fortæller").wait_for()
    chat.screenshot(path=str(shots / "story-chat.png"))
    chat.context.close()

    stories, questions = stored(live["db"])
    assert len(stories) == 1
    story = stories[0]
    assert (story.status, story.unit_id, story.may_share) == ("new", "hjemmeplejen-syd", True)
    sender = conversation_id("anna.andersen", PSEUDONYM_KEY)
    assert story.user_pseudonym == pseudonym(sender, PSEUDONYM_KEY)
    assert "010190" not in story.what_happened and "[CPR-NR]" in story.what_happened
    assert "Mette" not in story.what_happened and "[NAVN]" in story.what_happened
    assert "flyttede selv de næste besøg" in story.what_happened
    assert not [q for q in questions if "besøg" in (q or "") or "historie" in (q or "")]

    admin = new_page(browser)
    base = live["admin"]
    admin.goto(f"{base}/login")
    admin.fill("input[name=username]", "hr")
    admin.fill("input[name=password]", PASSWORD)
    admin.click("form button[type=submit]")
    admin.wait_for_url(f"{base}/poster")
    admin.get_by_role("link", name="Gode historier").click()
    card = admin.locator(f"article.story[data-story-id='{story.id}']")
    assert "[CPR-NR]" in card.inner_text() and "Ja" in card.inner_text()
    admin.screenshot(path=str(shots / "stories-review.png"), full_page=True)
    card.get_by_role("button", name="Godkend").click()
    admin.locator(".flash", has_text="Historien er godkendt").wait_for()
    stories, _ = stored(live["db"])
    assert (stories[0].status, stories[0].status_by) == ("approved", "hr")

    admin.get_by_role("link", name="Aktørskab").click()
    section = admin.locator("#gode-historier")
    section.locator(f"article[data-story-id='{story.id}']").wait_for()
    assert "flyttede selv de næste besøg" in section.inner_text()
    assert "Hjemmeplejen Syd" in section.inner_text()
    admin.wait_for_load_state("networkidle")  # the charts above have loaded: the section stays put
    section.scroll_into_view_if_needed()
    section.screenshot(path=str(shots / "stories-dashboard.png"))
    export = admin.request.get(f"{base}/gode-historier/intranet.md")
    assert export.ok and export.headers["content-type"].startswith("text/markdown")
    text = export.text()
    assert "## Hjemmeplejen Syd, " in text and "flyttede selv de næste besøg" in text
    assert story.user_pseudonym not in text and "010190" not in text
    admin.context.close()
