#!/usr/bin/env bash
# Production topology on one machine (`make run-prod`, issue 15):
#
#   nginx  :8080 (public: widget socket.io, REST for 127.0.0.1 only, admin app)
#          :5055 (the action servers' balancer, endpoints.yml's action_endpoint)
#   2 Rasa servers   127.0.0.1:5105, :5106   (SQL tracker store on PostgreSQL, Redis lock store)
#   2 action servers :5155, :5156             (stateless)
#   admin app        127.0.0.1:8100
#   PostgreSQL (catalogue, questions, feedback; and Rasa's tracker) and Redis on 127.0.0.1.
#
# Before starting: `mandat check`, secrets (var/prod.env, generated on first start, mode 600),
# the PostgreSQL databases (created when missing), Alembic migrations (`mandat db upgrade`), the
# demo catalogue and demo users on first start, the tracker tables, nginx's config
# (deploy/nginx/mandatbot.conf.template rendered into var/prod/nginx/nginx.conf).
#
# Each server runs in its own process group (scripts/run.sh's start_group); a server that exits
# is started again after MANDAT_RESTART_DELAY_S seconds (the others keep answering meanwhile);
# nginx exiting stops everything. Ctrl-C stops every group: TERM, then KILL after
# MANDAT_STOP_GRACE_S seconds. The process groups are listed in var/prod/pids ("name pgid"),
# for the fault test (scripts/load/faults.py) and the memory report.
#
# Settings (environment; defaults in brackets):
#   MANDAT_DATABASE_URL      [postgresql://postgres@127.0.0.1:5432/mandatbot]
#   MANDAT_TRACKER_DB_URL    [postgresql://postgres@127.0.0.1:5432/mandatbot_tracker]
#   MANDAT_REDIS_URL         [redis://127.0.0.1:6379/1]
#   MANDAT_PUBLIC_ADDR       [127.0.0.1:8080]   nginx's public listen address (0.0.0.0:8080 for others)
#   MANDAT_PROD_RASA_PORTS   [5105,5106]   MANDAT_PROD_ACTION_PORTS [5155,5156]
#   MANDAT_PROD_ADMIN_PORT   [8100]        MANDAT_PROD_DIR [var/prod]   MANDAT_PROD_ENV [var/prod.env]
# The action balancer's port is 5055 because endpoints.yml names http://localhost:5055/webhook.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# start_group, group_alive, stop_groups (sourcing run.sh starts nothing).
# shellcheck source=run.sh
source "$ROOT/scripts/run.sh"

declare -A svc_pgid=()
declare -a svc_names=()
RESTART_DELAY_S=${MANDAT_RESTART_DELAY_S:-5}

# port_free PORT: true when nothing listens on 127.0.0.1:PORT.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

write_pids() {
  local name
  : > "$PROD_DIR/pids.tmp"
  for name in "${svc_names[@]}"; do echo "$name ${svc_pgid[$name]}" >> "$PROD_DIR/pids.tmp"; done
  mv "$PROD_DIR/pids.tmp" "$PROD_DIR/pids"
}

