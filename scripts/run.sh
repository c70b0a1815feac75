#!/usr/bin/env bash
# Starts the action server (5055) and the Rasa server (5005, REST + socket.io)
# in the foreground; Ctrl-C stops both. Called by `make run`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MODEL=${MODEL:-models/current.tar.gz}
export MANDAT_WARMUP=1

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopper Mandatbot ..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$BIN/rasa run actions --port "${MANDAT_ACTIONS_PORT:-5055}" &
pids+=($!)
$BIN/rasa run --model "$MODEL" --port "${MANDAT_RASA_PORT:-5005}" --cors "*" \
  --credentials credentials.yml --endpoints endpoints.yml &
pids+=($!)

echo "Mandatbot starter: REST på http://localhost:${MANDAT_RASA_PORT:-5005}/webhooks/rest/webhook (Ctrl-C stopper)."
wait -n "${pids[@]}"
