"""Issue 17: the dialogue holds when users go off the path.

One section per finding of the issue; each test fails on the code before the fix:
1. the unit form keeps the first question, queues later ones, never keeps a non-question;
2. "nej, jeg er faktisk i dagplejen" changes the unit;
3. with a verified team the bot never confirms a unit it will not use;
4. typed ``/intent{...}`` payloads act only on this conversation and set no slot the channel owns;
5. commands, greetings, unit names and empty messages never reach HR's queue;
6. Danish abbreviations ("ca.", "f.eks.") change neither the sentences nor the answer.
"""
from __future__ import annotations


import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import actions
from bot.db.models import Feedback, Question
from tests.conftest import customs, run_action, slot_events, texts

DOMAIN: dict = {"forms": {"unit_form": {"required_slots": ["unit"]}}, "slots": {}}
FORM = {"name": "unit_form"}
SWAP = "Må jeg bytte vagt med en kollega?"
COFFEE = "Må jeg købe kaffe til teamet?"
SUBSTITUTE = "Må jeg selv ringe efter en vikar, når en kollega er syg?"


pytestmark = pytest.mark.usefixtures("fresh_service")


def tracker(text="", intent="ask_mandate", metadata=None, slots=None, entities=None, active_loop=None,
            events=None, sender="medarbejder-1"):
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": entities or [],
              "metadata": metadata or {}}
    return Tracker(sender_id=sender, slots=dict(slots or {}), latest_message=latest, events=events or [],
                   paused=False, followup_action=None, active_loop=active_loop or {},
                   latest_action_name="action_listen")


def run(action, trk):
    return run_action(action, trk, DOMAIN)








# -- 1. the unit form keeps the first question ---------------------------------------------------

def test_a_second_question_during_the_form_is_queued_not_swapped_in(demo_db):
    slots = {"pending_question": SWAP, "pending_intent": "ask_mandate", "requested_slot": "unit"}
    _, events = run(actions.ValidateSlotMappings(), tracker(COFFEE, slots=slots, active_loop=FORM))
    got = slot_events(events)
    assert "pending_question" not in got
    assert got["pending_questions"] == [{"text": COFFEE, "intent": "ask_mandate"}]


@pytest.mark.parametrize("reply, intent", [("Marsstationen", "ask_mandate"), ("Månebasen", "inform_unit"),
                                           ("Marsstationen", "list_mandates"), ("Hjemmeplejen Syd", "ask_mandate")])
def test_a_reply_to_the_form_that_is_no_question_is_never_kept(demo_db, reply, intent):
    slots = {"pending_question": SWAP, "pending_intent": "ask_mandate", "requested_slot": "unit"}
    _, events = run(actions.ValidateSlotMappings(), tracker(reply, intent=intent, slots=slots, active_loop=FORM))
    assert not {"pending_question", "pending_questions"} & set(slot_events(events))


def test_all_kept_questions_are_answered_in_order_after_the_unit(demo_db):
    messages, events = run(actions.ActionAnswerPending(), tracker("Hjemmeplejen Syd", intent="inform_unit", slots={
        "unit": "hjemmeplejen-syd", "pending_question": SUBSTITUTE, "pending_intent": "ask_mandate",
        "pending_questions": [{"text": SWAP, "intent": "ask_mandate"}]}))
    assert [c["mandate_id"] for c in customs(messages)] == ["soo-vikar", "soo-vagtbytte"]
    assert "2 spørgsmål" in messages[0]["text"]
    assert {"pending_question": None, "pending_intent": None, "pending_questions": None}.items() <= \
        slot_events(events).items()


