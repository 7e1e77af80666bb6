#!/usr/bin/env bash
# npm run test:compose: the end-to-end suite against the docker compose stack.
#
# Builds the images, starts the stack with Redis AOF on (the suite checks that
# acknowledged events survive a Redis restart), waits until every service is
# healthy, runs the shared end-to-end suite (test/system/e2e, target chosen by
# E2E_TARGET=compose) plus the compose-only tests (test/system/compose), one file at a
# time because they restart and kill the same containers. The stack is torn
# down afterwards, also on failure or Ctrl-C; on failure the services' logs
# are printed first.
#
# Needs Docker with the compose plugin. On a machine without an engine or
# without registry access, run `bash ../shared/docker/prepare-engine.sh .` first.
set -euo pipefail
cd "$(dirname "$0")/.."

# Its own project name: never touches a stack a developer started by hand.
export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-eventrelay-test}"
export REDIS_APPENDONLY=yes
HEALTH_TIMEOUT_SECONDS="${HEALTH_TIMEOUT_SECONDS:-120}"

log() { echo "test:compose: $*"; }
now() { date +%s.%N; }

finish() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ]; then
    log "FAILED (exit $status); service logs follow"
    docker compose ps || true
    docker compose logs --no-color --timestamps --tail=300 || true
  fi
  log "tearing down"
  docker compose down -v --remove-orphans >/dev/null 2>&1 || docker compose down -v --remove-orphans || true
  exit "$status"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

docker info >/dev/null 2>&1 || { log "no Docker engine answers (run: bash ../shared/docker/prepare-engine.sh .)"; exit 1; }

t0=$(now)
docker compose build
t1=$(now)
log "images built in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s"
docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep '^eventrelay/' || true

docker compose up -d
deadline=$(( $(date +%s) + HEALTH_TIMEOUT_SECONDS ))
while :; do
  unhealthy=""
  # The containers `up` started (`config --services` also names the cluster and sentinel profiles').
  for id in $(docker compose ps -q); do
    service=$(docker inspect --format '{{index .Config.Labels "com.docker.compose.service"}}' "$id")
    state=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}' "$id")
    [ "$state" = healthy ] || unhealthy="$unhealthy $service=$state"
  done
  [ -z "$unhealthy" ] && break
  if [ "$(date +%s)" -ge "$deadline" ]; then log "not healthy after ${HEALTH_TIMEOUT_SECONDS} s:$unhealthy"; exit 1; fi
  sleep 0.5
done
t2=$(now)
log "from 'up' to all services healthy: $(awk "BEGIN{printf \"%.1f\", $t2 - $t1}") s"

E2E_TARGET=compose npx vitest run --config test/system/compose/vitest.config.ts
