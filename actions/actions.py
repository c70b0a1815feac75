"""Custom actions: read the tracker, call :class:`bot.service.MandateService`, dispatch.

The asker's unit comes from the channel's verified metadata (``team``), which
``action_validate_slot_mappings`` copies into the ``unit`` slot after every
message, else from the conversation (slot ``unit``), else the rules start
``unit_form`` to ask for it and ``action_answer_pending`` answers the question
asked first (DESIGN.md, "Answering", step 2). Source for the global slot
mapping: Rasa 3.6 docs, "Slot Validation Actions" (action_validate_slot_mappings).
"""
from __future__ import annotations

import json
import logging
import os
import threading
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker, ValidationAction
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.budget import budgeted
from bot.language import option_choice
from bot.service import default_service

logger = logging.getLogger(__name__)

STRICT_INTENTS = {"nlu_fallback", "out_of_scope"}
NONE_CHOICE = "none"
"""The ``mandate_id`` of the "Ingen af dem" button after a clarifying question."""
PENDING_INTENTS = {"ask_mandate", "list_mandates"}


def metadata_unit(tracker: Tracker) -> Optional[str]:
    """The unit id in the latest message's metadata (``team``), if it is a known unit."""
    metadata = tracker.latest_message.get("metadata") or {}
    if not metadata:
        metadata = tracker.get_slot("session_started_metadata") or {}
    team = metadata.get("team") if isinstance(metadata, dict) else None
    if isinstance(team, str) and default_service().unit_exists(team):
        return team
    return None


def entity_unit(tracker: Tracker) -> Optional[str]:
    """A unit named in the latest message (``unit`` entity), matched against the catalogue."""
    for value in tracker.get_latest_entity_values("unit"):
        found = default_service().find_unit(str(value))
        if found:
            return found
    return None


def current_unit(tracker: Tracker) -> Optional[str]:
    """The asker's unit: metadata, else a unit named now, else the ``unit`` slot."""
    slot = tracker.get_slot("unit")
    return metadata_unit(tracker) or entity_unit(tracker) or (
        slot if default_service().unit_exists(slot) else None
    )


def answer_question(
    dispatcher: CollectingDispatcher, tracker: Tracker, question: Text, unit: Text, intent: Text
) -> List[EventType]:
    """Answer from the catalogue and dispatch text plus the ``custom`` payload."""
    service = default_service()
    if intent == "list_mandates":
        reply = service.list_entries(unit)
        dispatcher.utter_message(text=reply.text, json_message=reply.custom)
        return [SlotSet("unit", unit)]
    outcome = service.answer(
        question, unit, user_id=tracker.sender_id, intent=intent, strict=intent in STRICT_INTENTS,
        store_unanswered=intent != "out_of_scope", last_mandate_id=tracker.get_slot("last_mandate_id"),
        carried_case=tracker.get_slot("last_case"),
    )
    if outcome.result.answer is None and intent == "out_of_scope":
        dispatcher.utter_message(response="utter_out_of_scope")
        return [SlotSet("unit", unit)]
    if outcome.reply.custom["type"] == "clarify":
        choices = [(option["topic"], option["mandate_id"]) for option in outcome.reply.custom["options"]]
        buttons = [
            {"title": title, "payload": "/choose_mandate" + json.dumps(
                {"mandate_id": mandate_id, "question_id": outcome.question_id})}
            for title, mandate_id in [*choices, (outcome.reply.custom["none_label"], NONE_CHOICE)]
        ]
        dispatcher.utter_message(text=outcome.reply.text, buttons=buttons, json_message=outcome.reply.custom)
        return [SlotSet("unit", unit), SlotSet("last_question_id", outcome.question_id),
                SlotSet("clarify_options", [option["mandate_id"] for option in outcome.reply.custom["options"]])]
    dispatcher.utter_message(text=outcome.reply.text, json_message=outcome.reply.custom)
    return [
        SlotSet("unit", unit),
        SlotSet("last_mandate_id", outcome.result.answer.mandate_id if outcome.result.answer else None),
        SlotSet("last_question_id", outcome.question_id),
        SlotSet("last_case", outcome.check.case if outcome.check else None),
        SlotSet("clarify_options", None),
    ]


def typed_choice(tracker: Tracker) -> Optional[str]:
    """The mandate id of the "Mener du A eller B?" option that the latest message picks by typing
    ("den anden", "nr. 1") instead of pressing a button, or None (no open question, or not a choice)."""
    options = tracker.get_slot("clarify_options") or []
    index = option_choice(tracker.latest_message.get("text") or "", len(options)) if options else None
    return None if index is None else str(options[index])


