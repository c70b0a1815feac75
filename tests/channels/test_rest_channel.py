"""Our REST channel (``bot.channels.rest.CappedRestInput``): same URL as Rasa's, the message cap before
the NLU, and 400 with a reason for bad requests, never 500.

The channel is registered in a Sanic app with Rasa's own ``register`` (as ``rasa run`` does with
``credentials.yml``) and served on a free port by a separate Python process (Sanic 21.12 cannot run
a second app in the process of the widget channel's tests); a stand-in agent answers "Svar på N
tegn", writes each message it gets to a file, fails on a message starting with "FAIL" and
answers nothing to one starting with "SILENT".
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
import requests

from bot.channels.fallback import UNAVAILABLE
from bot.config import PROJECT_ROOT
from scripts.live import free_port

_SERVER = r"""
import json, logging, sys
from sanic import Sanic
from rasa.core.channels.channel import register
from bot.channels.rest import CappedRestInput

port, seen_path = int(sys.argv[1]), sys.argv[2]
logging.basicConfig(level=logging.DEBUG)

class Agent:
    async def handle_message(self, message):
        with open(seen_path, "a", encoding="utf-8") as seen:
            seen.write(json.dumps([message.sender_id, message.text, message.metadata, message.input_channel]) + "\n")
        if message.text.startswith("FAIL"):
            raise RuntimeError("the NLU broke")
        if message.text.startswith("SILENT"):  # e.g. an action server lost mid-call: no bot message
            return
        await message.output_channel.send_text_message(message.sender_id, f"Svar på {len(message.text)} tegn")

app = Sanic("rest_channel_test")
app.ctx.agent = Agent()
register([CappedRestInput()], app, route="/webhooks/")
app.run(host="127.0.0.1", port=port, access_log=False, workers=1)
"""


class RestServer:
    def __init__(self, tmp_path):
        self.port = free_port()
        self.seen_path = tmp_path / "seen.jsonl"
        self.seen_path.touch()
        self.log_path = tmp_path / "server.log"
        env = {k: v for k, v in os.environ.items() if k != "MANDAT_MAX_MESSAGE_CHARS"}
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen([sys.executable, "-c", _SERVER, str(self.port), str(self.seen_path)],
                                        cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"
        for _ in range(600):
            try:
                requests.get(f"http://127.0.0.1:{self.port}/webhooks/rest/", timeout=2)
                break
            except requests.ConnectionError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.log_path.read_text())
                time.sleep(0.2)

    @property
    def received(self) -> list:
        return [json.loads(line) for line in self.seen_path.read_text(encoding="utf-8").splitlines()]

    def clear(self):
        self.seen_path.write_text("")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


@pytest.fixture(scope="module")
def rest(tmp_path_factory):
    server = RestServer(tmp_path_factory.mktemp("rest"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _clean(request):
    if "rest" in request.fixturenames:
        request.getfixturevalue("rest").clear()


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
    assert rest.received == [["anna", "Må jeg bytte vagt?", {"team": "tandplejen"}, "rest"]]


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


def test_the_cap_is_the_setting(monkeypatch):
    from bot.channels.limits import over_cap
    from bot.channels.rest import CappedRestInput

    monkeypatch.setenv("MANDAT_MAX_MESSAGE_CHARS", "10")
    assert CappedRestInput()._cap() == 10 and CappedRestInput(max_chars=5)._cap() == 5
    assert over_cap("elleve tegn", 10).startswith("Din besked er på 11 tegn. Jeg kan læse op til 10 tegn")
    assert over_cap("ti tegn ok", 10) is None


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


def test_a_body_far_over_any_allowed_message_is_refused_unread(rest):
    response = requests.post(rest.url, json={"sender": "a", "message": "x" * 100_000}, timeout=30)
    assert response.status_code == 413 and "for stor" in response.json()["error"]
    assert rest.received == []


def test_a_failure_inside_rasa_is_not_a_500_and_does_not_log_the_text(rest):
    response = requests.post(rest.url, json={"sender": "anna", "message": "FAIL CPR 010203-1234"}, timeout=30)
    # Never silence and never a traceback: the polite Danish "prøv igen" (bot.channels.fallback).
    assert response.status_code == 200 and response.json() == [{"recipient_id": "anna", "text": UNAVAILABLE}]
    assert "Prøv igen" in UNAVAILABLE
    time.sleep(0.5)
    log = rest.log_path.read_text(encoding="utf-8", errors="replace")
    assert "failed" in log and "010203" not in log


def test_a_message_that_got_no_answer_gets_the_polite_retry_text(rest):
    response = requests.post(rest.url, json={"sender": "bo", "message": "SILENT hej"}, timeout=30)
    assert response.status_code == 200 and response.json() == [{"recipient_id": "bo", "text": UNAVAILABLE}]
    ok = requests.post(rest.url, json={"sender": "bo", "message": "hej"}, timeout=30)
    assert ok.json() == [{"recipient_id": "bo", "text": "Svar på 3 tegn"}]
