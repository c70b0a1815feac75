"""The chat widget's Rasa input channel: socket.io with a verified identity.

Configured in ``credentials.yml``::

    bot.channels.widget.WidgetInput:
      socketio_path: /socket.io      # optional

Unlike Rasa's ``socketio`` channel, nothing the client sends decides whose
conversation it is or which unit answers:

* ``connect``: the client's socket.io ``auth`` payload carries the token
  (``{"token": "<JWT>", "unit": "<optional: one of the token's units>"}``).
  It is verified (:func:`bot.channels.identity.verify_token`) and the unit
  must exist in the catalogue; otherwise the connection is refused with a
  Danish reason (``ConnectionRefusedError``; the client's ``connect_error``
  gets ``{"message": ..., "data": {"code": ...}}``) and nothing is stored.
* the conversation (Rasa sender id) is the keyed hash of the employee id
  (:func:`bot.channels.identity.conversation_id`), the same on every
  connection of that employee, and only that connection's socket is answered;
* every ``user_uttered`` becomes a :class:`UserMessage` with that sender id
  and ``metadata = {"team": <the token's unit>}``; a ``session_id`` or
  ``metadata`` sent by the client is ignored. A token that expires while
  connected ends the connection (``mandat_error`` with code ``expired``).
* a message longer than ``MANDAT_MAX_MESSAGE_CHARS`` characters is not handed
  to Rasa: the socket gets one ``bot_uttered`` with the Danish reason
  (:func:`bot.channels.limits.too_long_text`) and ``mandat_done``.
* a message that got no bot message (Redis or PostgreSQL down, an action
  server lost mid-call) gets one ``bot_uttered`` with
  :data:`bot.channels.fallback.UNAVAILABLE`, a polite "prøv igen", never silence.

Events to the client: ``session_confirm`` (the conversation id), ``mandat_hello``
(display name and unit name, for the greeting), ``mandat_history`` (the
messages of the current conversation session, so a reload shows the
conversation), ``mandat_notice`` (after the history: one per message telling
the employee that a question they asked has been answered since,
:mod:`bot.notices`; said once, and not part of the history), ``bot_uttered`` (one event per bot message: ``text``,
``quick_replies``, ``custom``), ``mandat_done`` (the bot has answered a
message), ``mandat_error``.
"""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage

from bot.channels.fallback import UNAVAILABLE, unanswered
from bot.channels.limits import over_cap
from bot.channels.tracker_store import fail_loudly
from bot.channels.identity import Identity, TokenRejected, conversation_id, expired, verify_token
from bot.config import Settings, get_settings, require_production_secrets

logger = logging.getLogger(__name__)

CHANNEL_NAME = "widget"


