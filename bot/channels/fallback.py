"""No silence: the reply a channel sends when a message got no answer (issue 15, "Faults").

A message can end without any bot message when a server the Rasa server needs is down: Redis (the
lock store: the conversation cannot be locked), PostgreSQL (the tracker store: the conversation
cannot be read or saved), or an action server that died while running the action (Rasa logs the
failed call and goes on without the action's messages). The user must never meet silence or a
traceback: the REST and the widget channel send :data:`UNAVAILABLE` instead, a polite Danish "prøv
igen". Nothing of the message is stored then, or what was stored is complete (each store writes one
message's rows in one transaction), so trying again is safe.

No Rasa imports here, so both channels and their tests share it.
"""
from __future__ import annotations

from typing import Any, Dict, List

UNAVAILABLE = ("Beklager, jeg kan ikke svare lige nu på grund af en teknisk fejl. "
               "Prøv igen om lidt.")
"""What the user reads when the message got no answer (a server was down, an action failed)."""


def unanswered(messages: List[Dict[str, Any]]) -> bool:
    """True when ``messages`` (the bot messages collected for one user message) hold nothing to show."""
    return not any(m.get("text") or m.get("custom") or m.get("buttons") or m.get("image") or m.get("attachment")
                   for m in messages)
