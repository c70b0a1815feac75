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
from bot.language import looks_like_question, option_choice, words
from bot.service import default_service

logger = logging.getLogger(__name__)

STRICT_INTENTS = {"nlu_fallback", "out_of_scope"}
NONE_CHOICE = "none"
"""The ``mandate_id`` of the "Ingen af dem" button after a clarifying question."""
PENDING_INTENTS = {"ask_mandate", "list_mandates"}
MAX_PENDING = 3
"""Questions kept while the unit form runs (the first and two more); later ones are not kept."""

BUTTON_PAYLOADS: Dict[str, frozenset] = {
    "choose_mandate": frozenset({"mandate_id", "question_id"}),
    "feedback": frozenset({"value", "mandate_id", "question_id"}),
    "delete_conversation": frozenset(),
    "confirm_delete_conversation": frozenset(),
    "cancel_delete_conversation": frozenset(),
}
"""The typed intent payloads (``/intent{...}``) the bot acts on, with the entities each may carry: the
ones the widget's own buttons send (README, "Typed intent payloads"). Any other ``/...`` message is
answered with :data:`PAYLOAD_REFUSED` and changes nothing; question ids in an accepted payload must
belong to this conversation (:func:`payload_question_id`)."""
PAYLOAD_REFUSED = ('Beskeder, der begynder med "/", er kommandoer til chatten, og dem bruger jeg ikke. '
                   'Skriv dit spørgsmål med dine egne ord, fx "Må jeg selv bytte vagt med en kollega?"')
NOT_A_QUESTION_WORDS = frozenset(
    "hej hejsa hey hi hello hallo halløj goddag godmorgen godaften davs dav tak ok okay ja nej farvel".split())
"""Words of a greeting or a bare reply: a message of only these is never stored for HR."""
UNIT_CHANGE_WORDS = frozenset(
    """nej jeg er vi i på paa hos arbejder ansat faktisk nu min mit vores det forkert forkerte skift skifte
    ændr ændre aendre anden andet en et enhed enheden team teamet afdeling afdelingen vil gerne""".split())
"""Words of "skift enhed", "forkert enhed", "jeg er i en anden afdeling": a request to change the unit
that names no unit (the bot then asks which one)."""


def typed_payload(tracker: Tracker) -> bool:
    """True when the latest message is a typed command: its text begins with "/" (``/intent{...}``)."""
    return (tracker.latest_message.get("text") or "").lstrip().startswith("/")


def refused_payload(tracker: Tracker) -> bool:
    """True for a ``/...`` message that is not one of the widget's own button payloads."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return typed_payload(tracker) and intent not in BUTTON_PAYLOADS


def entity_values(tracker: Tracker, entity: Text) -> List[Any]:
    """The latest message's values of ``entity`` that the bot may act on.

    A typed payload carries only the entities its button sends (:data:`BUTTON_PAYLOADS`):
    ``/inform_unit{"unit": ...}`` or ``/ask_mandate{"last_question_id": ...}`` carry none. The
    ``unit`` belongs to the channel when its metadata names a team: no message changes it then.
    """
    if typed_payload(tracker):
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if entity not in BUTTON_PAYLOADS.get(intent, frozenset()):
            return []
    if entity == "unit" and metadata_unit(tracker):
        return []
    return list(tracker.get_latest_entity_values(entity))


def _as_id(value: Any) -> Optional[int]:
    try:
        return int(value) if value not in (None, "") and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def conversation_question_ids(tracker: Tracker) -> set:
    """The ids of the questions stored in this conversation: the ``last_question_id`` slot and the
    ``question_id`` of every card and clarifying question the bot sent in it."""
    ids = {_as_id(tracker.get_slot("last_question_id"))}
    for event in tracker.events or []:
        if event.get("event") == "bot":
            custom = (event.get("data") or {}).get("custom")
            if isinstance(custom, dict):
                ids.add(_as_id(custom.get("question_id")))
        elif event.get("event") == "slot" and event.get("name") == "last_question_id":
            ids.add(_as_id(event.get("value")))
    ids.discard(None)
    return ids


def conversation_options(tracker: Tracker) -> set:
    """The mandate ids this conversation's clarifying questions offered (the open one and earlier ones)."""
    offered = {str(option) for option in tracker.get_slot("clarify_options") or []}
    for event in tracker.events or []:
        custom = (event.get("data") or {}).get("custom") if event.get("event") == "bot" else None
        if isinstance(custom, dict) and custom.get("type") == "clarify":
            offered |= {str(o.get("mandate_id")) for o in custom.get("options") or [] if isinstance(o, dict)}
    return offered


