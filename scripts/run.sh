#!/usr/bin/env bash
# Starts the action server (5055), the Rasa server (5005, REST + socket.io)
# and the admin app (8000) in the foreground; Ctrl-C stops all three.
# Called by `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MODEL=${MODEL:-models/current.tar.gz}
export MANDAT_WARMUP=1
# Dev mode: the secrets may keep their development defaults (outside it, the servers refuse to start).
export MANDAT_DEV_MODE=${MANDAT_DEV_MODE:-1}
# Dev mode for the chat widget: the demo page (/demo) issues tokens signed with
# the dev secret. Off by default everywhere else; `make run` is for development.
export MANDAT_WIDGET_DEV_MODE=${MANDAT_WIDGET_DEV_MODE:-1}

# Refuse to start when the configured sentence embedder or the decision model cannot load.
$BIN/mandat check

pids=()
ready_pid=
stop() {
  trap - INT TERM EXIT
  echo "Stopper Mandatbot ..."
  for pid in "${pids[@]}" $ready_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$BIN/rasa run actions --port 5055 &
pids+=($!)
$BIN/rasa run --model "$MODEL" --port "${MANDAT_RASA_PORT:-5005}" --cors "*" \
  --credentials credentials.yml --endpoints endpoints.yml &
pids+=($!)
$BIN/python -m bot.admin --port "${MANDAT_ADMIN_PORT:-8000}" &
pids+=($!)

echo "Mandatbot starter (indlæsning af modellen tager 1-2 minutter) ... Ctrl-C stopper alle."
# Say clearly when the REST channel really answers.
(
  for _ in $(seq 1 600); do
    if curl -sf -m 5 "http://localhost:${MANDAT_RASA_PORT:-5005}/webhooks/rest/webhook" \
         -H 'Content-Type: application/json' -d '{"sender": "run-sh-ready", "message": "hej"}' | grep -q text; then
      echo ""
      echo "=== Klar: REST svarer på http://localhost:${MANDAT_RASA_PORT:-5005}/webhooks/rest/webhook," \
           "admin-app på http://localhost:${MANDAT_ADMIN_PORT:-8000}/ ==="
      echo "=== Chat-widget (demo-intranet): http://localhost:${MANDAT_ADMIN_PORT:-8000}/demo ==="
      exit 0
    fi
    sleep 2
  done
) &
ready_pid=$!
wait -n "${pids[@]}"
