"""The aktørskab dashboard: the numbers behind the charts, and the PNG charts themselves."""
from __future__ import annotations

import re

import pytest


def test_dashboard_numbers(client_for):
    html = client_for("hr").get("/aktoerskab?uger=8").get_data(as_text=True)
    figures = re.findall(r'<span class="big">(?:<a[^>]*>)?([^<]+)', html)
    # 9 questions: 6 unanswered, 3 answered, of which 2 about decisions the employee owns.
    assert figures[:4] == ["9", "33 %", "67 %", "6"], figures
    assert "Hjemmeplejen Syd" in html and "Hjemmeplejen Nord" in html
    assert "Poster, der skulle have været gennemgået" in html


def test_already_yours_per_unit_and_week(admin_db, client_for):
    from bot.admin import dashboard
    from tests.admin.conftest import make_app

    app = make_app(admin_db)
    with app.test_request_context("/aktoerskab?uger=8"):
        from flask_login import login_user
        from sqlalchemy import select

        from bot.admin.auth import CurrentUser
        from bot.admin.common import db
        from bot.db.models import User

        login_user(CurrentUser(db().execute(select(User).where(User.username == "hr")).scalar_one(), "test-token"))
        scope = dashboard._scope()
        units = {u["unit"]: (u["answered"], u["yours"]) for u in dashboard.per_unit(scope)}
        assert units == {"hjemmeplejen-syd": (1, 1), "hjemmeplejen-nord": (1, 1), "dagplejen": (1, 0)}
        weekly = dashboard.weekly(scope)
        assert sum(weekly["answered"]) == 3 and sum(weekly["yours"]) == 2 and sum(weekly["unanswered"]) == 6
        assert len(weekly["weeks"]) == 8 and weekly["weeks"][-1].weekday() == 0
        shares = [s for s in weekly["yours_share"] if s is not None]
        assert all(0 <= s <= 1 for s in shares)
        topics = dashboard.top_topics(scope)
        assert {t["id"] for t in topics} == {"soo-vikar", "soo-vagtbytte", "sk-hjemmearbejde"}


def test_leader_sees_only_own_units(client_for):
    html = client_for("leder").get("/aktoerskab?uger=8").get_data(as_text=True)
    figures = re.findall(r'<span class="big">(?:<a[^>]*>)?([^<]+)', html)
    assert figures[:3] == ["6", "33 %", "100 %"], figures
    assert "Dagplejen" not in html.split("Tallene pr. enhed")[1].split("</table>")[0]
    overdue = html.split("Poster, der skulle have været gennemgået")[1]
    assert "Leder" in overdue and "Omraadeleder" not in overdue


@pytest.mark.parametrize("name", ["uger", "besvaret", "emner", "egne-enheder", "egne-uger"])
def test_charts_are_png(client_for, name):
    client = client_for("hr")
    response = client.get(f"/aktoerskab/graf/{name}.png?uger=13")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n" and len(response.data) > 5000
    again = client.get(f"/aktoerskab/graf/{name}.png?uger=13")
    assert again.data == response.data  # cached until the data changes
    assert client.get("/aktoerskab/graf/findes-ikke.png").status_code == 404


def test_charts_without_data(client_for):
    response = client_for("omraadeleder").get("/aktoerskab/graf/uger.png?enhed=tandplejen&uger=8")
    assert response.status_code == 200 and response.mimetype == "image/png"


def test_overdue_reviews_per_leader(admin_db, client_for):
    import datetime as dt

    from bot.db.models import Mandate
    from bot.db.session import new_session

    session = new_session(admin_db)
    session.get(Mandate, "hpn-smaaindkoeb").review_by = dt.date(2026, 1, 1)
    session.get(Mandate, "dpl-legestue").review_by = dt.date(2026, 2, 1)
    session.commit()
    session.close()
    html = client_for("hr").get("/aktoerskab").get_data(as_text=True)
    section = html.split("Poster, der skulle have været gennemgået")[1]
    assert "Småindkøb i Hjemmeplejen Nord" in section and "Deltagelse i legestue" in section
    assert "Enheder uden leder i admin-appen" in section  # municipality-level entries have no leader user
