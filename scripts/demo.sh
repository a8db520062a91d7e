#!/usr/bin/env bash
# `npm start`: the whole stack as a demo, split the way a farm behind LTE runs it.
#   EDGE, one per container: its miner exporter and climate exporter (processes with edge-<container> on their
#     command line, spool and state under .flymining/demo/edge-<container>/), outbound only: they write to InfluxDB
#     as that edge's write-only user, through the container's simulated LTE uplink (a link proxy in the simulator).
#   CENTER: InfluxDB (authentication on), Redis (persistent), alerting (relays the edges' fault snapshots from
#     InfluxDB to Redis, pages ContainerSilent), investor portal, TV wall, a mail catcher standing in for SMTP.
# Installs what is missing, starts the servers it needs (reusing running ones), prints the URLs and the commands to
# try, runs until Ctrl-C and then stops everything it started. FLYMINING_DEMO_SECONDS=N stops by itself after N s.
#
# Commands for the running demo (same FLYMINING_STATE_DIR):
#   npm run demo -- cut-uplink C02        cut container C02's uplink (its edge spools; ContainerSilent is mailed)
#   npm run demo -- restore-uplink C02    bring it back (the edge backfills; the alert resolves)
#   npm run demo -- power-on C02          start C02's edge again after a simulated power cut (pkill -KILL -f edge-C02)
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"
cd "$FLYMINING_ROOT" || exit 1
set -e

DEMO_DIR="$FLYMINING_STATE_DIR/demo"
LOG_DIR="$FLYMINING_STATE_DIR/log"
MAIL_DIR="$FLYMINING_STATE_DIR/mail"
# What commands for the running demo need to know about it; written once it is up, removed when it stops.
RUNNING_FILE="$DEMO_DIR/running.env"
# ContainerSilent fires after this many missed heartbeat intervals (alerting's silent_after_intervals default).
SILENT_AFTER_INTERVALS=3

demo_usage() {
  cat >&2 <<'USAGE'
usage: npm start                               run the demo (Ctrl-C stops it)
       npm run demo -- cut-uplink CONTAINER     cut that container's LTE uplink in the running demo
       npm run demo -- restore-uplink CONTAINER bring it back
       npm run demo -- power-on CONTAINER       start that container's edge again after `pkill -KILL -f edge-CONTAINER`
USAGE
  exit 2
}

# Starts one container's edge: its miner exporter and its climate exporter, both named edge-<container>, writing to
# InfluxDB through the container's uplink proxy. Needs the settings of the running demo (RUNNING_FILE's variables).
start_edge() {
  local container=$1 index=$2 edge="edge-$1"
  local dir="$DEMO_DIR/$edge"
  mkdir -p "$dir/state" "$dir/spool/miner" "$dir/spool/climate"
  (
    export FLYMINING_INFLUX_URL="$INFLUX_SCHEME://127.0.0.1:$((UPLINK_PORT + index - 1))"
    export FLYMINING_LOG_LEVEL=${FLYMINING_LOG_LEVEL:-warn}
    if [[ "$INFLUX_ACCESS" == auth ]]; then
      export FLYMINING_INFLUX_USERNAME="$edge" FLYMINING_INFLUX_PASSWORD_FILE="$EDGE_SECRETS_DIR/$edge.password"
      unset FLYMINING_INFLUX_PASSWORD
    fi
    # Miner actions staff queue on the staff page (/control) are fetched from the center with this edge's own token
    # (edge-<container>, scope control:edge); in production through the uplink gateway, here straight from it.
    FLYMINING_CONTROL_TOKEN_FILE="$EDGE_SECRETS_DIR/$edge.control-token" FLYMINING_CONTROL_CENTER_URL="http://127.0.0.1:$STAFF_PORT" \
      FLYMINING_CONTROL_AUDIT_FILE="$dir/state/control-audit.jsonl" \
      FLYMINING_INFLUX_SPOOL_DIR="$dir/spool/miner" flymining_start_process "$edge-miner" "$LOG_DIR/$edge-miner.log" \
      node --max-old-space-size=256 -r tsx/cjs exporters/src/main.ts --inventory "$INVENTORY" \
      --name "$edge" --containers "$container" --state-dir "$dir/state" --interval "$INTERVAL" \
      --listen "127.0.0.1:$((FIRST_METRICS_PORT + index - 1))" --control scripts/demo-control.yaml
    # The container's sensors: MQTT thermometers, Modbus damper and power meter.
    FLYMINING_INFLUX_SPOOL_DIR="$dir/spool/climate" flymining_start_process "$edge-climate" "$LOG_DIR/$edge-climate.log" \
      node --max-old-space-size=256 -r tsx/cjs exporters/src/climate/main.ts --inventory "$INVENTORY" \
      --name "$edge" --containers "$container" --state-dir "$dir/state" --interval "$INTERVAL" \
      --listen "127.0.0.1:$((FIRST_CLIMATE_PORT + index - 1))" --mqtt "$FLYMINING_MQTT_URL"
  ) || exit 1
}