def test_unknown_unit_names_never_reach_hr_and_both_questions_are_answered(demo_db, session):
    """The issue's conversation: a question, "Månebasen", "Marsstationen", another question, the unit."""
    validate, slots = actions.ValidateSlotMappings(), {}
    steps = [(SWAP, "ask_mandate", None), ("Månebasen", "inform_unit", FORM), ("Marsstationen", "ask_mandate", FORM),
             (COFFEE, "ask_mandate", FORM)]
    for text, intent, loop in steps:
        _, events = run(validate, tracker(text, intent=intent, slots={**slots, "requested_slot": "unit"},
                                          active_loop=loop))
        slots.update(slot_events(events))
    # The form: "Marsstationen" is no unit; the coffee question is said to be answered afterwards.
    form, dispatcher = actions.ValidateUnitForm(), CollectingDispatcher()
    trk = tracker(COFFEE, slots={**slots, "requested_slot": "unit"}, active_loop=FORM)
    assert form.validate_unit(COFFEE, dispatcher, trk, DOMAIN) == {"unit": None}
    assert "svarer jeg også på" in dispatcher.messages[-1]["text"]
    messages, _ = run(actions.ActionAnswerPending(), tracker(
        "jeg er i Hjemmeplejen Syd", intent="inform_unit", slots={**slots, "unit": "hjemmeplejen-syd"}))
    stored = [row.text for row in session.execute(select(Question).order_by(Question.id)).scalars()]
    assert stored == [SWAP, COFFEE]
    assert customs(messages)[0]["mandate_id"] == "soo-vagtbytte"


def test_the_queue_is_bounded(demo_db):
    queued = [{"text": f"Må jeg købe {w} til teamet?", "intent": "ask_mandate"} for w in ("kaffe", "kage")]
    slots = {"pending_question": SWAP, "pending_intent": "ask_mandate", "pending_questions": queued,
             "requested_slot": "unit"}
    _, events = run(actions.ValidateSlotMappings(), tracker("Må jeg købe blomster til teamet?", slots=slots,
                                                            active_loop=FORM))
    assert "pending_questions" not in slot_events(events)  # MAX_PENDING = 3 questions in all


# -- 2. changing unit when the user starts with "nej" --------------------------------------------

@pytest.mark.parametrize("text, unit", [("nej, jeg er faktisk i dagplejen", "dagplejen"),
                                        ("nej jeg arbejder i Tandplejen", "tandplejen"),
                                        ("nej, forkert enhed, jeg er i hjemmeplejen nord", "hjemmeplejen-nord")])
def test_no_followed_by_a_unit_changes_the_unit(demo_db, text, unit):
    messages, events = run(actions.ActionDeny(), tracker(text, intent="deny", slots={"unit": "hjemmeplejen-syd"}))
    assert slot_events(events)["unit"] == unit
    assert messages[0]["text"].startswith("Tak. Jeg svarer nu ud fra mandatkataloget for")


def test_a_plain_no_keeps_the_unit(demo_db):
    messages, events = run(actions.ActionDeny(), tracker("nej tak", intent="deny", slots={"unit": "hjemmeplejen-syd"}))
    assert messages[0]["response"] == "utter_deny_other" and events == []


def test_change_of_unit_without_a_name_asks_which(demo_db):
    for text in ("skift enhed", "forkert enhed", "jeg er i en anden enhed"):
        messages, events = run(actions.ActionSetUnit(), tracker(text, intent="inform_unit",
                                                                slots={"unit": "hjemmeplejen-syd"}))
        assert messages[0]["text"].startswith("Hvilken enhed eller hvilket team er du i?") and events == []


def test_nlu_data_reads_no_plus_a_unit_as_a_change_of_unit():
    from tests.test_nlu_data import examples

    data = examples()
    inform = {t.lower() for t in data["inform_unit"]}
    assert {"nej, jeg er faktisk i dagplejen", "jeg er faktisk i dagplejen", "forkert enhed", "skift enhed"} <= inform
    assert sum(t.startswith(("nej", "næ")) for t in inform) >= 8
    assert not inform & {t.lower() for t in data["deny"]}


# -- 3. never confirm a unit that will not be used -----------------------------------------------

