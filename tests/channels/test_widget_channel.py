"""The widget channel over real socket.io: who may connect, and whose conversation it is.

Each test serves the channel's blueprint in a Sanic server on a free port
(as ``rasa run`` does) and talks to it with python-socketio's client. The
channel hands each message to Rasa through ``on_new_message``; here that
callback keeps the :class:`UserMessage` objects (what Rasa would store in
the tracker) and answers through the message's output channel.
"""
from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import aiohttp
import pytest
import socketio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sanic import Sanic

from bot.channels.identity import conversation_id, issue_token
from bot.privacy import pseudonym
from scripts.live import free_port

# python-engineio's websocket client passes aiohttp>=3.10's ClientWSTimeout; Rasa 3.6 pins aiohttp 3.9,
# whose ws_connect takes the close timeout as a plain number. (The long-polling transport works
# without this, but each disconnect then waits for the server's 25 s ping.)
if not hasattr(aiohttp, "ClientWSTimeout"):
    aiohttp.ClientWSTimeout = lambda ws_close=10.0, **_: ws_close
SECRET = "test-widget-secret-0123456789abcdef"
KEY = "test-pseudonym-key"


@pytest.fixture()
def widget_env(demo_db, monkeypatch) -> str:
    """The demo catalogue, a shared HS256 secret and a pseudonym key in the environment."""
    for name in ("MANDAT_WIDGET_DEV_MODE", "MANDAT_JWT_PUBLIC_KEY", "MANDAT_JWT_PUBLIC_KEY_FILE",
                 "MANDAT_JWT_ALGORITHMS", "MANDAT_WIDGET_ORIGINS", "MANDAT_JWT_LEEWAY_S"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANDAT_JWT_SECRET", SECRET)
    monkeypatch.setenv("MANDAT_PSEUDONYM_KEY", KEY)
    return demo_db


def token(employee: str = "anna.andersen", units=("hjemmeplejen-syd",), lifetime_s: int = 600,
          key: str = SECRET, algorithm: str = "HS256", name: str | None = "Anna Andersen") -> str:
    return issue_token(employee, list(units), key=key, algorithm=algorithm, lifetime_s=lifetime_s,
                       display_name=name)


@dataclass
class Session:
    """What one client connection saw."""

    connected: bool = False
    error: dict | None = None
    confirm: str | None = None
    hello: dict | None = None
    history: list | None = None
    bot: list = field(default_factory=list)
    notices: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    done: int = 0


async def _client(port: int, auth, messages=(), headers=None, wait_s: float = 0.0) -> Session:
    seen = Session()
    client = socketio.AsyncClient(reconnection=False)
    client.on("connect_error", lambda data: setattr(seen, "error", data))
    client.on("session_confirm", lambda data: setattr(seen, "confirm", data))
    client.on("mandat_hello", lambda data: setattr(seen, "hello", data))
    client.on("mandat_history", lambda data: setattr(seen, "history", data))
    client.on("bot_uttered", lambda data: seen.bot.append(data))
    client.on("mandat_notice", lambda data: seen.notices.append(data))
    client.on("mandat_error", lambda data: seen.errors.append(data))

    def done(_data):
        seen.done += 1

    client.on("mandat_done", done)
    try:
        await client.connect(f"http://127.0.0.1:{port}", auth=auth, transports=["websocket"],
                             socketio_path="/socket.io", headers=headers or {}, wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        return seen
    seen.connected = True
    await client.emit("session_request", {"session_id": "chosen-by-the-client"})
    for message in messages:
        expected = seen.done + 1
        await client.emit("user_uttered", message)
        for _ in range(100):
            if seen.done >= expected or not client.connected:
                break
            await asyncio.sleep(0.05)
    await asyncio.sleep(wait_s)
    for _ in range(100):
        if seen.history is not None or not client.connected:
            break
        await asyncio.sleep(0.05)
    if client.connected:
        await client.disconnect()
    return seen


class WidgetServer:
    """The widget channel served by Sanic in a background thread (one per test module:
    Sanic 21.12 cannot start a second app in one process)."""

    def __init__(self):
        from bot.channels.widget import WidgetInput

        self.received: list = []
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self.app = Sanic("widget_channel_test")
        self.app.blueprint(WidgetInput().blueprint(self._on_new_message))
        self.server = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)

    async def _on_new_message(self, message):
        self.received.append(message)
        if message.text.startswith("FAIL"):  # e.g. Redis or PostgreSQL down
            raise RuntimeError("the lock store is down")
        if message.text.startswith("SILENT"):  # e.g. an action server lost mid-call: no bot message
            return
        await message.output_channel.send_response(message.sender_id, {
            "text": f"Svar til {message.metadata['team']}", "custom": {"type": "no_mandate", "question_id": 1},
            "buttons": [{"title": "Ja", "payload": "/affirm"}]})

    async def _start(self):
        self.server = await self.app.create_server(host="127.0.0.1", port=self.port,
                                                   return_asyncio_server=True, access_log=False)
        await self.server.startup()

    async def _stop(self):
        self.server.close()
        await self.server.wait_closed()

    def run(self, coroutine, timeout_s: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=timeout_s)

    def stop(self):
        self.run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def server():
    instance = WidgetServer()
    yield instance
    instance.stop()


@pytest.fixture()
def run_clients(server, widget_env):
    """Run each ``(auth, messages[, headers[, wait_s]])`` client in turn against the channel.

    Returns:
        The UserMessages Rasa would have received, and what each client saw.
    """
    def run(*clients) -> tuple[list, list[Session]]:
        server.received.clear()

        async def all_clients():
            return [await _client(server.port, *spec) for spec in clients]

        seen = server.run(all_clients())
        return list(server.received), seen

    return run


def test_valid_token_gives_the_employees_conversation_and_the_tokens_unit(run_clients):
    received, [seen] = run_clients(({"token": token()}, [
        {"message": "Må jeg selv ringe efter en vikar?", "session_id": "someone-elses-conversation",
         "metadata": {"team": "tandplejen"}, "sender": "boss"},
    ]))
    expected = conversation_id("anna.andersen", KEY)
    assert seen.connected and seen.error is None
    assert seen.confirm == expected and "anna" not in expected
    assert seen.hello == {"name": "Anna Andersen", "unit": "hjemmeplejen-syd", "unit_name": "Hjemmeplejen Syd"}
    [message] = received
    assert message.sender_id == expected
    assert message.metadata == {"team": "hjemmeplejen-syd"}, "the client's metadata is ignored"
    assert message.input_channel == "widget"
    assert message.text == "Må jeg selv ringe efter en vikar?"
    # One event per bot message: text, buttons and payload together.
    assert seen.bot == [{"text": "Svar til hjemmeplejen-syd", "custom": {"type": "no_mandate", "question_id": 1},
                         "quick_replies": [{"title": "Ja", "payload": "/affirm"}]}]
    assert seen.history == []


@pytest.mark.parametrize("auth, code", [
    (None, "missing"),
    ({}, "missing"),
    ({"token": ""}, "missing"),
    ({"token": "not-a-jwt"}, "invalid"),
    ({"token": 12345}, "missing"),
])
def test_no_or_malformed_token_is_refused_and_nothing_reaches_rasa(run_clients, auth, code):
    received, [seen] = run_clients((auth, [{"message": "hej"}]))
    assert not seen.connected
    assert seen.error["data"]["code"] == code
    assert "logget ind" in seen.error["message"] or "ugyldig" in seen.error["message"]
    assert received == []


def test_expired_token_is_refused_but_clock_skew_within_the_leeway_is_accepted(run_clients, monkeypatch):
    monkeypatch.setenv("MANDAT_JWT_LEEWAY_S", "30")
    received, (expired, skewed) = run_clients(
        ({"token": token(lifetime_s=-120)}, [{"message": "hej"}]),
        ({"token": token(lifetime_s=-10)}, [{"message": "hej"}]),
    )
    assert not expired.connected and expired.error["data"]["code"] == "expired"
    assert expired.error["message"] == "Dit login er udløbet. Genindlæs siden for at logge ind igen."
    assert skewed.connected
    assert len(received) == 1


def test_wrong_signature_is_refused(run_clients):
    forged = token(key="another-secret-the-intranet-never-used")
    received, [seen] = run_clients(({"token": forged}, [{"message": "hej"}]))
    assert not seen.connected and seen.error["data"]["code"] == "bad_signature"
    assert seen.error["message"] == "Adgangsnøglen har en forkert signatur."
    assert received == []


def test_unsigned_token_is_refused(run_clients):
    import jwt

    unsigned = jwt.encode({"sub": "anna", "units": ["hjemmeplejen-syd"], "exp": time.time() + 600}, None,
                          algorithm="none")
    received, [seen] = run_clients(({"token": unsigned}, [{"message": "hej"}]))
    assert not seen.connected and seen.error["data"]["code"] == "invalid"
    assert received == []


def test_unknown_unit_is_refused(run_clients):
    received, (unknown, not_mine) = run_clients(
        ({"token": token(units=["findes-ikke"])}, [{"message": "hej"}]),
        ({"token": token(units=["hjemmeplejen-syd"]), "unit": "tandplejen"}, [{"message": "hej"}]),
    )
    assert not unknown.connected and unknown.error["data"]["code"] == "unknown_unit"
    assert "findes-ikke" in unknown.error["message"]
    assert not not_mine.connected and not_mine.error["data"]["code"] == "unknown_unit"
    assert received == []


def test_an_employee_with_two_units_may_pick_one_of_them(run_clients):
    two = token(units=["hjemmeplejen-syd", "tandplejen"])
    received, (default, picked) = run_clients(
        ({"token": two}, [{"message": "hej"}]),
        ({"token": two, "unit": "tandplejen"}, [{"message": "hej"}]),
    )
    assert [m.metadata["team"] for m in received] == ["hjemmeplejen-syd", "tandplejen"]
    assert default.hello["unit_name"] == "Hjemmeplejen Syd" and picked.hello["unit_name"] == "Tandplejen"


def test_same_conversation_on_reconnect_and_different_for_another_employee(run_clients):
    received, (first, again, other) = run_clients(
        ({"token": token("anna.andersen")}, [{"message": "første"}]),
        ({"token": token("anna.andersen")}, [{"message": "anden"}]),
        ({"token": token("bo.berg", units=["tandplejen"], name="Bo")}, [{"message": "tredje"}]),
    )
    assert first.confirm == again.confirm == conversation_id("anna.andersen", KEY)
    assert other.confirm == conversation_id("bo.berg", KEY) != first.confirm
    assert [m.sender_id for m in received] == [first.confirm, first.confirm, other.confirm]
    # Keyed: without the key the id cannot be recomputed from the employee id.
    assert first.confirm != "w-" + pseudonym("widget:anna.andersen", "another-key")


def test_a_token_that_expires_while_connected_ends_the_connection(widget_env, monkeypatch, server):
    monkeypatch.setenv("MANDAT_JWT_LEEWAY_S", "0")
    server.received.clear()
    seen = server.run(_send_after_expiry(server.port))
    received = list(server.received)
    assert seen.errors and seen.errors[0]["code"] == "expired"
    assert not seen.connected
    assert received == []


async def _send_after_expiry(port: int) -> Session:
    """Connect with a token valid for 1 s, wait 2 s, then send a message."""
    seen = Session()
    client = socketio.AsyncClient(reconnection=False)
    client.on("mandat_error", lambda data: seen.errors.append(data))
    await client.connect(f"http://127.0.0.1:{port}", auth={"token": token(lifetime_s=1)},
                         transports=["websocket"], wait_timeout=10)
    await asyncio.sleep(2.2)
    await client.emit("user_uttered", {"message": "hej"})
    for _ in range(60):
        if seen.errors:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    seen.connected = client.connected
    if client.connected:
        await client.disconnect()
    return seen


def test_rs256_tokens_with_the_intranets_public_key(run_clients, monkeypatch, tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()).decode()
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    key_file = tmp_path / "intranet.pub"
    key_file.write_bytes(public_pem)
    monkeypatch.setenv("MANDAT_JWT_PUBLIC_KEY_FILE", str(key_file))
    monkeypatch.setenv("MANDAT_JWT_ALGORITHMS", "RS256")
    received, (rs, hs) = run_clients(
        ({"token": token(key=private_pem, algorithm="RS256")}, [{"message": "hej"}]),
        ({"token": token()}, [{"message": "hej"}]),
    )
    assert rs.connected and rs.confirm == conversation_id("anna.andersen", KEY)
    assert not hs.connected and hs.error["data"]["code"] == "invalid", "HS256 is not accepted when only RS256 is"
    assert len(received) == 1


def test_origins_can_be_restricted(run_clients, monkeypatch):
    monkeypatch.setenv("MANDAT_WIDGET_ORIGINS", "https://intranet.storkeby.dk")
    received, (good, bad) = run_clients(
        ({"token": token()}, [{"message": "hej"}], {"Origin": "https://intranet.storkeby.dk"}),
        ({"token": token()}, [{"message": "hej"}], {"Origin": "https://evil.example"}),
    )
    assert good.connected and not bad.connected and bad.error["data"]["code"] == "origin"
    assert len(received) == 1


def test_without_a_configured_key_every_connection_is_refused(run_clients, monkeypatch):
    monkeypatch.delenv("MANDAT_JWT_SECRET")
    received, [seen] = run_clients(({"token": token()}, [{"message": "hej"}]))
    assert not seen.connected and seen.error["data"]["code"] == "not_configured"
    assert received == []


def test_history_lists_the_visible_messages_of_the_current_session():
    from bot.channels.widget import history_messages

    events = [
        {"event": "user", "text": "gammelt spørgsmål"},
        {"event": "session_started"},
        {"event": "user", "text": "Må jeg selv ringe efter en vikar?"},
        {"event": "bot", "text": "Ja, det må du gerne selv beslutte.",
         "data": {"custom": {"type": "mandate_answer", "mandate_id": "x"}, "buttons": None}},
        {"event": "user", "text": '/feedback{"value": "down"}'},
        {"event": "bot", "text": "Tak for din feedback.", "data": {}},
        {"event": "slot", "name": "unit"},
    ]
    assert history_messages(events) == [
        {"from": "user", "text": "Må jeg selv ringe efter en vikar?"},
        {"from": "bot", "text": "Ja, det må du gerne selv beslutte.",
         "custom": {"type": "mandate_answer", "mandate_id": "x"}},
        {"from": "bot", "text": "Tak for din feedback."},
    ]


def test_a_message_over_the_cap_is_answered_with_the_reason_and_never_reaches_rasa(run_clients):
    received, [seen] = run_clients(({"token": token()}, [{"message": "1" * 20_000}, {"message": "a" * 2000}]))
    assert seen.done == 2
    assert seen.bot[0]["text"].startswith("Din besked er på 20.000 tegn. Jeg kan læse op til 2.000 tegn ad gangen")
    assert [m.text for m in received] == ["a" * 2000], "only the message within the cap reaches Rasa"


def test_a_failed_or_unanswered_message_gets_the_polite_retry_text_never_silence(run_clients):
    from bot.channels.fallback import UNAVAILABLE

    received, [seen] = run_clients(({"token": token()}, [{"message": "FAIL hej"}, {"message": "SILENT hej"},
                                                          {"message": "hej"}]))
    assert len(received) == 3
    assert [m["text"] for m in seen.bot] == [UNAVAILABLE, UNAVAILABLE, "Svar til hjemmeplejen-syd"]
    assert "Prøv igen" in UNAVAILABLE and seen.done == 3 and seen.connected


def test_an_answered_question_is_told_once_to_its_asker_after_the_history(run_clients, widget_env):
    """The channel emits bot.notices' messages (``mandat_notice``) after the history, once, and only to
    the conversation the question was stored under."""
    import datetime as dt

    from bot.db.models import Question
    from bot.db.session import session_scope
    from bot.inbox import mark_answered

    with session_scope(widget_env) as session:
        question = Question(unit_id="hjemmeplejen-syd", text="Må jeg tage min hund med?", outcome="unanswered",
                            status="new", asked_at=dt.datetime(2026, 11, 3, 9),
                            user_pseudonym=pseudonym(conversation_id("anna.andersen", KEY), KEY))
        session.add(question)
        session.flush()
        mark_answered(question, "leder", reply="Ja, i pausen.")
    _, [other, anna, again] = run_clients(({"token": token("bo.berg", name="Bo")}, [], None, 0.5),
                                          ({"token": token()}, [], None, 0.5),
                                          ({"token": token()}, [], None, 0.5))
    assert other.notices == [] and again.notices == []
    assert [n["text"] for n in anna.notices] == [
        "Dit spørgsmål fra 3. november er besvaret: «Må jeg tage min hund med?»", "Svar fra leder: Ja, i pausen."]
    assert anna.notices[1]["custom"]["type"] == "expert_reply" and anna.history == []