# A command for the running demo: loads its settings and checks the container name.
load_running_demo() {
  local container=${1:-}
  [[ "$container" =~ ^[A-Za-z0-9_.:-]{1,64}$ ]] || demo_usage
  if [[ ! -s "$RUNNING_FILE" ]] || ! flymining_process_pid simulator >/dev/null; then
    flymining_die "no demo is running with state in $FLYMINING_STATE_DIR (start it with: npm start)"
  fi
  # shellcheck source=/dev/null
  source "$RUNNING_FILE"
}

# POSTs the uplink state to the simulator's control API and prints its answer, or its error, in one line.
set_uplink() {
  local container=$1 state=$2
  node -e '
    const [url, state] = process.argv.slice(1);
    fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ state }) }).then(
      async (res) => {
        const text = await res.text();
        let answer = {};
        try { answer = JSON.parse(text); } catch { answer = { error: text.slice(0, 200) }; }
        if (!res.ok) {
          process.stderr.write(`[flymining] error: the simulator refused (HTTP ${res.status}): ${answer.error ?? text}\n`);
          process.exit(1);
        }
        const s = answer.stats ?? {};
        process.stdout.write(`${answer.container}: uplink ${answer.state}${answer.cutAt ? ` since ${answer.cutAt}` : ""} (connections so far ${s.connections ?? 0}, ${s.bytesUp ?? 0} bytes up)\n`);
      },
      (err) => {
        process.stderr.write(`[flymining] error: the running demo does not answer at ${url} (${err.cause?.message ?? err.message}); is it still running?\n`);
        process.exit(1);
      },
    );
  ' "$CONTROL_URL/containers/$container/uplink" "$state"
}

case "${1:-}" in
  "") ;;
  cut-uplink)
    load_running_demo "${2:-}"
    set_uplink "$2" cut
    cat <<EOF
  Edge edge-$2 keeps scraping; its points wait in its spool ($DEMO_DIR/edge-$2/spool) until the uplink is back.
  The center judges it silent after $SILENT_AFTER_INTERVALS missed heartbeats: a ContainerSilent mail for $2 arrives in
  $MAIL_DIR within about $((SILENT_AFTER_INTERVALS * INTERVAL + 15)) s. Bring it back: npm run demo -- restore-uplink $2
EOF
    exit 0
    ;;
  restore-uplink)
    load_running_demo "${2:-}"
    set_uplink "$2" up
    cat <<EOF
  Edge edge-$2 replays its spool (the backfill) and reports again; the ContainerSilent alert resolves with a mail in
  $MAIL_DIR saying how long $2 was dark and how many points it backfilled.
