"""'Slet min samtale': the employee deletes their conversation and their stored questions.

Flow (data/stories/privacy.yml): ``delete_conversation`` -> the bot asks
``utter_ask_delete_conversation`` ("Er du sikker? ..." with Ja/Nej buttons);
``confirm_delete_conversation`` -> :class:`ActionDeleteConversation`.

The action deletes the employee's questions and feedback (found by the
pseudonym of the sender id, :func:`bot.retention.delete_user_data`), says so,
and returns ``Restarted``. Rasa's tracker store
(:class:`bot.channels.tracker_store.RedactingSQLTrackerStore`) sees this
action followed by the restart when it saves the conversation, and deletes
every stored event of it in the same transaction (the Rasa server writes the
conversation after the action returns, so the action server cannot delete it
itself). Rasa follows ``Restarted`` with ``action_session_start``: the
employee continues in a fresh, empty conversation.

Nothing is deleted without a confirmation: the confirming message must be a
button or the widget's own confirmation (the payload
``/confirm_delete_conversation``), or follow the bot's question directly.
Otherwise (the NLU took a first request for the confirmation) the bot asks.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.config import get_settings
from bot.retention import delete_user_data

logger = logging.getLogger(__name__)

ASK = "utter_ask_delete_conversation"
CONFIRM_PAYLOAD = "/confirm_delete_conversation"
DONE_TEXT = ("Din samtale og dine gemte spørgsmål er slettet. Vi starter forfra: "
             "spørg bare, hvis du er i tvivl om, hvad du selv må beslutte.")
FAILED_TEXT = ("Jeg kunne desværre ikke slette din samtale lige nu, så intet er slettet. "
               "Prøv igen om lidt, eller kontakt HR.")


def _previous_bot_event(tracker: Tracker) -> Optional[Dict[Text, Any]]:
    """The bot's last message before the latest user message, if any."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return event
    return None


def confirmed(tracker: Tracker, domain: DomainDict) -> bool:
    """True when the latest message confirms the deletion (see the module doc)."""
    text = (tracker.latest_message.get("text") or "").strip()
    if text.startswith(CONFIRM_PAYLOAD):
        return True
    previous = _previous_bot_event(tracker)
    if previous is None:
        return False
    if (previous.get("metadata") or {}).get("utter_action") == ASK:
        return True
    question = ((domain.get("responses") or {}).get(ASK) or [{}])[0].get("text")
    return bool(question) and previous.get("text") == question


class ActionDeleteConversation(Action):
    """Delete the employee's stored questions and feedback, then restart (the store deletes the conversation)."""

    def name(self) -> Text:
        return "action_delete_conversation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if not confirmed(tracker, domain):
            dispatcher.utter_message(response=ASK)
            return []
        from bot.db.session import session_scope

        settings = get_settings()
        try:
            with session_scope(settings.database_url) as session:
                questions, feedback = delete_user_data(session, tracker.sender_id, settings.pseudonym_key)
        except Exception:
            logger.exception("Deleting an employee's questions failed; nothing deleted")
            dispatcher.utter_message(text=FAILED_TEXT)
            return []
        logger.info("Employee deleted their conversation: %d questions, %d feedback", questions, feedback)
        dispatcher.utter_message(text=DONE_TEXT)
        return [Restarted()]
