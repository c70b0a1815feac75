"""Server-side admin sessions: logout, password changes, resets and timeouts end them on the server."""
from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import select

from tests.admin.conftest import PASSWORD, login, make_app
from tests.admin.test_throttle import FakeClock

COOKIE = "mandat_admin"


def _cookie(client) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _with_cookie(app, value: str):
    """A new browser that carries a copy of someone's session cookie."""
    client = app.test_client()
    client.set_cookie(COOKIE, value)
    return client


def _sessions(url: str, username: str):
    from bot.db.models import AdminSession, User
    from bot.db.session import new_session

    session = new_session(url)
    try:
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        return session.execute(select(AdminSession).where(AdminSession.user_id == user.id)
                               .order_by(AdminSession.created_at)).scalars().all()
    finally:
        session.close()


def _logged_in(client) -> bool:
    response = client.get("/poster")
    assert response.status_code in (200, 302)
    return response.status_code == 200


@pytest.fixture()
def clock():
    return FakeClock()


@pytest.fixture()
def app(admin_db, clock):
    return make_app(admin_db, MANDAT_CLOCK=clock, SESSION_MINUTES=30, SESSION_MAX_HOURS=2)


def test_a_copied_cookie_is_rejected_after_logout(app, admin_db):
    client = login(app.test_client(), "leder")
    copied = _cookie(client)
    assert _logged_in(_with_cookie(app, copied))  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert not _logged_in(client)
    thief = _with_cookie(app, copied)
    assert not _logged_in(thief)
    [record] = _sessions(admin_db, "leder")
    assert record.ended_at is not None and record.end_reason == "logout"


def test_the_cookie_carries_a_random_token_and_the_table_only_its_hash(app, admin_db):
    client = login(app.test_client(), "leder")
    serializer = app.session_interface.get_signing_serializer(app)
    token = serializer.loads(_cookie(client))["_user_id"]
    [record] = _sessions(admin_db, "leder")
    assert len(token) >= 40 and token != str(record.user_id)
    assert record.id == hashlib.sha256(token.encode()).hexdigest() != token
    assert record.ended_at is None and record.address == "127.0.0.1"


def test_a_password_change_ends_every_other_session(app, admin_db):
    first, second = login(app.test_client(), "hr"), login(app.test_client(), "hr")
    before = _cookie(first)
    response = first.post("/konto", data={"current": PASSWORD, "new": "et-helt-nyt-kodeord",
                                          "repeat": "et-helt-nyt-kodeord"})
    assert response.status_code == 302
    assert _logged_in(first)                          # the browser that changed it continues...
    assert _cookie(first) != before                   # ...in a new session
    assert not _logged_in(second)
    assert not _logged_in(_with_cookie(app, before))  # a copy of its old cookie is dead too
    reasons = sorted(s.end_reason or "live" for s in _sessions(admin_db, "hr"))
    assert reasons == ["live", "password", "password"]


def test_an_admin_password_reset_or_deactivation_ends_the_users_sessions(app, admin_db):
    admin = login(app.test_client(), "admin")
    hr = login(app.test_client(), "hr")
    leader = login(app.test_client(), "leder")
    ids = {s.username: s.id for s in _users(admin_db)}
    assert admin.post(f"/brugere/{ids['hr']}/adgangskode").status_code == 200
    assert not _logged_in(hr)
    assert admin.post(f"/brugere/{ids['leder']}", data={"role": "leader", "units": "hjemmeplejen-nord"}).status_code == 302
    assert not _logged_in(leader)
    assert _logged_in(admin)
    assert [s.end_reason for s in _sessions(admin_db, "leder")] == ["deactivated"]


def _users(url):
    from bot.db.models import User
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return session.execute(select(User)).scalars().all()
    finally:
        session.close()


def test_a_password_set_outside_the_app_ends_sessions(app, admin_db):
    from bot.db.models import User
    from bot.db.session import new_session

    client = login(app.test_client(), "leder")
    session = new_session(admin_db)
    user = session.execute(select(User).where(User.username == "leder")).scalar_one()
    user.set_password("sat-fra-kommandolinjen")  # as `mandat users set-password` does
    session.commit()
    session.close()
    assert not _logged_in(client)
    assert [s.end_reason for s in _sessions(admin_db, "leder")] == ["password"]


def test_idle_timeout_is_checked_on_the_server(app, admin_db, clock):
    client = login(app.test_client(), "leder")
    for _ in range(3):  # activity keeps the session alive past the idle limit
        clock.advance(20 * 60)
        assert _logged_in(client)
    # A cookie whose own time stamp is fresh is still refused when the server saw no request for 31 minutes.
    from bot.db.models import AdminSession
    from bot.db.session import new_session

    session = new_session(admin_db)
    record = session.execute(select(AdminSession)).scalar_one()
    record.last_seen_at -= dt.timedelta(minutes=31)
    session.commit()
    session.close()
    response = client.get("/poster")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "ikke har været aktiv" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [s.end_reason for s in _sessions(admin_db, "leder")] == ["idle"]


def test_idle_browser_is_logged_out(app, admin_db, clock):
    client = login(app.test_client(), "leder")
    copied = _cookie(client)
    clock.advance(31 * 60)
    assert not _logged_in(client)
    assert not _logged_in(_with_cookie(app, copied))
    assert [s.end_reason for s in _sessions(admin_db, "leder")] == ["idle"]


def test_absolute_timeout_ends_even_an_active_session(app, admin_db, clock):
    client = login(app.test_client(), "leder")
    for _ in range(4):  # active every 25 minutes: 1 h 40 min
        clock.advance(25 * 60)
        assert _logged_in(client)
    clock.advance(25 * 60)  # 2 h 5 min after login
    response = client.get("/poster")
    assert response.status_code == 302
    assert "logget ind længe" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [s.end_reason for s in _sessions(admin_db, "leder")] == ["expired"]


def test_an_old_style_cookie_is_not_accepted(app):
    """A cookie from before server-side sessions (``<user id>:<fingerprint>``) logs nobody in."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:0123456789abcdef"
        session["_fresh"] = True
        session["seen"] = 1e12
    assert not _logged_in(client)


def test_timeouts_come_from_the_environment(admin_db, monkeypatch):
    from bot.admin import create_app

    monkeypatch.delenv("MANDAT_ADMIN_SESSION_MINUTES", raising=False)
    monkeypatch.setenv("MANDAT_ADMIN_SESSION_IDLE_MIN", "15")
    monkeypatch.setenv("MANDAT_ADMIN_SESSION_MAX_H", "8")
    app = create_app({"DATABASE_URL": admin_db, "SECRET_KEY": "x"})
    assert (app.config["SESSION_MINUTES"], app.config["SESSION_MAX_HOURS"]) == (15, 8.0)
    assert app.permanent_session_lifetime.total_seconds() == 15 * 60
    monkeypatch.setenv("MANDAT_ADMIN_SESSION_IDLE_MIN", "0")
    with pytest.raises(ValueError, match="MANDAT_ADMIN_SESSION_IDLE_MIN"):
        create_app({"DATABASE_URL": admin_db, "SECRET_KEY": "x"})
