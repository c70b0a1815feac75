"""Ask an expert (issue 16): who a stored question goes to, the open questions and stale entries of a
leader or HR, answering (reply, link) and "Stadig rigtig" (bot/inbox.py, bot/domain.py)."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import select

from bot import inbox
from bot.db.models import Mandate, MandateHistory, Question, User
from bot.domain import REVIEW_PERIOD_MONTHS, next_review_date
from tests.conftest import TODAY


def _user(session, username: str, role: str, units=(), active: bool = True) -> User:
    user = User(username=username, display_name=username.capitalize(), role=role, units=list(units),
                active=active, password_hash="x")
    session.add(user)
    session.flush()
    return user


@pytest.fixture()
def accounts(demo_db, session):
    """A leader of Hjemmeplejen Nord, an area leader of Børn og Unge, two HR users (one inactive)."""
    users = {
        "nord": _user(session, "nord", "leader", ["hjemmeplejen-nord"]),
        "bu": _user(session, "bu", "leader", ["boern-og-unge"]),
        "hr": _user(session, "hr", "hr"),
        "hr-gammel": _user(session, "hr-gammel", "hr", active=False),
        "gammel-leder": _user(session, "gammel-leder", "leader", ["vej-og-park"], active=False),
    }
    session.commit()
    return users


def test_a_question_goes_to_the_leader_of_the_unit_else_up_the_tree_else_hr(accounts, session):
    router = inbox.Router.load(session)
    assert router.route("hjemmeplejen-nord") == inbox.Route("hjemmeplejen-nord", ("nord",))
    # Dagplejen has no leader account: the nearest unit above with one, Børn og Unge.
    assert router.route("dagplejen") == inbox.Route("boern-og-unge", ("bu",))
    assert router.route("boern-og-unge").usernames == ("bu",)
    # Hjemmeplejen Syd: no leader there, nor in Sundhed og Omsorg, nor the municipality: HR.
    assert router.route("hjemmeplejen-syd").to_hr
    # An inactive leader account does not count; an unknown unit or none goes to HR.
    assert router.route("vej-og-park").to_hr and router.route("findes-ikke").to_hr and router.route(None).to_hr
    assert [u.username for u in inbox.recipients(session, router, "vej-og-park")] == ["hr"]
    assert [u.username for u in inbox.recipients(session, router, "dagplejen")] == ["bu"]


def test_a_new_leader_account_takes_over_at_once(accounts, session):
    session.add(Question(unit_id="dagplejen", text="Må vi selv købe legetøj?", outcome="unanswered", status="new"))
    session.commit()
    assert [q.text for q in inbox.open_questions(session, accounts["bu"])] == ["Må vi selv købe legetøj?"]
    dagpleje = _user(session, "dagpleje", "leader", ["dagplejen"])
    session.commit()
    assert inbox.open_questions(session, accounts["bu"]) == []
    assert [q.text for q in inbox.open_questions(session, dagpleje)] == ["Må vi selv købe legetøj?"]
    assert inbox.open_count(session, dagpleje) == 1 and inbox.open_count(session, accounts["bu"]) == 0


def test_open_questions_are_the_unanswered_new_ones_and_hr_gets_the_rest(accounts, session):
    rows = [
        Question(unit_id="hjemmeplejen-nord", text="åben", outcome="unanswered", status="new"),
        Question(unit_id="hjemmeplejen-nord", text="besvaret af botten", outcome="answered", status="answered",
                 mandate_id="soo-vikar"),
        Question(unit_id="hjemmeplejen-nord", text="lagt til side", outcome="unanswered", status="not_relevant"),
        Question(unit_id="hjemmeplejen-nord", text="demo", outcome="unanswered", status="new", demo=True),
        Question(unit_id="hjemmeplejen-syd", text="til HR", outcome="unanswered", status="new"),
        Question(unit_id=None, text="uden enhed", outcome="unanswered", status="new"),
    ]
    session.add_all(rows)
    session.commit()
    assert [q.text for q in inbox.open_questions(session, accounts["nord"])] == ["åben"]
    assert sorted(q.text for q in inbox.open_questions(session, accounts["hr"])) == ["til HR", "uden enhed"]
    assert sorted(q.text for q in inbox.open_questions(session, accounts["hr"], everything=True)) == [
        "til HR", "uden enhed", "åben"]
    # A leader never sees everything, whatever they ask for.
    assert [q.text for q in inbox.open_questions(session, accounts["nord"], everything=True)] == ["åben"]


def test_none_of_them_after_a_clarifying_question_goes_to_the_leader(accounts, session):
    """The service stores a clarified question; "Ingen af dem" (the action) leaves it open: it is routed."""
    from actions import actions
    from bot.decide import load_models
    from bot.retrieval import Retriever
    from bot.service import default_service
    from tests.test_actions import run, tracker

    default_service.cache_clear()
    service = default_service()
    service.retriever = Retriever({mode: dataclasses.replace(model, t_answer=1.01, t_clarify=0.0)
                                   for mode, model in load_models(service.settings.decision_model).items()})
    try:
        outcome = service.answer("Må vi bytte vagt?", "hjemmeplejen-nord", user_id="medarbejder-1")
        assert outcome.reply.custom["type"] == "clarify"
        options = [o["mandate_id"] for o in outcome.reply.custom["options"]]
        run(actions.ActionChooseMandate(), tracker(
            '/choose_mandate{"mandate_id": "none"}', intent="choose_mandate",
            entities=[{"entity": "mandate_id", "value": "none"}, {"entity": "question_id", "value": outcome.question_id}],
            slots={"unit": "hjemmeplejen-nord", "clarify_options": options, "last_question_id": outcome.question_id}))
    finally:
        default_service.cache_clear()
    session.expire_all()
    routed = inbox.open_questions(session, accounts["nord"])
    assert [q.id for q in routed] == [outcome.question_id] and routed[0].offered == options


def test_a_reply_is_redacted_and_records_who_answered_and_when(accounts, session):
    question = Question(unit_id="hjemmeplejen-nord", text="Må jeg?", outcome="unanswered", status="new")
    session.add(question)
    session.flush()
    now = dt.datetime(2026, 11, 29, 10, 0)
    inbox.mark_answered(question, "nord", reply="  Ja. Ring til borgeren på 22 33 44 55, CPR 010203-1234.  ",
                        now=now)
    assert "22 33 44 55" not in question.reply_text and "010203-1234" not in question.reply_text
    assert question.reply_text.startswith("Ja. Ring til borgeren")
    assert (question.status, question.status_by, question.answered_by, question.answered_at) == (
        "answered", "nord", "nord", now)
    assert question.notified_at is None and question.resolved_mandate_id is None
    for bad in ("", "   ", "x" * (inbox.MAX_REPLY_CHARS + 1)):
        with pytest.raises(ValueError):
            inbox.mark_answered(Question(text="?", outcome="unanswered", status="new"), "nord", reply=bad)
    with pytest.raises(ValueError):
        inbox.mark_answered(question, "nord")


def test_linking_sets_answered_at_only_for_a_question_the_bot_did_not_answer(accounts, session):
    open_ = Question(unit_id="hjemmeplejen-nord", text="Må jeg?", outcome="unanswered", status="new")
    disputed = Question(unit_id="hjemmeplejen-nord", text="Må jeg bytte?", outcome="answered", status="answered",
                        mandate_id="soo-vagtbytte")
    for question in (open_, disputed):
        inbox.mark_answered(question, "hr", mandate_id="soo-vikar")
    assert (open_.resolved_mandate_id, open_.answered_by, open_.status) == ("soo-vikar", "hr", "answered")
    assert open_.answered_at is not None
    assert disputed.resolved_mandate_id == "soo-vikar" and disputed.answered_at is None
    inbox.clear_answer(open_)
    assert open_.answered_at is None and open_.answered_by is None


def test_next_review_date_is_the_documented_period_ahead():
    assert REVIEW_PERIOD_MONTHS == 12
    assert next_review_date(dt.date(2026, 11, 29)) == dt.date(2027, 11, 29)
    assert next_review_date(dt.date(2028, 2, 29)) == dt.date(2029, 2, 28)
    assert next_review_date(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert next_review_date(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)
    with pytest.raises(ValueError):
        next_review_date(dt.date(2026, 1, 1), -1)


def test_stale_entries_are_routed_like_questions_and_confirming_sets_a_new_date(accounts, session):
    past = TODAY - dt.timedelta(days=10)
    session.get(Mandate, "hpn-smaaindkoeb").review_by = past
    session.get(Mandate, "hpn-rutebytte").review_by = past
    session.get(Mandate, "hpn-rutebytte").valid_to = TODAY - dt.timedelta(days=1)  # expired: not stale
    session.commit()
    nord = [e.id for e in inbox.stale_entries(session, accounts["nord"], TODAY)]
    assert nord == ["hpn-smaaindkoeb"]
    # The municipality's entries past review (demo: sk-hjemmearbejde, sk-billeder) have no leader: HR.
    hr = [e.id for e in inbox.stale_entries(session, accounts["hr"], TODAY)]
    assert "sk-hjemmearbejde" in hr and "hpn-smaaindkoeb" not in hr
    assert inbox.stale_entries(session, accounts["bu"], TODAY) == []

    entry = session.get(Mandate, "hpn-smaaindkoeb")
    version = entry.version
    new = inbox.confirm_review(session, entry, "nord", TODAY)
    session.commit()
    assert new == dt.date(2027, 11, 29) and entry.review_by == new and entry.version == version + 1
    last = session.execute(select(MandateHistory).where(MandateHistory.mandate_id == "hpn-smaaindkoeb")
                           .order_by(MandateHistory.id.desc())).scalars().first()
    assert (last.changed_by, last.action, last.changes) == ("nord", "update",
                                                            {"review_by": [past.isoformat(), "2027-11-29"]})
    assert inbox.stale_entries(session, accounts["nord"], TODAY) == []
