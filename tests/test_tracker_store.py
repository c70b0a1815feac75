"""The redacting SQL tracker store: conversations survive a restart, redacted; deletion; endpoints.yml."""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time

import pytest

from bot.config import PROJECT_ROOT

CPR = "010203-1234"
PHONE = "22 33 44 55"


def _domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _store(url: str):
    from bot.channels.tracker_store import RedactingSQLTrackerStore

    return RedactingSQLTrackerStore(domain=_domain(), host=url)


def _conversation(sender: str):
    from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = _domain()
    tracker = DialogueStateTracker(sender, domain.slots)
    text = f"Må jeg give fru Jensen på Skovvej 12 med cpr {CPR} mit nummer {PHONE}?"
    # As in Rasa, SessionStarted is made by action_session_start before Rasa logs the action: not later.
    started = time.time()
    tracker.update_with_events([
        ActionExecuted("action_session_start", timestamp=started), SessionStarted(timestamp=started),
        ActionExecuted("action_listen"),
        UserUttered(text, intent={"name": "ask_mandate", "confidence": 0.9},
                    entities=[{"entity": "topic", "value": f"cpr {CPR}", "start": 0, "end": 5}],
                    parse_data={"text": text, "intent": {"name": "ask_mandate", "confidence": 0.9},
                                "entities": [{"entity": "topic", "value": f"cpr {CPR}", "start": 0, "end": 5}]},
                    metadata={"team": "hjemmeplejen-syd", "note": f"ring {PHONE}"}),
        SlotSet("pending_question", text),
        SlotSet("unit", "hjemmeplejen-syd"),
        ActionExecuted("action_answer_mandate"),
        BotUttered(f"Du skrev {CPR}. Spørg din leder.", data={"custom": {"type": "no_mandate", "question_id": 7}}),
        ActionExecuted("action_listen"),
    ], domain, override_timestamp=False)
    return tracker


def _raw_rows(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT data FROM events ORDER BY id")]


def test_restart_keeps_the_conversation_redacted(tmp_path):
    """Save, a new store instance (a restarted server), retrieve: all there, CPR, phone, name, address gone."""
    path = tmp_path / "var" / "tracker.db"
    url = f"sqlite:///{path}"
    asyncio.run(_store(url).save(_conversation("w-anna")))

    tracker = asyncio.run(_store(url).retrieve("w-anna"))
    assert tracker is not None
    user = [e for e in tracker.events if e.type_name == "user"][0]
    assert CPR not in user.text and "[CPR-NR]" in user.text and "[TELEFON]" in user.text
    assert "Jensen" not in user.text and "Skovvej" not in user.text
    assert user.text.startswith("Må jeg give fru [NAVN] på [ADRESSE]")
    assert user.parse_data["text"] == user.text
    assert user.intent["name"] == "ask_mandate"
    assert user.metadata["team"] == "hjemmeplejen-syd"  # the verified unit is kept
    assert PHONE not in user.metadata["note"]
    assert tracker.get_slot("unit") == "hjemmeplejen-syd"
    assert CPR not in tracker.get_slot("pending_question")
    bot = [e for e in tracker.events if e.type_name == "bot"][0]
    assert bot.text == "Du skrev [CPR-NR]. Spørg din leder."
    assert bot.data["custom"] == {"type": "no_mandate", "question_id": 7}
    rows = _raw_rows(path)
    assert len(rows) == len(_conversation("x").events)
    assert not any(CPR in r or "010203" in r or "22 33 44 55" in r or "Jensen" in r for r in rows)


def test_only_new_events_are_added(tmp_path):
    """Saving the same tracker twice and then one more event stores each event once."""
    from rasa.shared.core.events import ActionExecuted, UserUttered

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = _store(url)
    tracker = _conversation("w-bo")
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))
    tracker.update_with_events([UserUttered("tak", intent={"name": "thank", "confidence": 1.0}),
                                ActionExecuted("utter_you_are_welcome")], _domain())
    asyncio.run(store.save(tracker))
    assert len(_raw_rows(tmp_path / "tracker.db")) == len(tracker.events)


def _delete_turn(tracker, with_restart: bool = True):
    from rasa.shared.core.events import ActionExecuted, BotUttered, Restarted, SessionStarted, UserUttered

    events = [UserUttered("/confirm_delete_conversation", intent={"name": "confirm_delete_conversation",
                                                                  "confidence": 1.0}),
              ActionExecuted("action_delete_conversation"), BotUttered("Din samtale ... er slettet.")]
    if with_restart:
        started = time.time()
        events += [Restarted(), ActionExecuted("action_session_start", timestamp=started),
                   SessionStarted(timestamp=started), ActionExecuted("action_listen")]
    tracker.update_with_events(events, _domain(), override_timestamp=False)


def test_delete_conversation_removes_every_stored_event(tmp_path):
    """After action_delete_conversation and its restart, only the fresh session is stored."""
    path = tmp_path / "tracker.db"
    url = f"sqlite:///{path}"
    store = _store(url)
    other = _conversation("w-other")
    asyncio.run(store.save(other))
    tracker = _conversation("w-anna")
    asyncio.run(store.save(tracker))
    _delete_turn(tracker)
    asyncio.run(store.save(tracker))

    kept = asyncio.run(_store(url).retrieve_full_tracker("w-anna"))
    assert [e.type_name for e in kept.events] == ["restart", "action", "session_started", "action"]
    assert not [e for e in kept.events if e.type_name in ("user", "bot")]
    # another employee's conversation is untouched
    assert len(asyncio.run(store.retrieve_full_tracker("w-other")).events) == len(other.events)
    # the conversation goes on in the fresh session
    from rasa.shared.core.events import UserUttered

    kept.update(UserUttered("hej", intent={"name": "greet", "confidence": 1.0}))
    asyncio.run(store.save(kept))
    assert [e.type_name for e in asyncio.run(store.retrieve("w-anna")).events][-1] == "user"


