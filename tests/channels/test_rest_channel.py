"""Our REST channel (``bot.channels.rest.CappedRestInput``): same URL as Rasa's, the message cap before
the NLU, and 400 with a reason for bad requests, never 500.

The channel is registered in a Sanic app with Rasa's own ``register`` (as ``rasa run`` does with
``credentials.yml``) and served on a free port; ``on_new_message`` stands in for Rasa's agent.
"""
from __future__ import annotations

import asyncio
import threading

import pytest
import requests
from sanic import Sanic

from bot.config import PROJECT_ROOT
from scripts.live import free_port


class RestServer:
    def __init__(self):
        from rasa.core.channels.channel import register

        from bot.channels.rest import CappedRestInput

        self.received: list = []
        self.fail_next = False
        self.loop = asyncio.new_event_loop()
        self.port = free_port()
        self.app = Sanic("rest_channel_test")
        self.app.ctx.agent = self  # register() hands every message to app.ctx.agent.handle_message
        register([CappedRestInput()], self.app, route="/webhooks/")
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=30)
        self.url = f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"

    async def handle_message(self, message):
        self.received.append(message)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the NLU broke")
        await message.output_channel.send_text_message(message.sender_id, f"Svar på {len(message.text)} tegn")

    async def _start(self):
        self.server = await self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True,
                                                   access_log=False)
        await self.server.startup()

    def stop(self):
        async def close():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def rest():
    server = RestServer()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _clean(rest, monkeypatch):
    monkeypatch.delenv("MANDAT_MAX_MESSAGE_CHARS", raising=False)
    rest.received.clear()


def test_credentials_name_our_channel_at_rasas_rest_url():
    from rasa.core.run import create_http_input_channels

    from bot.channels.rest import CappedRestInput

    channels = create_http_input_channels(None, str(PROJECT_ROOT / "credentials.yml"))
    [rest] = [c for c in channels if c.name() == "rest"]
    assert isinstance(rest, CappedRestInput) and rest.url_prefix() == "rest"


def test_a_message_is_handed_to_rasa_as_before(rest):
    body = {"sender": "anna", "message": "Må jeg bytte vagt?", "metadata": {"team": "tandplejen"}}
    response = requests.post(rest.url, json=body, timeout=30)
    assert response.status_code == 200
    assert response.json() == [{"recipient_id": "anna", "text": "Svar på 18 tegn"}]
    [message] = rest.received
    assert (message.sender_id, message.text, message.metadata, message.input_channel) == (
        "anna", "Må jeg bytte vagt?", {"team": "tandplejen"}, "rest")


def test_a_message_over_the_cap_gets_a_danish_reason_and_never_reaches_the_nlu(rest):
    response = requests.post(rest.url, json={"sender": "anna", "message": "1" * 20_000}, timeout=30)
    assert response.status_code == 200
    [reply] = response.json()
    assert reply["recipient_id"] == "anna"
    assert reply["text"].startswith("Din besked er på 20.000 tegn. Jeg kan læse op til 2.000 tegn ad gangen")
    assert "kortere" in reply["text"]
    assert rest.received == []
    at_cap = requests.post(rest.url, json={"sender": "anna", "message": "a" * 2000}, timeout=30)
    assert at_cap.json()[0]["text"] == "Svar på 2000 tegn" and len(rest.received) == 1


def test_the_cap_is_the_setting(rest, monkeypatch):
    monkeypatch.setenv("MANDAT_MAX_MESSAGE_CHARS", "10")
    response = requests.post(rest.url, json={"sender": "anna", "message": "elleve tegn"}, timeout=30)
    assert response.json()[0]["text"].startswith("Din besked er på 11 tegn. Jeg kan læse op til 10 tegn")


@pytest.mark.parametrize("body, reason", [
    (b"", "tom"),
    (b"   ", "tom"),
    (b"{not json", "ikke gyldig JSON"),
    (b"\xff\xfe", "UTF-8"),
    (b'["sender", "message"]', "ikke en liste"),
    (b'"hej"', "ikke en tekst"),
    (b"42", "ikke et tal"),
    (b"null", "ikke null"),
    (b'{"message": "hej"}', '"sender" mangler'),
    (b'{"sender": "anna"}', '"message" mangler'),
    (b'{"sender": 7, "message": "hej"}', '"sender" skal være en tekst'),
    (b'{"sender": "", "message": "hej"}', '"sender" må ikke være tomt'),
    (b'{"sender": "anna", "message": ["hej"]}', '"message" skal være en tekst, ikke en liste'),
    (b'{"sender": "anna", "message": null}', '"message" skal være en tekst, ikke null'),
    (b'{"sender": "anna", "message": "hej", "metadata": "team"}', '"metadata" skal være et JSON-objekt'),
])
def test_a_bad_request_gets_400_with_the_reason(rest, body, reason):
    response = requests.post(rest.url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]
    assert rest.received == []


def test_a_body_far_over_any_allowed_message_is_refused_unread(rest, monkeypatch):
    monkeypatch.setenv("MANDAT_MAX_MESSAGE_CHARS", "10")
    response = requests.post(rest.url, json={"sender": "a", "message": "x" * 200_000}, timeout=30)
    assert response.status_code == 413 and "for stor" in response.json()["error"]


def test_a_failure_inside_rasa_is_not_a_500_and_does_not_log_the_text(rest, caplog):
    rest.fail_next = True
    response = requests.post(rest.url, json={"sender": "anna", "message": "CPR 010203-1234"}, timeout=30)
    assert response.status_code == 200 and response.json() == []
    assert "010203" not in caplog.text