EOF
    exit 0
    ;;
  power-on)
    load_running_demo "${2:-}"
    index=0
    for ((k = 0; k < ${#EDGE_CONTAINERS[@]}; k++)); do
      if [[ "${EDGE_CONTAINERS[$k]}" == "$2" ]]; then index=$((k + 1)); fi
    done
    ((index > 0)) || flymining_die "the demo has no container $2 (it has: ${EDGE_CONTAINERS[*]})"
    start_edge "$2" "$index"
    flymining_say "edge-$2 is powered on again: it restores its fault state from $DEMO_DIR/edge-$2/state and replays its spool"
    exit 0
    ;;
  -h | --help | help) demo_usage ;;
  *)
    flymining_warn "unknown demo command '$1'"
    demo_usage
    ;;
esac

MINERS=${FLYMINING_DEMO_MINERS:-240}
CONTAINERS=${FLYMINING_DEMO_CONTAINERS:-4}
CONTROL_PORT=${FLYMINING_DEMO_CONTROL_PORT:-4100}
FIRST_METRICS_PORT=${FLYMINING_DEMO_METRICS_PORT:-9410}
FIRST_CLIMATE_PORT=${FLYMINING_DEMO_CLIMATE_PORT:-9420}
INTERVAL=${FLYMINING_DEMO_INTERVAL:-10}
PORTAL_PORT=${FLYMINING_DEMO_PORTAL_PORT:-8480}
ALERTING_PORT=${FLYMINING_DEMO_ALERTING_PORT:-9430}
SMTP_PORT=${FLYMINING_DEMO_SMTP_PORT:-2525}
MODBUS_PORT=${FLYMINING_DEMO_MODBUS_PORT:-15020}
UPLINK_PORT=${FLYMINING_DEMO_UPLINK_PORT:-18601}
UPLINK_DELAY_MS=${FLYMINING_DEMO_UPLINK_DELAY_MS:-40}
UPLINK_JITTER_MS=${FLYMINING_DEMO_UPLINK_JITTER_MS:-20}
TVWALL_PORT=${FLYMINING_DEMO_TVWALL_PORT:-4200}
STAFF_PORT=${FLYMINING_DEMO_STAFF_PORT:-3400}
POOL_PORT=${FLYMINING_DEMO_POOL_PORT:-4300}
# Closed days of farm history written into InfluxDB at start (simulator/src/history-main.ts) and credited by billing.
HISTORY_DAYS=${FLYMINING_DEMO_HISTORY_DAYS:-21}
# Seconds between parts breaking in the simulated farm (scripts/demo-farm-life.ts); 0: none break by themselves.
FAULT_EVERY=${FLYMINING_DEMO_FAULT_EVERY:-180}
BASE_ADDRESS=${FLYMINING_DEMO_BASE_ADDRESS:-127.1.0.1}
# Ten days at least: the history's calendar has a power cut every tenth day, the day the printed billing example names.
[[ "$HISTORY_DAYS" =~ ^[0-9]+$ ]] && ((HISTORY_DAYS >= 10 && HISTORY_DAYS <= 35)) ||
  flymining_die "FLYMINING_DEMO_HISTORY_DAYS: '$HISTORY_DAYS' is not a whole number of days from 10 to 35"
INVENTORY="$DEMO_DIR/farm.yaml"
FARM_SPECS="$DEMO_DIR/farm-specs.json"
# What each pool worker delivered per closed day: written with the history, read by the demo's pool API.
FARM_DELIVERED="$DEMO_DIR/farm-delivered.json"
EDGE_SECRETS_DIR="$FLYMINING_SECRETS_DIR/influx-edges"
READER_USER=flymining-reader
mkdir -p "$DEMO_DIR" "$LOG_DIR"

flymining_ensure_node_modules
mapfile -t packages < <(flymining_missing_server_packages influxdb redis mosquitto postgres)
# The fonts of PDF statements (billing/src/statements/fonts.ts); the ensure step skips installed ones.
packages+=(fonts-dejavu-core fonts-droid-fallback)
if ((${#packages[@]})); then flymining_ensure_debian_packages "${packages[@]}"; fi

demo_processes=(simulator)
stopping=0
stop_demo() {
  ((stopping)) && return
  stopping=1
  if [[ -n "${sleeper:-}" ]]; then kill "$sleeper" 2>/dev/null || true; fi
  if [[ -n "${history_pid:-}" ]]; then kill "$history_pid" 2>/dev/null || true; fi
  flymining_say "stopping the demo..."
  rm -f "$RUNNING_FILE"
  flymining_stop_processes "${demo_processes[@]}" || true
  if ((${#FLYMINING_STARTED_SERVICES[@]})); then flymining_stop_services "${FLYMINING_STARTED_SERVICES[@]}" || true; fi
  flymining_say "demo stopped; nothing of it is left running"
}
trap stop_demo EXIT
trap 'exit 130' INT TERM

external_influx=${FLYMINING_INFLUX_URL:-}
flymining_start_services influxdb redis mosquitto postgres
eval "$(flymining_env)"
export FLYMINING_INFLUX_URL FLYMINING_REDIS_URL FLYMINING_MQTT_URL
if [[ -n "$external_influx" ]]; then
  # The user's own InfluxDB: every process gets the user's FLYMINING_INFLUX_* settings (credentials included) as set.
  INFLUX_ACCESS=external
else
  INFLUX_ACCESS=$(flymining_influx_access)
  [[ "$INFLUX_ACCESS" != refused ]] ||
    flymining_die "the InfluxDB at $FLYMINING_INFLUX_URL requires credentials the demo does not have; set FLYMINING_INFLUX_PORT to a free port (the demo then starts its own) or FLYMINING_INFLUX_URL with FLYMINING_INFLUX_USERNAME/FLYMINING_INFLUX_PASSWORD_FILE"
  unset FLYMINING_INFLUX_USERNAME FLYMINING_INFLUX_PASSWORD_FILE
fi
INFLUX_SCHEME=${FLYMINING_INFLUX_URL%%://*}
influx_target=${FLYMINING_INFLUX_URL#*://}
influx_target=${influx_target%%/*}
[[ "$influx_target" == *:* ]] || influx_target="$influx_target:$([[ "$INFLUX_SCHEME" == https ]] && echo 443 || echo 8086)"

flymining_say "starting a simulated farm of $MINERS miners in $CONTAINERS containers, one LTE uplink each..."
rm -f "$INVENTORY" "$FARM_SPECS" "$FARM_DELIVERED"
flymining_start_process simulator "$LOG_DIR/simulator.log" \
  node node_modules/tsx/dist/cli.mjs simulator/src/main.ts --miners "$MINERS" --containers "$CONTAINERS" \
  --racks-per-container "$(((MINERS + CONTAINERS * 20 - 1) / (CONTAINERS * 20)))" \
  --control-port "$CONTROL_PORT" --inventory-out "$INVENTORY" --specs-out "$FARM_SPECS" --mqtt "$FLYMINING_MQTT_URL" --seed 1 \
  --modbus-port "$MODBUS_PORT" --base-address "$BASE_ADDRESS" \
  --uplink-target "$influx_target" --uplink-port "$UPLINK_PORT" --uplink-delay-ms "$UPLINK_DELAY_MS" --uplink-jitter-ms "$UPLINK_JITTER_MS"
CONTROL_URL="http://127.0.0.1:$CONTROL_PORT"
# Waits in a subshell so that a failure can show the process's own words before the demo stops.
wait_or_explain() {
  local url=$1 seconds=$2 name=$3 log=$4
  (flymining_wait_for_url "$url" "$seconds") 2>/dev/null && return 0
  flymining_die "$name did not answer $url within $seconds s; last lines of $log:
$(tail -n 20 "$log" 2>/dev/null)"
}
wait_or_explain "$CONTROL_URL/miners" 60 simulator "$LOG_DIR/simulator.log"

mapfile -t EDGE_CONTAINERS < <(node -e '
  const inv = require("yaml").parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const c of inv.containers) console.log(c.name);
' "$INVENTORY")

# InfluxDB accounts: the database with its retention policies, a read-only user for the center's services and one
# write-only user per edge (docker/influx-setup.ts, as in the compose deployment). Passwords live in files only.
if [[ "$INFLUX_ACCESS" == auth ]]; then
  READER_PASSWORD_FILE=$(flymining_secret_file influx-reader.pass) || exit 1
  for container in "${EDGE_CONTAINERS[@]}"; do
    flymining_secret_file "influx-edges/edge-$container.password" >/dev/null || exit 1
  done
  FLYMINING_INFLUX_USERNAME=admin FLYMINING_INFLUX_PASSWORD_FILE="$FLYMINING_SECRETS_DIR/influx-admin.pass" \
    FLYMINING_INFLUX_READER_USERNAME=$READER_USER FLYMINING_INFLUX_READER_PASSWORD_FILE="$READER_PASSWORD_FILE" \
    FLYMINING_INFLUX_EDGE_SECRETS_DIR="$EDGE_SECRETS_DIR" \
    node node_modules/tsx/dist/cli.mjs docker/influx-setup.ts >"$LOG_DIR/influx-setup.log" 2>&1 ||
    flymining_die "setting up InfluxDB's database and users failed; last lines of $LOG_DIR/influx-setup.log:
$(tail -n 5 "$LOG_DIR/influx-setup.log")"
  # The center's services read as the reader.
  export FLYMINING_INFLUX_USERNAME=$READER_USER FLYMINING_INFLUX_PASSWORD_FILE="$READER_PASSWORD_FILE"
elif [[ "$INFLUX_ACCESS" == open ]]; then
  flymining_warn "the demo runs without InfluxDB credentials (that InfluxDB has authentication off)"
fi

# The farm's past weeks, from the simulator's own miner model (same miners, same tags), with a few outages: written
# into InfluxDB in the background while the rest starts (as admin: the center's reader may not write); billing
# credits the investors from it below. Rewriting a day writes the same points: each day is seeded by its date.
(
  if [[ "$INFLUX_ACCESS" == auth ]]; then
    export FLYMINING_INFLUX_USERNAME=admin FLYMINING_INFLUX_PASSWORD_FILE="$FLYMINING_SECRETS_DIR/influx-admin.pass"
  fi
  exec node node_modules/tsx/dist/cli.mjs simulator/src/history-main.ts --specs "$FARM_SPECS" --days "$HISTORY_DAYS" --seed 1 \
    --delivered-out "$FARM_DELIVERED"
) >"$LOG_DIR/history.log" 2>&1 </dev/null &
history_pid=$!

{
  # -g: the commands load this file inside a function.
  declare -p CONTROL_URL INTERVAL MAIL_DIR INVENTORY INFLUX_ACCESS INFLUX_SCHEME UPLINK_PORT FIRST_METRICS_PORT FIRST_CLIMATE_PORT EDGE_SECRETS_DIR EDGE_CONTAINERS STAFF_PORT |
    sed 's/^declare /declare -g /'
  printf 'export FLYMINING_MQTT_URL=%q\n' "$FLYMINING_MQTT_URL"
} >"$RUNNING_FILE.new"
mv -f "$RUNNING_FILE.new" "$RUNNING_FILE"

# Each edge's token for the staff actions it fetches from the center (a new one each start, mode 600).
for container in "${EDGE_CONTAINERS[@]}"; do
  node bin/flymining.js tokens revoke "edge-$container" >/dev/null 2>&1 || true
  node bin/flymining.js tokens add "edge-$container" --scope control:edge --expires 30d --out "$EDGE_SECRETS_DIR/edge-$container.control-token" >>"$LOG_DIR/tokens.log" 2>&1 ||
    flymining_die "creating edge-$container's control token failed; see $LOG_DIR/tokens.log"
done
i=0
for container in "${EDGE_CONTAINERS[@]}"; do
  i=$((i + 1))
  demo_processes+=("edge-$container-miner" "edge-$container-climate")
  start_edge "$container" "$i"
done
for ((j = 1; j <= i; j++)); do
  container=${EDGE_CONTAINERS[$((j - 1))]}
  wait_or_explain "http://127.0.0.1:$((FIRST_METRICS_PORT + j - 1))/healthz" 90 "edge-$container's miner exporter" "$LOG_DIR/edge-$container-miner.log"
  wait_or_explain "http://127.0.0.1:$((FIRST_CLIMATE_PORT + j - 1))/healthz" 60 "edge-$container's climate exporter" "$LOG_DIR/edge-$container-climate.log"
done

# The investor portal on its own demo billing database: the demo investor and the other investors, credited day by
# day from the farm history above, one staff account. Its session secret is a file (mode 600): the portal gets it in
# its environment, the TV wall and alerting read the file to accept the staff session (shared/src/auth), checking
# the account in the same database.
demo_processes+=(pool-api portal)
# The demo's own database (ledger, portal, repair tickets): one per running demo, since two demos writing tickets
# into one database would close each other's tickets (each alerting sees only its own farm's alerts).
DEMO_PG_DB=${FLYMINING_DEMO_PG_DB:-flymining_demo}
[[ "$DEMO_PG_DB" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || flymining_die "FLYMINING_DEMO_PG_DB: '$DEMO_PG_DB' is not a plain database name (a-z, 0-9, _)"
PORTAL_PG_URL="${FLYMINING_PG_URL%/*}/$DEMO_PG_DB"
PORTAL_SECRET_FILE=$(flymining_secret_file portal-session.secret) || exit 1
wait "$history_pid" || flymining_die "writing the farm's history into InfluxDB failed; last lines of $LOG_DIR/history.log:
$(tail -n 5 "$LOG_DIR/history.log")"
history_pid=''
# The farm's pool (Foundry, Braiins, F2Pool and ViaBTC API shapes, mempool.space's network figures): it pays for what
# the history says the farm delivered, and accepts one API key, a file (mode 600) the importers read too.
POOL_KEY_FILE=$(flymining_secret_file pool-api.key) || exit 1
POOL_URL="http://127.0.0.1:$POOL_PORT"
flymining_start_process pool-api "$LOG_DIR/pool-api.log" \
  node node_modules/tsx/dist/cli.mjs simulator/src/pools-main.ts --delivered "$FARM_DELIVERED" --key-file "$POOL_KEY_FILE" --port "$POOL_PORT"
wait_or_explain "$POOL_URL/plain" 60 "the pool API" "$LOG_DIR/pool-api.log"
# Billing reads the pool as it would F2Pool: the scheduled import, the network figures, then the daily run's catch-up.
pool_env=(FLYMINING_POOL_IMPORT=f2pool FLYMINING_POOL_F2POOL_ACCOUNT=flymining FLYMINING_POOL_F2POOL_URL="$POOL_URL/f2pool"
  FLYMINING_POOL_F2POOL_SECRET_FILE="$POOL_KEY_FILE" FLYMINING_NETWORK_URL="$POOL_URL")
portal_logins=$(env "${pool_env[@]}" node node_modules/tsx/dist/cli.mjs billing/src/portal/demo-seed.ts --pg "$PORTAL_PG_URL" --days "$HISTORY_DAYS" 2>"$LOG_DIR/portal-seed.log") ||
  flymining_die "seeding the portal's demo data failed; see $LOG_DIR/portal-seed.log"
FLYMINING_PORTAL_SESSION_SECRET=$(cat "$PORTAL_SECRET_FILE") \
  flymining_start_process portal "$LOG_DIR/portal.log" \
  node node_modules/tsx/dist/cli.mjs billing/src/portal/main.ts --listen "127.0.0.1:$PORTAL_PORT" --pg "$PORTAL_PG_URL" --redis "$FLYMINING_REDIS_URL"
wait_or_explain "http://127.0.0.1:$PORTAL_PORT/healthz" 60 "the investor portal" "$LOG_DIR/portal.log"

# What the center's HTTP services need to authenticate staff (portal sessions) and tokens (Redis): as environment of
# the processes started in subshells below.
center_auth_env() {
  export FLYMINING_PORTAL_SESSION_SECRET_FILE="$PORTAL_SECRET_FILE" FLYMINING_PG_URL="$PORTAL_PG_URL" \
    FLYMINING_PORTAL_URL="http://127.0.0.1:$PORTAL_PORT"
}

# Maintenance: the tickets' schema, the example rota (its people's addresses end up in the mail catcher) and a few
# weeks of ticket history in the demo's database, so the figures are not empty (scripts/demo-maintenance.ts).
maintenance_seed=$(node node_modules/tsx/dist/cli.mjs scripts/demo-maintenance.ts --pg-url "$PORTAL_PG_URL" --inventory "$INVENTORY" \
  --rota provisioning/maintenance/rota.yaml 2>"$LOG_DIR/maintenance-seed.log") ||
  flymining_die "setting up the maintenance tables and history failed; see $LOG_DIR/maintenance-seed.log"

# Alerting: relays the edges' snapshots into Redis, pages by email to our local mail catcher (one .eml per mail),
# opens repair tickets and pages whoever the rota has on call. The demo's copy of the example config verifies a
# fix after 2 min of quiet (not 30) and escalates after 3 min (not 15), so both can be watched.
ALERTING_CONFIG="$DEMO_DIR/alerting.yaml"
sed -e 's/^\(  verify_after:\) 30m /\1 2m  /' -e 's/oncall: { escalate_after: 15m }/oncall: { escalate_after: 3m }/' \
  provisioning/alerting/alerting.yaml >"$ALERTING_CONFIG"
demo_processes+=(mail-catcher alerting)
flymining_start_process mail-catcher "$LOG_DIR/mail-catcher.log" \
  node node_modules/tsx/dist/cli.mjs alerting/src/mail-catcher.ts --dir "$MAIL_DIR" --port "$SMTP_PORT"
# Its acknowledge links are signed with a secret of its own (a file, mode 600).
LINK_SECRET_FILE=$(flymining_secret_file alerting-link.secret) || exit 1
(
  center_auth_env
  export FLYMINING_ALERTING_LINK_SECRET_FILE="$LINK_SECRET_FILE"
  flymining_start_process alerting "$LOG_DIR/alerting.log" \
    node --heap-growing-percent=30 -r tsx/cjs alerting/src/main.ts --config "$ALERTING_CONFIG" \
    --redis "$FLYMINING_REDIS_URL" --influx "$FLYMINING_INFLUX_URL" --inventory "$INVENTORY" \
    --listen "127.0.0.1:$ALERTING_PORT" --external-url "http://127.0.0.1:$ALERTING_PORT" --smtp "smtp://127.0.0.1:$SMTP_PORT"
) || exit 1
wait_or_explain "http://127.0.0.1:$ALERTING_PORT/healthz" 60 alerting "$LOG_DIR/alerting.log"

# The TV wall: the rack map full screen, read from InfluxDB, refreshing itself (grafana-plugin/tvwall).
demo_processes+=(tvwall)
npm run --silent build -w grafana-plugin >"$LOG_DIR/grafana-plugin-build.log" 2>&1 ||
  flymining_die "building the rack map failed; see $LOG_DIR/grafana-plugin-build.log"
(
  center_auth_env
  flymining_start_process tvwall "$LOG_DIR/tvwall.log" \
    node node_modules/tsx/dist/cli.mjs grafana-plugin/tvwall/main.ts --port "$TVWALL_PORT" --refresh 10
) || exit 1
wait_or_explain "http://127.0.0.1:$TVWALL_PORT/healthz" 60 "the TV wall" "$LOG_DIR/tvwall.log"

# The maintenance staff page: open tickets, take / note / close with a repair record, the rota, the figures.
demo_processes+=(maintenance farm-life)
(
  center_auth_env
  FLYMINING_INVENTORY="$INVENTORY" flymining_start_process maintenance "$LOG_DIR/maintenance.log" \
    node node_modules/tsx/dist/cli.mjs maintenance/src/main.ts --port "$STAFF_PORT"
) || exit 1
wait_or_explain "http://127.0.0.1:$STAFF_PORT/healthz" 60 "the maintenance staff page" "$LOG_DIR/maintenance.log"
# The farm's life: a part breaks now and then (a live ticket), and a ticket closed with a repair record while its
# fault still fires is repaired in the simulated miner (the ticket becomes fixed, then verified).
flymining_start_process farm-life "$LOG_DIR/farm-life.log" \
  node node_modules/tsx/dist/cli.mjs scripts/demo-farm-life.ts --control-url "$CONTROL_URL" --pg-url "$PORTAL_PG_URL" \
  --every "$FAULT_EVERY"

# Tokens for the demo (flymining tokens; a new pair each start): one for staff's scripts (curl to the alerting API,
# all scopes) and one for a wall screen (tvwall:read only, opened once as a link). Kept in mode-600 files.
STAFF_TOKEN_FILE="$FLYMINING_SECRETS_DIR/demo-staff.token"
WALL_TOKEN_FILE="$FLYMINING_SECRETS_DIR/demo-wall.token"
for token in "demo-staff tvwall:read,alerting:read,alerting:write,maintenance:read,maintenance:write,control:read,control:write $STAFF_TOKEN_FILE" "demo-wall tvwall:read $WALL_TOKEN_FILE"; do
  read -r token_name token_scopes token_file <<<"$token"
  node bin/flymining.js tokens revoke "$token_name" >/dev/null 2>&1 || true
  node bin/flymining.js tokens add "$token_name" --scope "$token_scopes" --expires 30d --out "$token_file" >>"$LOG_DIR/tokens.log" 2>&1 ||
    flymining_die "creating the demo's $token_name token failed; see $LOG_DIR/tokens.log"
done

# The miner of the printed fan example: the first air-cooled one with fans (a hydro unit has none to stop).
read -r fan_miner_id fan_miner_host fan_miner_port < <(node -e '
  const inv = require("yaml").parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const slots = inv.containers.flatMap((c) => c.racks.flatMap((r) => r.shelves.flatMap((s) => s.slots)));
  const s = slots.find((s) => s.host && s.cooling !== "hydro" && (s.fans ?? 0) > 0);
  if (!s) process.exit(1);
  console.log(`${s.id} ${s.host} ${s.port ?? 4028}`);
' "$INVENTORY") || flymining_die "the simulated farm has no air-cooled miner for the fan example"
fan_container=${fan_miner_id%%-*}
# The miner of the printed control example: a Braiins OS unit (its REST API takes sleep, wake and power targets).
read -r ctl_miner_id ctl_miner_host < <(node -e '
  const inv = require("yaml").parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const slots = inv.containers.flatMap((c) => c.racks.flatMap((r) => r.shelves.flatMap((s) => s.slots)));
  const s = slots.find((s) => s.host && s.protocol === "braiins-rest");
  if (!s) process.exit(1);
  console.log(`${s.id} ${s.host}`);
' "$INVENTORY") || flymining_die "the simulated farm has no Braiins OS unit for the control example"
ctl_container=${ctl_miner_id%%-*}
scrape_target=$fan_miner_host
[[ "$fan_miner_port" == 4028 ]] || scrape_target="$fan_miner_host:$fan_miner_port"
# The damper example sticks the damper at the end far from where the controller has it now, so the two disagree.
stuck_damper_pct=$(node -e '
  fetch(process.argv[1]).then((r) => r.json()).then(({ containers }) => {
    const c = containers.find((c) => c.container === process.argv[2]);
    console.log((c?.damperPercent ?? 0) < 40 ? 80 : 0);
  }, () => console.log(80));
' "$CONTROL_URL/containers" "$fan_container")
# The farm's past outages (the history's calendar) and the latest power cut, the day the billing example names.
mapfile -t outage_lines < <(node -e '
  const { outages } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const o of outages) console.log(`${o.day} ${o.kind} ${o.what}`);
' "$FARM_DELIVERED")
outage_day=''
for line in "${outage_lines[@]}"; do
  read -r day kind _ <<<"$line"
  [[ "$kind" == power && "$day" < "$(date -u +%F)" ]] && outage_day=$day
done
[[ -n "$outage_day" ]] || flymining_die "the farm's history has no power cut before today (see $LOG_DIR/history.log)"
billing_influx_env="FLYMINING_INFLUX_URL=$FLYMINING_INFLUX_URL "
[[ "$INFLUX_ACCESS" == auth ]] && billing_influx_env+="FLYMINING_INFLUX_USERNAME=$READER_USER FLYMINING_INFLUX_PASSWORD_FILE=$READER_PASSWORD_FILE "
cut_container=${EDGE_CONTAINERS[$((${#EDGE_CONTAINERS[@]} > 1 ? 1 : 0))]}
# The silence example names yet another container, so trying every command in order never mutes the others' mails.
silence_container=${EDGE_CONTAINERS[$((${#EDGE_CONTAINERS[@]} > 2 ? 2 : ${#EDGE_CONTAINERS[@]} - 1))]}
if [[ "$INFLUX_ACCESS" == auth ]]; then
  influx_curl="curl -sG -u $READER_USER:\"\$(cat $READER_PASSWORD_FILE)\" $FLYMINING_INFLUX_URL/query"
  influx_note="authentication on: admin, a reader ($READER_USER) and a write-only user per edge; passwords in $FLYMINING_SECRETS_DIR"
else
  influx_curl="curl -sG $FLYMINING_INFLUX_URL/query"
  influx_note="no credentials: authentication is off on this InfluxDB"
fi

cat <<EOF

  FlyMining Ops demo is up: $MINERS simulated miners in ${#EDGE_CONTAINERS[@]} containers, one edge each behind its own LTE uplink.

  CENTER
  InfluxDB          $FLYMINING_INFLUX_URL   ($influx_note)
  Redis             $FLYMINING_REDIS_URL   (active faults in hash flymining:faults:active, edges in flymining:edges)
  Alerting          http://127.0.0.1:$ALERTING_PORT/api/alerts   /api/silences   /metrics   (mails: $MAIL_DIR, listed in $LOG_DIR/mail-catcher.log)
  Investor portal   http://127.0.0.1:$PORTAL_PORT   ($portal_logins)
  Staff page        http://127.0.0.1:$STAFF_PORT/   (repair tickets: take, note, close with a repair; /rota, /figures; $maintenance_seed)
  TV wall           http://127.0.0.1:$TVWALL_PORT/?token=$(cat "$WALL_TOKEN_FILE")   (a wall screen's link: it keeps the token in a cookie and drops it from the address bar)
  Sign-in           browsers: sign in to the portal with the staff account above; the TV wall, the staff page and the
                    alerting API then accept that session. Scripts: a bearer token, $STAFF_TOKEN_FILE (flymining tokens list|add|revoke)
  Simulator control $CONTROL_URL/miners   (the farm: miners, sensors, uplinks)
  Pool API          $POOL_URL/f2pool   (the farm's pool, F2Pool's API shape; its key in $POOL_KEY_FILE; network figures at $POOL_URL/api/v1/)

  EDGES (one per container; outbound only, to InfluxDB through the uplink)
EOF
for ((j = 1; j <= i; j++)); do
  container=${EDGE_CONTAINERS[$((j - 1))]}
  printf '  edge-%-12s miners http://127.0.0.1:%s/metrics   climate http://127.0.0.1:%s/metrics   uplink 127.0.0.1:%s   files %s\n' \
    "$container" "$((FIRST_METRICS_PORT + j - 1))" "$((FIRST_CLIMATE_PORT + j - 1))" "$((UPLINK_PORT + j - 1))" "$DEMO_DIR/edge-$container/"
done
printf '  (each /healthz too; sensors on MQTT %s, Modbus damper/meter from 127.0.0.1:%s)\n' "$FLYMINING_MQTT_URL" "$MODBUS_PORT"
cat <<EOF

  Try:
    npx flymining scrape $scrape_target
                                        # one miner's sample and faults, straight from the miner
    curl -X POST $CONTROL_URL/miners/$fan_miner_id/faults -H 'content-type: application/json' -d '{"fault":"stopFan","index":0}'
                                        # within one sweep ($INTERVAL s): FAN_STOPPED in InfluxDB (fault, fault_state), then mailed
    $influx_curl --data-urlencode db=flymining --data-urlencode "q=SELECT * FROM fault_state WHERE miner = '$fan_miner_id' AND time > now() - 1m"
    curl -X POST $CONTROL_URL/containers/$fan_container/sensor-faults -H 'content-type: application/json' -d '{"fault":"stuckDamper","positionPct":$stuck_damper_pct}'
                                        # once it has disagreed with its command for 60 s: DAMPER_STUCK (fault)
    curl -X POST $CONTROL_URL/containers/C01/sensor-faults -H 'content-type: application/json' -d '{"fault":"doorOpen"}'   # C01's door opens: DOOR_OPEN paged within one alerting cycle + group_wait; {"fault":"clear"} closes it
    npx flymining discover ${BASE_ADDRESS%.*}.0/24 --inventory $INVENTORY

  Act on miners (docs/control.md; each action is read back, staggered per container and audited):
    npx flymining miner sleep $ctl_miner_id --inventory $INVENTORY      # confirmed once it reads sleeping
    npx flymining scrape $ctl_miner_host --inventory $INVENTORY         # mode: sleeping
    npx flymining miner wake $ctl_miner_id --inventory $INVENTORY       # confirmed once it hashes again (~30 s)
    npx flymining miner power $ctl_miner_id --watts 2800 --inventory $INVENTORY
    npx flymining miner blink --all-in $ctl_container --inventory $INVENTORY --dry-run   # what each model would do
  The same from the staff page: http://127.0.0.1:$STAFF_PORT/control (the container's edge fetches and runs it).
  Policies: the temperature loop and recovery run on every edge (scripts/demo-control.yaml). Their decisions and
  every action (Grafana's "FlyMining · Control" dashboard reads the same):
    $influx_curl --data-urlencode db=flymining --data-urlencode "q=SELECT * FROM control_decision WHERE time > now() - 10m"
    $influx_curl --data-urlencode db=flymining --data-urlencode "q=SELECT * FROM control_action WHERE time > now() - 1h"

  Billing from the farm itself: $HISTORY_DAYS days of the farm's past are in InfluxDB (written at start from the
  simulator's miner model), the pool paid for what the farm delivered, and the daily run credited each day from the
  stored hashrate. Days with outages:
$(for line in "${outage_lines[@]}"; do rest=${line#* }; printf '    %s: %s\n' "${line%% *}" "${rest#* }"; done)
  Sign in to the investor portal as the investor, open demo-contract-100ths: $outage_day reads "below 100 % because of
  downtime" with a smaller credit. The day again from InfluxDB and the pool (nothing differs), and the pool's revenue of it:
    FLYMINING_PG_URL=$PORTAL_PG_URL ${billing_influx_env}npx flymining billing recompute --date $outage_day
    FLYMINING_PG_URL=$PORTAL_PG_URL FLYMINING_POOL_F2POOL_URL=$POOL_URL/f2pool FLYMINING_POOL_F2POOL_ACCOUNT=flymining FLYMINING_POOL_F2POOL_SECRET_FILE=$POOL_KEY_FILE npx flymining billing import-pool --pool f2pool --from $outage_day --to $outage_day

  The LTE uplink of a container:
    npm run demo -- cut-uplink $cut_container         # edge-$cut_container spools; ContainerSilent mailed within ~$((SILENT_AFTER_INTERVALS * INTERVAL + 15)) s
    npm run demo -- restore-uplink $cut_container     # it backfills; a resolved mail says how long it was dark
  A power cut in a container (its edge processes die at once, as without power), and power back:
    pkill -KILL -f edge-$cut_container
    npm run demo -- power-on $cut_container
  Mails (one .eml each): $MAIL_DIR
  Repair tickets: every page opens one (the fan above too); take and close it on the staff page, or:
    npx flymining tickets list --pg-url $PORTAL_PG_URL
    npx flymining tickets take ID --by you@farm.example --pg-url $PORTAL_PG_URL
    npx flymining tickets close ID --by you@farm.example --action replace_fan --part fan:OLD-SERIAL:NEW-SERIAL --pg-url $PORTAL_PG_URL
                                        # the demo's site crew then repairs the simulated miner: fixed, verified 2 min later
    npx flymining oncall show --pg-url $PORTAL_PG_URL               # who is paged now, and the next shifts
    npx flymining report maintenance --period week --pg-url $PORTAL_PG_URL   # MTTA, MTTR, repairs, repeats per week
  The alerting API with the staff token (who did what is recorded under the token's name):
    curl -s http://127.0.0.1:$ALERTING_PORT/api/alerts -H "Authorization: Bearer \$(cat $STAFF_TOKEN_FILE)"
  Silence a container for two hours:
    curl -X POST http://127.0.0.1:$ALERTING_PORT/api/silences -H "Authorization: Bearer \$(cat $STAFF_TOKEN_FILE)" -H 'content-type: application/json' -d '{"matchers":["container=\\"$silence_container\\""],"duration":"2h","comment":"maintenance"}'

  Logs: $LOG_DIR    Press Ctrl-C to stop.
EOF

if [[ -n "${FLYMINING_DEMO_SECONDS:-}" ]]; then
  # In the background with `wait`, so that a TERM (not only Ctrl-C) stops the demo at once, not after the sleep.
  # Its own output closed, so a caller reading ours (a test's pipe) is not held open by it; stop_demo ends it.
  sleep "$FLYMINING_DEMO_SECONDS" >/dev/null 2>&1 </dev/null &
  sleeper=$!
  wait $sleeper
else
  while true; do
    sleep 3600 >/dev/null 2>&1 </dev/null &
    sleeper=$!
    wait $sleeper
  done
fi
