"""Locust scenario for Mandatbot (``make load``, issue 15): employees holding conversations.

Two kinds of simulated employee, through nginx (``--host``, default http://127.0.0.1:8080):

* :class:`WidgetEmployee` (weight 3): the chat widget's socket.io channel (websocket transport,
  ``/socket.io``) with a real token signed with the configured secret
  (:func:`bot.channels.identity.issue_token`, ``MANDAT_JWT_SECRET`` from the environment or from
  ``var/prod.env``). A dropped connection is reopened before the next message, as the widget does;
  the conversation history the server sends then (``mandat_history``) is counted.
* :class:`RestEmployee` (weight 1): the REST channel (``/webhooks/rest/webhook``) with
  ``metadata.team``.

One conversation: a greeting, 2-4 mandate questions from ``tests/data/eval/dev.yaml`` (items with a
mandate for the employee's unit), now and then (``NO_RULE_SHARE``) a question without a rule (items
``expect: none``), a thumbs up on a mandate answer (``/feedback{...}``, as the widget's button
sends it), with 5-15 s of thinking time between messages, multiplied by ``MANDAT_LOAD_THINK_SCALE``
(default 1; e.g. 0.1 for short runs).

A message fails when no reply comes within ``MANDAT_LOAD_TIMEOUT_S`` (default 30 s), the HTTP status
is not 200, the connection is refused or dropped, or the bot answers nothing (silence). A reply
that says "Prøv igen" counts as answered but is tallied as ``polite_retry`` in the raw file.

Every message is also written to ``MANDAT_LOAD_RAW`` (CSV: unix time, channel, kind, ms, ok,
polite_retry, error) for scripts/load/report.py. Only 127.0.0.1 / localhost hosts are accepted.
"""
from __future__ import annotations

import csv
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import gevent
from gevent.event import Event
import requests
from locust import User, between, events, task

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import socketio  # noqa: E402  (python-socketio's client; gevent-patched by locust)
import yaml  # noqa: E402

THINK_SCALE = float(os.environ.get("MANDAT_LOAD_THINK_SCALE", "1"))
TIMEOUT_S = float(os.environ.get("MANDAT_LOAD_TIMEOUT_S", "30"))
NO_RULE_SHARE = float(os.environ.get("MANDAT_LOAD_NO_RULE_SHARE", "0.3"))
GREETINGS = ("hej", "Hej!", "godmorgen", "hejsa", "goddag")
_counter = itertools.count(1)


def load_questions(path: Path = ROOT / "tests" / "data" / "eval" / "dev.yaml") -> tuple[dict, list]:
    """``({team: [answerable question texts]}, [(team, text) without a rule])`` from the dev split."""
    answerable: dict[str, list[str]] = {}
    no_rule: list[tuple[str, str]] = []
    for item in yaml.safe_load(path.read_text(encoding="utf-8")):
        if item.get("expect") == "none":
            no_rule.append((item["team"], item["text"]))
        elif item.get("expect") not in (None, "smalltalk"):
            answerable.setdefault(item["team"], []).append(item["text"])
    return {t: q for t, q in answerable.items() if len(q) >= 2}, no_rule


ANSWERABLE, NO_RULE = load_questions()


def jwt_secret() -> str:
    """The widget-token secret: ``MANDAT_JWT_SECRET``, else the one in ``var/prod.env``."""
    secret = os.environ.get("MANDAT_JWT_SECRET")
    if secret:
        return secret
    env = Path(os.environ.get("MANDAT_PROD_ENV", ROOT / "var" / "prod.env"))
    for line in env.read_text(encoding="utf-8").splitlines():
        if line.startswith("MANDAT_JWT_SECRET="):
            return line.split("=", 1)[1].strip()
    raise RuntimeError(f"no MANDAT_JWT_SECRET in the environment or in {env}")


def check_local(host: str) -> None:
    """Refuse any target but this machine."""
    name = urlsplit(host).hostname
    if name not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"make load targets only 127.0.0.1 (got {host})")


def think() -> None:
    gevent.sleep(random.uniform(5, 15) * THINK_SCALE)


def conversation_plan(team: str) -> list[tuple[str, str]]:
    """``[(kind, text)]``: greeting, 2-4 questions (maybe one without a rule); feedback is added live."""
    plan = [("greeting", random.choice(GREETINGS))]
    questions = random.sample(ANSWERABLE[team], k=min(len(ANSWERABLE[team]), random.randint(2, 4)))
    plan += [("question", q) for q in questions]
    if NO_RULE and random.random() < NO_RULE_SHARE:
        plan.insert(random.randint(1, len(plan)), ("no_rule", random.choice(NO_RULE)[1]))
    return plan


# -- raw samples ------------------------------------------------------------------------------

_raw_file = None
_raw_writer = None


@events.init.add_listener
def _open_raw(environment, **_kwargs):
    global _raw_file, _raw_writer
    check_local(environment.host or "http://127.0.0.1:8080")
    path = os.environ.get("MANDAT_LOAD_RAW")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _raw_file = open(path, "w", newline="", encoding="utf-8")
        _raw_writer = csv.writer(_raw_file)
        _raw_writer.writerow(["t", "channel", "kind", "ms", "ok", "polite_retry", "error", "history"])


@events.quitting.add_listener
def _close_raw(**_kwargs):
    if _raw_file is not None:
        _raw_file.flush()
        _raw_file.close()