class WidgetSocketBlueprint(Blueprint):
    """A blueprint that attaches the socket.io server and remembers the Sanic app."""

    def __init__(self, sio: AsyncServer, socketio_path: str, channel: "WidgetInput", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ctx.sio = sio
        self.ctx.socketio_path = socketio_path
        self.ctx.channel = channel

    def register(self, app, options):
        self.ctx.sio.attach(app, self.ctx.socketio_path)
        self.ctx.channel.app = app
        super().register(app, options)


class WidgetOutput(OutputChannel):
    """Sends each bot message as one ``bot_uttered`` event to one socket."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    def __init__(self, sio: AsyncServer, sid: Text, bot_message_evt: Text):
        self.sio = sio
        self.sid = sid
        self.bot_message_evt = bot_message_evt
        self.sent: List[Dict[Text, Any]] = []
        """The bot messages sent to the socket (for :func:`bot.channels.fallback.unanswered`)."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """One event per bot message: text, buttons and custom payload together."""
        event = widget_message(message)
        self.sent.append(event)
        await self.sio.emit(self.bot_message_evt, event, room=self.sid)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        self.sent.append({"text": text})
        await self.sio.emit(self.bot_message_evt, {"text": text}, room=self.sid)


def widget_message(message: Dict[Text, Any]) -> Dict[Text, Any]:
    """A bot message (Rasa's dict, or a ``bot`` event's text and data) in the widget's shape."""
    out: Dict[Text, Any] = {}
    if message.get("text"):
        out["text"] = message["text"]
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if buttons:
        out["quick_replies"] = [{"title": b.get("title", ""), "payload": b.get("payload", "")} for b in buttons]
    if message.get("custom"):
        out["custom"] = message["custom"]
    if message.get("image"):
        out["image"] = message["image"]
    return out


def history_messages(events: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """The visible messages of the current session (after the last restart or session start).

    User messages that are button payloads (``/intent{...}``) are left out:
    the widget shows the button's title when it is clicked, not the payload.
    """
    start = 0
    for index, event in enumerate(events):
        if event.get("event") in ("session_started", "restart"):
            start = index + 1
    messages = []
    for event in events[start:]:
        if event.get("event") == "user":
            text = event.get("text") or ""
            if text and not text.startswith("/"):
                messages.append({"from": "user", "text": text})
        elif event.get("event") == "bot":
            data = event.get("data") or {}
            message = widget_message({"text": event.get("text"), **data})
            if message:
                messages.append({"from": "bot", **message})
    return messages


def _refuse(code: str, message: str) -> ConnectionRefusedError:
    return ConnectionRefusedError(message, {"code": code})


class WidgetInput(InputChannel):
    """The widget channel (socket.io); see the module docstring."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("socketio_path", "/socket.io"),
        )

    def __init__(self, user_message_evt: Text = "user_uttered", bot_message_evt: Text = "bot_uttered",
                 socketio_path: Text = "/socket.io", settings: Optional[Settings] = None):
        self.user_message_evt = user_message_evt
        self.bot_message_evt = bot_message_evt
        self.socketio_path = socketio_path
        self.settings = settings
        self.app = None

    def _settings(self) -> Settings:
        return self.settings or get_settings()

    def authenticate(self, auth: Any, origin: Optional[str] = None) -> Dict[Text, Any]:
        """The connection's identity from the ``auth`` payload.

        Returns:
            ``{"sender_id", "unit", "units", "display_name", "expires_at"}``.

        Raises:
            ConnectionRefusedError: with a Danish message and ``{"code": ...}``.
        """
        settings = self._settings()
        if settings.widget_origins and origin not in settings.widget_origins:
            raise _refuse("origin", "Chatten må ikke åbnes fra denne side.")
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            identity: Identity = verify_token(token, settings)
        except TokenRejected as exc:
            raise _refuse(exc.code, exc.message) from None
        wanted = auth.get("unit") if isinstance(auth, dict) else None
        if wanted and wanted not in identity.units:
            raise _refuse("unknown_unit", "Du er ikke tilknyttet den enhed, chatten blev bedt om.")
        unit = wanted or identity.units[0]
        unit_name = _unit_name(unit, settings)
        if unit_name is None:
            raise _refuse("unknown_unit", f"Din enhed ({unit}) findes ikke i mandatkataloget. Kontakt HR.")
        return {
            "sender_id": conversation_id(identity.employee_id, settings.pseudonym_key),
            "unit": unit,
            "unit_name": unit_name,
            "units": list(identity.units),
            "display_name": identity.display_name,
            "expires_at": identity.expires_at,
        }

    async def _history(self, sender_id: Text) -> List[Dict[Text, Any]]:
        agent = getattr(getattr(self.app, "ctx", None), "agent", None)
        store = getattr(agent, "tracker_store", None)
        if store is None:
            return []
        try:
            tracker = await store.retrieve(sender_id)
        except Exception:  # pragma: no cover - history is a convenience
            logger.exception("Could not read the conversation history")
            return []
        if tracker is None:
            return []
        return history_messages([event.as_dict() for event in tracker.events])

    async def _notices(self, sender_id: Text) -> List[Dict[Text, Any]]:
        """The messages about this conversation's questions answered since they were asked and not yet
        told (:func:`bot.notices.take_notices`, run in a worker thread); empty on any error."""
        from bot.notices import take_notices

        try:
            return await asyncio.get_running_loop().run_in_executor(
                None, functools.partial(take_notices, sender_id, settings=self.settings))
        except Exception:  # pragma: no cover - a notice is a convenience; the chat works without it
            logger.exception("Could not read the answered questions")
            return []

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # CORS of the HTTP long-polling transport is left to `rasa run --cors`,
        # as in Rasa's socketio channel; origins are checked in `connect`.
        require_production_secrets(self._settings(), ("MANDAT_PSEUDONYM_KEY", "MANDAT_JWT_SECRET"))
        if self._settings().widget_dev_mode:
            logger.warning("MANDAT_WIDGET_DEV_MODE is on: widget tokens may be signed with the public dev secret. "
                           "Never use dev mode in production.")
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        webhook = WidgetSocketBlueprint(sio, self.socketio_path, self, "widget_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @sio.on("connect")
        async def connect(sid: Text, environ: Dict, auth: Any = None) -> bool:
            identity = self.authenticate(auth, environ.get("HTTP_ORIGIN"))
            await sio.save_session(sid, identity)
            logger.debug("Widget connection %s for conversation %s", sid, identity["sender_id"])
            return True

        @sio.on("session_request")
        async def session_request(sid: Text, _data: Any = None) -> None:
            identity = await sio.get_session(sid)
            await sio.emit("session_confirm", identity["sender_id"], room=sid)
            await sio.emit("mandat_hello", {"name": identity["display_name"], "unit": identity["unit"],
                                            "unit_name": identity["unit_name"]}, room=sid)
            await sio.emit("mandat_history", await self._history(identity["sender_id"]), room=sid)
            for message in await self._notices(identity["sender_id"]):
                await sio.emit("mandat_notice", message, room=sid)

        @sio.on(self.user_message_evt)
        async def handle_message(sid: Text, data: Any) -> None:
            identity = await sio.get_session(sid)
            if expired(identity["expires_at"], self._settings().jwt_leeway_s):
                await sio.emit("mandat_error", {"code": "expired", "message":
                               "Dit login er udløbet. Genindlæs siden for at logge ind igen."}, room=sid)
                await sio.disconnect(sid)
                return
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip():
                return
            refusal = over_cap(text, self._settings().max_message_chars)
            if refusal is not None:  # before the NLU: nothing of it is stored
                await sio.emit(self.bot_message_evt, {"text": refusal}, room=sid)
                await sio.emit("mandat_done", {}, room=sid)
                return
            output = WidgetOutput(sio, sid, self.bot_message_evt)
            message = UserMessage(
                text,
                output,
                identity["sender_id"],
                input_channel=self.name(),
                metadata={"team": identity["unit"]},
            )
            fail_loudly(getattr(getattr(self.app, "ctx", None), "agent", None))  # database error: "prøv igen"
            try:
                await on_new_message(message)
            except Exception as exc:  # Redis or PostgreSQL down: one line, never the message text
                logger.error("Widget message of %d characters failed: %s: %s", len(text), type(exc).__name__,
                             str(exc).splitlines()[0][:300] if str(exc) else "")
                logger.debug("Widget message failure", exc_info=True)
            finally:
                if unanswered(output.sent):  # never silence (bot.channels.fallback)
                    await sio.emit(self.bot_message_evt, {"text": UNAVAILABLE}, room=sid)
                await sio.emit("mandat_done", {}, room=sid)

        return webhook


def _unit_name(unit_id: str, settings: Settings) -> Optional[str]:
    """The unit's name, or None when the catalogue has no such unit."""
    from bot.db.models import Unit
    from bot.db.session import new_session

    session = new_session(settings.database_url)
    try:
        unit = session.get(Unit, unit_id)
        return unit.name if unit is not None else None
    finally:
        session.close()
