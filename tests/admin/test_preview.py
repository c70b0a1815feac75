"""What the bot will say, before it goes live (issue 13.5 and 13.6).

The entry form previews the answer from the unsaved form; the review queue shows the answer a
question would get once linked, and wants an explicit confirmation when the entry's exceptions or
limit exclude the question. On a small catalogue (``data/gifts.yaml``): a gifts entry whose
exceptions say cash is never allowed.
"""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.admin.conftest import PASSWORD, csrf_token, entry_form, login, make_app
from tests.conftest import TODAY, import_catalogue

GIFTS = Path(__file__).parent / "data" / "gifts.yaml"
CASH = "Må jeg tage imod 200 kr kontant fra en borger?"
SUBSTITUTE = "Må jeg selv ringe efter en vikar, når min kollega er syg?"
WINE = "Må jeg tage imod en flaske vin fra en borger?"  # one of the gifts entry's examples


@pytest.fixture()
def gifts_db(db_url) -> str:
    """The gifts catalogue, users (leader of hjemmeplejen, leader of tandplejen, HR) and three questions
    in the queue: cash (best guess stored), a substitute (none stored), a parrot (none stored)."""
    from bot.cli import add_user
    from bot.db.models import Question
    from bot.db.session import new_session

    import_catalogue(db_url, GIFTS)
    session = new_session(db_url)
    try:
        add_user(session, "leder", "leader", ["hjemmeplejen"], "Leder", False, PASSWORD)
        add_user(session, "tandleder", "leader", ["tandplejen"], "Tandleder", False, PASSWORD)
        add_user(session, "hr", "hr", [], "HR", False, PASSWORD)
        asked = dt.datetime.combine(TODAY, dt.time(9))
        for text, best in ((CASH, "hp-gaver"), (SUBSTITUTE, None), ("Må jeg tage min papegøje med?", None)):
            session.add(Question(asked_at=asked, unit_id="hjemmeplejen", text=text, outcome="unanswered",
                                 best_mandate_id=best, best_score=0.2 if best else None, status="new"))
        session.commit()
    finally:
        session.close()
    return db_url


@pytest.fixture()
def client_as(gifts_db):
    app = make_app(gifts_db)

    def make(username: str):
        return login(app.test_client(), username)

    return make




def _question_id(url: str, text: str) -> int:
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question.id).where(Question.text == text)).scalar_one()
    finally:
        session.close()


def _question(url: str, qid: int):
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.get(Question, qid)
    finally:
        session.close()


def _count_questions(url: str) -> int:
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(func.count(Question.id))).scalar()
    finally:
        session.close()


def _messages(html: str) -> list[dict]:
    """The messages handed to the widget's card renderer (``data-mandat-message``)."""
    return [json.loads(htmllib.unescape(m)) for m in re.findall(r"data-mandat-message='([^']*)'", html)]


def _headline(message: dict) -> str:
    """The card's headline line, as the widget finds it: the line that ends with " Emne: <topic>."."""
    suffix = f" Emne: {message['custom']['topic']}."
    return next(line[: -len(suffix)] for line in message["text"].split("\n") if line.endswith(suffix))


