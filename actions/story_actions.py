"""'Jeg vil dele en god historie': the story form's validation and its submit action.

Flow (``data/stories/good_stories.yml``): intent ``share_story`` starts ``story_form``, which asks
``story_what`` (what happened), ``story_own_decision`` (what the employee decided themself) and
``story_may_share`` (Ja/Nej buttons sending ``/affirm``/``/deny``, or typed). The slots are filled
from the text only while the form asks for them (``domain.yml``). When the form ends,
:class:`ActionSubmitStory` stores the story through :func:`bot.stories.record_story` (redacted,
under the sender's pseudonym, with the unit of the conversation, status ``new``) and empties the
slots.

"stop" or "glem det" at any question (:func:`bot.stories.is_stop`) ends the form at once with the
slots emptied: the submit action then stores nothing and says so. The story's texts never reach
the answering action, so they are never stored as questions for HR's queue
(``action_validate_slot_mappings`` keeps no pending question while this form runs).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.actions import NOT_A_QUESTION_WORDS, current_unit, typed_payload
from actions.budget import run_within_budget
from bot.config import get_settings
from bot.language import words
from bot.stories import is_stop, record_story, yes_or_no

logger = logging.getLogger(__name__)

FORM = "story_form"
SLOTS = ("story_what", "story_own_decision", "story_may_share")
BUTTONS = {"/affirm": True, "/deny": False}
"""The Ja/Nej buttons of ``utter_ask_story_may_share``: the only typed payloads the form takes."""

STOPPED_TEXT = "Helt i orden, jeg har ikke gemt noget. Spørg bare, hvis der er andet, du er i tvivl om."
THANKS_SHARE = ("Tak, fordi du fortæller! Din historie er sendt til HR. Når HR har læst den, kan den blive delt "
                "med kolleger, uden dit navn.")
THANKS_PRIVATE = "Tak, fordi du fortæller! Din historie er sendt til HR, og den bliver ikke delt med andre."
OWN_WORDS_TEXT = "Skriv det gerne med dine egne ord. Skriv »stop«, hvis du ikke vil fortsætte."
MORE_TEXT = "Fortæl lidt mere: hvad skete der, og hvad gjorde du?"
YES_NO_TEXT = "Det forstod jeg ikke helt. Svar ja eller nej, eller skriv »stop«."


def stop_events() -> Dict[Text, Any]:
    """Slot values that end the form at once with nothing kept (the submit action then stores nothing)."""
    return {**{slot: None for slot in SLOTS}, "requested_slot": None}


def reset_events() -> List[EventType]:
    """Empty the story's slots, so the next story starts afresh."""
    return [SlotSet(slot, None) for slot in SLOTS]


def _text(tracker: Tracker) -> Text:
    return (tracker.latest_message.get("text") or "").strip()


class ValidateStoryForm(FormValidationAction):
    """Checks each answer of ``story_form``: a stop ends the form, typed commands are refused."""

    def name(self) -> Text:
        return "validate_story_form"

    def _refuse(self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: Text) -> Dict[Text, Any] | None:
        """Values for a stop or a typed command, or None when the answer may be validated."""
        text = _text(tracker)
        if is_stop(text):
            return stop_events()
        if typed_payload(tracker) and text not in BUTTONS:
            dispatcher.utter_message(text=OWN_WORDS_TEXT)
            return {slot: None}
        return None

    def validate_story_what(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                            domain: DomainDict) -> Dict[Text, Any]:
        refused = self._refuse(dispatcher, tracker, "story_what")
        if refused is not None:
            return refused
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "share_story" and len(words(_text(tracker))) <= 8:  # "jeg vil dele en god historie" again
            return {"story_what": None}
        tokens = words(str(value or ""))
        if _text(tracker) in BUTTONS or len(tokens) < 2 or all(t in NOT_A_QUESTION_WORDS for t in tokens):
            dispatcher.utter_message(text=MORE_TEXT)
            return {"story_what": None}
        return {"story_what": str(value).strip()}

    def validate_story_own_decision(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[Text, Any]:
        refused = self._refuse(dispatcher, tracker, "story_own_decision")
        if refused is not None:
            return refused
        if _text(tracker) in BUTTONS or not words(str(value or "")):
            dispatcher.utter_message(text=OWN_WORDS_TEXT)
            return {"story_own_decision": None}
        return {"story_own_decision": str(value).strip()}

    def validate_story_may_share(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                 domain: DomainDict) -> Dict[Text, Any]:
        refused = self._refuse(dispatcher, tracker, "story_may_share")
        if refused is not None:
            return refused
        text = _text(tracker)
        answer = BUTTONS.get(text) if text in BUTTONS else value if isinstance(value, bool) else yes_or_no(text)
        if answer is None:
            dispatcher.utter_message(text=YES_NO_TEXT)
        return {"story_may_share": answer}


class ActionSubmitStory(Action):
    """After ``story_form``: store the story (or nothing, after a stop) and empty the slots."""

    def name(self) -> Text:
        return "action_submit_story"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        what = tracker.get_slot("story_what")
        own = tracker.get_slot("story_own_decision")
        may_share = tracker.get_slot("story_may_share")
        if not what or not isinstance(may_share, bool):
            dispatcher.utter_message(text=STOPPED_TEXT)
            return reset_events()

        def store(private: CollectingDispatcher) -> List[EventType]:
            from bot.db.session import session_scope

            settings = get_settings()
            unit = current_unit(tracker)
            with session_scope(settings.database_url) as session:
                story = record_story(session, what_happened=str(what), own_decision=own, may_share=may_share,
                                     user_id=tracker.sender_id, unit_id=unit, key=settings.pseudonym_key)
                story_id = story.id
            logger.info("Good story %s stored (unit %s, may share: %s)", story_id, unit, may_share)
            private.utter_message(text=THANKS_SHARE if may_share else THANKS_PRIVATE)
            return []

        await run_within_budget(dispatcher, store, name=self.name())
        return reset_events()
