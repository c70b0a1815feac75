"""The production topology end to end (issue 15): scripts/run_prod.sh, nginx, two Rasa and two action servers.

One question through nginx; then, under a small steady load (two REST conversations through nginx,
a message every second or so), the faults of issue 15 that need the topology:

* kill one action server (SIGKILL to its process group): no user gets silence; a message caught by
  the kill is answered by the other action server (nginx passes it on) or with a polite
  "... Prøv igen om lidt.", and the next message works;
* kill one Rasa server: the conversations go on on the other one with their history (a typed thumbs
  down after the kill counts for the entry answered before it, which only the stored conversation
  knows; nginx's log shows both Rasa servers answered the conversation);

and Ctrl-C stops everything.

Runs where nginx is installed (``make test`` in CI: ``.ci/run`` installs Debian's nginx as it does
chromium; ``make run-prod`` installs it too). It needs PostgreSQL and Redis on 127.0.0.1, a trained
model and port 5055 free (endpoints.yml's action endpoint, nginx's action balancer), and loads two
Rasa servers (about 4 GB, 2-3 minutes on 2 cores). It uses its own databases (``mandatbot_e2e``,
``mandatbot_e2e_tracker``), Redis database 2, free ports and a temporary folder, so a running
``make run-prod`` on the default ports is not touched (but its port 5055 is).
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from scripts.live import free_port
from tests.e2e.steady_load import RULE_QUESTION, TEAM, SteadyLoad, describe, query

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.live,
    pytest.mark.model,
    pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                       reason="nginx is not installed (apt-get install -y nginx; make run-prod installs it)"),
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


@pytest.mark.timeout(1500)
def test_one_question_through_nginx_kill_one_action_and_one_rasa_server_then_ctrl_c(tmp_path):
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
        # A killed server stays down for the rest of the test (its restart loads a model for a minute).
        "MANDAT_RESTART_DELAY_S": "3600",
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
        groups = {name: int(pgid) for name, pgid in
                  (line.split() for line in (tmp_path / "prod" / "pids").read_text().splitlines())}
        pgids = list(groups.values())
        assert len(pgids) == 6  # nginx, 2 action servers, 2 Rasa servers, admin
        kill_one_action_server(f"http://127.0.0.1:{public}", groups, env)
        kill_one_rasa_server(f"http://127.0.0.1:{public}", groups, env, custom["mandate_id"], rasa,
                             tmp_path / "prod" / "nginx" / "access.log")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    assert not [p for p in pgids if _group_alive(p)]
    assert not _listening(public) and not _listening(5055)


def _post(base: str, sender: str, message: str) -> list:
    r = requests.post(f"{base}/webhooks/rest/webhook", timeout=60,
                      json={"sender": sender, "message": message, "metadata": {"team": TEAM}})
    assert r.status_code == 200, r.text[:300]
    return r.json()


def kill_one_action_server(base: str, groups: dict, env: dict) -> None:
    """SIGKILL to ``actions1`` under the steady load: never silence, and the next message works."""
    load = SteadyLoad(base, conversations=2, pause_s=0.5, tag="kill-actions")
    load.start()
    time.sleep(6)
    killed = time.time()
    os.killpg(groups["actions1"], signal.SIGKILL)
    time.sleep(12)
    log = load.finish()
    story = describe(log, log[0].sent)
    assert all(i.error is None and i.status == 200 for i in log), story
    assert all(any(i.texts) and all(r.get("text") or r.get("custom") for r in i.replies) for i in log), story
    after = [i for i in log if i.sent > killed]
    assert len(after) >= 4, story
    # A message caught by the kill: answered by the other action server, or "prøv igen"; never a
    # wrong kind of answer. From the next message of each conversation on, everything works.
    for sender in load.senders:
        mine = [i for i in after if i.sender == sender]
        assert mine and not any(i.retry for i in mine[1:]), story
        assert any(i.answer for i in mine if i.message == RULE_QUESTION) or len(mine) < 4, story
    for sender in load.senders:
        reply = _post(base, sender, RULE_QUESTION)
        assert any((r.get("custom") or {}).get("type") == "mandate_answer" for r in reply), reply


def kill_one_rasa_server(base: str, groups: dict, env: dict, mandate_id: str, rasa_ports: list,
                         access_log: Path) -> None:
    """SIGKILL to ``rasa1``: the conversation goes on on ``rasa2`` with its history."""
    sender = f"e2e-prod-history-{int(time.time())}"
    for _ in range(4):  # round robin: the conversation's messages reach both Rasa servers
        reply = _post(base, sender, RULE_QUESTION)
        assert any((r.get("custom") or {}).get("mandate_id") == mandate_id for r in reply), reply
    load = SteadyLoad(base, conversations=2, pause_s=0.5, tag="kill-rasa")
    load.start()
    time.sleep(4)
    killed = time.time()
    os.killpg(groups["rasa1"], signal.SIGKILL)
    time.sleep(8)
    # The thumbs-down names no entry: it counts for the conversation's last answer (its stored slots).
    before = query(env["MANDAT_DATABASE_URL"], "SELECT count(*) FROM feedback WHERE value = 'down' AND "
                                                "mandate_id = :m", m=mandate_id)[0][0]
    reply = _post(base, sender, '/feedback{"value": "down"}')
    assert [r.get("text") for r in reply] == [
        "Tak for din feedback. HR og lederne ser den, så svaret kan blive bedre."], reply
    after = query(env["MANDAT_DATABASE_URL"], "SELECT count(*) FROM feedback WHERE value = 'down' AND "
                                               "mandate_id = :m", m=mandate_id)[0][0]
    assert after == before + 1, "the feedback after the kill did not find the conversation's last answer"
    events = query(env["MANDAT_TRACKER_DB_URL"], "SELECT count(*) FROM events WHERE sender_id = :s AND "
                                                 "type_name = 'user'", s=sender)[0][0]
    assert events == 5, "the conversation's history is stored whole, across both servers"
    time.sleep(4)
    log = load.finish()
    story = describe(log, log[0].sent)
    # Only a message in flight on the killed server may fail (nginx does not send a message twice);
    # every later message of each conversation is answered.
    late = [i for i in log if i.sent > killed + 2]
    assert late and all(i.status == 200 and any(i.texts) for i in late), story
    assert not any(i.retry for i in late), story
    served = set(re.findall(r'"POST /webhooks/rest/webhook[^"]*" 200 \d+ upstream=127\.0\.0\.1:(\d+)',
                            access_log.read_text()))
    assert {str(p) for p in rasa_ports} <= served, served
