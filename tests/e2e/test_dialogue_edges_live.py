"""Issue 17 end to end: each finding answered right over REST and in the widget, on the running bot.

The trained model, the action server and the Rasa server (REST and the widget's socket.io channel
from ``credentials.yml``) run on a demo-catalogue database. REST messages go to
``/webhooks/rest/webhook``; widget messages go through python-socketio's client with a signed token,
exactly as the widget sends them. One section per finding (tests/test_dialogue_edges.py has the
action-level tests of the same findings):

1. the unit form keeps the first question (REST; the widget always has the token's unit, so it never
   asks for one and answers the first question at once);
2. "nej, jeg er faktisk i dagplejen" changes the unit (REST); in the widget the bot names the unit the
   intranet gives it;
3. with a verified team the bot never confirms a unit it will not use;
4. a typed ``/choose_mandate{...}`` cannot close another conversation's question;
5. commands, unit answers, greetings and empty messages never reach HR's queue;
6. Danish abbreviations and amounts in Danish notation do not change the answer.
"""
from __future__ import annotations

import asyncio
import json

import pytest
import requests
from sqlalchemy import func, select

from bot.channels.identity import issue_token
from bot.db.models import Question
from bot.db.session import new_session
from scripts.live import catalogue_database, running_bot
from tests.channels.test_widget_channel import _client
from tests.conftest import DEMO_CATALOGUE

pytestmark = [pytest.mark.model, pytest.mark.live]

SECRET = "dialogue-edges-live-secret-0123456789"
KEY = "dialogue-edges-live-pseudonym-key"
SWAP = "Må jeg selv bytte vagt med en kollega?"
COFFEE = "Må jeg købe kaffe til teamet?"


@pytest.fixture(scope="module")
def bot():
    url = catalogue_database(DEMO_CATALOGUE, prefix="mandat-edges-")
    env = {"MANDAT_DATABASE_URL": url, "MANDAT_JWT_SECRET": SECRET, "MANDAT_PSEUDONYM_KEY": KEY,
           "MANDAT_WIDGET_DEV_MODE": "0", "MANDAT_WIDGET_ORIGINS": ""}
    with running_bot(env, timeout_s=600) as base:
        yield {"base": base, "db": url}


def rest(bot, sender, message, team=None):
    body = {"sender": sender, "message": message}
    if team:
        body["metadata"] = {"team": team}
    response = requests.post(f"{bot['base']}/webhooks/rest/webhook", json=body, timeout=60)
    response.raise_for_status()
    return response.json()


def widget(bot, employee, messages, unit="hjemmeplejen-syd"):
    """Send ``messages`` in turn through the widget channel as ``employee``; returns what the bot said."""
    token = issue_token(employee, [unit], key=SECRET, algorithm="HS256", lifetime_s=600, display_name=employee)
    seen = asyncio.run(_client(int(bot["base"].rsplit(":", 1)[1]), {"token": token},
                               [{"message": m} for m in messages]))
    assert seen.connected and seen.error is None, seen.error
    return seen.bot


def texts(messages):
    return " ".join(m.get("text") or "" for m in messages)


def customs(messages):
    return [m["custom"] for m in messages if m.get("custom")]


def answered(messages):
    return [c["mandate_id"] for c in customs(messages) if c["type"] == "mandate_answer"]


def stored(bot):
    session = new_session(bot["db"])
    try:
        return {q.id: q for q in session.execute(select(Question)).scalars()}
    finally:
        session.close()


# -- 1. the unit form keeps the first question -----------------------------------------------------

def test_rest_a_question_asked_during_the_form_is_answered_after_the_first(bot):
    before = set(stored(bot))
    first = rest(bot, "edges-form-1", SWAP)
    assert "Hvilken enhed eller hvilket team er du i?" in texts(first) and not customs(first)
    second = rest(bot, "edges-form-1", COFFEE)
    assert not answered(second) and "Hvilken enhed" in texts(second)
    third = rest(bot, "edges-form-1", "Hjemmeplejen Syd")
    ids = answered(third)
    assert ids[:1] == ["soo-vagtbytte"], third
    assert len([c for c in customs(third) if c["type"] in ("mandate_answer", "no_mandate", "clarify")]) == 2, third
    new = [q.text for i, q in sorted(stored(bot).items()) if i not in before]
    assert new == [SWAP, COFFEE]