def answer_chosen(dispatcher: CollectingDispatcher, tracker: Tracker, mandate_id: Optional[str]) -> List[EventType]:
    """Answer from the entry the user chose among the options, and close the open question."""
    question_id = next(tracker.get_latest_entity_values("question_id"), None) or tracker.get_slot("last_question_id")
    unit = current_unit(tracker)
    if mandate_id == NONE_CHOICE:  # "Ingen af dem": the question stays in HR's queue with the options offered
        dispatcher.utter_message(response="utter_none_of_them")
        return [SlotSet("clarify_options", None)]
    try:
        reply = default_service().answer_from_entry(
            str(mandate_id), unit or "", int(question_id) if question_id not in (None, "") else None,
            user_id=tracker.sender_id)
    except KeyError:
        dispatcher.utter_message(text="Den regel kan jeg ikke finde for din enhed. Skriv gerne spørgsmålet igen.")
        return [SlotSet("clarify_options", None)]
    dispatcher.utter_message(text=reply.text, json_message=reply.custom)
    return [SlotSet("last_mandate_id", reply.custom["mandate_id"]), SlotSet("last_case", None),
            SlotSet("clarify_options", None)]


class ValidateSlotMappings(ValidationAction):
    """Runs after every user message: the unit from metadata, and the question to keep.

    * ``unit``: the metadata ``team`` when it is a known unit (the verified
      identity wins over what was said before);
    * ``pending_question``/``pending_intent``: a mandate question asked while
      the unit is unknown, answered once ``unit_form`` has the unit.
    """

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        return ["unit", "pending_question", "pending_intent"]

    async def extract_unit(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        team = metadata_unit(tracker)
        return {"unit": team} if team and team != tracker.get_slot("unit") else {}

    async def extract_pending_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in PENDING_INTENTS and not tracker.get_slot("unit"):
            return {"pending_question": tracker.latest_message.get("text"), "pending_intent": intent}
        return {}

    async def extract_pending_intent(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {}


class ActionAnswerMandate(Action):
    """Answer the latest message from the catalogue of the asker's unit."""

    def name(self) -> Text:
        return "action_answer_mandate"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "ask_mandate"
        question = tracker.latest_message.get("text") or ""
        chosen = typed_choice(tracker)
        if chosen:  # "nr. 2" after "Mener du ...?", whatever the NLU made of it
            return answer_chosen(dispatcher, tracker, chosen)
        unit = current_unit(tracker)
        if unit is None:
            # Only fallback / out-of-scope messages get here without a unit
            # (the rules run unit_form for mandate questions).
            dispatcher.utter_message(response="utter_out_of_scope" if intent == "out_of_scope" else "utter_default")
            return []
        return answer_question(dispatcher, tracker, question, unit, intent)


class ActionListMandates(Action):
    """List the entries in force for the asker's unit, grouped by who decides."""

    def name(self) -> Text:
        return "action_list_mandates"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        unit = current_unit(tracker)
        if unit is None:
            dispatcher.utter_message(response="utter_ask_unit")
            return []
        return answer_question(dispatcher, tracker, "", unit, "list_mandates")


class ActionAnswerPending(Action):
    """After ``unit_form``: answer the question the user asked before we knew the unit."""

    def name(self) -> Text:
        return "action_answer_pending"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        unit = tracker.get_slot("unit")
        question = tracker.get_slot("pending_question")
        intent = tracker.get_slot("pending_intent") or "ask_mandate"
        clear = [SlotSet("pending_question", None), SlotSet("pending_intent", None)]
        if not unit or (question is None and intent != "list_mandates"):
            dispatcher.utter_message(text="Tak. Hvad vil du gerne vide?")
            return clear
        name = default_service().unit_name(unit)
        dispatcher.utter_message(text=f"Tak. Jeg svarer ud fra mandatkataloget for {name}.")
        return answer_question(dispatcher, tracker, question or "", unit, intent) + clear


class ActionChooseMandate(Action):
    """The user picked one of the "Mener du ...?" options: answer from that entry."""

    def name(self) -> Text:
        return "action_choose_mandate"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return answer_chosen(dispatcher, tracker, next(tracker.get_latest_entity_values("mandate_id"), None))


class ActionAffirm(Action):
    """A "ja ..." reply: after "Mener du A eller B?" a typed choice ("ja, den anden") is answered
    from that entry and a bare "ja" is asked which one; otherwise the bot acknowledges it."""

    def name(self) -> Text:
        return "action_affirm"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        chosen = typed_choice(tracker)
        if chosen:
            return answer_chosen(dispatcher, tracker, chosen)
        if tracker.get_slot("clarify_options"):
            dispatcher.utter_message(text='Hvilken af dem mener du? Tryk på en af knapperne, eller skriv fx "den første".')
            return []
        dispatcher.utter_message(response="utter_affirm_ack")
        return []


class ActionDeny(Action):
    """A "nej ..." reply: after "Mener du A eller B?" ("ingen af dem") the bot asks for the question in
    other words and closes the choice; otherwise ("nej tak") it just leaves the door open."""

    def name(self) -> Text:
        return "action_deny"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("clarify_options"):
            dispatcher.utter_message(response="utter_none_of_them")
            return [SlotSet("clarify_options", None)]
        dispatcher.utter_message(response="utter_deny_other")
        return []


class ActionSetUnit(Action):
    """The user names their unit outside the form ("jeg er i Tandplejen")."""

    def name(self) -> Text:
        return "action_set_unit"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        service = default_service()
        unit = entity_unit(tracker) or service.find_unit(tracker.latest_message.get("text") or "")
        if unit is None:
            dispatcher.utter_message(
                text="Den enhed kan jeg ikke finde i kataloget. Skriv navnet på dit team, som det står i organisationen."
            )
            return []
        dispatcher.utter_message(
            text=f"Tak. Jeg svarer nu ud fra mandatkataloget for {service.unit_name(unit)}. Hvad vil du gerne vide?"
        )
        return [SlotSet("unit", unit)]


class ValidateUnitForm(FormValidationAction):
    """Extracts and checks the ``unit`` slot: names, aliases and ids, typo-tolerant."""

    def name(self) -> Text:
        return "validate_unit_form"

    async def extract_unit(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != "unit":
            return {}
        return {"unit": tracker.latest_message.get("text")}

    def validate_unit(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        service = default_service()
        unit = entity_unit(tracker) or (service.find_unit(str(value)) if value else None)
        if unit is None:
            dispatcher.utter_message(
                text="Den enhed kan jeg ikke finde. Skriv navnet på dit team eller din afdeling, fx \"Hjemmeplejen Nord\"."
            )
            return {"unit": None}
        return {"unit": unit}


class ActionReportMistake(Action):
    """The user says the last answer is wrong: store it for HR and thank them."""

    def name(self) -> Text:
        return "action_report_mistake"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        question_id = tracker.get_slot("last_question_id")
        default_service().record_feedback(
            "mistake",
            mandate_id=tracker.get_slot("last_mandate_id"),
            question_id=int(question_id) if question_id is not None else None,
            unit_id=current_unit(tracker),
            user_id=tracker.sender_id,
            comment=tracker.latest_message.get("text"),
        )
        dispatcher.utter_message(
            text="Tak fordi du siger det. Jeg har sendt det videre, så svaret kan blive rettet. "
            "Indtil da: spørg din leder, og brug din faglige vurdering."
        )
        return []


class ActionStoreFeedback(Action):
    """Thumbs up/down from an answer card (``/feedback{"value": "up", ...}``)."""

    def name(self) -> Text:
        return "action_store_feedback"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        value = next(tracker.get_latest_entity_values("value"), None)
        if value not in ("up", "down"):
            dispatcher.utter_message(text="Tak for din feedback.")
            return []
        mandate_id = next(tracker.get_latest_entity_values("mandate_id"), None)
        question_id = next(tracker.get_latest_entity_values("question_id"), None)
        if mandate_id is None and question_id is None:
            # A typed "/feedback" without a card: the latest answer is meant. A card's
            # payload names its own entry or question, never a later one.
            mandate_id = tracker.get_slot("last_mandate_id")
            question_id = tracker.get_slot("last_question_id")
        default_service().record_feedback(
            value,
            mandate_id=mandate_id,
            question_id=int(question_id) if question_id not in (None, "") else None,
            unit_id=current_unit(tracker),
            user_id=tracker.sender_id,
        )
        text = "Tak! Godt at svaret hjalp." if value == "up" else (
            "Tak for din feedback. HR og lederne ser den, så svaret kan blive bedre."
        )
        dispatcher.utter_message(text=text)
        return []


def _warm_up() -> None:
    try:
        default_service().analyzer.terms("vikar")
    except Exception:  # pragma: no cover - warm-up is best effort
        logger.exception("Warm-up of the Danish analyser failed")


if os.environ.get("MANDAT_WARMUP") == "1":
    threading.Thread(target=_warm_up, name="mandat-warmup", daemon=True).start()


class ActionMadeMistake(Action):
    """The employee made a mistake at work (intent ``made_mistake``, not the bot's answer):
    a calm, supportive reply and the unit's route entries for mistakes (:mod:`bot.routes`).

    Nothing is stored: the message may describe an incident with personal data.
    """

    def name(self) -> Text:
        return "action_made_mistake"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from bot.db.session import session_scope
        from bot.routes import route_answer

        service = default_service()
        with session_scope(service.settings.database_url) as session:
            reply = route_answer(session, current_unit(tracker), service.settings.today(), "mistake",
                                 tracker.latest_message.get("text") or "")
        dispatcher.utter_message(text=reply.text, json_message=reply.custom)
        return []
