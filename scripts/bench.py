"""`make bench`: latency of the REST channel and of retrieval alone, in ms.

Starts the action and Rasa servers on a fresh SQLite database with the demo
catalogue and sends each kind of message N times with fresh senders:
a greeting (NLU + rules, one slot-mapping call to the action server), a
question answered from an entry and a question without an entry (two action
calls, retrieval, one stored question). Prints median and 95th percentile.
Reference point (DESIGN.md): Rasa's bare `rasa init` bot answers a REST
message in 33-40 ms (median) on this kind of machine.
"""
from __future__ import annotations

import statistics
import sys
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MESSAGES = {
    "greeting": ("Hej", "hjemmeplejen-syd"),
    "answered": ("Må jeg selv ringe efter en vikar, når en kollega er syg?", "hjemmeplejen-syd"),
    "no entry": ("Må jeg tage min papegøje med på arbejde?", "tandplejen"),
}


def percentiles(values: list[float]) -> tuple[float, float]:
    """(median, 95th percentile) of ``values``."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main(n: int = 40) -> int:
    from scripts.live import catalogue_database, running_bot

    url = catalogue_database(ROOT / "bot" / "demo" / "catalogue.yaml", prefix="mandat-bench-")
    print(f"{'message':<10} {'n':>4} {'p50 ms':>8} {'p95 ms':>8}")
    with running_bot({"MANDAT_DATABASE_URL": url}) as base, requests.Session() as http:
        for name, (text, team) in MESSAGES.items():
            times = []
            for i in range(n):
                body = {"sender": f"bench-{uuid.uuid4().hex[:8]}", "message": text, "metadata": {"team": team}}
                start = time.perf_counter()
                http.post(f"{base}/webhooks/rest/webhook", json=body, timeout=60).raise_for_status()
                times.append((time.perf_counter() - start) * 1000)
            p50, p95 = percentiles(times[2:])
            print(f"{name:<10} {n:>4} {p50:>8.1f} {p95:>8.1f}")
    import dataclasses

    from bot.config import get_settings
    from bot.service import MandateService

    service = MandateService(dataclasses.replace(get_settings(), database_url=url))
    text, team = MESSAGES["answered"]
    service.answer(text, team, store=False)
    times = []
    for _ in range(200):
        start = time.perf_counter()
        service.answer(text, team, store=False)
        times.append((time.perf_counter() - start) * 1000)
    p50, p95 = percentiles(times)
    print(f"{'retrieval':<10} {200:>4} {p50:>8.1f} {p95:>8.1f}   (MandateService.answer, no storing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
