"""Two leaders save the same entry through two admin processes on PostgreSQL (issue 15, "Faults").

Two ``python -m bot.admin`` processes share one PostgreSQL database (a private server,
:mod:`tests.e2e.private_servers`), as two admin app hosts behind nginx would. In each round both
leaders load the entry's edit form (same version) and press "Gem" at the same moment, each on their
own process, with CSRF as in production. Exactly one save wins; the other gets the conflict page
(409) and nothing of it is written; the loser then saves again from the conflict page. No update is
lost: the stored entry is the last save, every save is in the history once, and the version counts
them all.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

import pytest
import requests

from bot.config import PROJECT_ROOT
from scripts.live import free_port
from tests.admin.conftest import entry_form
from tests.conftest import DEMO_CATALOGUE, import_catalogue
from tests.e2e.private_servers import PrivatePostgres

pytestmark = [pytest.mark.live]

ENTRY = "hpn-smaaindkoeb"
PASSWORD = "test-password-1"
ROUNDS = 4


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


@pytest.fixture(scope="module")
def two_admins(tmp_path_factory):
    """The URL of the database and the base URLs of two admin processes on it."""
    from bot.cli import add_user
    from bot.db.migrate import upgrade
    from bot.db.session import get_engine, new_session

    pg = PrivatePostgres("mandat")
    url = pg.url("mandat")
    processes, logs = [], []
    try:
        upgrade(url)
        import_catalogue(url, DEMO_CATALOGUE)
        session = new_session(url)
        try:
            for name in ("anna", "bo"):
                add_user(session, name, "leader", ["hjemmeplejen-nord"], name.capitalize(), False, PASSWORD)
            session.commit()
        finally:
            session.close()
        get_engine(url).dispose()
        env = {**os.environ, "MANDAT_DATABASE_URL": url, "MANDAT_DEV_MODE": "1"}
        ports = [free_port(), free_port()]
        folder = tmp_path_factory.mktemp("admins")
        for port in ports:
            log = open(folder / f"admin-{port}.log", "w")
            logs.append(log)
            processes.append(subprocess.Popen([sys.executable, "-m", "bot.admin", "--port", str(port)], cwd=PROJECT_ROOT,
                                              env=env, stdout=log, stderr=subprocess.STDOUT))
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for base, process, port in zip(bases, processes, ports):
            for _ in range(120):
                if process.poll() is not None:
                    break
                try:
                    if requests.get(f"{base}/login", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    time.sleep(0.5)
            else:
                process.kill()
            if process.poll() is not None:
                pytest.fail(f"admin app {base} did not start:\n{(folder / f'admin-{port}.log').read_text()[-2000:]}")
        yield url, bases
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
        for log in logs:
            log.close()
        pg.close()


def _login(base: str, username: str) -> requests.Session:
    http = requests.Session()
    token = _csrf(http.get(f"{base}/login", timeout=10).text)
    r = http.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                  allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:500]
    return http


def _stored(url: str) -> tuple[str, int, list[str]]:
    """The entry's summary, version and the history's summaries (oldest first)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, future=True, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            summary, version = conn.execute(text("SELECT summary, version FROM mandates WHERE id = :i"),
                                            {"i": ENTRY}).one()
            history = [row[0] for row in conn.execute(text(
                "SELECT changes FROM mandate_history WHERE mandate_id = :i ORDER BY id"), {"i": ENTRY})]
    finally:
        engine.dispose()
    saved = []
    for changes in history:
        changes = changes if isinstance(changes, dict) else __import__("json").loads(changes or "{}")
        if "summary" in changes:
            saved.append(changes["summary"][1])
    return summary, version, saved


@pytest.mark.timeout(300)
def test_two_leaders_saving_at_once_on_two_admin_processes_one_conflict_no_lost_update(two_admins):
    url, bases = two_admins
    leaders = {"anna": _login(bases[0], "anna"), "bo": _login(bases[1], "bo")}
    _, first_version, _ = _stored(url)
    winners = []
    for round_ in range(ROUNDS):
        forms, pages = {}, {}
        for (name, http), base in zip(leaders.items(), bases):
            pages[name] = http.get(f"{base}/poster/{ENTRY}/rediger", timeout=10).text
            forms[name] = {**entry_form(url, ENTRY, summary=f"Runde {round_}: {name}s tekst."),
                           "csrf_token": _csrf(pages[name])}
        assert len({f["version"] for f in forms.values()}) == 1, "both start from the same version"
        results: dict[str, requests.Response] = {}
        start = threading.Barrier(2)

        def save(name: str, base: str) -> None:
            start.wait()
            results[name] = leaders[name].post(f"{base}/poster/{ENTRY}/rediger", data=forms[name],
                                               allow_redirects=False, timeout=30)

        threads = [threading.Thread(target=save, args=(n, b)) for n, b in zip(leaders, bases)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [302, 409], {n: (r.status_code, r.text[:300]) for n, r in results.items()}
        winner = next(n for n, r in results.items() if r.status_code == 302)
        loser = next(n for n in results if n != winner)
        conflict = results[loser].text
        assert "ændret af en anden" in conflict and f"Runde {round_}: {winner}s tekst." in conflict
        summary, _, _ = _stored(url)
        assert summary == f"Runde {round_}: {winner}s tekst.", "the winner's save is stored, the loser's is not"
        # The loser saves again on purpose, from the conflict page (its version is the stored one).
        again = {**forms[loser], "version": re.search(r'name="version" value="(\d+)"', conflict).group(1),
                 "csrf_token": _csrf(conflict)}
        base = bases[list(leaders).index(loser)]
        r = leaders[loser].post(f"{base}/poster/{ENTRY}/rediger", data=again, allow_redirects=False, timeout=30)
        assert r.status_code == 302, r.text[:300]
        winners += [winner, loser]

    summary, version, saved = _stored(url)
    expected = [f"Runde {i // 2}: {name}s tekst." for i, name in enumerate(winners)]
    assert saved[-len(expected):] == expected, "every save is in the history, once, in order"
    assert summary == expected[-1]
    assert version == first_version + 2 * ROUNDS
