"""``make load``: the Locust scenario against the running production topology, one run per user count.

    python -m scripts.load.run --users 10,50 --time 2m [--think-scale 1] [--host http://127.0.0.1:8080]

Start the topology first (``make run-prod``). Each user count runs headless for ``--time`` (Locust
``-t``; users start at ``--spawn-rate`` per second), then the figures of all runs go into
``reports/load.md`` and ``reports/load.png`` (:mod:`scripts.load.report`), with the memory of each
server at the end. Raw samples: ``reports/load-raw-<users>.csv``. Only 127.0.0.1 is targeted.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from scripts.load.report import ROOT, figures, memory_by_group, read_raw, write_report

LOCUSTFILE = ROOT / "scripts" / "load" / "locustfile.py"


def run_locust(users: int, seconds: str, host: str, raw: Path, think_scale: float, spawn_rate: float,
               extra_env: dict | None = None) -> subprocess.Popen:
    """Start one headless Locust run (returns the process; the caller waits)."""
    env = {**os.environ, "MANDAT_LOAD_RAW": str(raw), "MANDAT_LOAD_THINK_SCALE": str(think_scale),
           **(extra_env or {})}
    locust = Path(sys.executable).parent / "locust"
    command = [str(locust), "-f", str(LOCUSTFILE), "--headless", "--only-summary", "-u", str(users),
               "-r", str(spawn_rate), "-t", seconds, "--host", host, "--stop-timeout", "35",
               "--loglevel", "WARNING"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.load.run")
    parser.add_argument("--users", default="10,50", help="comma-separated user counts, one run each")
    parser.add_argument("--time", default="2m", help="duration of each run (Locust -t: 90s, 2m, ...)")
    parser.add_argument("--host", default="http://127.0.0.1:8080")
    parser.add_argument("--think-scale", type=float, default=1.0,
                        help="multiplies the 5-15 s thinking time (e.g. 0.1 for short runs)")
    parser.add_argument("--spawn-rate", type=float, default=5.0)
    parser.add_argument("--out", default=str(ROOT / "reports" / "load.md"))
    args = parser.parse_args(argv)

    out_md = Path(args.out)
    out_png = out_md.with_suffix(".png")
    runs = []
    memory = {}
    generator = []  # the load generator runs on the same cores as the servers
    for users in [int(u) for u in args.users.split(",") if u.strip()]:
        raw = out_md.parent / f"load-raw-{users}.csv"
        print(f"== {users} users, {args.time}, think scale {args.think_scale} ==", flush=True)
        started = time.time()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        process = run_locust(users, args.time, args.host, raw, args.think_scale, args.spawn_rate)
        process.wait()
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
        memory = memory_by_group()  # the servers after the run, still holding what the load made them grow to
        f = figures(read_raw(raw))
        runs.append((users, f))
        elapsed = time.time() - started
        generator.append(f"{users} users: {locust_cpu:.0f} CPU-s in {elapsed:.0f} s ({locust_cpu / elapsed:.2f} cores)")
        print(f"   {f.messages} messages in {elapsed:.0f} s: {f.rate:.2f}/s, p50 {f.p50:.0f} ms, "
              f"p95 {f.p95:.0f} ms, p99 {f.p99:.0f} ms, {f.errors} errors; Locust used {locust_cpu:.0f} CPU-s",
              flush=True)
    load = os.getloadavg()
    context = {
        "command": "python -m scripts.load.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "target": f"{args.host} (make run-prod: nginx, 2 Rasa servers, 2 action servers, PostgreSQL, Redis)",
        "conversation": "greeting, 2-4 mandate questions from tests/data/eval/dev.yaml, 30 % with a question "
                        f"without a rule, thumbs up on half the answers; thinking 5-15 s × {args.think_scale}",
        "users": "3 of 4 on the widget's socket.io channel (signed tokens), 1 of 4 over REST",
        "machine": f"{os.cpu_count()} cores, load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f} at the end "
                   "(shared with other work: the figures are noisy)",
        "load generator (Locust, same machine)": "; ".join(generator),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }
    print(write_report(runs, memory, out_md, out_png, context))
    return 0


if __name__ == "__main__":
    sys.exit(main())
