"""Rasa's REST channel with a length cap and clear 400s for bad requests.

Configured in ``credentials.yml`` instead of Rasa's ``rest``::

    bot.channels.rest.CappedRestInput:

Rasa 3.6 mounts a channel at ``/webhooks/<url_prefix()>``, and ``url_prefix()``
is the channel's ``name()``; this class keeps ``name() == "rest"``, so the URL
stays ``POST /webhooks/rest/webhook`` (README examples, the end-to-end tests)
and messages keep ``input_channel == "rest"``.

What it adds to :class:`rasa.core.channels.rest.RestInput`:

* a message longer than ``MANDAT_MAX_MESSAGE_CHARS`` characters is answered
  ``200 [{"recipient_id": <sender>, "text": "Din besked er på ... tegn. ..."}]``
  (:func:`bot.channels.limits.too_long_text`) and never reaches the NLU, the
  tracker or the logs;
* a request that is not a JSON object with a string ``message`` and a string
  ``sender`` (an empty body, invalid JSON, an array, a string, a number, a
  missing or non-string field, a ``metadata`` that is not an object) gets
  ``400 {"error": "<Danish reason>"}`` instead of Rasa's 500; a body far larger
  than any allowed message gets ``413 {"error": ...}`` before it is parsed;
* a failure inside Rasa is logged without the message text (it may hold
  personal data) and answered with the messages collected so far, as Rasa does;
  a message that got no bot message at all (Redis or PostgreSQL down, an action
  server lost mid-call) is answered with :data:`bot.channels.fallback.UNAVAILABLE`.
"""
from __future__ import annotations

import inspect
import json
import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple, Union

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput

from bot.channels.fallback import UNAVAILABLE, unanswered
from bot.channels.limits import over_cap
from bot.channels.tracker_store import fail_loudly
from bot.config import get_settings

logger = logging.getLogger(__name__)

BODY_BYTES_PER_CHAR = 12
"""Bytes of JSON one message character can take at most (a character outside the BMP written as
two ``\\uXXXX`` escapes): a body up to ``cap * 12`` bytes plus :data:`BODY_SLACK_BYTES` may still
hold a message within the cap, so only larger bodies are refused unread (413)."""
BODY_SLACK_BYTES = 64 * 1024
"""Bytes allowed for everything but the message (sender, metadata, JSON syntax)."""


class BadRequest(ValueError):
    """A REST request this channel refuses; ``status`` is the HTTP status, the message the Danish reason."""

    def __init__(self, reason: str, status: int = 400):
        super().__init__(reason)
        self.status = status


_KINDS = {list: "en liste", str: "en tekst", int: "et tal", float: "et tal", bool: "en sandhedsværdi",
          type(None): "null"}


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)


def parse_body(body: bytes, max_chars: int) -> Tuple[str, str, Optional[Dict[str, Any]], Optional[str]]:
    """The sender, message, metadata and input channel of a REST request body.

    Args:
        body: the raw request body (UTF-8 JSON).
        max_chars: the message cap in characters; only used to refuse absurd bodies unread.

    Returns:
        ``(sender, message, metadata or None, input_channel or None)``.

    Raises:
        BadRequest: status 413 for a body larger than ``max_chars * BODY_BYTES_PER_CHAR +
            BODY_SLACK_BYTES`` bytes; 400 for an empty body, invalid UTF-8 or JSON, a JSON value
            that is not an object, a missing or non-string ``sender`` or ``message``, a
            ``metadata`` that is not an object, or an ``input_channel`` that is not a string.
    """
    if len(body or b"") > max_chars * BODY_BYTES_PER_CHAR + BODY_SLACK_BYTES:
        raise BadRequest(f"Forespørgslen er for stor ({len(body)} bytes). En besked må højst være på "
                         f"{max_chars} tegn.", status=413)
    if not body or not body.strip():
        raise BadRequest('Forespørgslen er tom. Send et JSON-objekt: {"sender": "...", "message": "..."}.')
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("Forespørgslen er ikke gyldig UTF-8.") from None
    except ValueError as exc:
        raise BadRequest(f"Forespørgslen er ikke gyldig JSON ({exc.msg}, position {exc.pos}).") from None
    if not isinstance(data, dict):
        raise BadRequest(f'Forespørgslen skal være et JSON-objekt med "sender" og "message", ikke {_kind(data)}.')
    sender, message = data.get("sender"), data.get("message")
    if "sender" not in data:
        raise BadRequest('Feltet "sender" mangler: hvem beskeden er fra (en tekst).')
    if not isinstance(sender, str):
        raise BadRequest(f'Feltet "sender" skal være en tekst, ikke {_kind(sender)}.')
    if not sender.strip():
        raise BadRequest('Feltet "sender" må ikke være tomt.')
    if "message" not in data:
        raise BadRequest('Feltet "message" mangler: beskeden (en tekst).')
    if not isinstance(message, str):
        raise BadRequest(f'Feltet "message" skal være en tekst, ikke {_kind(message)}.')
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequest(f'Feltet "metadata" skal være et JSON-objekt, ikke {_kind(metadata)}.')
    input_channel = data.get("input_channel")
    if input_channel is not None and not isinstance(input_channel, str):
        raise BadRequest(f'Feltet "input_channel" skal være en tekst, ikke {_kind(input_channel)}.')
    return sender, message, metadata, input_channel or None


class CappedRestInput(RestInput):
    """Rasa's REST channel with the length cap and 400s for bad requests; see the module docstring.

    Args:
        max_chars: the message cap in characters; None reads ``MANDAT_MAX_MESSAGE_CHARS`` on each request.
    """

    def __init__(self, max_chars: Optional[int] = None):
        self.max_chars = max_chars

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "CappedRestInput":
        return cls()

    def _cap(self) -> int:
        return self.max_chars or get_settings().max_message_chars

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """``GET /`` (health) and ``POST /webhook`` (one message; ``?stream=true`` streams the replies)."""
        module = inspect.getmodule(self)
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", module.__name__ if module else None)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> Union[ResponseStream, HTTPResponse]:
            cap = self._cap()
            try:
                sender, text, metadata, input_channel = parse_body(request.body, cap)
            except BadRequest as exc:
                return response.json({"error": str(exc)}, status=exc.status)
            input_channel = input_channel or self.name()
            refusal = over_cap(text, cap)
            if refusal is not None:
                logger.info("REST message of %d characters refused (cap %d)", len(text), cap)
                return response.json([{"recipient_id": sender, "text": refusal}])
            if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
                return response.stream(self.stream_response(on_new_message, text, sender, input_channel, metadata),
                                       content_type="text/event-stream")
            collector = CollectingOutputChannel()
            fail_loudly(getattr(request.app.ctx, "agent", None))  # a database error: "prøv igen", not amnesia
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=input_channel,
                                                 metadata=metadata))
            except CancelledError:
                logger.error("REST message of %d characters timed out", len(text))
            except Exception as exc:
                # Redis or PostgreSQL down: a one-line warning, not a traceback per message.
                logger.error("REST message of %d characters failed: %s: %s", len(text), type(exc).__name__,
                             str(exc).splitlines()[0][:300] if str(exc) else "")
                logger.debug("REST message failure", exc_info=True)
            if unanswered(collector.messages):  # never silence (bot.channels.fallback)
                collector.messages.append({"recipient_id": sender, "text": UNAVAILABLE})
            return response.json(collector.messages)

        return webhook
