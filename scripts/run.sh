#!/usr/bin/env bash
# Starts the action server (5055), the Rasa server (5005, REST + socket.io)
# and the admin app (8000) in the foreground; Ctrl-C stops all three.
# Called by `make run`.
#
# Each server runs in its own process group (setsid), with every process it
# starts. Ctrl-C (or any server exiting) stops them all: TERM to each group,
# then, after MANDAT_STOP_GRACE_S seconds (default 5), KILL to whatever is
# left, so a server busy with one message cannot keep its port
# ("address already in use" at the next `make run`). Sourcing this file
# (tests/e2e/test_run_script.py) defines the functions without starting anything.
set -euo pipefail

STOP_GRACE_S=${MANDAT_STOP_GRACE_S:-5}
groups=()

# start_group CMD [ARGS...]: run CMD in the background in a new process group (session);
# its pid, which is also the group id, is added to `groups`.
start_group() {
  setsid "$@" &
  groups+=($!)
}

# group_alive PGID: true while any process of the group exists.
group_alive() {
  kill -0 -- "-$1" 2>/dev/null
}

# stop_groups: TERM every group, wait up to STOP_GRACE_S seconds, then KILL the rest.
stop_groups() {
  local pgid alive tick
  [ ${#groups[@]} -eq 0 ] && return 0
  for pgid in "${groups[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null || true; done
  for ((tick = 0; tick < STOP_GRACE_S * 10; tick++)); do
    alive=0
    for pgid in "${groups[@]}"; do group_alive "$pgid" && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pgid in "${groups[@]}"; do
    if group_alive "$pgid"; then
      echo "Proces $pgid stoppede ikke inden for $STOP_GRACE_S s; den bliver dræbt." >&2
      kill -KILL -- "-$pgid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  groups=()
}

# port_taken PORT: true when something already listens on 127.0.0.1:PORT.
port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# check_ports PORT...: exit 1 with a Danish message naming every port already in use, before
# anything is started (otherwise one server dies with a traceback and the others run half-started).
check_ports() {
  local port taken=()
  for port in "$@"; do port_taken "$port" && taken+=("$port"); done
  if [ ${#taken[@]} -gt 0 ]; then
    echo "Port ${taken[*]} er allerede i brug: kører Mandatbot allerede (make run eller make run-prod)?" >&2
    echo "Stop den anden proces, eller vælg andre porte med MANDAT_RASA_PORT og MANDAT_ADMIN_PORT." >&2
    echo "(Action-serverens port 5055 står i endpoints.yml.)" >&2
    return 1
  fi
}

main() {
  cd "$(dirname "$0")/.."
  local BIN=.venv/bin
  local MODEL=${MODEL:-models/current.tar.gz}
  local RASA_PORT=${MANDAT_RASA_PORT:-5005} ADMIN_PORT=${MANDAT_ADMIN_PORT:-8000}
  export MANDAT_WARMUP=1
  # Dev mode: the secrets may keep their development defaults (outside it, the servers refuse to start).
  export MANDAT_DEV_MODE=${MANDAT_DEV_MODE:-1}
  # Dev mode for the chat widget: the demo page (/demo) issues tokens signed with
  # the dev secret. Off by default everywhere else; `make run` is for development.
  export MANDAT_WIDGET_DEV_MODE=${MANDAT_WIDGET_DEV_MODE:-1}

  check_ports 5055 "$RASA_PORT" "$ADMIN_PORT" || exit 1

  # Refuse to start when the configured sentence embedder or the decision model cannot load.
  $BIN/mandat check

  stop() {
    trap - INT TERM EXIT
    echo "Stopper Mandatbot ..."
    stop_groups
  }
  trap 'stop; exit 130' INT
  trap 'stop; exit 143' TERM
  trap stop EXIT

  start_group $BIN/rasa run actions --port 5055
  start_group $BIN/rasa run --model "$MODEL" --port "$RASA_PORT" --cors "*" \
    --credentials credentials.yml --endpoints endpoints.yml
  start_group $BIN/python -m bot.admin --port "$ADMIN_PORT"
  local servers=("${groups[@]}")

  echo "Mandatbot starter (indlæsning af modellen tager 1-2 minutter) ... Ctrl-C stopper alle."
  # Say clearly when the bot really answers: a list of a demo team's mandates goes through the NLU,
  # the action server and the catalogue index (built on the first question), and stores nothing.
  RASA_PORT=$RASA_PORT ADMIN_PORT=$ADMIN_PORT start_group bash -c '
    for _ in $(seq 1 600); do
      if curl -sf -m 30 "http://localhost:$RASA_PORT/webhooks/rest/webhook" \
           -H "Content-Type: application/json" -d "{\"sender\": \"run-sh-ready\", \"message\": \"Hvad må jeg selv bestemme?\", \"metadata\": {\"team\": \"hjemmeplejen-syd\"}}" \
           | grep -q "\"mandate_list\""; then
        echo ""
        echo "=== Klar: REST svarer på http://localhost:$RASA_PORT/webhooks/rest/webhook," \
             "admin-app på http://localhost:$ADMIN_PORT/ ==="
        echo "=== Chat-widget (demo-intranet): http://localhost:$ADMIN_PORT/demo ==="
        exit 0
      fi
      sleep 2
    done'
  # Until one of the servers exits (or Ctrl-C); the EXIT trap then stops the others.
  wait -n "${servers[@]}"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  main "$@"
fi