# -- 13.5: the entry form previews the unsaved draft -------------------------------------------
def test_preview_of_an_unsaved_exception_changes_the_answer_and_saves_nothing(gifts_db, client_as):
    client = client_as("leder")
    saved = entry_form(gifts_db, "hp-gaver")
    before = client.post("/poster/hp-gaver/forhaandsvis", data={**saved, "preview_question": WINE},
                         headers={"X-Requested-With": "fetch"})
    assert before.status_code == 200, before.get_data(as_text=True)[:800]
    (message,) = _messages(before.get_data(as_text=True))
    assert message["custom"]["mandate_id"] == "hp-gaver"
    assert _headline(message).startswith("Ja") and message["custom"]["decides"] == "employee"

    draft = {**saved, "exceptions": saved["exceptions"] + "\nvin og spiritus = nobody", "preview_question": WINE}
    after = client.post("/poster/hp-gaver/forhaandsvis", data=draft, headers={"X-Requested-With": "fetch"})
    html = after.get_data(as_text=True)
    assert after.status_code == 200 and "<html" not in html  # a fragment for the form's side panel
    (message,) = _messages(html)
    custom = message["custom"]
    assert not _headline(message).startswith("Ja"), _headline(message)
    assert custom["verdict"] == "exception" and custom["decides"] == "nobody" and custom["tone"] == "stop"
    assert custom["exception"]["case"] == "vin og spiritus"
    assert "Udkastet er ikke gemt" in html

    # Nothing was saved or stored: the entry, its version and the questions are as before.
    assert entry_form(gifts_db, "hp-gaver") == saved
    assert _count_questions(gifts_db) == 3
    from bot.service import MandateService

    live = MandateService().answer(WINE, "hjemmeplejen", store=False).reply.custom
    assert live["mandate_id"] == "hp-gaver" and live["decides"] == "employee"


