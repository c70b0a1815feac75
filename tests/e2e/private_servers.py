"""A private PostgreSQL 15 and a private Redis for the fault tests (issue 15), on free ports.

The fault tests stop and start these servers; the shared PostgreSQL and Redis on 127.0.0.1's default
ports (other tests and helpers use them) are never touched. PostgreSQL's cluster lives in a
temporary folder made by ``initdb`` (trust authentication, superuser ``postgres``); ``initdb``
refuses to run as root, so as root it runs as the system user ``postgres`` (Debian's PostgreSQL
package creates it). Redis runs without persistence: Rasa's lock store keeps only short-lived locks
there.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from scripts.live import free_port

PG_BIN = Path(os.environ.get("MANDAT_PG_BIN", "/usr/lib/postgresql/15/bin"))
"""PostgreSQL's server programs (initdb, pg_ctl): Debian's PostgreSQL 15."""


def _as_postgres(cmd: list[str]) -> list[str]:
    """``cmd`` run as the system user ``postgres`` when we are root (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class PrivatePostgres:
    """A throwaway PostgreSQL cluster on 127.0.0.1:``port``; :meth:`stop` and :meth:`start` at will.

    Args:
        databases: databases created after the first start.

    Raises:
        RuntimeError: initdb or the server failed (with its log tail).
    """

    def __init__(self, *databases: str):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mandat-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                   "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"])
        self.start()
        for name in databases:
            self._run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])

    def url(self, database: str) -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, cmd: list[str]) -> None:
        result = subprocess.run(_as_postgres(cmd), capture_output=True, text=True, cwd=self.dir)
        if result.returncode != 0:
            tail = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}\n{tail}")

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
                   "-c shared_buffers=32MB -c max_connections=100")
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start"])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: open connections are cut, as when a database server goes down)."""
        self._run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])

    def close(self) -> None:
        """Stop the server if it runs, and delete the cluster."""
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
                       capture_output=True, cwd=self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """A throwaway ``redis-server`` on 127.0.0.1:``port`` without persistence; :meth:`stop`/:meth:`start`."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="mandat-redis-"))
        self.process: subprocess.Popen | None = None
        self.start()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout_s: float = 20) -> None:
        """Start the server and wait until it answers PING.

        Raises:
            RuntimeError: it did not answer within ``timeout_s`` seconds.
        """
        import redis

        log = open(self.dir / "redis.log", "a")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError(f"redis-server did not start: {(self.dir / 'redis.log').read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the server (SIGTERM; it has nothing to save)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
