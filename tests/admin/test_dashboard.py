"""The aktørskab dashboard: the numbers behind the charts, and the PNG charts themselves."""
from __future__ import annotations

import re

import pytest


def test_dashboard_numbers(client_for):
    html = client_for("hr").get("/aktoerskab?uger=8").get_data(as_text=True)
    figures = re.findall(r'<span class="big">(?:<a[^>]*>)?([^<]+)', html)
    # 9 questions: 6 unanswered, 3 answered, of which 2 about decisions the employee owns; one of those
    # two was reported wrong ("Fejl i svaret"), so 1 of 3 counts as "already yours".
    assert figures[:4] == ["9", "33 %", "33 %", "6"], figures
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
        # hjemmeplejen-syd's answer about its own decision was reported wrong: not "already yours".
        assert units == {"hjemmeplejen-syd": (1, 0), "hjemmeplejen-nord": (1, 1), "dagplejen": (1, 0)}
        weekly = dashboard.weekly(scope)
        assert sum(weekly["answered"]) == 3 and sum(weekly["yours"]) == 1 and sum(weekly["unanswered"]) == 6
        assert sum(weekly["disputed"]) == 1
        assert len(weekly["weeks"]) == 8 and weekly["weeks"][-1].weekday() == 0
        shares = [s for s in weekly["yours_share"] if s is not None]
        assert all(0 <= s <= 1 for s in shares)
        topics = dashboard.top_topics(scope)
        assert {t["id"] for t in topics} == {"soo-vikar", "soo-vagtbytte", "sk-hjemmearbejde"}


def test_leader_sees_only_own_units(client_for):
    html = client_for("leder").get("/aktoerskab?uger=8").get_data(as_text=True)
    figures = re.findall(r'<span class="big">(?:<a[^>]*>)?([^<]+)', html)
    assert figures[:3] == ["6", "33 %", "50 %"], figures  # one of the two answers was reported wrong
    assert "Dagplejen" not in html.split("Tallene pr. enhed")[1].split("</table>")[0]
    overdue = html.split("Poster, der skulle have været gennemgået")[1]
    assert "Leder" in overdue and "Omraadeleder" not in overdue


@pytest.mark.parametrize("name", ["uger", "besvaret", "emner", "egne-enheder", "egne-uger", "temaer", "tommel-ned"])
def test_charts_are_png(client_for, name):
    client = client_for("hr")
    response = client.get(f"/aktoerskab/graf/{name}.png?uger=13")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.data[:8] == b"\x89PNG\r\n\x1a\n" and len(response.data) > 5000
    again = client.get(f"/aktoerskab/graf/{name}.png?uger=13")
    assert again.data == response.data  # cached until the data changes
    assert client.get("/aktoerskab/graf/findes-ikke.png").status_code == 404


def test_charts_without_data(client_for):
    response = client_for("omraadeleder").get("/aktoerskab/graf/uger.png?enhed=dagtilbud-solsikken&uger=8")
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


def _feedback(url: str, question_text: str, value: str, days_ago: float = 1, **fields) -> None:
    """Add feedback ``value`` on the fixture question with ``question_text`` (dated inside the period)."""
    import datetime as dt

    from sqlalchemy import select

    from bot.db.models import Feedback, Question
    from bot.db.session import new_session
    from tests.admin.conftest import NOW

    session = new_session(url)
    question = session.execute(select(Question).where(Question.text == question_text)).scalar_one()
    values = dict(question_id=question.id, mandate_id=question.mandate_id, unit_id=question.unit_id,
                  value=value, created_at=NOW - dt.timedelta(days=days_ago))
    values.update(fields)
    session.add(Feedback(**values))
    session.commit()
    session.close()


def _figures(client) -> list[str]:
    html = client.get("/aktoerskab?uger=8").get_data(as_text=True)
    return re.findall(r'<span class="big">(?:<a[^>]*>)?([^<]+)', html)[:3]


