"""HR and admins delete questions in the review queue: confirmation page, CSRF, roles, dashboard counts kept."""
from __future__ import annotations

import pytest

from sqlalchemy import select

from tests.admin.conftest import PASSWORD, csrf_token, make_app
from tests.conftest import stored_counts

PAPEGOEJE = "Må jeg tage min papegøje"


def _question_id(url: str, start: str) -> int | None:
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(Question.id).where(Question.text.like(start + "%"))).scalars().first()
    finally:
        session.close()




@pytest.mark.parametrize("role", ["hr", "admin"])
def test_hr_and_admin_delete_after_confirming(role, admin_db, client_for):
    client = client_for(role)
    qid = _question_id(admin_db, "Hvem bestemmer om jeg må arbejde hjemme")  # has a thumbs-down
    before = stored_counts(admin_db)
    page = client.post("/spoergsmaal/slet", data={"ids": str(qid), "next": "/spoergsmaal?status=alle"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Slet spørgsmålet?" in html and "Hvem bestemmer om jeg må arbejde hjemme" in html
    assert stored_counts(admin_db) == before  # nothing deleted before the confirmation
    done = client.post("/spoergsmaal/slet", data={"ids": str(qid), "confirm": "1", "next": "/spoergsmaal?status=alle"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/spoergsmaal?status=alle")
    assert _question_id(admin_db, "Hvem bestemmer om jeg må arbejde hjemme") is None
    assert stored_counts(admin_db) == (before[0] - 1, before[1] - 1, before[2] + 1)
    assert "1 spørgsmål og 1 feedback er slettet" in client.get("/spoergsmaal").get_data(as_text=True)


@pytest.mark.parametrize("role", ["leder", "omraadeleder"])
def test_leaders_may_not_delete(role, admin_db, client_for):
    qid = _question_id(admin_db, PAPEGOEJE)
    before = stored_counts(admin_db)
    response = client_for(role).post("/spoergsmaal/slet", data={"ids": str(qid), "confirm": "1"})
    assert response.status_code == 403
    assert stored_counts(admin_db) == before


def test_anonymous_is_sent_to_login(admin_db, client_for):
    response = client_for(None).post("/spoergsmaal/slet", data={"ids": "1", "confirm": "1"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_bad_and_unknown_ids(admin_db, client_for):
    client = client_for("hr")
    assert client.post("/spoergsmaal/slet", data={"ids": "", "confirm": "1"}).status_code == 400
    assert client.post("/spoergsmaal/slet", data={"ids": "999999", "confirm": "1"}).status_code == 404


def test_delete_button_only_for_hr_and_admin(admin_db, client_for):
    assert "/spoergsmaal/slet" in client_for("hr").get("/spoergsmaal").get_data(as_text=True)
    assert "/spoergsmaal/slet" not in client_for("leder").get("/spoergsmaal").get_data(as_text=True)


def test_csrf_is_required(admin_db):
    app = make_app(admin_db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"username": "hr", "password": PASSWORD, "csrf_token": token}).status_code == 302
    qid = _question_id(admin_db, PAPEGOEJE)
    before = stored_counts(admin_db)
    for data in ({"ids": str(qid), "confirm": "1"}, {"ids": str(qid), "confirm": "1", "csrf_token": "forfalsket"}):
        refused = client.post("/spoergsmaal/slet", data=data)
        assert refused.status_code == 400 and "(CSRF)" in refused.get_data(as_text=True)
    assert stored_counts(admin_db) == before
    queue = client.get("/spoergsmaal").get_data(as_text=True)
    confirm_page = client.post("/spoergsmaal/slet", data={"ids": str(qid), "csrf_token": csrf_token(queue)})
    html = confirm_page.get_data(as_text=True)
    assert html.count('method="post"') == html.count('name="csrf_token"')
    done = client.post("/spoergsmaal/slet", data={"ids": str(qid), "confirm": "1", "csrf_token": csrf_token(html)})
    assert done.status_code == 302 and _question_id(admin_db, PAPEGOEJE) is None


def test_question_text_is_escaped_on_the_confirmation_page(admin_db, client_for):
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(admin_db)
    row = Question(unit_id="dagplejen", text="<script>alert(1)</script>", outcome="unanswered")
    session.add(row)
    session.commit()
    qid = row.id
    session.close()
    html = client_for("hr").post("/spoergsmaal/slet", data={"ids": str(qid)}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
