"""The production topology end to end (issue 15): scripts/run_prod.sh, one question through nginx.

Skipped unless ``MANDAT_TEST_PROD=1``: it needs nginx, PostgreSQL and Redis on 127.0.0.1, a trained
model and port 5055 free (endpoints.yml's action endpoint, nginx's action balancer), and loads two
Rasa servers (about 4 GB, 2 minutes on 2 cores). It uses its own databases
(``mandatbot_e2e``, ``mandatbot_e2e_tracker``), Redis database 2, free ports and a temporary
folder, so a running ``make run-prod`` on the default ports is not touched (but its port 5055 is).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from scripts.live import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.live,
    pytest.mark.model,
    pytest.mark.skipif(os.environ.get("MANDAT_TEST_PROD") != "1",
                       reason="production topology: set MANDAT_TEST_PROD=1 (needs nginx, PostgreSQL, Redis)"),
]


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.mark.timeout(900)
def test_one_question_through_nginx_then_ctrl_c_stops_everything(tmp_path):
    if _listening(5055):
        pytest.skip("port 5055 is in use (make run or make run-prod is running)")
    public = free_port()
    rasa = [free_port(), free_port()]
    actions = [free_port(), free_port()]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MANDAT_")},
        "MANDAT_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/mandatbot_e2e",
        "MANDAT_TRACKER_DB_URL": "postgresql://postgres@127.0.0.1:5432/mandatbot_e2e_tracker",
        "MANDAT_REDIS_URL": "redis://127.0.0.1:6379/2",
        "MANDAT_PUBLIC_ADDR": f"127.0.0.1:{public}",
        "MANDAT_PROD_RASA_PORTS": ",".join(map(str, rasa)),
        "MANDAT_PROD_ACTION_PORTS": ",".join(map(str, actions)),
        "MANDAT_PROD_ADMIN_PORT": str(free_port()),
        "MANDAT_PROD_DIR": str(tmp_path / "prod"),
        "MANDAT_PROD_ENV": str(tmp_path / "prod.env"),
        "MANDAT_STOP_GRACE_S": "5",
    }
    log = open(tmp_path / "run_prod.log", "w")
    process = subprocess.Popen(["scripts/run_prod.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{public}/webhooks/rest/webhook"
    try:
        reply = None
        deadline = time.time() + 600
        while time.time() < deadline and process.poll() is None:
            try:
                r = requests.post(url, timeout=30, json={
                    "sender": "e2e-prod", "message": "Må jeg selv vælge en vikar, når en kollega er syg?",
                    "metadata": {"team": "hjemmeplejen-syd"}})
                if r.status_code == 200 and any((m.get("custom") or {}).get("type") for m in r.json()):
                    reply = r.json()
                    break
            except requests.RequestException:
                pass
            time.sleep(3)
        assert reply is not None, (tmp_path / "run_prod.log").read_text()[-3000:]
        custom = next(m["custom"] for m in reply if m.get("custom"))
        assert custom["type"] == "mandate_answer" and custom["mandate_id"], custom
        assert (tmp_path / "prod.env").stat().st_mode & 0o777 == 0o600
        # The admin app answers through the same port; REST is refused to others (only 127.0.0.1 here).
        assert requests.get(f"http://127.0.0.1:{public}/login", timeout=10).status_code == 200
        pgids = [int(line.split()[1]) for line in (tmp_path / "prod" / "pids").read_text().splitlines()]
        assert len(pgids) == 6  # nginx, 2 action servers, 2 Rasa servers, admin
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    assert not [p for p in pgids if _group_alive(p)]
    assert not _listening(public) and not _listening(5055)