def payload_question_id(tracker: Tracker) -> tuple:
    """``(named, question id)``: whether the latest message names a ``question_id``, and that id when it
    is a question of this conversation (:func:`conversation_question_ids`), else None."""
    values = entity_values(tracker, "question_id")
    if not values:
        return False, None
    question_id = _as_id(values[0])
    return True, question_id if question_id in conversation_question_ids(tracker) else None


def not_a_question(text: Text) -> bool:
    """True for a message that is no question for HR's queue: empty, a typed command, a greeting or
    bare reply ("hej", "ok tak"), or a unit's name ("Hjemmeplejen Syd", "jeg er i dagplejen")."""
    text = (text or "").strip()
    tokens = words(text)
    if not tokens or text.startswith("/") or all(t in NOT_A_QUESTION_WORDS for t in tokens):
        return True
    return len(tokens) <= 6 and not looks_like_question(text) and default_service().find_unit(text) is not None


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
    """A unit named in the latest message (``unit`` entity), matched against the catalogue; never from a
    typed payload, nor when the channel's metadata names the team (:func:`entity_values`)."""
    for value in entity_values(tracker, "unit"):
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
        store_unanswered=intent != "out_of_scope" and not not_a_question(question),
        last_mandate_id=tracker.get_slot("last_mandate_id"),
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
    """Answer from the entry the user chose among the options, and close the open question.

    The choice is bound to this conversation: the entry must be one its clarifying questions offered,
    and a ``question_id`` in the payload must be one of its own questions (else no question is closed).
    """
    named, question_id = payload_question_id(tracker)
    if not named:
        question_id = _as_id(tracker.get_slot("last_question_id"))
    unit = current_unit(tracker)
    if mandate_id == NONE_CHOICE:  # "Ingen af dem": the question stays in HR's queue with the options offered
        dispatcher.utter_message(response="utter_none_of_them")
        return [SlotSet("clarify_options", None)]
    if mandate_id is None or str(mandate_id) not in conversation_options(tracker):
        dispatcher.utter_message(text="Det valg hører ikke til et spørgsmål i vores samtale. Skriv gerne spørgsmålet igen.")
        return []
    try:
        reply = default_service().answer_from_entry(
            str(mandate_id), unit or "", question_id, user_id=tracker.sender_id)
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
      the unit is unknown, answered once ``unit_form`` has the unit;
    * ``pending_questions``: the questions asked after it while the form runs
      (``[{"text", "intent"}]``, at most :data:`MAX_PENDING` in all), answered
      after it in order. A reply to the form that is neither a unit nor a
      question ("Marsstationen"), a unit's name and a typed command are never kept.
    """

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        return ["unit", "pending_question", "pending_intent", "pending_questions"]

    async def extract_unit(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        team = metadata_unit(tracker)
        return {"unit": team} if team and team != tracker.get_slot("unit") else {}

    async def extract_pending_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = (tracker.latest_message.get("text") or "").strip()
        if intent not in PENDING_INTENTS or tracker.get_slot("unit") or metadata_unit(tracker):
            return {}
        if tracker.active_loop_name == "story_form":  # a good story's text is never a question
            return {}
        in_form = tracker.active_loop_name == "unit_form"
        if typed_payload(tracker) or not_a_question(text) or (in_form and not looks_like_question(text)):
            return {}
        if tracker.get_slot("pending_question") is None:
            return {"pending_question": text, "pending_intent": intent}
        queued = [q for q in tracker.get_slot("pending_questions") or [] if isinstance(q, dict)]
        if text == tracker.get_slot("pending_question") or any(q.get("text") == text for q in queued):
            return {}
        if 1 + len(queued) >= MAX_PENDING:
            return {}
        return {"pending_questions": [*queued, {"text": text, "intent": intent}]}

    async def extract_pending_intent(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {}

    async def extract_pending_questions(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return {}


class ActionAnswerMandate(Action):
    """Answer the latest message from the catalogue of the asker's unit."""

    def name(self) -> Text:
        return "action_answer_mandate"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name") or "ask_mandate"
        question = tracker.latest_message.get("text") or ""
        if refused_payload(tracker):  # "/ask_mandate{...}" typed by hand: not a question, nothing stored
            dispatcher.utter_message(text=PAYLOAD_REFUSED)
            return []
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
        # The first action of a process has the cold-start budget: load the whole answering path
        # here too, so that the questions after it (and after make run's "Klar") are answered in time.
        default_service().warm_up(unit)
        return answer_question(dispatcher, tracker, "", unit, "list_mandates")