@pytest.mark.parametrize("action, text, intent, entities", [
    (actions.ActionSetUnit, "jeg er i tandplejen", "inform_unit", [{"entity": "unit", "value": "tandplejen"}]),
    (actions.ActionSetUnit, '/inform_unit{"unit":"tandplejen"}', "inform_unit",
     [{"entity": "unit", "value": "tandplejen"}]),
    (actions.ActionDeny, "nej, jeg er i tandplejen", "deny", []),
])
def test_with_a_verified_team_the_bot_names_the_intranets_team(demo_db, action, text, intent, entities):
    messages, events = run(action(), tracker(text, intent=intent, entities=entities,
                                             metadata={"team": "hjemmeplejen-syd"}, slots={"unit": "hjemmeplejen-syd"}))
    said = texts(messages)
    assert said.startswith("Jeg svarer ud fra dit team i intranettet, Hjemmeplejen Syd.")
    assert "Tandplejen" not in said and "svarer nu ud fra" not in said
    assert slot_events(events).get("unit", "hjemmeplejen-syd") == "hjemmeplejen-syd"


def test_the_next_answer_uses_the_verified_team(demo_db):
    messages, _ = run(actions.ActionAnswerMandate(), tracker(
        SUBSTITUTE, entities=[{"entity": "unit", "value": "tandplejen"}],
        metadata={"team": "hjemmeplejen-syd"}, slots={"unit": "hjemmeplejen-syd"}))
    assert customs(messages)[0]["mandate_id"] == "soo-vikar"


# -- 4. typed payloads: own conversation only, no slot the channel owns -------------------------

def _clarify_event(question_id, options):
    return {"event": "bot", "text": "Handler det om ...?", "data": {"custom": {
        "type": "clarify", "question_id": question_id, "options": [{"mandate_id": m, "topic": m} for m in options]}}}


def test_a_choice_of_an_entry_never_offered_closes_nothing(demo_db, session):
    own = Question(text="Må jeg noget?", unit_id="hjemmeplejen-nord", outcome="unanswered", status="new",
                   offered=["soo-vagtbytte", "hpn-rutebytte"])
    session.add(own)
    session.commit()
    messages, events = run(actions.ActionChooseMandate(), tracker(
        f'/choose_mandate{{"mandate_id": "sk-gaver", "question_id": {own.id}}}', intent="choose_mandate",
        entities=[{"entity": "mandate_id", "value": "sk-gaver"}, {"entity": "question_id", "value": own.id}],
        slots={"unit": "hjemmeplejen-nord", "last_question_id": own.id},
        events=[_clarify_event(own.id, ["soo-vagtbytte", "hpn-rutebytte"])]))
    assert not customs(messages) and "hører ikke til" in messages[0]["text"] and events == []
    session.expire_all()
    assert session.get(Question, own.id).status == "new"


def test_a_choice_naming_another_conversations_question_does_not_close_it(demo_db, session):
    from bot.privacy import pseudonym
    from bot.service import default_service

    key = default_service().settings.pseudonym_key
    # Both questions asked under this sender's pseudonym (the REST channel lets a client choose its sender),
    # but only the second belongs to this conversation's offer.
    other = Question(text="Må jeg bytte vagt?", unit_id="hjemmeplejen-nord", outcome="unanswered", status="new",
                     user_pseudonym=pseudonym("medarbejder-1", key), offered=["soo-vagtbytte", "hpn-rutebytte"])
    own = Question(text="Må vi bytte vagt?", unit_id="hjemmeplejen-nord", outcome="unanswered", status="new",
                   user_pseudonym=pseudonym("medarbejder-1", key), offered=["soo-vagtbytte", "hpn-rutebytte"])
    session.add_all([other, own])
    session.commit()
    messages, _ = run(actions.ActionChooseMandate(), tracker(
        f'/choose_mandate{{"mandate_id": "soo-vagtbytte", "question_id": {other.id}}}', intent="choose_mandate",
        entities=[{"entity": "mandate_id", "value": "soo-vagtbytte"}, {"entity": "question_id", "value": other.id}],
        slots={"unit": "hjemmeplejen-nord", "last_question_id": own.id, "clarify_options": ["soo-vagtbytte"]},
        events=[_clarify_event(own.id, ["soo-vagtbytte", "hpn-rutebytte"])]))
    assert customs(messages)[0]["mandate_id"] == "soo-vagtbytte"
    session.expire_all()
    assert session.get(Question, other.id).status == "new"


