"""Login, logout, session expiry, CSRF, password changes."""
from __future__ import annotations

import time

from tests.admin.conftest import PASSWORD, csrf_token, login, make_app


def test_login_and_logout(app):
    client = app.test_client()
    assert client.get("/poster").status_code == 302
    response = client.post("/login", data={"username": "leder", "password": "forkert"})
    assert response.status_code == 401 and "Forkert brugernavn eller adgangskode" in response.get_data(as_text=True)
    response = client.post("/login?next=/aktoerskab", data={"username": "LEDER", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/aktoerskab"
    assert client.get("/poster").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/poster").status_code == 302


def test_login_refuses_open_redirects(app):
    response = app.test_client().post("/login?next=//evil.example/x", data={"username": "hr", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_repeated_failures_slow_the_address_for_a_while(admin_db):
    """Failures back off (HTTP 429 with Retry-After) instead of locking the account: waiting is enough."""
    from tests.admin.test_throttle import FakeClock

    clock = FakeClock()
    client = make_app(admin_db, MANDAT_CLOCK=clock).test_client()
    for _ in range(3):
        client.post("/login", data={"username": "hr", "password": "forkert"})
    response = client.post("/login", data={"username": "hr", "password": PASSWORD})
    assert response.status_code == 429 and "For mange forkerte forsøg" in response.get_data(as_text=True)
    clock.advance(int(response.headers["Retry-After"]))
    login(client, "hr")


def test_deactivated_user_cannot_log_in_and_is_logged_out(admin_db, app):
    from sqlalchemy import update

    from bot.db.models import User
    from bot.db.session import new_session

    client = login(app.test_client(), "leder")
    session = new_session(admin_db)
    session.execute(update(User).where(User.username == "leder").values(active=False))
    session.commit()
    session.close()
    assert client.get("/poster").status_code == 302
    assert app.test_client().post("/login", data={"username": "leder", "password": PASSWORD}).status_code == 401


def test_session_expires_after_idle_time(admin_db):
    app = make_app(admin_db, SESSION_MINUTES=30)
    assert app.permanent_session_lifetime.total_seconds() == 30 * 60
    client = login(app.test_client(), "leder")
    assert client.get("/poster").status_code == 200
    with client.session_transaction() as session:
        assert session.permanent
        session["seen"] = time.time() - 31 * 60
    response = client.get("/poster")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "ikke har været aktiv" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/poster").status_code == 302


def test_session_minutes_from_environment(admin_db, monkeypatch):
    monkeypatch.setenv("MANDAT_ADMIN_SESSION_MINUTES", "5")
    from bot.admin import create_app

    app = create_app({"DATABASE_URL": admin_db, "SECRET_KEY": "x"})
    assert app.permanent_session_lifetime.total_seconds() == 300


def test_password_change_ends_other_sessions(app):
    first, second = login(app.test_client(), "hr"), login(app.test_client(), "hr")
    response = first.post("/konto", data={"current": PASSWORD, "new": "et-helt-nyt-kodeord", "repeat": "et-helt-nyt-kodeord"})
    assert response.status_code == 302
    assert first.get("/poster").status_code == 200
    assert second.get("/poster").status_code == 302
    login(app.test_client(), "hr", "et-helt-nyt-kodeord")


def test_csrf_is_required_on_every_form(admin_db):
    """With CSRF on (as in production), posts without the token are refused and change nothing."""
    app = make_app(admin_db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    refused = client.post("/login", data={"username": "leder", "password": PASSWORD})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    response = client.post("/login", data={"username": "leder", "password": PASSWORD, "csrf_token": csrf_token(page)})
    assert response.status_code == 302

    edit_page = client.get("/poster/hpn-smaaindkoeb/rediger").get_data(as_text=True)
    token = csrf_token(edit_page)
    from tests.admin.conftest import entry_form as _form
    from tests.admin.test_entries import _entry

    form = _form(admin_db, "hpn-smaaindkoeb", summary="Ændret uden token.")
    for path, data in (("/poster/hpn-smaaindkoeb/rediger", form), ("/poster/ny", form),
                       ("/poster/hpn-smaaindkoeb/udfas", {"version": form["version"]}),
                       ("/spoergsmaal/status", {"ids": "1", "status": "not_relevant"}),
                       ("/forhaandsvisning", {"question": "x", "unit": "hjemmeplejen-nord"}),
                       ("/import", {}), ("/konto", {}), ("/logout", {})):
        for attempt in (data, {**data, "csrf_token": "forfalsket"}):
            refused = client.post(path, data=attempt)
            assert refused.status_code == 400 and "(CSRF)" in refused.get_data(as_text=True), path
    assert _entry(admin_db, "hpn-smaaindkoeb").summary != "Ændret uden token."
    assert client.post("/poster/hpn-smaaindkoeb/rediger", data={**form, "csrf_token": token}).status_code == 302
    assert _entry(admin_db, "hpn-smaaindkoeb").summary == "Ændret uden token."
    # Every form on the main pages carries the token.
    for path in ("/poster/hpn-smaaindkoeb", "/poster/hpn-smaaindkoeb/rediger", "/spoergsmaal", "/import-eksport",
                 "/konto"):
        html = client.get(path).get_data(as_text=True)
        assert html.count('method="post"') == html.count('name="csrf_token"'), path


def test_security_headers(client_for):
    response = client_for("hr").get("/poster")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_are_danish(client_for):
    client = client_for("admin")
    for path in ("/poster", "/spoergsmaal", "/aktoerskab", "/import-eksport", "/brugere", "/konto",
                 "/forhaandsvisning", "/poster/findes-ikke"):
        html = client.get(path).get_data(as_text=True)
        assert '<html lang="da">' in html, path
