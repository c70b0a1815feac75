"""Rasa's SQL tracker store, with every conversation redacted before it is saved.

Configured in ``endpoints.yml``::

    tracker_store:
      type: bot.channels.tracker_store.RedactingSQLTrackerStore
    lock_store:
      type: bot.channels.tracker_store.MandatLockStore

The database comes from :attr:`bot.config.Settings.tracker_db_url`
(``MANDAT_TRACKER_DB_URL``; default the SQLite file ``var/tracker.db``,
PostgreSQL in production), not from ``endpoints.yml``: Rasa 3.6 expands
``${VAR}`` in ``endpoints.yml`` with :func:`os.path.expandvars` and stops with
an error when the variable is unset (``rasa/shared/utils/io.py``,
``replace_environment_variables``); it has no ``${VAR:-default}``, so one
``endpoints.yml`` could not serve both ``make run`` and production.

The module lives in :mod:`bot.channels` because it imports Rasa (DESIGN.md:
only ``bot/nlu`` and ``bot/channels`` may); it is an adapter between Rasa's
server and :mod:`bot.privacy`, as the widget channel is.

What is redacted (:func:`redact_event`): in every event, every string except
the structural ones (event type, intent, action and slot names, entity labels,
ids, button payloads, the verified ``team``/``unit`` metadata): the user's
``text``, ``parse_data.text``, entity values, metadata strings, the bot's
``text`` and message data, and string slot values (a slot such as
``pending_question`` holds the user's own words) except the slots that hold
ids (:data:`KEEP_SLOTS`). Only the stored copy is redacted: the message being
answered is processed as written, and the next message sees the stored,
redacted conversation.

"Slet min samtale" (``actions/privacy_actions.py``): when the newly saved
events contain :data:`DELETE_ACTION`, every stored event of that conversation
is deleted in the same transaction, and only the events from the restart
that follows it are kept (:meth:`RedactingSQLTrackerStore.save`). The
deletion happens here, in the Rasa server, because the Rasa server writes
the conversation after the action returns: an action server deleting rows
itself would see them written back.

A database error while reading or saving a conversation fails the message (:func:`fail_loudly`):
the channel then answers "... Prøv igen om lidt." instead of Rasa's default, an empty conversation
in memory that forgets the user's unit and history and is never stored.

Importing this module also puts :func:`bot.privacy.install_log_redaction`
on the Rasa server's logging (Rasa imports it at start, before the first
message).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, Restarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.config import get_settings
from bot.privacy import install_log_redaction, redact

logger = logging.getLogger(__name__)

install_log_redaction()

DELETE_ACTION = "action_delete_conversation"
"""The action after which a saved conversation is deleted (see the module doc)."""

KEEP_KEYS = frozenset({
    "event", "name", "intent_name", "action_name", "policy", "entity", "role", "group", "extractor",
    "processors", "input_channel", "message_id", "payload", "team", "unit", "mandate_id", "question_id",
    "type", "decision", "id", "timestamp", "confidence", "start", "end", "action_text", "template_name",
    "utter_action", "response", "intent", "full_retrieval_intent_name", "value_type",
})
"""Keys whose string values are structure or ids, never the user's words: stored as they are."""

KEEP_SLOTS = frozenset({
    "unit", "last_mandate_id", "last_question_id", "pending_intent", "clarify_options", "requested_slot",
    "last_case",
})
"""Slots that hold ids or catalogue text (never user text): stored as they are."""


def _redact_value(value: Any, key: Optional[str] = None) -> Any:
    if key in KEEP_KEYS:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v) for v in value]
    return value


def redact_event(data: Dict[Text, Any]) -> Dict[Text, Any]:
    """A copy of one serialised Rasa event (``Event.as_dict()``) with its personal data redacted.

    Structural fields (:data:`KEEP_KEYS`) and the values of the slots in
    :data:`KEEP_SLOTS` are kept; every other string anywhere in the event is
    passed through :func:`bot.privacy.redact`.
    """
    if data.get("event") == "slot" and data.get("name") in KEEP_SLOTS:
        return dict(data)
    return {k: _redact_value(v, k) if k not in ("event", "name", "timestamp") else v for k, v in data.items()}


def _sqlite_folder(url: str) -> None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


class RedactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's :class:`SQLTrackerStore` that redacts events before they are stored.

    Args:
        domain, event_broker: from Rasa.
        host: Rasa passes ``url:`` of ``endpoints.yml`` here; a full SQLAlchemy
            URL there wins over the setting (tests use it).
        **kwargs: the other keys of the ``tracker_store`` section, handed to
            :class:`SQLTrackerStore` (``dialect``, ``db``, ``username``, ...).
            Without ``url`` and ``db`` the URL is ``MANDAT_TRACKER_DB_URL``.
    """

    def __init__(self, domain=None, host: Optional[Text] = None, event_broker=None, **kwargs: Any) -> None:
        if not (host and "://" in host) and "db" not in kwargs:
            host = get_settings().tracker_db_url
        if host and "://" in host:
            _sqlite_folder(host)
        super().__init__(domain=domain, host=host, event_broker=event_broker, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # WAL lets `mandat purge` (admin app) write while the Rasa server reads.
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events, redacted; after :data:`DELETE_ACTION`, delete the conversation."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            events = list(self._additional_events(session, tracker))
            start = _deletion_start(events)
            if start is not None:
                deleted = session.query(self.SQLEvent).filter(
                    self.SQLEvent.sender_id == tracker.sender_id).delete(synchronize_session=False)
                events = events[start:]
                logger.info("Conversation deleted at the employee's request (%d stored events)", deleted)
            for event in events:
                data = redact_event(event.as_dict())
                intent = (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY)
                session.add(self.SQLEvent(
                    sender_id=tracker.sender_id, type_name=event.type_name, timestamp=data.get("timestamp"),
                    intent_name=intent, action_name=data.get("name"), data=json.dumps(data),
                ))
            session.commit()

    def delete_conversation(self, sender_id: Text) -> int:
        """Delete every stored event of ``sender_id``; the number of events deleted."""
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete(
                synchronize_session=False)
            session.commit()
        return deleted


def _deletion_start(events: List[Any]) -> Optional[int]:
    """Index of the first event to keep when ``events`` delete the conversation, else None.

    The conversation restarts after :data:`DELETE_ACTION` (the action returns
    ``Restarted``, which Rasa follows with ``action_session_start``): the events
    from that restart are kept, everything before it goes. Without a restart
    after the action (it failed: Rasa logs the action with no events) nothing
    is deleted.
    """
    marker = None
    for i, event in enumerate(events):
        if isinstance(event, ActionExecuted) and event.action_name == DELETE_ACTION:
            marker = i
    if marker is None:
        return None
    for i in range(marker + 1, len(events)):
        if isinstance(events[i], Restarted):
            return i
    return None


class TrackerStoreUnavailable(RuntimeError):
    """The conversation store (the database of the SQL tracker store) failed; the message is not answered."""


def _raise_unavailable(error: Exception) -> None:
    raise TrackerStoreUnavailable(f"{type(error).__name__}: {str(error).splitlines()[0][:300] if str(error) else ''}") \
        from error


def fail_loudly(agent: Any) -> None:
    """Make the agent's tracker store raise :class:`TrackerStoreUnavailable` when its database fails.

    Rasa wraps every tracker store in :class:`FailSafeTrackerStore`, which on a database error goes
    on with an empty conversation in memory: the user, mid-conversation, is asked for their unit
    again or answered without the conversation's history, and what is said meanwhile is never
    stored. With this, the message fails instead and the channel answers
    :data:`bot.channels.fallback.UNAVAILABLE` ("... Prøv igen om lidt."); nothing of it is stored.
    Idempotent and cheap: the channels call it with ``app.ctx.agent`` before each message (the
    agent, and so its wrapper, is replaced when a model is loaded).

    Args:
        agent: Rasa's agent (``app.ctx.agent``), or None (no agent yet: nothing to do).
    """
    store = getattr(agent, "tracker_store", None)
    if isinstance(store, FailSafeTrackerStore) and store._on_tracker_store_error is not _raise_unavailable:
        # FailSafeTrackerStore calls this callback (its ``on_tracker_store_error`` argument) inside
        # its ``except`` in retrieve and save; raising there passes the failure on.
        store._on_tracker_store_error = _raise_unavailable


class MandatLockStore(LockStore):
    """Rasa's lock store chosen by the setting: Redis when ``MANDAT_REDIS_URL`` is set, else in memory.

    ``endpoints.yml`` names this class; constructing it returns a
    :class:`RedisLockStore` (several Rasa servers share the conversations, issue 15)
    or an :class:`InMemoryLockStore` (one Rasa server on SQLite, ``make run``).
    Keys of the ``lock_store`` section (``key_prefix``, ``socket_timeout``, ...)
    are handed to :class:`RedisLockStore`.
    """

    def __new__(cls, endpoint_config=None, **_ignored: Any) -> LockStore:  # type: ignore[misc]
        url = get_settings().lock_store_url
        if not url:
            return InMemoryLockStore()
        from urllib.parse import urlsplit

        parts = urlsplit(url if "://" in url else f"redis://{url}")
        kwargs: Dict[str, Any] = dict(getattr(endpoint_config, "kwargs", None) or {})
        kwargs.setdefault("port", parts.port or 6379)
        if parts.path.strip("/").isdigit():
            kwargs.setdefault("db", int(parts.path.strip("/")))
        if parts.username:
            kwargs.setdefault("username", parts.username)
        if parts.password:
            kwargs.setdefault("password", parts.password)
        kwargs.setdefault("use_ssl", parts.scheme == "rediss")
        return RedisLockStore(host=parts.hostname or "localhost", **kwargs)