def test_feedback_naming_another_conversations_question_is_not_filed_under_it(demo_db, session):
    stranger = Question(text="Må jeg tage min kat med?", unit_id="hjemmeplejen-syd", outcome="unanswered",
                        status="new")
    session.add(stranger)
    session.commit()
    run(actions.ActionStoreFeedback(), tracker(
        "/feedback", intent="feedback", metadata={"team": "hjemmeplejen-syd"},
        entities=[{"entity": "value", "value": "down"}, {"entity": "question_id", "value": stranger.id}]))
    row = session.execute(select(Feedback)).scalars().one()
    assert (row.value, row.question_id) == ("down", None)


@pytest.mark.parametrize("text, entities", [
    ('/ask_mandate{"unit":"tandplejen"}', [{"entity": "unit", "value": "tandplejen"}]),
    ('/ask_mandate{"last_question_id": 1}', []),
])
def test_a_typed_payload_sets_no_unit_and_answers_nothing(demo_db, session, text, entities):
    messages, events = run(actions.ActionAnswerMandate(), tracker(text, entities=entities,
                                                                  slots={"unit": "hjemmeplejen-syd"}))
    assert messages[0]["text"] == actions.PAYLOAD_REFUSED and events == []
    assert session.execute(select(Question)).first() is None


def test_a_typed_inform_unit_payload_does_not_set_the_unit(demo_db):
    payload = '/inform_unit{"unit":"tandplejen"}'
    entities = [{"entity": "unit", "value": "tandplejen"}]
    messages, events = run(actions.ActionSetUnit(), tracker(payload, intent="inform_unit", entities=entities,
                                                            slots={"unit": "hjemmeplejen-syd"}))
    assert messages[0]["text"] == actions.PAYLOAD_REFUSED and events == []
    form, dispatcher = actions.ValidateUnitForm(), CollectingDispatcher()
    trk = tracker(payload, intent="inform_unit", entities=entities, slots={"requested_slot": "unit"}, active_loop=FORM)
    assert form.validate_unit(payload, dispatcher, trk, DOMAIN) == {"unit": None}


def test_the_widgets_own_buttons_are_accepted():
    assert set(actions.BUTTON_PAYLOADS) == {"choose_mandate", "feedback", "delete_conversation",
                                            "confirm_delete_conversation", "cancel_delete_conversation"}
    assert actions.BUTTON_PAYLOADS["choose_mandate"] == {"mandate_id", "question_id"}


# -- 5. nothing that is not a question goes to HR's queue ---------------------------------------

@pytest.mark.parametrize("text", ['/ask_mandate{"unit":"tandplejen"}', "/ask_mandate", "   ", ""])
def test_the_service_never_stores_commands_or_empty_messages(demo_db, session, text):
    from bot.service import default_service

    outcome = default_service().answer(text, "tandplejen", user_id="medarbejder-1", intent="ask_mandate")
    assert outcome.question_id is None
    assert session.execute(select(Question)).first() is None


@pytest.mark.parametrize("text, intent", [("hejsa!", "nlu_fallback"), ("ok tak", "nlu_fallback"),
                                          ("Hjemmeplejen Syd", "ask_mandate"), ("jeg er i dagplejen", "ask_mandate")])
def test_greetings_and_unit_names_are_not_stored(demo_db, session, text, intent):
    run(actions.ActionAnswerMandate(), tracker(text, intent=intent, slots={"unit": "hjemmeplejen-syd"}))
    assert session.execute(select(Question).where(Question.outcome == "unanswered")).first() is None