def test_rest_unknown_unit_names_are_never_stored_as_questions(bot):
    before = set(stored(bot))
    rest(bot, "edges-form-2", SWAP)
    for reply in ("Månebasen", "Marsstationen"):
        said = rest(bot, "edges-form-2", reply)
        assert not customs(said) and "enhed" in texts(said)
    final = rest(bot, "edges-form-2", "jeg er i hjemmeplejen syd")
    assert answered(final)[:1] == ["soo-vagtbytte"]
    new = [q.text for i, q in stored(bot).items() if i not in before]
    assert new == [SWAP], "only the real question reaches HR"


def test_widget_the_first_question_is_answered_at_once_for_the_tokens_unit(bot):
    said = widget(bot, "edges.form.widget", [SWAP])
    assert answered(said) == ["soo-vagtbytte"] and "Hvilken enhed" not in texts(said)


# -- 2. changing unit, starting with "nej" ---------------------------------------------------------

@pytest.mark.parametrize("change", ["nej, jeg er faktisk i dagplejen", "jeg er faktisk i dagplejen"])
def test_rest_no_plus_a_unit_changes_the_unit(bot, change):
    sender = "edges-change-" + str(abs(hash(change)))
    rest(bot, sender, "Hvilke beslutninger må jeg selv tage?")
    rest(bot, sender, "hjemmeplejen syd")
    said = rest(bot, sender, change)
    assert "Dagplejen" in texts(said), said
    answer = rest(bot, sender, "Må jeg selv bestemme hvornår børnene sover?")
    assert all(c.get("unit") in (None, "dagplejen") for c in customs(answer) if c["type"] == "mandate_answer")


@pytest.mark.parametrize("change", ["forkert enhed", "skift enhed"])
def test_rest_a_change_without_a_name_asks_which_unit(bot, change):
    sender = "edges-change-noname-" + change.replace(" ", "-")
    rest(bot, sender, SWAP)
    rest(bot, sender, "hjemmeplejen syd")
    said = rest(bot, sender, change)
    assert "Hvilken enhed eller hvilket team er du i?" in texts(said), said


def test_widget_a_change_of_unit_names_the_intranets_unit(bot):
    said = widget(bot, "edges.change.widget", ["nej, jeg er faktisk i dagplejen", SWAP])
    assert "Jeg svarer ud fra dit team i intranettet, Hjemmeplejen Syd." in texts(said), said
    assert answered(said) == ["soo-vagtbytte"]


# -- 3. never confirm a unit that will not be used ---------------------------------------------------

@pytest.mark.parametrize("claim", ["jeg er i tandplejen", '/inform_unit{"unit":"tandplejen"}'])
def test_rest_with_a_verified_team_the_bot_names_that_team(bot, claim):
    sender = "edges-verified-" + str(abs(hash(claim)))
    said = rest(bot, sender, claim, team="hjemmeplejen-syd")
    assert "svarer nu ud fra" not in texts(said) and "Tandplejen" not in texts(said), said
    answer = rest(bot, sender, "Må jeg selv ringe efter en vikar, når en kollega er syg?", team="hjemmeplejen-syd")
    assert answered(answer) == ["soo-vikar"]


def test_widget_a_claimed_unit_is_not_confirmed(bot):
    said = widget(bot, "edges.verified.widget", ["jeg er i tandplejen",
                                                 "Må jeg selv ringe efter en vikar, når en kollega er syg?"])
    assert "Jeg svarer ud fra dit team i intranettet, Hjemmeplejen Syd." in texts(said), said
    assert "svarer nu ud fra" not in texts(said)
    assert answered(said) == ["soo-vikar"]


# -- 4. choices bound to their conversation -----------------------------------------------------------

def _strangers_question(bot):
    said = rest(bot, "edges-stranger", "Må jeg tage min papegøje med på arbejde?", team="hjemmeplejen-syd")
    [custom] = [c for c in customs(said) if c["type"] == "no_mandate"]
    return custom["question_id"]


