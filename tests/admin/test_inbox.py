"""The admin app's "Spørgsmål til dig" (issue 16): the count on the start page, answering by a reply, a
link or a new entry (each sets answered_at), "Stadig rigtig", and the e-mail address (bot/admin/inbox.py)."""
from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from bot.db.models import Mandate, MandateHistory, Question, User
from tests.admin.conftest import csrf_token, make_app
from tests.conftest import TODAY


def _question(url: str, start: str) -> Question:
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question).where(Question.text.like(start + "%"))).scalars().first()
    finally:
        session.close()


def _count(html: str) -> int:
    match = re.search(r"Spørgsmål til dig \((\d+)\)", html)
    assert match, "no 'Spørgsmål til dig (N)' on the page"
    return int(match.group(1))


def test_the_start_page_shows_the_questions_routed_to_each_user(client_for, admin_db):
    # leder: Hjemmeplejen Nord and Syd (four unanswered); omraadeleder: Børn og Unge, which takes
    # Dagplejen's (no leader of its own); HR: what no leader covers, here Tandplejen's (its own branch
    # under the municipality, without a leader account).
    for username, expected in (("leder", 4), ("omraadeleder", 1), ("hr", 1)):
        client = client_for(username)
        start = client.get("/", follow_redirects=True).get_data(as_text=True)
        assert _count(start) == expected, username
        page = client.get("/til-dig").get_data(as_text=True)
        assert _count(page) == expected, username
    page = client_for("leder").get("/til-dig").get_data(as_text=True)
    assert "«Må jeg tage min papegøje med på arbejde?»" in page and "dagplejerne" not in page
    # HR may list every open question.
    assert _count(client_for("hr").get("/til-dig?vis=alle").get_data(as_text=True)) == 6


def test_a_new_leader_account_takes_over_its_units_questions(client_for, admin_db):
    admin = client_for("admin")
    html = admin.get("/brugere").get_data(as_text=True)
    response = admin.post("/brugere/ny", data={"username": "dagplejeleder", "role": "leader", "units": "dagplejen",
                                              "csrf_token": csrf_token(html)})
    assert response.status_code == 200
    # Dagplejen's question now goes to its own leader; the area leader has none left.
    page = client_for("omraadeleder").get("/til-dig").get_data(as_text=True)
    assert _count(page) == 0 and "dagplejerne" not in page
    # A second leader of the same unit shares its questions.
    admin.post("/brugere/ny", data={"username": "nordleder", "role": "leader", "units": "hjemmeplejen-nord",
                                    "csrf_token": csrf_token(html)})
    assert _count(client_for("leder").get("/til-dig").get_data(as_text=True)) == 4


def test_a_reply_is_stored_redacted_and_the_question_leaves_the_inbox(client_for, admin_db):
    client = client_for("leder")
    question = _question(admin_db, "Må jeg tage min papegøje")
    response = client.post(f"/til-dig/{question.id}/svar",
                           data={"reply": "Nej, ikke på ruten. Spørg Lene Jensen på 22 33 44 55."})
    assert response.status_code == 302
    row = _question(admin_db, "Må jeg tage min papegøje")
    assert row.reply_text.startswith("Nej, ikke på ruten.") and "22 33 44 55" not in row.reply_text
    assert (row.status, row.status_by, row.answered_by) == ("answered", "leder", "leder")
    assert row.answered_at is not None and row.notified_at is None
    assert _count(client.get("/til-dig").get_data(as_text=True)) == 3
    # An empty reply changes nothing; a second reply to an answered question neither.
    other = _question(admin_db, "Må jeg selv købe blomster")
    client.post(f"/til-dig/{other.id}/svar", data={"reply": "   "})
    assert _question(admin_db, "Må jeg selv købe blomster").answered_at is None
    client.post(f"/til-dig/{question.id}/svar", data={"reply": "Noget andet"})
    assert _question(admin_db, "Må jeg tage min papegøje").reply_text.startswith("Nej, ikke på ruten.")


def test_a_leader_cannot_answer_another_areas_question(client_for, admin_db):
    question = _question(admin_db, "Må dagplejerne")
    assert client_for("leder").post(f"/til-dig/{question.id}/svar", data={"reply": "Ja."}).status_code == 403
    assert _question(admin_db, "Må dagplejerne").answered_at is None
    assert client_for("omraadeleder").post(f"/til-dig/{question.id}/svar", data={"reply": "Ja."}).status_code == 302
    assert _question(admin_db, "Må dagplejerne").answered_by == "omraadeleder"