def test_a_typed_command_is_never_kept_for_after_the_form(demo_db):
    _, events = run(actions.ValidateSlotMappings(), tracker('/ask_mandate{"unit":"tandplejen"}'))
    assert not {"pending_question", "pending_questions"} & set(slot_events(events))


def test_a_real_question_is_still_stored(demo_db, session):
    run(actions.ActionAnswerMandate(), tracker("Må jeg tage min kat med på arbejde?", slots={"unit": "tandplejen"}))
    assert session.execute(select(Question.text)).scalar_one() == "Må jeg tage min kat med på arbejde?"


# -- 6. Danish abbreviations --------------------------------------------------------------------

def test_abbreviations_do_not_split_sentences():
    from bot.question import split_sentences

    assert split_sentences("Må jeg købe for ca. 3.000 kr. f.eks. en stol?") == [
        "Må jeg købe for ca. 3.000 kr. f.eks. en stol?"]
    assert split_sentences("Vi skal bl.a. bruge evt. en bil inkl. benzin pga. turen mht. børnene osv.?") == [
        "Vi skal bl.a. bruge evt. en bil inkl. benzin pga. turen mht. børnene osv.?"]
    # An abbreviation that can end a sentence ends one before a capital letter; a plain dot still does.
    assert split_sentences("Den koster 300 kr. Må jeg købe den?") == ["Den koster 300 kr.", "Må jeg købe den?"]
    assert split_sentences("Jeg er syg. Må jeg gå hjem?") == ["Jeg er syg.", "Må jeg gå hjem?"]


def test_abbreviations_add_no_terms():
    from bot.config import get_settings
    from bot.language import DanishAnalyzer

    analyzer = DanishAnalyzer(get_settings().spacy_model)
    assert analyzer.terms("Må jeg købe for ca. 3.000 kr. f.eks. en stol?") == analyzer.terms(
        "Må jeg købe for 3.000 kr. en stol?")
    assert analyzer.terms("Må jeg evt. bytte vagt bl.a. pga. sygdom, mht. weekenden, inkl. lørdag osv.?") == \
        analyzer.terms("Må jeg bytte vagt sygdom, weekenden, lørdag?")


@pytest.mark.parametrize("unit, with_abbreviations, without", [
    ("hjemmeplejen-syd", "Må jeg købe for ca. 3.000 kr. f.eks. en stol?", "Må jeg købe for 3.000 kr. en stol?"),
    ("hjemmeplejen-syd", "Må jeg evt. selv ringe efter en vikar, f.eks. når en kollega er syg?",
     "Må jeg selv ringe efter en vikar, når en kollega er syg?"),
    ("hjemmeplejen-syd", "Må jeg bl.a. bytte vagt med en kollega pga. en tandlægetid?",
     "Må jeg bytte vagt med en kollega en tandlægetid?"),
    ("dagtilbud-solsikken", "Må jeg bytte min lukkevagt mht. næste uge osv.?",
     "Må jeg bytte min lukkevagt næste uge?"),
    ("tandplejen", "Må jeg tage min kat med på arbejde inkl. kattebakken?",
     "Må jeg tage min kat med på arbejde kattebakken?"),
])
def test_abbreviations_do_not_change_the_decision(demo_db, unit, with_abbreviations, without):
    from bot.service import default_service

    service = default_service()
    a = service.answer(with_abbreviations, unit, store=False)
    b = service.answer(without, unit, store=False)
    assert (a.result.action, a.result.answer and a.result.answer.mandate_id) == \
        (b.result.action, b.result.answer and b.result.answer.mandate_id)
    assert [(c.mandate_id, round(c.score, 6)) for c in a.result.candidates[:3]] == \
        [(c.mandate_id, round(c.score, 6)) for c in b.result.candidates[:3]]