class ActionAnswerPending(Action):
    """After ``unit_form``: answer the questions the user asked before we knew the unit, in order
    (the first, then those asked while the form ran)."""

    def name(self) -> Text:
        return "action_answer_pending"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        unit = tracker.get_slot("unit")
        question = tracker.get_slot("pending_question")
        intent = tracker.get_slot("pending_intent") or "ask_mandate"
        clear = [SlotSet("pending_question", None), SlotSet("pending_intent", None), SlotSet("pending_questions", None)]
        queue = [(question or "", intent)] if question is not None or intent == "list_mandates" else []
        queue += [(str(q.get("text") or ""), str(q.get("intent") or "ask_mandate"))
                  for q in tracker.get_slot("pending_questions") or [] if isinstance(q, dict) and q.get("text")]
        if not unit or not queue:
            dispatcher.utter_message(text="Tak. Hvad vil du gerne vide?")
            return clear
        name = default_service().unit_name(unit)
        more = f" Du har stillet {len(queue)} spørgsmål, og jeg svarer på dem i den rækkefølge, du stillede dem." \
            if len(queue) > 1 else ""
        dispatcher.utter_message(text=f"Tak. Jeg svarer ud fra mandatkataloget for {name}.{more}")
        events: List[EventType] = []
        for number, (text, kind) in enumerate(queue, start=1):
            if len(queue) > 1:
                what = "Din oversigt" if kind == "list_mandates" else f"Spørgsmål {number}: »{text}«"
                dispatcher.utter_message(text=what)
            events += answer_question(dispatcher, tracker, text, unit, kind)
        return events + clear


