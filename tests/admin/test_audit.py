"""The audit log: logins and admin changes are recorded; only admins see "Revisionslog"."""
from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from tests.admin.conftest import PASSWORD
from tests.admin.conftest import entry_form as _form


def _audit(url: str):
    from bot.db.models import AuditLog
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(AuditLog).order_by(AuditLog.id)).scalars().all()
    finally:
        session.close()


def test_logins_are_recorded_with_the_address_and_without_the_password(app, admin_db):
    client = app.test_client()
    client.post("/login", data={"username": "leder", "password": "hemmeligt-forkert"},
                environ_base={"REMOTE_ADDR": "10.3.3.3"})
    client.post("/login", data={"username": "findes-ikke", "password": "hemmeligt-forkert"},
                environ_base={"REMOTE_ADDR": "10.3.3.3"})
    client.post("/login", data={"username": "leder", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.3.3.4"})
    client.post("/logout", environ_base={"REMOTE_ADDR": "10.3.3.4"})
    rows = [(r.actor, r.action, r.address, r.detail) for r in _audit(admin_db)]
    assert rows == [
        ("leder", "login.failure", "10.3.3.3", {"reason": "wrong_password"}),
        (None, "login.failure", "10.3.3.3", {"reason": "unknown_user"}),  # a mistyped password is never kept
        ("leder", "login.success", "10.3.3.4", None),
        ("leder", "logout", "10.3.3.4", None),
    ]
    stored = json.dumps([[r.actor, r.target, r.detail] for r in _audit(admin_db)])
    assert "hemmeligt" not in stored and PASSWORD not in stored and "findes-ikke" not in stored


def test_entry_changes_are_recorded(client_for, admin_db):
    client = client_for("leder")
    form = _form(admin_db, "hpn-smaaindkoeb", summary="Nyt resumé til revisionsloggen.")
    assert client.post("/poster/hpn-smaaindkoeb/rediger", data=form).status_code == 302
    assert client.post("/poster/hpn-smaaindkoeb/udfas", data={"version": str(int(form["version"]) + 1),
                                                              "valid_to": "2026-12-31"}).status_code == 302
    changes = [(r.actor, r.action, r.target, r.detail) for r in _audit(admin_db) if r.action.startswith("entry.")]
    assert changes == [
        ("leder", "entry.update", "hpn-smaaindkoeb", {"fields": ["summary"]}),
        ("leder", "entry.retire", "hpn-smaaindkoeb", {"valid_to": "2026-12-31"}),
    ]


def test_a_refused_change_is_not_recorded(client_for, admin_db):
    form = _form(admin_db, "hpn-smaaindkoeb", summary="Må ikke gemmes.")
    assert client_for("omraadeleder").post("/poster/hpn-smaaindkoeb/rediger", data=form).status_code == 403
    assert not [r for r in _audit(admin_db) if r.action.startswith("entry.")]


def test_user_and_question_changes_are_recorded(client_for, admin_db):
    admin = client_for("admin")
    assert admin.post("/brugere/ny", data={"username": "ny-leder", "role": "leader",
                                           "units": "tandplejen"}).status_code == 200
    from bot.db.models import Question
    from bot.db.session import new_session

    session = new_session(admin_db)
    qid = session.execute(select(Question.id).where(Question.outcome == "unanswered")).scalars().first()
    session.close()
    assert admin.post("/spoergsmaal/status", data={"ids": str(qid), "status": "not_relevant"}).status_code == 302
    assert admin.post("/spoergsmaal/status", data={"ids": str(qid), "status": "answered", "confirm_risk": "1",
                                                   "mandate_id": "sk-hjemmearbejde"}).status_code == 302
    rows = {r.action: r for r in _audit(admin_db)}
    assert rows["user.create"].target == "ny-leder" and rows["user.create"].detail["role"] == "leader"
    assert rows["question.status"].target == str(qid) and rows["question.status"].detail["status"] == "not_relevant"
    assert rows["question.link"].detail == {"status": "answered", "mandate": "sk-hjemmearbejde"}


def test_only_admins_see_the_audit_log(client_for, app):
    for role in ("leder", "omraadeleder", "hr", "hr-redaktoer"):
        client = client_for(role)
        assert client.get("/revisionslog").status_code == 403, role
        assert "Revisionslog" not in client.get("/poster").get_data(as_text=True), role
    anonymous = app.test_client().get("/revisionslog")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    admin = client_for("admin")
    assert "Revisionslog" in admin.get("/poster").get_data(as_text=True)
    page = admin.get("/revisionslog").get_data(as_text=True)
    assert '<html lang="da">' in page and "Logget ind" in page and "127.0.0.1" in page


def test_the_page_filters_by_user_action_and_date_and_pages(client_for, app, admin_db):
    from bot.admin import audit
    from bot.db.models import AuditLog
    from bot.db.session import new_session

    session = new_session(admin_db)
    old = dt.datetime(2026, 1, 15, 12)
    for i in range(120):
        audit.record(session, "hr", "question.status", str(i), {"status": "not_relevant"})
    session.add(AuditLog(at=old, actor="leder", action="entry.update", target="gammel-post", detail={"fields": []}))
    session.commit()
    session.close()
    admin = client_for("admin")

    def rows(**query):
        html = admin.get("/revisionslog", query_string=query).get_data(as_text=True)
        return html.count('<tr class="audit-'), html

    count, html = rows(bruger="hr", handling="question.status")
    assert count == 50 and "120 hændelser" in html and "Side 1 af 3" in html
    count, html = rows(bruger="hr", handling="question.status", side=3)
    assert count == 20
    count, html = rows(handling="entry")
    assert count == 1 and "gammel-post" in html and "Post ændret" in html
    count, html = rows(fra="2026-01-15", til="2026-01-15")
    assert count == 1 and "gammel-post" in html
    count, _ = rows(til="2026-01-14")
    assert count == 0
    count, html = rows(handling="login", bruger="ADMIN")
    assert count == 1 and "Logget ind" in html  # the admin's own login in this test