def test_failed_delete_action_deletes_nothing(tmp_path):
    """The action logged without its restart (it failed or asked again): the conversation stays."""
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = _store(url)
    tracker = _conversation("w-anna")
    asyncio.run(store.save(tracker))
    _delete_turn(tracker, with_restart=False)
    asyncio.run(store.save(tracker))
    assert len(asyncio.run(store.retrieve_full_tracker("w-anna")).events) == len(tracker.events)


def test_endpoints_yml_gives_the_redacting_store_on_the_setting(tmp_path, monkeypatch):
    """Rasa's own loader reads endpoints.yml: our store on MANDAT_TRACKER_DB_URL, in-memory locks by default."""
    from rasa.core.lock_store import InMemoryLockStore, LockStore
    from rasa.core.tracker_store import TrackerStore
    from rasa.core.utils import read_endpoints_from_path

    from bot.channels.tracker_store import RedactingSQLTrackerStore

    monkeypatch.setenv("MANDAT_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'sub' / 'rasa.db'}")
    monkeypatch.delenv("MANDAT_REDIS_URL", raising=False)
    endpoints = read_endpoints_from_path(str(PROJECT_ROOT / "endpoints.yml"))
    store = TrackerStore.create(endpoints.tracker_store, _domain())
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, RedactingSQLTrackerStore)
    assert str(inner.engine.url) == f"sqlite:///{tmp_path / 'sub' / 'rasa.db'}"
    assert (tmp_path / "sub" / "rasa.db").exists()
    assert isinstance(LockStore.create(endpoints.lock_store), InMemoryLockStore)


def test_redis_lock_store_when_configured(monkeypatch):
    from rasa.core.lock_store import LockStore, RedisLockStore
    from rasa.core.utils import read_endpoints_from_path

    monkeypatch.setenv("MANDAT_REDIS_URL", "redis://127.0.0.1:6379/3")
    endpoints = read_endpoints_from_path(str(PROJECT_ROOT / "endpoints.yml"))
    lock_store = LockStore.create(endpoints.lock_store)
    assert isinstance(lock_store, RedisLockStore)
    kwargs = lock_store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("127.0.0.1", 6379, 3)


def test_redact_event_keeps_structure():
    from bot.channels.tracker_store import redact_event

    data = {"event": "bot", "text": f"ring {PHONE}", "data": {"buttons": [
        {"title": "Hjemmeplejen Syd", "payload": '/choose_mandate{"mandate_id": "hps-vikar", "question_id": 12345678}'}]},
        "metadata": {"utter_action": "utter_greet"}}
    out = redact_event(data)
    assert out["text"] == "ring [TELEFON]"
    assert out["data"]["buttons"][0]["payload"] == data["data"]["buttons"][0]["payload"]
    assert data["text"] == f"ring {PHONE}"  # the event itself is not changed
    slot = {"event": "slot", "name": "unit", "value": "Jensens Allé 4"}
    assert redact_event(slot) == slot  # an id slot stays as it is
    assert redact_event({"event": "slot", "name": "pending_question", "value": CPR})["value"] == "[CPR-NR]"


def test_rasa_server_log_redaction_installed_by_the_store_module(caplog):
    """Importing the tracker store module (Rasa does at start) redacts the Rasa server's log records."""
    import importlib

    from bot.privacy import uninstall_log_redaction

    import bot.channels.tracker_store as module

    uninstall_log_redaction()
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("rasa.core.processor").info("raw %s", CPR)
        assert CPR in caplog.text  # without the filter the test would see it
        caplog.clear()
        importlib.reload(module)
        with caplog.at_level(logging.INFO):
            logging.getLogger("rasa.core.processor").info("Received message 'mit cpr er %s'", CPR)
        assert CPR not in caplog.text and "[CPR-NR]" in caplog.text
    finally:
        uninstall_log_redaction()


def test_a_database_error_fails_the_message_instead_of_an_empty_conversation_in_memory():
    """Rasa's FailSafeTrackerStore would go on with a new, empty conversation in memory when the
    database is down (the user is asked for their unit again, nothing is stored); fail_loudly makes
    the error reach the channel, which answers "prøv igen" (bot.channels.fallback)."""
    from types import SimpleNamespace

    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.channels.tracker_store import TrackerStoreUnavailable, fail_loudly

    class DatabaseDown(InMemoryTrackerStore):
        async def retrieve(self, sender_id):
            raise ConnectionError("connection to server at 127.0.0.1 refused")

        async def save(self, tracker):
            raise ConnectionError("connection to server at 127.0.0.1 refused")

    domain = Domain.empty()
    agent = SimpleNamespace(tracker_store=FailSafeTrackerStore(DatabaseDown(domain)))
    assert asyncio.run(agent.tracker_store.retrieve("anna")) is None  # Rasa's default: amnesia
    fail_loudly(agent)
    fail_loudly(agent)  # idempotent
    with pytest.raises(TrackerStoreUnavailable, match="ConnectionError: connection to server"):
        asyncio.run(agent.tracker_store.retrieve("anna"))
    with pytest.raises(TrackerStoreUnavailable):
        asyncio.run(agent.tracker_store.save(DialogueStateTracker("anna", [])))
    fail_loudly(None)  # no agent yet (the model is still loading): nothing to do
