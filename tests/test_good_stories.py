"""Good stories in the chat (issue 16, part 3): the form's validation and submit action on trackers,
the story module (redaction, pseudonym, review, export), and the domain and rules that drive the form.

Each test fails on the code before this part: no ``share_story`` intent, no ``story_form``, no
``bot.stories``, or (the last test of the first section) a story's text kept as a question for HR.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from rasa_sdk import Tracker
from sqlalchemy import func, select

from actions import actions, story_actions
from bot.db.models import Question, Story
from tests.conftest import run_action, slot_events, texts

ROOT = Path(__file__).resolve().parent.parent
SLOTS = ["story_what", "story_own_decision", "story_may_share"]
DOMAIN: dict = {"forms": {"story_form": {"required_slots": SLOTS}, "unit_form": {"required_slots": ["unit"]}},
                "slots": {name: {"type": "any", "mappings": [{"type": "from_text"}]} for name in SLOTS}}
FORM = {"name": "story_form"}
SENDER = "medarbejder-7"
STORY = ("Fru Jensen (010190-1234) faldt i går aftes. Min kollega Mette Hansen var syg, så jeg ringede "
         "selv efter en vikar i stedet for at vente på lederen.")
OWN = "Jeg ringede selv til vikarbureauet og gav borgeren besked."


pytestmark = pytest.mark.usefixtures("fresh_service")


def tracker(text, intent="chitchat", requested=None, slots=None, metadata=None, fill=None, sender=SENDER):
    """A tracker inside ``story_form`` that asks for ``requested``; ``fill`` is the slot value the
    domain's mapping extracted from ``text`` (set after the latest user message)."""
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": [],
              "metadata": metadata or {}}
    events = [{"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}]
    slots = {**(slots or {}), "requested_slot": requested}
    if fill is not None or requested:
        value = text if fill is None else fill
        events.append({"event": "slot", "name": requested, "value": value})
        slots[requested] = value
    return Tracker(sender_id=sender, slots=slots, latest_message=latest, events=events, paused=False,
                   followup_action=None, active_loop=FORM if requested else {}, latest_action_name="action_listen")


def run(action, trk):
    return run_action(action, trk, DOMAIN)






def stored(url):
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return (session.execute(select(Story).order_by(Story.id)).scalars().all(),
                session.execute(select(func.count(Question.id))).scalar())
    finally:
        session.close()


# -- the chat flow ----------------------------------------------------------------------------------

def test_a_story_is_stored_redacted_under_the_pseudonym_with_the_unit(demo_db, monkeypatch):
    from bot.config import get_settings
    from bot.privacy import pseudonym

    monkeypatch.setenv("MANDAT_PSEUDONYM_KEY", "story-test-key")
    validate, answers = story_actions.ValidateStoryForm(), {}
    for requested, text, intent, fill in [("story_what", STORY, "ask_mandate", None),
                                          ("story_own_decision", OWN, "inform_unit", None),
                                          ("story_may_share", "/affirm", "affirm", True)]:
        _, events = run(validate, tracker(text, intent, requested, slots=answers, fill=fill))
        answers.update(slot_events(events))
    assert answers == {"story_what": STORY, "story_own_decision": OWN, "story_may_share": True}
    metadata = {"team": "hjemmeplejen-syd"}
    messages, events = run(story_actions.ActionSubmitStory(),
                           tracker("/affirm", "affirm", slots=answers, metadata=metadata))
    assert "sendt til HR" in texts(messages) and "uden dit navn" in texts(messages)
    assert slot_events(events) == {slot: None for slot in SLOTS}
    stories, questions = stored(demo_db)
    assert questions == 0
    [story] = stories
    assert (story.status, story.unit_id, story.may_share) == ("new", "hjemmeplejen-syd", True)
    assert story.user_pseudonym == pseudonym(SENDER, get_settings().pseudonym_key) != SENDER
    assert "010190" not in story.what_happened and "[CPR-NR]" in story.what_happened
    assert "Jensen" not in story.what_happened and "Mette" not in story.what_happened
    assert "[NAVN]" in story.what_happened and "ringede selv efter en vikar" in story.what_happened
    assert story.own_decision == OWN


def test_the_unit_comes_from_the_conversation_when_the_channel_names_none(demo_db):
    answers = {"story_what": "Vi flyttede selv et besøg.", "story_own_decision": "Tidspunktet.",
               "story_may_share": False, "unit": "dagplejen"}
    messages, _ = run(story_actions.ActionSubmitStory(), tracker("nej", "deny", slots=answers))
    assert "ikke delt" in texts(messages)
    [story] = stored(demo_db)[0]
    assert (story.unit_id, story.may_share) == ("dagplejen", False)


@pytest.mark.parametrize("requested", SLOTS)
@pytest.mark.parametrize("text, intent", [("stop", "deny"), ("glem det", "deny"), ("Nej, glem det!", "deny"),
                                          ("jeg vil ikke alligevel", "out_of_scope")])
def test_stop_at_any_question_ends_the_form_and_stores_nothing(demo_db, requested, text, intent):
    before = {"story_what": STORY, "story_own_decision": OWN} if requested == "story_may_share" else (
        {"story_what": STORY} if requested == "story_own_decision" else {})
    fill = False if requested == "story_may_share" and intent == "deny" else None
    _, events = run(story_actions.ValidateStoryForm(), tracker(text, intent, requested, slots=before, fill=fill))
    got = slot_events(events)
    assert got["requested_slot"] is None
    assert all(got[slot] is None for slot in SLOTS)
    messages, reset = run(story_actions.ActionSubmitStory(), tracker(text, intent, slots={**before, **got}))
    assert "ikke gemt noget" in texts(messages)
    assert slot_events(reset) == {slot: None for slot in SLOTS}
    assert stored(demo_db) == ([], 0)


def test_a_story_that_mentions_stopping_is_a_story(demo_db):
    text = "Vi stoppede selv en vandskade i kælderen, før den bredte sig til beboernes rum."
    _, events = run(story_actions.ValidateStoryForm(), tracker(text, "ask_mandate", "story_what"))
    assert slot_events(events) == {"story_what": text}


@pytest.mark.parametrize("text, intent, fill, expected", [
    ("/affirm", "affirm", True, True), ("/deny", "deny", False, False), ("ja tak", "affirm", True, True),
    ("det må I gerne", "ask_mandate", None, True), ("helst ikke", "chitchat", None, False),
    ("hmm, måske", "chitchat", None, None)])
def test_may_it_be_shared_takes_the_buttons_and_a_typed_yes_or_no(demo_db, text, intent, fill, expected):
    messages, events = run(story_actions.ValidateStoryForm(),
                           tracker(text, intent, "story_may_share", slots={"story_what": STORY}, fill=fill))
    assert slot_events(events)["story_may_share"] is expected
    assert ("Svar ja eller nej" in texts(messages)) is (expected is None)


@pytest.mark.parametrize("requested", ["story_what", "story_own_decision"])
def test_typed_commands_and_bare_buttons_are_not_a_story(demo_db, requested):
    for text in ('/ask_mandate{"unit": "tandplejen"}', "/affirm"):
        messages, events = run(story_actions.ValidateStoryForm(), tracker(text, "ask_mandate", requested))
        assert slot_events(events) == {requested: None}, text
        assert messages
    for reply in ("ja", "nej tak", "ok tak"):  # a bare reply is no story
        messages, events = run(story_actions.ValidateStoryForm(), tracker(reply, "affirm", "story_what"))
        assert slot_events(events) == {"story_what": None} and "Fortæl lidt mere" in texts(messages), reply


def test_a_story_told_before_the_unit_is_known_is_never_kept_as_a_question(demo_db):
    """action_validate_slot_mappings runs after every message: inside story_form it keeps no pending
    question, so the unit form's action_answer_pending can never answer (and store) the story's text."""
    text = "Må jeg fortælle, at jeg selv ringede efter en vikar, da Mette var syg?"
    trk = tracker(text, "ask_mandate", "story_what")
    _, events = run(actions.ValidateSlotMappings(), trk)
    assert not {"pending_question", "pending_questions"} & set(slot_events(events))
    assert stored(demo_db)[1] == 0
    # Outside the form the same message is a question kept for after the unit form (unchanged).
    outside = tracker(text, "ask_mandate")
    _, events = run(actions.ValidateSlotMappings(), outside)
    assert slot_events(events).get("pending_question") == text


# -- the story module ------------------------------------------------------------------------------

def test_record_review_share_and_export(session):
    from bot import stories

    key = "k"
    told = stories.record_story(session, what_happened="Borgeren 0101901234 fik hjælp. # Overskrift?\n<b>x</b>",
                                own_decision="Jeg ringede til tlf. 22 33 44 55.", may_share=True,
                                user_id="anna", unit_id="dagplejen", key=key)
    private = stories.record_story(session, what_happened="Noget godt i Tandplejen.", own_decision=None,
                                   may_share=False, user_id="bo", unit_id="tandplejen", key=key)
    waiting = stories.record_story(session, what_happened="Endnu ikke læst af HR.", own_decision=None,
                                   may_share=True, user_id="cy", unit_id="dagplejen", key=key)
    with pytest.raises(ValueError):
        stories.record_story(session, what_happened="  ", own_decision=None, may_share=True, user_id="x",
                             unit_id=None, key=key)
    now = dt.datetime(2026, 12, 3, 10)
    stories.review(told, "approved", "hr", now)
    stories.review(private, "approved", "hr", now)
    with pytest.raises(ValueError):
        stories.review(waiting, "published", "hr")
    session.commit()
    assert (told.status_by, told.status_at, waiting.status) == ("hr", now, "new")
    assert stories.shared_stories(session) == [told]  # not the private one, not the unread one
    assert stories.shared_stories(session, units=["tandplejen"]) == []
    text = stories.export_markdown(stories.shared_stories(session), {"dagplejen": "Dagplejen"})
    assert text.startswith("# Gode historier\n")
    assert "## Dagplejen, " in text and "**Det skete:**" in text and "**Det besluttede medarbejderen selv:**" in text
    assert "[CPR-NR]" in text and "[TELEFON]" in text and "0101901234" not in text
    assert told.user_pseudonym not in text and "hr" not in text.split()
    assert "<b>" not in text and "\n# Overskrift" not in text
    assert "Tandplejen" not in text and "Endnu ikke" not in text


@pytest.mark.parametrize("text, stop", [("stop", True), ("Glem det!", True), ("nej, afbryd", True),
                                        ("jeg fortryder", True), ("glemte", False),
                                        ("Jeg stoppede selv en vandskade, før den bredte sig til rummene", False)])
def test_stop_words(text, stop):
    from bot.stories import is_stop

    assert is_stop(text) is stop


# -- the domain, the rules and the training data ---------------------------------------------------

def _yaml(path):
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def test_the_form_its_slots_and_rules():
    domain = _yaml("domain.yml")
    assert "share_story" in domain["intents"]
    assert domain["forms"]["story_form"]["required_slots"] == SLOTS
    assert {"validate_story_form", "action_submit_story"} <= set(domain["actions"])
    for slot in SLOTS:
        mappings = domain["slots"][slot]["mappings"]
        assert domain["slots"][slot]["influence_conversation"] is False
        assert any(m["type"] == "from_text" for m in mappings)
        for mapping in mappings:  # filled only while the form asks for this slot
            assert mapping["conditions"] == [{"active_loop": "story_form", "requested_slot": slot}]
        assert f"utter_ask_{slot}" in domain["responses"]
    buttons = domain["responses"]["utter_ask_story_may_share"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"]
    assert set(story_actions.BUTTONS) == {b["payload"] for b in buttons}
    rules = _yaml("data/stories/good_stories.yml")["rules"]
    steps = [r["steps"] for r in rules]
    assert [{"intent": "share_story"}, {"action": "story_form"}, {"active_loop": "story_form"}] in steps
    submit = next(r for r in rules if {"action": "action_submit_story"} in r["steps"])
    assert submit["condition"] == [{"active_loop": "story_form"}]


def test_share_story_has_varied_danish_examples():
    from tests.test_nlu_data import examples

    share = {t.lower() for t in examples()["share_story"]}
    assert len(share) >= 40
    assert {"jeg vil dele en god historie", "jeg har en god historie", "vil gerne fortælle om noget der gik godt",
            "i want to share a good story"} <= share