# start_service NAME: start one server of the topology in its own process group.
start_service() {
  local name=$1 port
  case "$name" in
    nginx)
      start_group nginx -c "$PROD_DIR/nginx/nginx.conf" -p "$PROD_DIR/nginx" -g "daemon off;" ;;
    actions*)
      port=${ACTION_PORTS[${name#actions}-1]}
      start_group $BIN/rasa run actions --port "$port" ;;
    rasa*)
      port=${RASA_PORTS[${name#rasa}-1]}
      start_group $BIN/rasa run --model "$MODEL" --interface 127.0.0.1 --port "$port" --cors "*" \
        --credentials credentials.yml --endpoints endpoints.yml ;;
    admin)
      MANDAT_PURGE_DAILY=1 MANDAT_TRUSTED_PROXIES=1 start_group $BIN/python -m bot.admin \
        --host 127.0.0.1 --port "$ADMIN_PORT" ;;
  esac
  svc_pgid[$name]=${groups[-1]}
}

prod_main() {
  cd "$ROOT"
  BIN=.venv/bin
  MODEL=${MODEL:-models/current.tar.gz}
  PROD_DIR=${MANDAT_PROD_DIR:-var/prod}
  local env_file=${MANDAT_PROD_ENV:-var/prod.env}
  local public=${MANDAT_PUBLIC_ADDR:-127.0.0.1:8080}
  IFS=, read -r -a RASA_PORTS <<< "${MANDAT_PROD_RASA_PORTS:-5105,5106}"
  IFS=, read -r -a ACTION_PORTS <<< "${MANDAT_PROD_ACTION_PORTS:-5155,5156}"
  ADMIN_PORT=${MANDAT_PROD_ADMIN_PORT:-8100}
  local action_port=5055 public_port=${public##*:} port

  command -v nginx >/dev/null || { echo "nginx mangler: apt-get install -y nginx" >&2; exit 1; }
  [ -f "$MODEL" ] || { echo "Ingen trænet model ($MODEL): kør make train" >&2; exit 1; }
  for port in "$public_port" "$action_port" "${RASA_PORTS[@]}" "${ACTION_PORTS[@]}" "$ADMIN_PORT"; do
    port_free "$port" || { echo "Port $port er optaget (kører make run eller en anden run-prod?)." >&2; exit 1; }
  done
  mkdir -p "$PROD_DIR/nginx"
  PROD_DIR=$(cd "$PROD_DIR" && pwd)
  export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2} SQLALCHEMY_SILENCE_UBER_WARNING=1

  # Production: no dev mode, real secrets (generated on first start, kept in $env_file, mode 600).
  unset MANDAT_DEV_MODE MANDAT_WIDGET_DEV_MODE
  $BIN/python -m deploy.prodenv secrets "$env_file"
  set -a
  # shellcheck disable=SC1090
  source "$env_file"
  set +a
  export MANDAT_DATABASE_URL=${MANDAT_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/mandatbot}
  export MANDAT_TRACKER_DB_URL=${MANDAT_TRACKER_DB_URL:-postgresql://postgres@127.0.0.1:5432/mandatbot_tracker}
  export MANDAT_REDIS_URL=${MANDAT_REDIS_URL:-redis://127.0.0.1:6379/1}
  export MANDAT_WARMUP=1 MANDAT_PURGE_DAILY=0
  export MANDAT_WIDGET_SERVER=${MANDAT_WIDGET_SERVER:-http://$public}

  echo "Produktion: katalog $MANDAT_DATABASE_URL, samtaler $MANDAT_TRACKER_DB_URL, låse $MANDAT_REDIS_URL"
  $BIN/python -m deploy.prodenv createdb "$MANDAT_DATABASE_URL" "$MANDAT_TRACKER_DB_URL"
  $BIN/mandat db upgrade
  $BIN/mandat demo
  $BIN/mandat users demo
  # Refuse to start when the embedder or the decision model cannot load (or a secret is a dev default).
  $BIN/mandat check
  # Rasa's tracker tables, created once here: two Rasa servers creating them at the same moment
  # can collide in PostgreSQL's catalogue.
  $BIN/python -c "from bot.channels.tracker_store import RedactingSQLTrackerStore as S; S().engine.dispose()"
  $BIN/python -m deploy.prodenv nginx --out "$PROD_DIR/nginx/nginx.conf" --prefix "$PROD_DIR/nginx" \
    --public "$public" --action-listen "127.0.0.1:$action_port" \
    --rasa "$(printf '127.0.0.1:%s,' "${RASA_PORTS[@]}")" --actions "$(printf '127.0.0.1:%s,' "${ACTION_PORTS[@]}")" \
    --admin "127.0.0.1:$ADMIN_PORT"
  nginx -t -q -c "$PROD_DIR/nginx/nginx.conf" -p "$PROD_DIR/nginx"

  ready_pgid=""
  prod_stop() {
    trap - INT TERM EXIT
    echo "Stopper Mandatbot (produktion) ..."
    groups=("${svc_pgid[@]}" ${ready_pgid:+"$ready_pgid"})
    stop_groups
    rm -f "$PROD_DIR/pids"
  }
  trap 'prod_stop; exit 130' INT
  trap 'prod_stop; exit 143' TERM
  trap prod_stop EXIT

  local i
  svc_names=(nginx)
  for i in "${!ACTION_PORTS[@]}"; do svc_names+=("actions$((i + 1))"); done
  for i in "${!RASA_PORTS[@]}"; do svc_names+=("rasa$((i + 1))"); done
  svc_names+=(admin)
  local name
  for name in "${svc_names[@]}"; do start_service "$name"; done
  write_pids

  echo "Mandatbot (produktion) starter: ${#RASA_PORTS[@]} Rasa-servere, ${#ACTION_PORTS[@]} action-servere," \
       "admin-app, nginx på http://$public ... Ctrl-C stopper alle."
  PUBLIC=$public start_group bash -c '
    for _ in $(seq 1 900); do
      if curl -sf -m 10 "http://$PUBLIC/webhooks/rest/webhook" -H "Content-Type: application/json" \
           -d "{\"sender\": \"run-prod-ready\", \"message\": \"hej\"}" | grep -q text; then
        echo ""
        echo "=== Klar: REST svarer gennem nginx på http://$PUBLIC/webhooks/rest/webhook (kun fra 127.0.0.1)," \
             "admin-app og widget på http://$PUBLIC/ ==="
        exit 0
      fi
      sleep 2
    done'
  ready_pgid=${groups[-1]}

  # Watch the servers: restart one that exited; nginx exiting ends it all.
  local -A down_since=()
  while true; do
    sleep 1
    for name in "${svc_names[@]}"; do
      group_alive "${svc_pgid[$name]}" && continue
      if [ "$name" = nginx ]; then
        echo "nginx stoppede; alle servere stoppes." >&2
        exit 1
      fi
      if [ -z "${down_since[$name]:-}" ]; then
        down_since[$name]=$SECONDS
        echo "$(date +%T) $name (pgid ${svc_pgid[$name]}) stoppede; startes igen om $RESTART_DELAY_S s." >&2
      elif (( SECONDS - down_since[$name] >= RESTART_DELAY_S )); then
        unset "down_since[$name]"
        start_service "$name"
        write_pids
        echo "$(date +%T) $name startet igen (pgid ${svc_pgid[$name]})." >&2
      fi
    done
  done
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  prod_main "$@"
fi
