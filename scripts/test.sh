#!/usr/bin/env bash
# `npm test`: installs what the tests need, makes sure Redis, PostgreSQL and Mosquitto answer (starting our own
# when they do not, and stopping those again at the end), then typechecks and runs jest (arguments go to jest).
# The last line printed is `N passed, N failed[, N skipped]`, counted over jest's tests.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"
cd "$FLYMINING_ROOT" || exit 1
set -e
# Tests write and delete data: they never use the servers the application is pointed at (FLYMINING_*_URL), only
# local ones on the configured ports, or what FLYMINING_TEST_*_URL names.
unset FLYMINING_INFLUX_URL FLYMINING_REDIS_URL FLYMINING_PG_URL FLYMINING_MQTT_URL

flymining_ensure_node_modules
# influxd for jest's throwaway InfluxDB, docker-compose to validate docker-compose.yml; the other servers'
# programs for the test that starts our own copies of them on spare ports.
required_packages=(influxdb docker-compose poppler-utils)
mapfile -t -O 2 required_packages < <(flymining_missing_server_packages redis postgres mosquitto)
# The portal's browser tests drive Debian's chromium (playwright-core cannot download a browser here).
[[ -x /usr/bin/chromium ]] || required_packages+=(chromium)
# The uplink test impairs its veth with iptables statistic drops inside a network namespace (no tc netem here).
command -v iptables >/dev/null 2>&1 || required_packages+=(iptables)
# The uplink gateway of the center compose file is nginx; its config is tested against a real one.
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || required_packages+=(nginx-light)
# PDF statements embed DejaVu Sans and, for Chinese, Japanese and Korean names, Droid Sans Fallback.
required_packages+=(fonts-dejavu-core fonts-droid-fallback)
flymining_ensure_debian_packages "${required_packages[@]}"

stop_what_we_started() {
  if ((${#FLYMINING_STARTED_SERVICES[@]})); then
    flymining_stop_services "${FLYMINING_STARTED_SERVICES[@]}"
  fi
}
trap stop_what_we_started EXIT
# Turn Ctrl-C and kill into a normal exit, so the EXIT trap above still stops our servers.
trap 'exit 130' INT
trap 'exit 143' TERM
flymining_start_services redis postgres mosquitto
export FLYMINING_TEST_REDIS_URL="${FLYMINING_TEST_REDIS_URL:-$(flymining_url redis)}"
export FLYMINING_TEST_PG_URL="${FLYMINING_TEST_PG_URL:-$(flymining_url postgres)}"
export FLYMINING_TEST_MQTT_URL="${FLYMINING_TEST_MQTT_URL:-$(flymining_url mosquitto)}"
set +e

flymining_say "typechecking (tsc -p tsconfig.json --noEmit)..."
npx tsc -p tsconfig.json --noEmit
typecheck_status=$?
# The panel has its own tsconfig (DOM and JSX), and its tests load the built bundle: build it before jest.
npx tsc -p grafana-plugin/tsconfig.json --noEmit || typecheck_status=1
flymining_say "building the Grafana panel and the TV-wall page (grafana-plugin/dist, grafana-plugin/tvwall/dist)..."
npm run --silent build -w grafana-plugin || typecheck_status=1
if ((typecheck_status == 0)); then flymining_say "typecheck passed"; fi

results="$FLYMINING_STATE_DIR/jest-results.json"
rm -f "$results"
npx jest --json --outputFile="$results" "$@"
jest_status=$?
# Stop our servers now rather than in the EXIT trap, so the counts below stay the last line printed.
stop_what_we_started
FLYMINING_STARTED_SERVICES=()

((typecheck_status == 0)) || flymining_say "typecheck FAILED (see tsc's messages above)"
((jest_status == 0)) || flymining_say "jest FAILED (exit $jest_status)"
# A suite that cannot even load counts as a failure: jest reports it only as a runtime error of the suite.
node -e '
  const fs = require("node:fs");
  let r = { numPassedTests: 0, numFailedTests: 0, numRuntimeErrorTestSuites: 0, numPendingTests: 0, numTodoTests: 0 };
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
  catch { console.error("[flymining] jest wrote no results (it failed before running tests)"); }
  const skipped = r.numPendingTests + r.numTodoTests;
  const failed = r.numFailedTests + r.numRuntimeErrorTestSuites;
  console.log(`${r.numPassedTests} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$results"

if ((typecheck_status != 0 || jest_status != 0)); then exit 1; fi
