# shellcheck shell=bash
# The bash face of FlyMining's service manager, scripts/services.ts (one TypeScript table of the servers InfluxDB,
# Redis, PostgreSQL and Mosquitto; probes through fetch, ioredis, pg and mqtt). Source it; every function below runs
# that module, after `npm ci` (flymining_ensure_node_modules: no TypeScript runs before the npm packages are there).
#   flymining_start_services [influxdb|redis|postgres|mosquitto|all]...   start (or reuse) them, install if needed;
#                                        sets the array FLYMINING_STARTED_SERVICES to those it started itself
#   flymining_stop_services [NAME...]    stop the ones we started; with no name also every process started
#                                        through processes.sh (flymining_start_process), first
#   flymining_status                     print one line per server
#   flymining_env                        print `export FLYMINING_*_URL=...` lines (and our InfluxDB's admin credential
#                                        as FLYMINING_INFLUX_USERNAME + FLYMINING_INFLUX_PASSWORD_FILE)
#   flymining_url NAME                   the URL of that server
#   flymining_influx_access              how we may use the InfluxDB of flymining_url influxdb: auth | open | refused
#   flymining_missing_server_packages NAME...   the Debian packages of those servers whose programs are missing
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
source "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

FLYMINING_STARTED_SERVICES=()

# Runs scripts/services.ts with the checkout's tsx (from the checkout, so tsx/cjs resolves there).
flymining_services() {
  [[ -n "${_FLYMINING_NODE_MODULES_CHECKED:-}" ]] || flymining_ensure_node_modules
  (cd "$FLYMINING_ROOT" && FLYMINING_STATE_DIR="$FLYMINING_STATE_DIR" node -r tsx/cjs scripts/services.ts "$@")
}

flymining_start_services() {
  local started
  started=$(flymining_services start --print-started "$@") || exit 1
  FLYMINING_STARTED_SERVICES=()
  [[ -z "$started" ]] || mapfile -t FLYMINING_STARTED_SERVICES <<<"$started"
}

flymining_stop_services() { flymining_services stop "$@"; }
flymining_status() { flymining_services status; }
flymining_env() { flymining_services env; }
flymining_url() { flymining_services url "$1"; }
flymining_influx_access() { flymining_services influx-access; }
flymining_missing_server_packages() { flymining_services missing-packages "$@"; }
