"""`make run` stops every process it started on Ctrl-C, busy or not (issue 14).

Starting the real servers takes minutes, so this drives the stop function of
``scripts/run.sh`` itself (the file is sourced, which starts nothing) on
stand-in servers: one that exits on TERM, one that ignores TERM while it spins
on the CPU (as an action server stuck in one message did), and one with
children of its own. After ``stop_groups`` no process of any of their process
groups may be left.
"""
from __future__ import annotations

import os
import subprocess
import time

from bot.config import PROJECT_ROOT

RUN_SH = PROJECT_ROOT / "scripts" / "run.sh"

_SCRIPT = r"""
source "$RUN_SH"
STOP_GRACE_S=1
start_group sleep 300                                          # exits on TERM
start_group bash -c 'trap "" TERM; while :; do :; done'       # busy, ignores TERM
start_group bash -c 'sleep 300 & sleep 300 & trap "" TERM; wait'  # children of its own
sleep 0.5
echo "groups ${groups[*]}"
echo "started $(date +%s%N)"
stop_groups
echo "stopped $(date +%s%N)"
echo "left ${#groups[@]}"
"""


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a group of another user still exists
        return True
    return True


def test_stop_groups_ends_every_process_group_even_a_busy_one_that_ignores_term():
    result = subprocess.run(["bash", "-c", _SCRIPT], env={**os.environ, "RUN_SH": str(RUN_SH)},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(" ", 1) for line in result.stdout.strip().splitlines())
    groups = [int(pid) for pid in lines["groups"].split()]
    assert len(groups) == 3
    try:
        # TERM, a grace of 1 s for the busy one, then KILL: well under the 60 s of the subprocess.
        assert (int(lines["stopped"]) - int(lines["started"])) / 1e9 < 10, lines
        assert lines["left"] == "0"
        time.sleep(0.2)
        assert [pgid for pgid in groups if _group_alive(pgid)] == [], "processes survived stop_groups"
        assert "dræbt" in result.stderr  # the busy one needed KILL, and the script says so (in Danish)
    finally:
        for pgid in groups:
            if _group_alive(pgid):
                os.killpg(pgid, 9)


def test_sourcing_the_script_starts_nothing():
    result = subprocess.run(["bash", "-c", 'source "$RUN_SH"; echo "groups=${#groups[@]}"; type stop_groups >/dev/null'],
                            env={**os.environ, "RUN_SH": str(RUN_SH)}, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "groups=0"


def test_a_port_in_use_stops_make_run_before_it_starts_anything_with_a_danish_message():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            free_port = free.getsockname()[1]
        script = f'source "$RUN_SH"; check_ports {free_port} {port} && echo free; echo "exit $?"'
        result = subprocess.run(["bash", "-c", script], env={**os.environ, "RUN_SH": str(RUN_SH)},
                                capture_output=True, text=True, timeout=30)
    assert "free" not in result.stdout and "exit 1" in result.stdout, result
    assert f"Port {port} er allerede i brug" in result.stderr and str(free_port) not in result.stderr