class ActionChooseMandate(Action):
    """The user picked one of the "Mener du ...?" options: answer from that entry."""

    def name(self) -> Text:
        return "action_choose_mandate"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return answer_chosen(dispatcher, tracker, next(iter(entity_values(tracker, "mandate_id")), None))


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
    other words and closes the choice; "nej, jeg er faktisk i dagplejen" changes the unit as
    ``action_set_unit`` does; otherwise ("nej tak") it just leaves the door open."""

    def name(self) -> Text:
        return "action_deny"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("clarify_options"):
            dispatcher.utter_message(response="utter_none_of_them")
            return [SlotSet("clarify_options", None)]
        named = None if typed_payload(tracker) else named_unit(tracker)
        if named is not None:
            return change_unit(dispatcher, tracker, named)
        dispatcher.utter_message(response="utter_deny_other")
        return []


class ActionSetUnit(Action):
    """The user names their unit outside the form ("jeg er i Tandplejen", "skift enhed")."""

    def name(self) -> Text:
        return "action_set_unit"

    @budgeted
    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if refused_payload(tracker) and not metadata_unit(tracker):
            dispatcher.utter_message(text=PAYLOAD_REFUSED)
            return []
        return change_unit(dispatcher, tracker, None if typed_payload(tracker) else named_unit(tracker))


def named_unit(tracker: Tracker) -> Optional[str]:
    """The unit the latest message names (``unit`` entity, else the text matched against the catalogue)."""
    return entity_unit(tracker) or default_service().find_unit(tracker.latest_message.get("text") or "")


def change_unit(dispatcher: CollectingDispatcher, tracker: Tracker, unit: Optional[str]) -> List[EventType]:
    """Answer a change of unit to ``unit`` (None: the message names none).

    Where the channel's metadata names the team (the intranet's verified identity), the unit does
    not change and the bot says so, naming that team: it never confirms a unit it will not use.
    """
    service = default_service()
    team = metadata_unit(tracker)
    if team is not None:
        name = service.unit_name(team)
        if unit == team:
            text = f"Ja, jeg svarer ud fra dit team i intranettet, {name}. Hvad vil du gerne vide?"
        else:
            text = (f"Jeg svarer ud fra dit team i intranettet, {name}. Er det forkert, så kontakt din leder "
                    "eller HR, så det bliver rettet i intranettet.")
        dispatcher.utter_message(text=text)
        return [] if tracker.get_slot("unit") == team else [SlotSet("unit", team)]
    if unit is None:
        if all(t in UNIT_CHANGE_WORDS for t in words(tracker.latest_message.get("text") or "")):
            dispatcher.utter_message(text="Hvilken enhed eller hvilket team er du i? Skriv navnet, som det står i "
                                          "organisationen.")
        else:
            dispatcher.utter_message(
                text="Den enhed kan jeg ikke finde i kataloget. Skriv navnet på dit team, som det står i organisationen.")
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
        if typed_payload(tracker):  # "/inform_unit{...}" typed by hand sets nothing
            dispatcher.utter_message(text=PAYLOAD_REFUSED)
            return {"unit": None}
        unit = entity_unit(tracker) or (service.find_unit(str(value)) if value else None)
        if unit is None and looks_like_question(str(value or "")):
            # Another question while the form runs: kept (action_validate_slot_mappings), answered after.
            dispatcher.utter_message(text="Det spørgsmål svarer jeg også på, så snart jeg kender din enhed.")
            return {"unit": None}
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
        value = next(iter(entity_values(tracker, "value")), None)
        if value not in ("up", "down"):
            dispatcher.utter_message(text="Tak for din feedback.")
            return []
        mandate_id = next(iter(entity_values(tracker, "mandate_id")), None)
        named, question_id = payload_question_id(tracker)  # another conversation's question id is dropped
        if mandate_id is None and not named:
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
    """Load the answering path at start (``MANDAT_WARMUP=1``), for the first unit of the catalogue."""
    try:
        service = default_service()
        service.analyzer.terms("vikar")
        from sqlalchemy import select

        from bot.db.models import Unit
        from bot.db.session import session_scope

        with session_scope(service.settings.database_url) as session:
            unit = session.execute(select(Unit.id).order_by(Unit.id).limit(1)).scalar()
        if unit is not None:
            service.warm_up(unit)
    except Exception:  # pragma: no cover - warm-up is best effort
        logger.exception("Warm-up of the answering path failed")


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

        from bot.routes import asks_permission, detect_concern

        service = default_service()
        text = tracker.latest_message.get("text") or ""
        # "Må jeg komme 45 minutter senere til en borger?" reads like a mistake to the NLU (coming late);
        # a permission question that names no mistake is answered from the catalogue (a fresh user's trial).
        unit = current_unit(tracker)
        if unit is not None and not detect_concern(text) and asks_permission(text):
            return answer_question(dispatcher, tracker, text, unit, "ask_mandate")
        # "Hun har blå mærker igen, hvad gør jeg?" reads like a mistake to the NLU; concern for a
        # child or a citizen is always answered with the duty to report (a fresh user's trial).
        kind = "concern" if detect_concern(text) else "mistake"
        with session_scope(service.settings.database_url) as session:
            reply = route_answer(session, current_unit(tracker), service.settings.today(), kind, text)
        dispatcher.utter_message(text=reply.text, json_message=reply.custom)
        return []
