""""Gode historier" in the admin app (issue 16, part 3): HR approves or declines, leaders read the
approved shareable stories of their units, the dashboard shows them, the intranet export has no
pseudonyms; approving is CSRF-protected and audited."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.admin.conftest import NOW, csrf_token, make_app

SECRET_TEXT = "Vi løste selv en vandskade <script>alert(1)</script> hos [NAVN]."


def add_story(url, unit="hjemmeplejen-nord", what="Vi flyttede selv en borgers besøg, så hun nåede lægen.",
              own="Jeg byttede selv ruten med en kollega.", may_share=True, status="new", days=2,
              pseudonym="p" * 32) -> int:
    from bot.db.models import Story
    from bot.db.session import session_scope

    with session_scope(url) as session:
        story = Story(created_at=NOW - dt.timedelta(days=days), unit_id=unit, user_pseudonym=pseudonym,
                      what_happened=what, own_decision=own, may_share=may_share, status=status,
                      status_by="hr" if status != "new" else None,
                      status_at=NOW if status != "new" else None)
        session.add(story)
        session.flush()
        return story.id


def story(url, story_id):
    from bot.db.models import Story
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.get(Story, story_id)
    finally:
        session.close()


def audit_rows(url, action):
    from bot.db.models import AuditLog
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(AuditLog).where(AuditLog.action == action)).scalars().all()
    finally:
        session.close()


def test_hr_approves_and_declines_with_audit(admin_db, client_for):
    first, second = add_story(admin_db), add_story(admin_db, unit="dagplejen", what=SECRET_TEXT)
    hr = client_for("hr")
    html = hr.get("/gode-historier").get_data(as_text=True)
    assert "Gode historier" in html and 'href="/gode-historier"' in html  # nav link
    assert "Vi flyttede selv en borgers besøg" in html and "Godkend" in html and "Afvis" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "p" * 32 not in html
    response = hr.post(f"/gode-historier/{first}/status", data={"status": "approved", "next": "/gode-historier"})
    assert response.status_code == 302
    row = story(admin_db, first)
    assert (row.status, row.status_by) == ("approved", "hr") and row.status_at is not None
    assert hr.post(f"/gode-historier/{second}/status", data={"status": "declined"}).status_code == 302
    assert story(admin_db, second).status == "declined"
    rows = audit_rows(admin_db, "story.status")
    assert [(r.actor, r.target, r.detail) for r in rows] == [
        ("hr", str(first), {"status": "approved"}), ("hr", str(second), {"status": "declined"})]
    assert "Status på god historie" in client_for("admin").get("/revisionslog?handling=story").get_data(as_text=True)
    # The new-stories list is empty now; the approved one is under "godkendt".
    assert "Ingen nye historier" in hr.get("/gode-historier").get_data(as_text=True)
    assert "Vi flyttede selv" in hr.get("/gode-historier?status=godkendt").get_data(as_text=True)
    assert hr.post(f"/gode-historier/{first}/status", data={"status": "published"}).status_code == 400
    assert hr.post("/gode-historier/9999/status", data={"status": "approved"}).status_code == 404


def test_a_leader_cannot_approve_and_sees_only_approved_shareable_stories_of_their_units(admin_db, client_for):
    waiting = add_story(admin_db, what="Ny historie fra Nord, ikke læst.")
    add_story(admin_db, what="Godkendt historie fra Nord.", status="approved")
    add_story(admin_db, what="Godkendt, men kun til HR.", status="approved", may_share=False)
    add_story(admin_db, unit="dagplejen", what="Godkendt historie fra Dagplejen.", status="approved")
    leader = client_for("leder")
    for data in ({"status": "approved"}, {"status": "declined"}):
        assert leader.post(f"/gode-historier/{waiting}/status", data=data).status_code == 403
    assert story(admin_db, waiting).status == "new" and not audit_rows(admin_db, "story.status")
    html = leader.get("/gode-historier?status=ny").get_data(as_text=True)
    assert "Godkendt historie fra Nord." in html
    assert "Ny historie fra Nord" not in html and "kun til HR" not in html and "Dagplejen." not in html
    assert "Godkend</button>" not in html and "/status" not in html
    assert leader.get("/gode-historier?enhed=dagplejen").status_code == 403
    export = leader.get("/gode-historier/intranet.md").get_data(as_text=True)
    assert "Godkendt historie fra Nord." in export and "Dagplejen" not in export


def test_the_dashboard_shows_approved_shareable_stories_of_its_scope(admin_db, client_for):
    add_story(admin_db, what="Godkendt historie fra Nord.", status="approved")
    add_story(admin_db, what="Endnu ikke godkendt.")
    add_story(admin_db, what="Afvist historie.", status="declined")
    add_story(admin_db, what="Godkendt, men kun til HR.", status="approved", may_share=False)
    add_story(admin_db, unit="dagplejen", what="Godkendt fra Dagplejen.", status="approved")
    add_story(admin_db, what="Godkendt for et år siden.", status="approved", days=400)
    html = client_for("hr").get("/aktoerskab?uger=8").get_data(as_text=True)
    section = html[html.index('id="gode-historier"'):]
    assert "Godkendt historie fra Nord." in section and "Godkendt fra Dagplejen." in section
    for hidden in ("Endnu ikke godkendt", "Afvist historie", "kun til HR", "for et år siden"):
        assert hidden not in html
    assert "Hjemmeplejen Nord, " in section
    leader = client_for("leder").get("/aktoerskab?uger=8").get_data(as_text=True)
    assert "Godkendt historie fra Nord." in leader and "Godkendt fra Dagplejen." not in leader
    area = client_for("omraadeleder").get("/aktoerskab?uger=8").get_data(as_text=True)  # Børn og Unge
    assert "Godkendt fra Dagplejen." in area and "fra Nord" not in area
    empty = client_for("hr").get("/aktoerskab?uger=8&enhed=tandplejen").get_data(as_text=True)
    assert "Ingen godkendte historier i perioden" in empty and "Godkendt" not in empty


def test_intranet_export_is_markdown_with_danish_headings_and_no_pseudonyms(admin_db, client_for):
    add_story(admin_db, what="Godkendt historie fra Nord.", status="approved", pseudonym="a" * 32)
    add_story(admin_db, unit="dagplejen", what=SECRET_TEXT, own=None, status="approved", pseudonym="b" * 32)
    add_story(admin_db, what="Endnu ikke godkendt.", pseudonym="c" * 32)
    response = client_for("hr").get("/gode-historier/intranet.md")
    assert response.status_code == 200 and response.mimetype == "text/markdown"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("# Gode historier\n")
    assert "## Hjemmeplejen Nord, " in text and "## Dagplejen, " in text and "**Det skete:**" in text
    assert "**Det besluttede medarbejderen selv:**" in text
    assert "Endnu ikke godkendt" not in text
    assert not any(p * 32 in text for p in "abc") and "status" not in text.lower()
    assert "<script>" not in text
    only = client_for("hr").get("/gode-historier/intranet.md?enhed=dagplejen").get_data(as_text=True)
    assert only.startswith("# Gode historier fra Dagplejen") and "Nord" not in only


def test_approving_needs_the_csrf_token(admin_db):
    from tests.admin.conftest import PASSWORD

    story_id = add_story(admin_db)
    client = make_app(admin_db, WTF_CSRF_ENABLED=True).test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "hr", "password": PASSWORD, "csrf_token": csrf_token(page)})
    html = client.get("/gode-historier").get_data(as_text=True)
    assert html.count('method="post"') == html.count('name="csrf_token"')
    for attempt in ({"status": "approved"}, {"status": "approved", "csrf_token": "forfalsket"}):
        refused = client.post(f"/gode-historier/{story_id}/status", data=attempt)
        assert refused.status_code == 400 and "(CSRF)" in refused.get_data(as_text=True)
    assert story(admin_db, story_id).status == "new"
    token = csrf_token(html)
    assert client.post(f"/gode-historier/{story_id}/status",
                       data={"status": "approved", "csrf_token": token}).status_code == 302
    assert story(admin_db, story_id).status == "approved"


@pytest.mark.parametrize("role, can", [("admin", True), ("hr", True), ("hr-redaktoer", True), ("leder", False)])
def test_access_rules(admin_db, client_for, role, can):
    story_id = add_story(admin_db)
    response = client_for(role).post(f"/gode-historier/{story_id}/status", data={"status": "approved"})
    assert response.status_code == (302 if can else 403)
    assert client_for(None).get("/gode-historier").status_code == 302  # login first
