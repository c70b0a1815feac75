"""Telling the asker (issue 16): "Dit spørgsmål fra 3. december er besvaret" once, only to the
conversation the question was stored under, with the card the bot gives (bot/notices.py), and the
answer card's notice of an entry past its review date (bot/answers.py, bot/service.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from bot import inbox
from bot.db.models import Mandate, Question, User
from bot.localtime import danish_date
from bot.notices import take_notices

SENDER = "w-0123456789abcdef"  # the widget's conversation id (a keyed hash of the employee id)
OTHER = "w-fedcba9876543210"


@pytest.fixture()
def asked(demo_db, service, session):
    """An unanswerable question asked in the chat (stored by the service under the sender's pseudonym)."""
    outcome = service.answer("Må jeg tage min papegøje med på arbejde?", "hjemmeplejen-nord", user_id=SENDER)
    assert outcome.reply.custom["type"] == "no_mandate" and outcome.question_id
    session.add(User(username="lene", display_name="Lene Leder", role="leader", units=["hjemmeplejen-nord"],
                     password_hash="x"))
    question = session.get(Question, outcome.question_id)
    question.asked_at = dt.datetime(2026, 11, 3, 9, 30)
    session.commit()
    return question


def test_danish_dates():
    assert danish_date(dt.date(2026, 12, 3), dt.date(2026, 12, 10)) == "3. december"
    assert danish_date(dt.date(2025, 12, 3), dt.date(2026, 1, 2)) == "3. december 2025"
    assert danish_date(dt.date(2026, 5, 1)) == "1. maj 2026"
    # A stored timestamp is UTC: 23:30 UTC on 31 January is 1 February in Copenhagen.
    assert danish_date(dt.datetime(2026, 1, 31, 23, 30), dt.date(2026, 2, 1)) == "1. februar"


def test_nothing_to_tell_before_an_answer(asked, service):
    assert take_notices(SENDER, service) == []


def test_a_reply_is_told_once_and_only_to_the_asker(asked, service, session):
    inbox.mark_answered(asked, "lene", reply="Ja, når dyret bliver i bilen. Ring 22 33 44 55.")
    session.commit()
    assert take_notices(OTHER, service) == []  # another employee's conversation: nothing
    assert take_notices(None, service) == []
    messages = take_notices(SENDER, service)
    assert messages[0]["text"] == "Dit spørgsmål fra 3. november er besvaret: «Må jeg tage min papegøje med på arbejde?»"
    reply = messages[1]
    assert reply["custom"]["type"] == "expert_reply" and reply["custom"]["answered_by"] == "Lene Leder"
    assert reply["custom"]["reply"].startswith("Ja, når dyret bliver i bilen.")
    assert "22 33 44 55" not in reply["text"] and reply["text"].startswith("Svar fra Lene Leder: Ja, når")
    assert len(messages) == 2
    session.expire_all()
    assert session.get(Question, asked.id).notified_at is not None
    assert take_notices(SENDER, service) == []  # said once


def test_a_linked_entry_is_told_with_the_bots_card(asked, service, session):
    inbox.mark_answered(asked, "lene", mandate_id="hpn-smaaindkoeb")
    session.commit()
    messages = take_notices(SENDER, service)
    assert messages[0]["text"].startswith("Dit spørgsmål fra 3. november er besvaret: «Må jeg tage min papegøje")
    card = messages[1]["custom"]
    assert card["type"] == "mandate_answer" and card["mandate_id"] == "hpn-smaaindkoeb"
    entry = session.get(Mandate, "hpn-smaaindkoeb")
    assert card["topic"] == entry.topic and card["question_id"] == asked.id
    assert entry.summary in messages[1]["text"] and len(messages) == 2
    assert take_notices(SENDER, service) == []


def test_the_card_is_checked_against_the_rule_never_a_plain_yes(demo_db, service, session):
    """A gift card is an exception of the gifts rule: the notice must not say "Ja" to it."""
    row = Question(unit_id="hjemmeplejen-nord", text="Må jeg tage imod et gavekort på 100 kr. fra en borger?",
                   user_pseudonym=None, outcome="unanswered", status="new", asked_at=dt.datetime(2026, 11, 20, 8))
    from bot.privacy import pseudonym

    row.user_pseudonym = pseudonym(SENDER, service.settings.pseudonym_key)
    session.add(row)
    session.flush()
    inbox.mark_answered(row, "hr", mandate_id="sk-gaver")
    session.commit()
    card = take_notices(SENDER, service)[1]["custom"]
    assert card["mandate_id"] == "sk-gaver" and card["verdict"] == "exception" and card["tone"] == "stop"
    assert not card["badge"].startswith("Det må du selv")


def test_a_draft_made_from_the_question_is_told_once_published(asked, service, session):
    entry = session.get(Mandate, "hpn-smaaindkoeb")
    entry.status = "draft"
    inbox.mark_answered(asked, "lene", mandate_id="hpn-smaaindkoeb")
    session.commit()
    assert take_notices(SENDER, service) == []
    entry.status = "published"
    session.commit()
    assert take_notices(SENDER, service)[1]["custom"]["mandate_id"] == "hpn-smaaindkoeb"


def test_an_answer_from_an_entry_past_review_says_so(demo_db, service):
    """sk-hjemmearbejde's review date (30 June 2026) has passed on the tests' day (29 November 2026)."""
    stale = service.answer_from_entry("sk-hjemmearbejde", "hjemmeplejen-syd")
    assert stale.custom["review_due"] is True and stale.custom["review_by"] == "2026-06-30"
    line = "Bemærk: reglen skulle have været gennemgået senest 30. juni 2026"
    assert stale.custom["review_notice"].startswith(line) and line in stale.text
    assert stale.text.split("\n")[-1] != stale.custom["review_notice"]  # the closing line stays last
    fresh = service.answer_from_entry("soo-vikar", "hjemmeplejen-syd")
    assert fresh.custom["review_due"] is False and fresh.custom["review_notice"] is None
    assert "gennemgået" not in fresh.text