def test_preview_of_a_new_entry_answers_from_it_and_renders_with_the_widget(gifts_db, client_as):
    client = client_as("leder")
    question = "Må jeg selv købe kaffe til personalemødet?"
    draft = {"unit": "hjemmeplejen", "topic": "Kaffe til personalemøder", "decision": "employee",
             "summary": "Du må selv købe kaffe og te til personalemøder.", "limit_value": "300", "limit_unit": "kr",
             "examples": "Må jeg købe kaffe til personalemødet?", "keywords": "kaffe, te, personalemøde",
             "preview_question": question}
    response = client.post("/poster/ny/forhaandsvis", data=draft, headers={"X-Requested-With": "fetch"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:800]
    (message,) = _messages(html)
    assert message["custom"]["type"] == "mandate_answer" and message["custom"]["topic"] == "Kaffe til personalemøder"
    assert message["custom"]["limit"] == {"value": 300, "unit": "kr"}
    assert "udkast</span>" in html  # the draft is marked in the candidates
    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(gifts_db)
    assert session.execute(select(func.count(Mandate.id))).scalar() == 4  # not created
    session.close()

    # The form page loads the widget in cards mode; without JavaScript the form comes back with the answer.
    page = client.get("/poster/ny").get_data(as_text=True)
    assert 'mandat-widget.js" data-mode="cards"' in page and 'class="draft-preview"' in page
    plain = client.post("/poster/ny/forhaandsvis", data=draft)
    body = plain.get_data(as_text=True)
    assert plain.status_code == 200 and 'id="entry-form"' in body
    assert 'value="Kaffe til personalemøder"' in body and _messages(body)


def test_preview_names_what_to_fix_first(gifts_db, client_as):
    client = client_as("leder")
    bad = entry_form(gifts_db, "hp-gaver", exceptions="kontanter: aldrig", preview_question=CASH)
    response = client.post("/poster/hp-gaver/forhaandsvis", data=bad, headers={"X-Requested-With": "fetch"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "«Undtagelser»" in html and not _messages(html)
    empty = client.post("/poster/hp-gaver/forhaandsvis", data=entry_form(gifts_db, "hp-gaver"),
                        headers={"X-Requested-With": "fetch"})
    assert empty.status_code == 400 and "Skriv et spørgsmål" in empty.get_data(as_text=True)


def test_preview_is_restricted_to_the_leaders_own_units(gifts_db, client_as):
    dentist = client_as("tandleder")
    form = {**entry_form(gifts_db, "hp-gaver"), "preview_question": CASH}
    assert dentist.post("/poster/hp-gaver/forhaandsvis", data=form).status_code == 403  # not their entry
    assert dentist.post("/poster/ny/forhaandsvis", data=form).status_code == 403  # a draft for another unit
    own = {**entry_form(gifts_db, "tp-tandboerster"), "preview_question": "Må jeg bestille tandbørster?"}
    assert dentist.post("/poster/tp-tandboerster/forhaandsvis", data=own).status_code == 200
    # ... asked as an employee of another unit: refused too.
    assert dentist.post("/poster/tp-tandboerster/forhaandsvis",
                        data={**own, "preview_unit": "hjemmeplejen"}).status_code == 403
    hr = client_as("hr")  # HR without editing rights has no entry form, and no draft preview
    assert hr.post("/poster/hp-gaver/forhaandsvis", data=form).status_code == 403


def test_preview_is_csrf_protected(gifts_db):
    app = make_app(gifts_db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "leder", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    page = client.get("/poster/hp-gaver/rediger").get_data(as_text=True)
    form = {**entry_form(gifts_db, "hp-gaver"), "preview_question": CASH}
    for attempt in (form, {**form, "csrf_token": "forfalsket"}):
        refused = client.post("/poster/hp-gaver/forhaandsvis", data=attempt, headers={"X-Requested-With": "fetch"})
        assert refused.status_code == 400 and "(CSRF)" in refused.get_data(as_text=True)
    accepted = client.post("/poster/hp-gaver/forhaandsvis", data={**form, "csrf_token": csrf_token(page)},
                           headers={"X-Requested-With": "fetch"})
    assert accepted.status_code == 200 and _messages(accepted.get_data(as_text=True))


# -- 13.6: linking in the review queue is safe -------------------------------------------------
def _group_form(html: str, text: str) -> str:
    """The link form of the queue's group whose question is ``text``."""
    article = next(a for a in re.findall(r'<article class="qgroup".*?</article>', html, re.S)
                   if htmllib.escape(text, quote=False) in a or text in a)
    return re.search(r'<form[^>]*class="inline link-form".*?</form>', article, re.S).group(0)


def test_link_form_is_prefilled_with_the_bots_best_guess(gifts_db, client_as):
    html = client_as("hr").get("/spoergsmaal").get_data(as_text=True)
    # Stored with the question when the bot could not answer it:
    assert re.search(r'name="mandate_id" value="hp-gaver"', _group_form(html, CASH))
    # None stored: a fresh ranking of the question (nothing is stored by it).
    assert re.search(r'name="mandate_id" value="hp-vikar"', _group_form(html, SUBSTITUTE))
    assert _count_questions(gifts_db) == 3


def test_linking_cash_to_the_gifts_entry_warns_and_needs_a_confirmation(gifts_db, client_as):
    client = client_as("hr")
    qid = str(_question_id(gifts_db, CASH))
    page = client.post("/spoergsmaal/tilknyt", data={"ids": qid, "mandate_id": "hp-gaver", "next": "/spoergsmaal"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "posten udelukker det, der spørges om" in html and "«kontanter og drikkepenge»" in html
    (message,) = _messages(html)  # the answer the question gets once linked, as the widget shows it
    assert message["custom"]["mandate_id"] == "hp-gaver"
    assert message["custom"]["decides"] not in ("employee", "team")
    assert 'name="confirm_risk" value="1" required' in html
    assert _question(gifts_db, int(qid)).status == "new"  # looking changes nothing

    refused = client.post("/spoergsmaal/status", data={"ids": qid, "status": "answered", "mandate_id": "hp-gaver"})
    assert refused.status_code == 409 and "Intet er tilknyttet" in refused.get_data(as_text=True)
    assert (_question(gifts_db, int(qid)).status, _question(gifts_db, int(qid)).resolved_mandate_id) == ("new", None)

    done = client.post("/spoergsmaal/status", data={"ids": qid, "status": "answered", "mandate_id": "hp-gaver",
                                                    "confirm_risk": "1", "next": "/spoergsmaal"})
    assert done.status_code == 302
    assert _question(gifts_db, int(qid)).resolved_mandate_id == "hp-gaver"


def test_a_safe_link_shows_the_answer_without_a_warning(gifts_db, client_as):
    client = client_as("hr")
    qid = str(_question_id(gifts_db, SUBSTITUTE))
    html = client.post("/spoergsmaal/tilknyt", data={"ids": qid, "mandate_id": "hp-vikar"}).get_data(as_text=True)
    (message,) = _messages(html)
    assert message["custom"]["mandate_id"] == "hp-vikar" and _headline(message).startswith("Ja")
    assert "Advarsel" not in html and "udelukker" not in html and "confirm_risk" not in html
    done = client.post("/spoergsmaal/status", data={"ids": qid, "status": "answered", "mandate_id": "hp-vikar"})
    assert done.status_code == 302 and _question(gifts_db, int(qid)).resolved_mandate_id == "hp-vikar"


def test_link_step_respects_units_and_csrf(gifts_db):
    app = make_app(gifts_db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "tandleder", "password": PASSWORD, "csrf_token": token})
    token = csrf_token(client.get("/spoergsmaal").get_data(as_text=True))
    qid = str(_question_id(gifts_db, CASH))
    data = {"ids": qid, "mandate_id": "hp-gaver", "csrf_token": token}
    assert client.post("/spoergsmaal/tilknyt", data={**data, "csrf_token": "forfalsket"}).status_code == 400
    assert client.post("/spoergsmaal/tilknyt", data=data).status_code == 403  # a question of another unit


def test_wrong_yes_is_a_yes_headline_on_an_excluded_case():
    """The strong warning: the answer lets the employee decide what the entry's rule check excludes."""
    from bot.admin.preview import LinkPreview

    def preview(decides, status, exception=None, verdict="clear", from_entry=False):
        custom = {"type": "mandate_answer", "decides": decides, "verdict": verdict, "exception": None}
        return LinkPreview("q", "u", {"custom": custom}, from_entry, status, exception, None)

    assert preview("employee", "exception", {"case": "kontanter", "decision": "nobody"}).wrong_yes
    assert preview("team", "over_limit").wrong_yes
    assert not preview("employee", "clear").wrong_yes
    assert not preview("nobody", "exception", {"case": "kontanter", "decision": "nobody"}).wrong_yes
    assert preview("nobody", "exception", {"case": "kontanter", "decision": "nobody"}).excluded
    # An exception the team decides does not exclude the team's own decision.
    assert not preview("team", "exception", {"case": "indkøb", "decision": "team"}).excluded


def test_a_clarifying_reply_gets_the_chats_buttons():
    from bot.admin.preview import widget_message
    from bot.answers import clarify_reply

    class Option:
        def __init__(self, mandate_id, topic):
            self.id, self.topic = mandate_id, topic

    reply = clarify_reply([Option("a", "Gaver"), Option("b", "Vikar")], None)
    message = widget_message(reply)
    titles = [button["title"] for button in message["quick_replies"]]
    assert titles[:2] == ["Gaver", "Vikar"] and titles[2:] == [reply.custom["none_label"]]
    assert message["text"] == reply.text and message["custom"] is reply.custom


def test_preview_answers_concern_as_the_chat_does(gifts_db, client_as):
    """A worried question is answered with the duty to report, in the preview as in the chat."""
    question = "Jeg er bekymret for et barn med blå mærker. Må jeg selv vente og se?"
    form = {**entry_form(gifts_db, "hp-gaver"), "preview_question": question}
    html = client_as("leder").post("/poster/hp-gaver/forhaandsvis", data=form,
                                   headers={"X-Requested-With": "fetch"}).get_data(as_text=True)
    (message,) = _messages(html)
    from bot.service import MandateService

    live = MandateService().answer(question, "hjemmeplejen", store=False)
    assert live.result.reason == "concern" and message["text"] == live.reply.text
    assert "pligt" in message["text"] and message["custom"].get("decides") not in ("employee", "team")
