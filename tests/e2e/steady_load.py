"""A small steady load for the fault tests (issue 15): a few REST conversations, a message every second.

Each conversation sends :data:`SCRIPT` round and round (a greeting, a question with a rule, a typed
thumbs up, a question without a rule) with the verified team in the metadata; every message and
what came back is kept (:class:`Sent`).
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.channels.fallback import UNAVAILABLE

TEAM = "hjemmeplejen-syd"
RULE_QUESTION = "Må jeg selv vælge en vikar, når en kollega er syg?"
SCRIPT = ["hej", RULE_QUESTION, '/feedback{"value": "up"}', "Må jeg tage min papegøje med på arbejde?"]
"""One conversation's messages, over and over."""
RETRY_TEXTS = (UNAVAILABLE, "Prøv igen om lidt")
"""A reply that asks the user to try again (the channel's, or an action's FAILED/TOO_SLOW)."""


def query(url: str, sql: str, **params) -> list:
    """Rows of ``sql`` on ``url`` (a fresh connection: the server may have restarted)."""
    engine = create_engine(url, future=True, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


@dataclass
class Sent:
    """One message and what came back."""

    sender: str
    message: str
    sent: float
    done: float = 0.0
    status: int | None = None
    replies: list = field(default_factory=list)
    error: str | None = None

    @property
    def texts(self) -> list[str]:
        return [r.get("text") or "" for r in self.replies]

    @property
    def retry(self) -> bool:
        return any(t in s for s in self.texts for t in RETRY_TEXTS)

    @property
    def answer(self) -> dict | None:
        """The ``mandate_answer`` payload of the reply, if any."""
        return next((r["custom"] for r in self.replies
                     if (r.get("custom") or {}).get("type") == "mandate_answer"), None)


class SteadyLoad(threading.Thread):
    """``conversations`` REST conversations, each sending :data:`SCRIPT` round and round."""

    def __init__(self, base: str, conversations: int = 3, pause_s: float = 1.0, tag: str = "fault"):
        super().__init__(daemon=True)
        self.url = f"{base}/webhooks/rest/webhook"
        self.senders = [f"{tag}-{i}-{int(time.time())}" for i in range(conversations)]
        self.pause_s = pause_s
        self.log: list[Sent] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def _conversation(self, sender: str) -> None:
        i = 0
        with requests.Session() as http:
            while not self.stop.is_set():
                item = Sent(sender, SCRIPT[i % len(SCRIPT)], time.time())
                try:
                    r = http.post(self.url, json={"sender": sender, "message": item.message,
                                                  "metadata": {"team": TEAM}}, timeout=60)
                    item.status = r.status_code
                    item.replies = r.json() if r.headers.get("content-type", "").startswith("application/json") \
                        else [{"text": r.text}]
                except (requests.RequestException, ValueError) as exc:
                    item.error = repr(exc)
                item.done = time.time()
                with self._lock:
                    self.log.append(item)
                i += 1
                self.stop.wait(self.pause_s)

    def run(self) -> None:
        threads = [threading.Thread(target=self._conversation, args=(s,), daemon=True) for s in self.senders]
        for thread in threads:
            thread.start()
            time.sleep(0.3)
        for thread in threads:
            thread.join()

    def finish(self) -> list[Sent]:
        self.stop.set()
        self.join(timeout=90)
        return list(self.log)


def describe(items: list[Sent], t0: float) -> str:
    return "\n".join(f"{i.sent - t0:6.1f}s {i.sender[-12:]} {i.message[:25]!r} -> {i.status} {i.error or ''} "
                     f"{[t[:60] for t in i.texts]}" for i in items)