def test_linking_an_entry_from_the_inbox_sets_answered_at(client_for, admin_db):
    client = client_for("leder")
    question = _question(admin_db, "Må jeg tage min papegøje")
    page = client.get("/til-dig").get_data(as_text=True)
    assert 'action="/spoergsmaal/tilknyt"' in page and f'name="ids" value="{question.id}"' in page
    step = client.post("/spoergsmaal/tilknyt", data={"ids": str(question.id), "mandate_id": "hpn-smaaindkoeb",
                                                     "next": "/til-dig"})
    assert step.status_code == 200 and 'value="/til-dig"' in step.get_data(as_text=True)
    done = client.post("/spoergsmaal/status", data={"ids": str(question.id), "status": "answered",
                                                     "mandate_id": "hpn-smaaindkoeb", "next": "/til-dig"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/til-dig")
    row = _question(admin_db, "Må jeg tage min papegøje")
    assert (row.resolved_mandate_id, row.answered_by) == ("hpn-smaaindkoeb", "leder") and row.answered_at
    # Setting it aside again before the asker was told takes the answer back.
    client.post("/spoergsmaal/status", data={"ids": str(question.id), "status": "not_relevant"})
    row = _question(admin_db, "Må jeg tage min papegøje")
    assert row.answered_at is None and row.resolved_mandate_id is None


def test_creating_an_entry_from_the_question_sets_answered_at(client_for, admin_db):
    from tests.admin.conftest import entry_form

    client = client_for("leder")
    question = _question(admin_db, "Må jeg tage min papegøje")
    form = client.get(f"/poster/ny?spoergsmaal={question.id}").get_data(as_text=True)
    assert "papegøje" in form
    values = entry_form(admin_db, "hpn-smaaindkoeb")
    values.update({"id": "hpn-dyr", "topic": "Dyr på arbejde", "topic_key": "", "examples": question.text,
                   "summary": "Du må ikke tage dyr med på ruten.", "decision": "leader",
                   "question_ids": str(question.id)})
    values.pop("version", None)
    response = client.post("/poster/ny", data=values)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    row = _question(admin_db, "Må jeg tage min papegøje")
    assert (row.resolved_mandate_id, row.answered_by, row.status) == ("hpn-dyr", "leder", "answered")
    assert row.answered_at is not None


def _set_review(url: str, mandate_id: str, day: dt.date) -> None:
    from bot.db.session import session_scope

    with session_scope(url) as session:
        session.get(Mandate, mandate_id).review_by = day


def test_stale_entries_in_the_inbox_and_still_right(client_for, admin_db):
    _set_review(admin_db, "hpn-smaaindkoeb", TODAY - dt.timedelta(days=5))
    client = client_for("leder")
    page = client.get("/til-dig").get_data(as_text=True)
    assert "Poster, der skal gennemgås (1)" in page and "/til-dig/poster/hpn-smaaindkoeb/stadig-rigtig" in page
    assert "Stadig rigtig" in page
    # HR gets the municipality's stale entries, not the team's.
    hr = client_for("hr").get("/til-dig").get_data(as_text=True)
    assert "sk-hjemmearbejde" in hr and "hpn-smaaindkoeb" not in hr
    from bot.db.session import new_session

    session = new_session(admin_db)
    version = session.get(Mandate, "hpn-smaaindkoeb").version
    session.close()
    # A form loaded before someone else changed the entry confirms nothing.
    client.post("/til-dig/poster/hpn-smaaindkoeb/stadig-rigtig", data={"version": str(version - 1)})
    session = new_session(admin_db)
    assert session.get(Mandate, "hpn-smaaindkoeb").review_by == TODAY - dt.timedelta(days=5)
    session.close()
    response = client.post("/til-dig/poster/hpn-smaaindkoeb/stadig-rigtig", data={"version": str(version)})
    assert response.status_code == 302
    session = new_session(admin_db)
    try:
        assert session.get(Mandate, "hpn-smaaindkoeb").review_by == dt.date(2027, 11, 29)
        last = session.execute(select(MandateHistory).where(MandateHistory.mandate_id == "hpn-smaaindkoeb")
                               .order_by(MandateHistory.id.desc())).scalars().first()
        assert last.changed_by == "leder" and last.changes["review_by"][1] == "2027-11-29"
    finally:
        session.close()
    assert "Poster, der skal gennemgås (0)" in client.get("/til-dig").get_data(as_text=True)
    # HR without edit rights may not confirm.
    assert client_for("hr").post("/til-dig/poster/sk-hjemmearbejde/stadig-rigtig", data={}).status_code == 403


def _email(url: str, username: str):
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(User.email).where(User.username == username)).scalar_one()
    finally:
        session.close()


def test_leaders_set_their_own_address_and_admins_any(client_for, admin_db):
    client = client_for("leder")
    assert 'name="email"' in client.get("/konto").get_data(as_text=True)
    client.post("/konto/email", data={"email": "lene@storkeby.dk"})
    assert _email(admin_db, "leder") == "lene@storkeby.dk"
    client.post("/konto/email", data={"email": "ikke en adresse"})
    assert _email(admin_db, "leder") == "lene@storkeby.dk"
    client.post("/konto/email", data={"email": ""})
    assert _email(admin_db, "leder") is None
    admin = client_for("admin")
    from bot.db.session import new_session

    session = new_session(admin_db)
    hr = session.execute(select(User).where(User.username == "hr")).scalar_one()
    session.close()
    response = admin.post(f"/brugere/{hr.id}", data={"role": "hr", "active": "1", "display_name": "Hr",
                                                    "email": "hr@storkeby.dk"})
    assert response.status_code == 302 and _email(admin_db, "hr") == "hr@storkeby.dk"
    assert admin.post(f"/brugere/{hr.id}", data={"role": "hr", "active": "1", "email": "x@"}).status_code == 400
    assert 'value="hr@storkeby.dk"' in admin.get("/brugere").get_data(as_text=True)


def test_inbox_forms_carry_csrf_tokens(admin_db):
    app = make_app(admin_db, WTF_CSRF_ENABLED=True)
    client = login_with_csrf(app)
    question = _question(admin_db, "Må jeg tage min papegøje")
    assert client.post(f"/til-dig/{question.id}/svar", data={"reply": "Ja."}).status_code == 400
    page = client.get("/til-dig").get_data(as_text=True)
    assert client.post(f"/til-dig/{question.id}/svar",
                       data={"reply": "Ja.", "csrf_token": csrf_token(page)}).status_code == 302


def login_with_csrf(app):
    client = app.test_client()
    html = client.get("/login").get_data(as_text=True)
    from tests.admin.conftest import PASSWORD

    response = client.post("/login", data={"username": "leder", "password": PASSWORD, "csrf_token": csrf_token(html)})
    assert response.status_code == 302
    return client