def record(environment, channel: str, kind: str, started: float, texts: list[str], error: str | None,
           history: int | None = None) -> None:
    """Report one message to Locust and to the raw file."""
    ms = (time.time() - started) * 1000
    polite = any("prøv igen" in t.lower() for t in texts)
    environment.events.request.fire(
        request_type=channel, name=kind, response_time=ms, response_length=sum(len(t) for t in texts),
        exception=RuntimeError(error) if error else None, context={},
    )
    if _raw_writer is not None:
        _raw_writer.writerow([f"{started:.3f}", channel, kind, f"{ms:.1f}", int(not error), int(polite), error or "",
                              "" if history is None else history])


# -- the widget over socket.io ----------------------------------------------------------------

def hold_conversation(send, team: str) -> None:
    """One conversation over ``send(kind, text) -> replies`` (either channel): the plan of
    :func:`conversation_plan` with thinking time between messages, and a thumbs up on half of the
    answer cards."""
    for index, (kind, text) in enumerate(conversation_plan(team)):
        if index:
            think()
        replies = send(kind, text)
        answer = next((r["custom"] for r in replies
                       if (r.get("custom") or {}).get("type") == "mandate_answer"), None)
        if answer and random.random() < 0.5:
            think()
            payload = {"value": "up", "mandate_id": answer.get("mandate_id"), "question_id": answer.get("question_id")}
            send("feedback", "/feedback" + json.dumps(payload))


class WidgetEmployee(User):
    """An employee in the widget: socket.io (websocket) with a signed token."""

    weight = 3
    wait_time = between(5, 15)

    def on_start(self) -> None:
        self.wait_time = lambda: random.uniform(5, 15) * THINK_SCALE
        self.team = random.choice(sorted(ANSWERABLE))
        self.employee = f"load-w{next(_counter)}-{random.randrange(10**6)}"
        self.sio: socketio.Client | None = None
        self.replies: list[dict] = []
        self.done = Event()
        self.history_sizes: list[int] = []

    def _connect(self) -> None:
        from bot.channels.identity import issue_token

        token = issue_token(self.employee, [self.team], key=jwt_secret(), display_name="Belastning",
                            lifetime_s=3600)
        sio = socketio.Client(reconnection=False)
        sio.on("bot_uttered", lambda data: self.replies.append(data or {}))
        sio.on("mandat_done", lambda _data=None: self.done.set())
        sio.on("mandat_history", lambda data: self.history_sizes.append(len(data or [])))
        started = time.time()
        try:
            sio.connect(self.environment.host, auth={"token": token}, transports=["websocket"],
                        socketio_path="socket.io", wait_timeout=TIMEOUT_S)
            sizes = len(self.history_sizes)
            sio.emit("session_request", {})
            deadline = time.time() + 5
            while len(self.history_sizes) == sizes and time.time() < deadline:
                gevent.sleep(0.02)
        except Exception as exc:  # refused, timed out
            record(self.environment, "widget", "connect", started, [], f"connect: {type(exc).__name__}: {exc}")
            raise
        history = self.history_sizes[-1] if len(self.history_sizes) > sizes else None
        record(self.environment, "widget", "connect", started, [], None, history)
        self.sio = sio

    def send(self, kind: str, text: str) -> list[dict]:
        """Send one message and wait for ``mandat_done``; the bot's messages."""
        if self.sio is None or not self.sio.connected:
            self._connect()  # the widget reconnects by itself after a dropped connection
        self.replies = []
        self.done.clear()
        started = time.time()
        error = None
        try:
            self.sio.emit("user_uttered", {"message": text})
            if not self.done.wait(TIMEOUT_S):
                error = "timeout" if self.sio.connected else "connection dropped"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        replies = list(self.replies)
        texts = [r.get("text", "") for r in replies]
        if not error and not replies:
            error = "silence"
        record(self.environment, "widget", kind, started, texts, error)
        return replies

    @task
    def conversation(self) -> None:
        try:
            hold_conversation(self.send, self.team)
        except Exception:
            gevent.sleep(1)  # connect failed: already recorded; the next conversation tries again
        finally:
            if self.sio is not None:
                try:
                    self.sio.disconnect()
                except Exception:
                    pass
                self.sio = None

    def on_stop(self) -> None:
        if self.sio is not None:
            try:
                self.sio.disconnect()
            except Exception:
                pass


# -- REST --------------------------------------------------------------------------------------

class RestEmployee(User):
    """An employee over the REST channel (server-to-server use; nginx allows it from 127.0.0.1)."""

    weight = 1

    def wait_time(self) -> float:
        return random.uniform(5, 15) * THINK_SCALE

    def on_start(self) -> None:
        self.team = random.choice(sorted(ANSWERABLE))
        self.sender = f"load-r{next(_counter)}-{random.randrange(10**6)}"
        self.http = requests.Session()

    def send(self, kind: str, text: str) -> list[dict]:
        started = time.time()
        error, replies = None, []
        try:
            response = self.http.post(self.environment.host.rstrip("/") + "/webhooks/rest/webhook",
                                      timeout=TIMEOUT_S, json={"sender": self.sender, "message": text,
                                                               "metadata": {"team": self.team}})
            if response.status_code != 200:
                error = f"HTTP {response.status_code}"
            else:
                replies = response.json() or []
                if not replies:
                    error = "silence"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        record(self.environment, "rest", kind, started, [r.get("text", "") for r in replies], error)
        return replies

    @task
    def conversation(self) -> None:
        hold_conversation(self.send, self.team)