def test_already_yours_leaves_out_thumbs_down_and_mistakes(admin_db, client_for):
    """A thumbs-down or "Fejl i svaret" on an answer takes it out of "already yours"; a thumbs-up does not."""
    client = client_for("leder")
    # Leader's units: two answers about the employee's own decisions; one is already reported wrong.
    assert _figures(client) == ["6", "33 %", "50 %"]
    _feedback(admin_db, "Må jeg selv bytte vagt?", "up")
    assert _figures(client) == ["6", "33 %", "50 %"]  # praise changes nothing (and the page is recomputed)
    # Feedback that names no question (a typed "Fejl i svaret" without a card) disputes no answer.
    _feedback(admin_db, "Må jeg selv bytte vagt?", "mistake", question_id=None)
    assert _figures(client) == ["6", "33 %", "50 %"]
    _feedback(admin_db, "Må jeg selv bytte vagt?", "down")
    assert _figures(client) == ["6", "33 %", "0 %"]  # the cached figures follow new feedback at once
    html = client.get("/aktoerskab?uger=8").get_data(as_text=True)
    assert "tælles ikke med som »allerede selv« (2 i perioden)" in html


def test_top_topics_only_yours_leaves_out_disputed_answers(admin_db):
    from flask_login import login_user
    from sqlalchemy import select

    from bot.admin import dashboard
    from bot.admin.auth import CurrentUser
    from bot.admin.common import db
    from bot.db.models import User
    from tests.admin.conftest import make_app

    with make_app(admin_db).test_request_context("/aktoerskab?uger=8"):
        login_user(CurrentUser(db().execute(select(User).where(User.username == "hr")).scalar_one(), "t"))
        scope = dashboard._scope()
        assert {t["id"] for t in dashboard.top_topics(scope)} == {"soo-vikar", "soo-vagtbytte", "sk-hjemmearbejde"}
        # soo-vikar's answer was reported wrong, sk-hjemmearbejde is the leader's decision.
        assert [(t["id"], t["count"]) for t in dashboard.top_topics(scope, only_yours=True)] == [("soo-vagtbytte", 1)]


def test_unanswered_themes_group_like_the_queue(admin_db, client_for):
    import datetime as dt

    from bot.db.models import Question
    from bot.db.session import new_session

    html = client_for("hr").get("/aktoerskab?uger=8").get_data(as_text=True)
    themes = html.split("<summary>Temaerne</summary>")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]+)</td><td>([^<]*)</td><td class=\"num\">(\d+)</td></tr>", themes)
    # The three flower questions from two units are one theme; the rest are one question each.
    assert rows[0][2] == "3" and "blomster" in rows[0][0]
    assert set(rows[0][1].split(", ")) == {"Hjemmeplejen Nord", "Hjemmeplejen Syd"}
    assert sorted(int(r[2]) for r in rows) == [1, 1, 1, 3]
    assert any("papegøje" in r[0] for r in rows)
    # A question HR set aside as not relevant is no theme.
    session = new_session(admin_db)
    session.query(Question).filter(Question.text.like("%papegøje%")).update(
        {"status": "not_relevant", "status_by": "hr", "status_at": dt.datetime(2026, 11, 29, 10)},
        synchronize_session=False)  # as the review queue sets it
    session.commit()
    session.close()
    html = client_for("hr").get("/aktoerskab?uger=8").get_data(as_text=True)
    assert "papegøje" not in html.split("<summary>Temaerne</summary>")[1].split("</table>")[0]
    # A leader sees the themes of their own units only.
    html = client_for("leder").get("/aktoerskab?uger=8").get_data(as_text=True)
    themes = html.split("<summary>Temaerne</summary>")[1].split("</table>")[0]
    assert "blomster" in themes and "legetøj" not in themes and "tandbørster" not in themes


