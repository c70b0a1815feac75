"""``make load-faults``: kill one Rasa server and one action server during a small steady load.

    python -m scripts.load.faults [--users 20] [--time 150] [--fault-at 40] [--think-scale 0.2]

Against the running production topology (``make run-prod``): Locust runs the scenario of
:mod:`scripts.load.locustfile`; at ``--fault-at`` seconds the process groups of ``rasa1`` and
``actions1`` (from ``var/prod/pids``) get SIGKILL. nginx passes new connections and messages to the
other servers; conversations are in PostgreSQL and the locks in Redis, so a conversation goes on
with its history on the other Rasa server (widget users whose socket died reconnect, as the widget
does, and the history the server sends then is counted). ``run_prod.sh`` starts the killed servers
again after a few seconds; a Rasa server needs a minute or two to load its model.

A REST probe conversation sends one message every 2 s throughout; at the end its number of stored
tracker events (PostgreSQL) shows that one conversation went on across the servers.

Writes ``reports/load-faults.md``: errors and latency before the kill, in the ``--window`` seconds
after it, and after that (each message counted when its answer, or its failure, came).
The default load is small (10 users thinking 2.5-7.5 s: about 2 messages/s), well under what
the topology carries, so the figures show the fault rather than an overload: on 2 cores the
restarted Rasa server loading its model takes one core for a minute.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from pathlib import Path

import requests

from scripts.load.report import ROOT, figures, read_raw
from scripts.load.run import run_locust

PIDS = ROOT / "var" / "prod" / "pids"


def process_groups() -> dict[str, int]:
    """``{server name: process group id}`` of the running topology."""
    if not PIDS.exists():
        raise SystemExit(f"{PIDS} is missing: start the topology first (make run-prod)")
    return {name: int(pgid) for name, pgid in (line.split() for line in PIDS.read_text().splitlines())}


class Probe(threading.Thread):
    """One REST conversation: a message every ``every`` seconds; ``(time, ok, ms)`` per message."""

    def __init__(self, host: str, every: float = 2.0):
        super().__init__(daemon=True)
        self.url = host.rstrip("/") + "/webhooks/rest/webhook"
        self.sender = f"fault-probe-{int(time.time())}"
        self.every = every
        self.results: list[tuple[float, bool, float]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        questions = ["hej", "Må jeg selv vælge en vikar, når en kollega er syg?", "Må jeg købe kaffe til mødet?"]
        i = 0
        while not self.stop.is_set():
            started = time.time()
            try:
                r = requests.post(self.url, json={"sender": self.sender, "message": questions[i % len(questions)],
                                                  "metadata": {"team": "hjemmeplejen-syd"}}, timeout=30)
                ok = r.status_code == 200 and bool(r.json())
            except requests.RequestException:
                ok = False
            self.results.append((started, ok, (time.time() - started) * 1000))
            i += 1
            self.stop.wait(self.every)


def tracker_events(sender: str) -> int | None:
    """Stored tracker events of ``sender`` (PostgreSQL), or None when it cannot be read."""
    url = os.environ.get("MANDAT_TRACKER_DB_URL", "postgresql://postgres@127.0.0.1:5432/mandatbot_tracker")
    try:
        from sqlalchemy import create_engine, text

        engine = create_engine(url, future=True)
        with engine.connect() as conn:
            count = conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()
        engine.dispose()
        return int(count)
    except Exception as exc:  # pragma: no cover - report only
        print(f"tracker store not readable: {exc}", file=sys.stderr)
        return None


def line(label: str, f) -> str:
    return (f"| {label} | {f.messages} | {f.rate:.2f} | {f.p50:.0f} | {f.p95:.0f} | {f.errors} | "
            f"{f.connect_errors} | {f.polite_retries} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.load.faults")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--time", type=int, default=150, help="seconds of load")
    parser.add_argument("--fault-at", type=float, default=40)
    parser.add_argument("--window", type=float, default=30, help="seconds after the kill counted as 'during'")
    parser.add_argument("--think-scale", type=float, default=0.5)
    parser.add_argument("--host", default="http://127.0.0.1:8080")
    parser.add_argument("--kill", default="rasa1,actions1", help="servers of var/prod/pids to kill")
    parser.add_argument("--out", default=str(ROOT / "reports" / "load-faults.md"))
    args = parser.parse_args(argv)

    groups = process_groups()
    victims = [v.strip() for v in args.kill.split(",") if v.strip()]
    raw = Path(args.out).with_name("load-faults-raw.csv")
    started = time.time()
    locust = run_locust(args.users, f"{args.time}s", args.host, raw, args.think_scale, spawn_rate=5)
    probe = Probe(args.host)
    probe.start()
    time.sleep(args.fault_at)
    killed_at = time.time()
    for name in victims:
        os.killpg(groups[name], signal.SIGKILL)
        print(f"{time.strftime('%T')} SIGKILL to {name} (process group {groups[name]})", flush=True)
    locust.wait()
    probe.stop.set()
    probe.join(timeout=35)

    # A message belongs to the period in which its outcome came (one sent just before the kill and
    # lost with the server counts as a fault error).
    rows = [{**r, "t": r["t"] + r["ms"] / 1000} for r in read_raw(raw)]
    before = figures(rows, started, killed_at)
    during = figures(rows, killed_at, killed_at + args.window)
    after = figures(rows, killed_at + args.window, time.time())
    whole = figures(rows)
    probe_fail = [t - killed_at for t, ok, _ in probe.results if not ok]
    probe_after = [ok for t, ok, _ in probe.results if t >= killed_at]
    events = tracker_events(probe.sender)
    after_kill_histories = [h for r in rows if r["kind"] == "connect" and r["t"] >= killed_at
                            and r.get("history") not in (None, "") for h in [int(r["history"])]]
    text = "\n".join([
        "# Fault test (make load-faults)", "",
        f"- command: python -m scripts.load.faults {' '.join(argv if argv is not None else sys.argv[1:])}",
        f"- {args.users} simulated users (3/4 widget over socket.io, 1/4 REST) for {args.time} s, thinking 5-15 s × "
        f"{args.think_scale}; SIGKILL to {', '.join(victims)} at {args.fault_at:.0f} s; run_prod.sh restarts them.",
        f"- machine: {os.cpu_count()} cores, shared with other work; load average {os.getloadavg()[0]:.2f} at the end",
        "", "| period | messages | msgs/s | p50 ms | p95 ms | errors | connect errors | \"prøv igen\" |",
        "|---|---|---|---|---|---|---|---|",
        line(f"before the kill (0-{args.fault_at:.0f} s)", before),
        line(f"the {args.window:.0f} s after the kill", during),
        line("after that", after),
        line("whole run", whole), "",
        "Errors: " + (", ".join(f"{k} × {v}" for k, v in whole.error_kinds.items()) or "none"), "",
        f"REST probe conversation ({probe.sender}, one message every 2 s): {len(probe.results)} messages, "
        f"{len(probe_fail)} failed (at {', '.join(f'{s:+.1f} s' for s in probe_fail) or '-'} from the kill), "
        f"{sum(probe_after)} of {len(probe_after)} answered after the kill; "
        f"{events if events is not None else '?'} tracker events stored for it in PostgreSQL.",
        f"Widget connections opened after the kill (a dropped one reconnects; each new conversation connects): "
        f"{len(after_kill_histories)}; the server sent the employee's conversation history (from PostgreSQL) "
        f"in {sum(h > 0 for h in after_kill_histories)} of them "
        f"(messages shown: {', '.join(map(str, after_kill_histories[:15])) or '-'}).", "",
    ])
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
