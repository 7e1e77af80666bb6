#!/usr/bin/env bash
# npm run test:compose:ha: the docker compose `cluster` and `sentinel` profiles, end to end.
#
# For each profile: builds and starts it (its own project), waits until every
# started service is healthy, publishes through its source-server and
# receives on both of its client-servers (test/system/compose/ha-smoke.ts),
# kills a master (Cluster: the master of node 0's slots; Sentinel: the
# primary), waits until every service of the profile is ready again, and
# checks delivery once more. Torn down afterwards, logs printed on failure.
# Needs Docker (bash ../shared/docker/prepare-engine.sh . on a bare machine).
set -euo pipefail
cd "$(dirname "$0")/.."
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-eventrelay-ha-test}"
HEALTH_TIMEOUT_SECONDS="${HEALTH_TIMEOUT_SECONDS:-180}"
log() { echo "test:compose:ha: $*"; }
profile=""

finish() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ] && [ -n "$profile" ]; then
    log "FAILED (exit $status) in profile $profile; logs follow"
    docker compose --profile "$profile" ps || true
    docker compose --profile "$profile" logs --no-color --tail=100 || true
  fi
  [ -n "$profile" ] && docker compose --profile "$profile" down -v --remove-orphans >/dev/null 2>&1 || true
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_healthy() {
  local deadline=$(( $(date +%s) + HEALTH_TIMEOUT_SECONDS )) unhealthy id service state
  while :; do
    unhealthy=""
    # The containers `up` started (`config --services` names every profile's services).
    for id in $(docker compose --profile "$profile" ps -q); do
      service=$(docker inspect --format '{{index .Config.Labels "com.docker.compose.service"}}' "$id")
      state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
      [ "$service" = redis-cluster-init ] && [ "$state" = exited ] && continue
      [ "$state" = healthy ] || unhealthy="$unhealthy $service=$state"
    done
    [ -z "$unhealthy" ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && { log "not healthy after ${HEALTH_TIMEOUT_SECONDS} s:$unhealthy"; return 1; }
    sleep 1
  done
}

wait_ready() { # PORT...
  local deadline=$(( $(date +%s) + 60 )) port
  for port in "$@"; do
    until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ]; do
      [ "$(date +%s)" -ge "$deadline" ] && { log ":$port not ready 60 s after the kill"; return 1; }
      sleep 0.5
    done
  done
}

smoke() { node --import tsx test/system/compose/ha-smoke.ts "$@"; }

profile=cluster
docker compose --profile cluster up -d --build
wait_healthy
smoke 8180 8181 8182
log "killing redis-node-0 (a master)"
docker compose --profile cluster kill redis-node-0
sleep 3
wait_ready 8180 8181 8182
smoke 8180 8181 8182
docker compose --profile cluster down -v --remove-orphans >/dev/null

profile=sentinel
docker compose --profile sentinel up -d --build
wait_healthy
smoke 8280 8281 8282
log "killing redis-primary"
docker compose --profile sentinel kill redis-primary
sleep 3
wait_ready 8280 8281 8282
smoke 8280 8281 8282
docker compose --profile sentinel down -v --remove-orphans >/dev/null
profile=""
log "both profiles passed"
