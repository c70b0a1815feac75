"""Start the action server and the Rasa server on free ports, for tests and evaluation.

Used by ``tests/e2e`` and ``make eval``/``make bench``: a context manager that
starts both servers against a given database, waits until the REST channel
answers, and stops both afterwards.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def catalogue_database(*catalogues: Path, prefix: str = "mandat-") -> str:
    """URL of a new migrated SQLite database in a temporary folder holding ``catalogues``.

    Raises:
        CatalogueValidationError: a catalogue file is invalid.
    """
    from bot.catalogue.io import import_file
    from bot.db.migrate import upgrade
    from bot.db.session import new_session

    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=prefix)) / 'mandat.db'}"
    upgrade(url)
    for catalogue in catalogues:
        session = new_session(url)
        try:
            import_file(session, catalogue)
        finally:
            session.close()
    return url


def model_path() -> Path:
    """The current trained model (``make train`` links ``models/current.tar.gz``)."""
    path = ROOT / "models" / "current.tar.gz"
    if not path.exists():
        raise FileNotFoundError("No trained model: run `make train` first (models/current.tar.gz).")
    return path


@contextlib.contextmanager
def running_bot(env: dict[str, str], timeout_s: float = 240.0, stores: bool = False) -> Iterator[str]:
    """Run both servers with ``env`` added to the environment; yields the Rasa base URL.

    ``stores``: use ``endpoints.yml``'s tracker store and lock store (the SQL tracker store on
    ``MANDAT_TRACKER_DB_URL``, Redis when ``MANDAT_REDIS_URL`` is set); else Rasa's in-memory ones.

    Raises:
        RuntimeError: a server exited or did not answer within ``timeout_s`` seconds
            (its log tail is in the message).
    """
    action_port, rasa_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mandat-live-"))
    endpoints = workdir / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n' + (
        "tracker_store:\n  type: bot.channels.tracker_store.RedactingSQLTrackerStore\n"
        "lock_store:\n  type: bot.channels.tracker_store.MandatLockStore\n" if stores else ""))
    full_env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
                "MANDAT_WARMUP": "1", **env}
    logs = {name: open(workdir / f"{name}.log", "w") for name in ("actions", "rasa")}
    procs = [
        subprocess.Popen([str(BIN / "rasa"), "run", "actions", "--port", str(action_port)],
                         cwd=ROOT, env=full_env, stdout=logs["actions"], stderr=subprocess.STDOUT),
        subprocess.Popen([str(BIN / "rasa"), "run", "--model", str(model_path()), "--port", str(rasa_port),
                          "--interface", "127.0.0.1", "--endpoints", str(endpoints),
                          "--credentials", str(ROOT / "credentials.yml")],
                         cwd=ROOT, env=full_env, stdout=logs["rasa"], stderr=subprocess.STDOUT),
    ]
    base = f"http://127.0.0.1:{rasa_port}"
    try:
        deadline = time.monotonic() + timeout_s
        ready = False
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            try:
                health = requests.get(f"http://127.0.0.1:{action_port}/health", timeout=2)
                reply = requests.post(f"{base}/webhooks/rest/webhook",
                                      json={"sender": "warmup", "message": "hej"}, timeout=30)
                if health.ok and reply.ok and reply.json():
                    ready = True
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        if not ready:
            tails = {n: (workdir / f"{n}.log").read_text()[-3000:] for n in logs}
            raise RuntimeError(f"Mandatbot did not start within {timeout_s:.0f} s.\n"
                               + "\n".join(f"--- {n} ---\n{t}" for n, t in tails.items()))
        yield base
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for handle in logs.values():
            handle.close()
