"""'Slet min samtale': confirmation first, then the employee's questions and feedback go, and the bot restarts."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
ASK_TEXT = "Er du sikker? Det sletter din samtale og dine gemte spørgsmål."


def _tracker(text: str, events=None, sender: str = "w-anna"):
    from rasa_sdk import Tracker

    return Tracker(sender_id=sender, slots={}, latest_message={"text": text, "intent": {
        "name": "confirm_delete_conversation", "confidence": 0.9}, "entities": [], "metadata": {}},
        events=events or [], paused=False, followup_action=None, active_loop={}, latest_action_name="action_listen")


def _run(tracker):
    from rasa_sdk.executor import CollectingDispatcher

    from actions.privacy_actions import ActionDeleteConversation

    dispatcher = CollectingDispatcher()
    events = ActionDeleteConversation().run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, events


@pytest.fixture()
def stored(db_url):
    """Two questions and feedback of w-anna, one question of someone else."""
    from bot.config import get_settings
    from bot.db.models import Feedback, Question
    from bot.db.session import new_session
    from bot.privacy import pseudonym

    key = get_settings().pseudonym_key
    anna, other = pseudonym("w-anna", key), pseudonym("w-bo", key)
    session = new_session(db_url)
    q1 = Question(unit_id="dagplejen", text="Må jeg?", outcome="unanswered", user_pseudonym=anna)
    q2 = Question(unit_id="dagplejen", text="Må jeg også?", outcome="answered", decision="employee",
                  mandate_id="sk-gaver", user_pseudonym=anna)
    q3 = Question(unit_id="dagplejen", text="Andens", outcome="unanswered", user_pseudonym=other)
    session.add_all([q1, q2, q3])
    session.flush()
    session.add_all([Feedback(question_id=q2.id, value="up", user_pseudonym=anna),
                     Feedback(question_id=None, value="mistake", comment="x", user_pseudonym=anna),
                     Feedback(question_id=q3.id, value="down", user_pseudonym=other)])
    session.commit()
    session.close()
    return db_url


def _texts(url):
    from bot.db.models import Feedback, Question, QuestionStat
    from bot.db.session import new_session

    session = new_session(url)
    try:
        return (sorted(session.execute(select(Question.text)).scalars()),
                session.execute(select(func.count(Feedback.id))).scalar(),
                session.execute(select(func.coalesce(func.sum(QuestionStat.count), 0))).scalar())
    finally:
        session.close()


def test_confirmed_by_the_button_deletes_own_questions_and_restarts(stored):
    from rasa_sdk.events import Restarted

    messages, events = _run(_tracker("/confirm_delete_conversation"))
    assert events == [Restarted()]
    assert "slettet" in messages[0]["text"]
    questions, feedback, counted = _texts(stored)
    assert questions == ["Andens"] and feedback == 1
    assert counted == 2  # the dashboard still counts them


def test_typed_yes_right_after_the_question_confirms(stored):
    events = [{"event": "user", "text": "slet min samtale"},
              {"event": "bot", "text": ASK_TEXT, "metadata": {"utter_action": "utter_ask_delete_conversation"}},
              {"event": "user", "text": "ja, slet den"}]
    _, result = _run(_tracker("ja, slet den", events))
    assert result and result[0]["event"] == "restart"
    assert _texts(stored)[0] == ["Andens"]


def test_without_the_question_before_it_only_asks(stored):
    """The NLU took a first request for the confirmation: nothing is deleted, the bot asks."""
    events = [{"event": "user", "text": "hej"}, {"event": "bot", "text": "Hej!"},
              {"event": "user", "text": "ja, slet den"}]
    messages, result = _run(_tracker("ja, slet den", events))
    assert result == []
    assert messages[0]["response"] == "utter_ask_delete_conversation"
    assert len(_texts(stored)[0]) == 3


def test_a_failure_deletes_nothing_and_does_not_restart(stored, monkeypatch):
    import actions.privacy_actions as module

    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(module, "delete_user_data", broken)
    messages, result = _run(_tracker("/confirm_delete_conversation"))
    assert result == [] and "intet er slettet" in messages[0]["text"]


def test_domain_rules_and_training_data_wire_the_flow():
    assert {"delete_conversation", "confirm_delete_conversation", "cancel_delete_conversation"} <= set(
        DOMAIN["intents"])
    assert "action_delete_conversation" in DOMAIN["actions"]
    ask = DOMAIN["responses"]["utter_ask_delete_conversation"][0]
    assert ask["text"] == ASK_TEXT
    assert [b["payload"] for b in ask["buttons"]] == ["/confirm_delete_conversation", "/cancel_delete_conversation"]
    rules = yaml.safe_load((ROOT / "data" / "stories" / "privacy.yml").read_text(encoding="utf-8"))["rules"]
    steps = [r["steps"] for r in rules]
    assert [{"intent": "delete_conversation"}, {"action": "utter_ask_delete_conversation"}] in steps
    assert [{"intent": "confirm_delete_conversation"}, {"action": "action_delete_conversation"}] in steps
    nlu = yaml.safe_load((ROOT / "data" / "nlu" / "privacy.yml").read_text(encoding="utf-8"))["nlu"]
    counts = {block["intent"]: len(block["examples"].strip().splitlines()) for block in nlu}
    assert counts["delete_conversation"] >= 20 and counts["confirm_delete_conversation"] >= 10


def test_the_action_server_loads_the_action_and_redacts_its_logs(caplog):
    """rasa_sdk registers every module of the package; importing the package installs the log filter."""
    import importlib

    from rasa_sdk.executor import ActionExecutor

    import actions
    from bot.privacy import uninstall_log_redaction

    executor = ActionExecutor()
    executor.register_package("actions")
    assert "action_delete_conversation" in executor.actions
    uninstall_log_redaction()
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("rasa_sdk.executor").info("cpr %s", "010203-1234")
        assert "010203-1234" in caplog.text
        caplog.clear()
        importlib.reload(actions)
        with caplog.at_level(logging.INFO):
            logging.getLogger("rasa_sdk.executor").info("Received 'min borger har cpr %s'", "010203-1234")
            logging.getLogger("actions.actions").warning("ring til 22 33 44 55")
        assert "010203-1234" not in caplog.text and "22 33 44 55" not in caplog.text
        assert "[CPR-NR]" in caplog.text and "[TELEFON]" in caplog.text
    finally:
        uninstall_log_redaction()


def test_widget_has_the_delete_control_with_a_confirmation():
    source = (ROOT / "widget" / "src" / "index.js").read_text(encoding="utf-8")
    built = (ROOT / "bot" / "admin" / "static" / "mandat-widget.js").read_text(encoding="utf-8")
    for text in ("Slet min samtale", "Er du sikker? Det sletter din samtale og dine gemte sp",
                 "/confirm_delete_conversation", "mb-confirm"):
        assert text in source and text in built  # esbuild writes æøå as escapes: the ASCII part is compared
    assert ASK_TEXT in source