def test_thumbs_down_per_entry(admin_db, client_for):
    _feedback(admin_db, "Må jeg selv vælge en vikar, når en kollega er syg?", "down")
    _feedback(admin_db, "Må jeg selv vælge en vikar, når en kollega er syg?", "mistake", days_ago=2)
    _feedback(admin_db, "Hvem bestemmer om jeg må arbejde hjemme?", "down")
    _feedback(admin_db, "Må jeg selv bytte vagt?", "up")
    _feedback(admin_db, "Må jeg selv bytte vagt?", "down", days_ago=100)  # before the period

    def rows(username):
        html = client_for(username).get("/aktoerskab?uger=8").get_data(as_text=True)
        table = html.split("<summary>Tallene pr. post</summary>")[1].split("</table>")[0]
        return re.findall(r'>([^<]+)</a></td><td class="num">(\d+)</td><td class="num">(\d+)</td>'
                          r'<td class="num">(\d+)</td>', table)

    assert rows("hr") == [("Afløser ved sygemelding samme dag", "1", "1", "1"),
                          ("Hjemmearbejde", "1", "0", "1")]
    assert rows("leder") == [("Afløser ved sygemelding samme dag", "1", "1", "1")]  # own units only


def test_time_axis_starts_at_the_first_question():
    import datetime as dt

    from bot.admin.charts import MIN_WEEKS, first_week_index

    mondays = [dt.date(2026, 6, 1) + dt.timedelta(weeks=i) for i in range(26)]
    assert first_week_index(mondays, None) == 0
    assert first_week_index(mondays, dt.date(2025, 1, 1)) == 0  # older than the period: all of it
    assert first_week_index(mondays, dt.date(2026, 9, 9)) == 14  # a Wednesday in the 15th week
    # A new installation (the first question this week) still shows a few weeks, not a single point.
    assert first_week_index(mondays, mondays[-1] + dt.timedelta(days=2)) == 26 - MIN_WEEKS
    assert first_week_index(mondays[:2], mondays[-1]) == 0


def _chart_texts(monkeypatch, draw) -> list[str]:
    """The texts on the chart ``draw()`` makes (the figure instead of its PNG)."""
    from bot.admin import charts

    made = []
    monkeypatch.setattr(charts, "_png", lambda fig: made.append(fig) or b"")
    draw()
    (fig,) = made
    ax = fig.axes[0]
    return [t.get_text() for t in ax.texts] + [ax.get_xlabel(), ax.get_title(loc="left")]


def test_share_chart_says_too_few_data(monkeypatch):
    import datetime as dt

    from bot.admin import charts

    weeks = [dt.date(2026, 11, 2) + dt.timedelta(weeks=i) for i in range(4)]
    texts = _chart_texts(monkeypatch, lambda: charts.share_per_week(
        weeks, [None, None, 0.5, 1.0], [0, 0, 4, 2], "Andel"))
    assert any(t.startswith("For få data: en udvikling vises fra 3 uger med spørgsmål (nu 2 uger)") for t in texts)
    texts = _chart_texts(monkeypatch, lambda: charts.share_per_week(
        weeks, [0.2, None, 0.5, 1.0], [5, 0, 4, 2], "Andel", started=dt.date(2026, 11, 3)))
    assert not any("For få data" in t for t in texts)
    assert {"20", "50", "100"} <= set(texts)  # the values are written at the points
    assert "Uge (første spørgsmål 3.11.2026)" in texts


def test_theme_labels_are_drawn_literally(monkeypatch):
    from bot.admin import charts

    texts = []
    monkeypatch.setattr(charts, "_png", lambda fig: texts.extend(
        t.get_text() for t in fig.axes[0].get_yticklabels()) or b"")
    charts.horizontal_bars(["Må jeg betale $5 og $10 for   kaffe?"], [2], "Temaer")
    assert texts == [r"Må jeg betale \$5 og \$10 for kaffe?"]  # no mathtext, whitespace folded


def test_demo_notice_only_with_demo_rows(admin_db, client_for):
    from bot.db.models import Question
    from bot.db.session import new_session

    client = client_for("hr")
    assert "Demodata" not in client.get("/aktoerskab").get_data(as_text=True)
    session = new_session(admin_db)
    session.query(Question).filter(Question.text.like("%papegøje%")).update({"demo": True}, synchronize_session=False)
    session.commit()
    session.close()
    assert "<strong>Demodata.</strong>" in client.get("/aktoerskab").get_data(as_text=True)