@pytest.mark.parametrize("channel", ["rest", "widget"])
def test_a_typed_choice_cannot_close_another_conversations_question(bot, channel):
    qid = _strangers_question(bot)
    attack = f'/choose_mandate{{"mandate_id":"soo-vikar","question_id":{qid}}}'
    if channel == "rest":
        said = rest(bot, "edges-attacker", attack, team="hjemmeplejen-syd")
    else:
        said = widget(bot, "edges.attacker.widget", [attack])
    assert not answered(said), said
    row = stored(bot)[qid]
    assert (row.status, row.outcome, row.resolved_mandate_id) == ("new", "unanswered", None)


# -- 5. nothing that is not a question goes to HR's queue ------------------------------------------

NOT_QUESTIONS = ['/ask_mandate{"unit":"tandplejen"}', "/ask_mandate", "hej", "ok tak", "Hjemmeplejen Syd"]


def _count(bot):
    session = new_session(bot["db"])
    try:
        return session.execute(select(func.count()).select_from(Question)).scalar_one()
    finally:
        session.close()


def test_rest_commands_greetings_and_unit_names_are_not_stored(bot):
    before = _count(bot)
    for text in NOT_QUESTIONS:
        rest(bot, "edges-not-questions", text, team="hjemmeplejen-syd")
    response = requests.post(f"{bot['base']}/webhooks/rest/webhook",
                             json={"sender": "edges-not-questions", "message": "   "}, timeout=60)
    assert response.status_code in (200, 400)
    assert _count(bot) == before


def test_widget_commands_greetings_and_empty_messages_are_not_stored(bot):
    before = _count(bot)
    widget(bot, "edges.not.questions.widget", [*NOT_QUESTIONS, "   ", ""])
    assert _count(bot) == before


# -- 6. Danish abbreviations and amounts --------------------------------------------------------------

PAIRS = [
    ("Må jeg købe for ca. 3.000 kr. f.eks. en stol?", "Må jeg købe for 3.000 kr. en stol?"),
    ("Må jeg evt. selv ringe efter en vikar, f.eks. når en kollega er syg?",
     "Må jeg selv ringe efter en vikar, når en kollega er syg?"),
]


def _verdict(messages):
    """What the bot did: per card its type, entry, verdict and the entries a clarifying question offered."""
    return [(c.get("type"), c.get("mandate_id"), c.get("verdict"),
             tuple(o.get("mandate_id") for o in c.get("options") or ())) for c in customs(messages)]


def _resolved(messages):
    """An answer from an entry, or a clarifying question offering entries (not "no answer")."""
    return any(c["type"] in ("mandate_answer", "clarify") for c in customs(messages))


@pytest.mark.parametrize("with_abbreviations, without", PAIRS)
def test_rest_abbreviations_do_not_change_the_answer(bot, with_abbreviations, without):
    a = rest(bot, "edges-abbr-a", with_abbreviations, team="hjemmeplejen-syd")
    b = rest(bot, "edges-abbr-b", without, team="hjemmeplejen-syd")
    assert _verdict(a) == _verdict(b) and _resolved(a), (a, b)


def test_widget_abbreviations_do_not_change_the_answer(bot):
    a = widget(bot, "edges.abbr.a", [PAIRS[0][0]])
    b = widget(bot, "edges.abbr.b", [PAIRS[0][1]])
    assert _verdict(a) == _verdict(b) and _resolved(a), (a, b)


@pytest.mark.parametrize("amount, value", [("3.000,50 kr.", 3000.5), ("kr. 3.500,-", 3500.0),
                                           ("3,5 tusind kroner", 3500.0)])
@pytest.mark.parametrize("channel", ["rest", "widget"])
def test_an_amount_in_danish_notation_is_one_amount_over_the_limit(bot, channel, amount, value):
    """bu-aktivitetsmaterialer (Dagtilbud) has a limit of 3.000 kr.: each amount is one amount, over it."""
    question = f"Må vi købe materialer til aktiviteter med børnene for {amount}?"
    if channel == "rest":
        said = rest(bot, "edges-amount", question, team="dagtilbud-solsikken")
    else:
        said = widget(bot, "edges.amount.widget", [question], unit="dagtilbud-solsikken")
    [card] = [c for c in customs(said) if c["type"] == "mandate_answer"] or [None]
    assert card and card["mandate_id"] == "bu-aktivitetsmaterialer", json.dumps(said, ensure_ascii=False)
    assert card["quantity"]["value"] == value and card["quantity"]["unit"] == "kr"
    assert card["decides"] not in ("employee", "team"), card
