#!/usr/bin/env bash
# `npm start`: the whole stack as a demo. A simulated farm (real TCP miners of every firmware family, climate
# sensors on MQTT) feeds the real pipeline: one miner exporter per container → InfluxDB, faults → Redis.
# Installs what is missing, starts the servers it needs (reusing running ones), prints the URLs, runs until
# Ctrl-C and then stops everything it started. FLYMINING_DEMO_SECONDS=N stops by itself after N seconds.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"
cd "$FLYMINING_ROOT" || exit 1
set -e

MINERS=${FLYMINING_DEMO_MINERS:-240}
CONTAINERS=${FLYMINING_DEMO_CONTAINERS:-4}
CONTROL_PORT=${FLYMINING_DEMO_CONTROL_PORT:-4100}
FIRST_METRICS_PORT=${FLYMINING_DEMO_METRICS_PORT:-9410}
INTERVAL=${FLYMINING_DEMO_INTERVAL:-30}
PORTAL_PORT=${FLYMINING_DEMO_PORTAL_PORT:-8480}
ALERTING_PORT=${FLYMINING_DEMO_ALERTING_PORT:-9430}
SMTP_PORT=${FLYMINING_DEMO_SMTP_PORT:-2525}
CLIMATE_PORT=${FLYMINING_DEMO_CLIMATE_PORT:-9420}
MODBUS_PORT=${FLYMINING_DEMO_MODBUS_PORT:-15020}
BASE_ADDRESS=${FLYMINING_DEMO_BASE_ADDRESS:-127.1.0.1}
DEMO_DIR="$FLYMINING_STATE_DIR/demo"
LOG_DIR="$FLYMINING_STATE_DIR/log"
mkdir -p "$DEMO_DIR" "$LOG_DIR"

flymining_ensure_node_modules
packages=()
command -v influxd >/dev/null 2>&1 || packages+=(influxdb)
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
flymining_find_program mosquitto >/dev/null || packages+=(mosquitto)
flymining_pg_bindir >/dev/null || packages+=(postgresql)
if ((${#packages[@]})); then flymining_ensure_debian_packages "${packages[@]}"; fi

demo_processes=(simulator climate)
for ((i = 1; i <= CONTAINERS; i++)); do demo_processes+=("exporter-$i"); done
demo_processes+=(portal)
demo_processes+=(mail-catcher alerting)
demo_processes+=(tvwall)
stopping=0
stop_demo() {
  ((stopping)) && return
  stopping=1
  flymining_say "stopping the demo..."
  flymining_stop_processes "${demo_processes[@]}" || true
  if ((${#FLYMINING_STARTED_SERVICES[@]})); then flymining_stop_services "${FLYMINING_STARTED_SERVICES[@]}" || true; fi
  flymining_say "demo stopped; nothing of it is left running"
}
trap stop_demo EXIT
trap 'exit 130' INT TERM

flymining_start_services influxdb redis mosquitto postgres
eval "$(flymining_env)"
export FLYMINING_INFLUX_URL FLYMINING_REDIS_URL FLYMINING_MQTT_URL

flymining_say "starting a simulated farm of $MINERS miners in $CONTAINERS containers..."
rm -f "$DEMO_DIR/farm.yaml"
flymining_start_process simulator "$LOG_DIR/simulator.log" \
  node node_modules/tsx/dist/cli.mjs simulator/src/main.ts --miners "$MINERS" --containers "$CONTAINERS" \
  --racks-per-container "$(( (MINERS + CONTAINERS * 20 - 1) / (CONTAINERS * 20) ))" \
  --control-port "$CONTROL_PORT" --inventory-out "$DEMO_DIR/farm.yaml" --mqtt "$FLYMINING_MQTT_URL" --seed 1 \
  --modbus-port "$MODBUS_PORT" --base-address "$BASE_ADDRESS"
# Waits in a subshell so that a failure can show the process's own words before the demo stops.
wait_or_explain() {
  local url=$1 seconds=$2 name=$3 log=$4
  (flymining_wait_for_url "$url" "$seconds") 2>/dev/null && return 0
  flymining_die "$name did not answer $url within $seconds s; last lines of $log:
$(tail -n 20 "$log" 2>/dev/null)"
}
wait_or_explain "http://127.0.0.1:$CONTROL_PORT/miners" 60 simulator "$LOG_DIR/simulator.log"

mapfile -t container_names < <(node -e '
  const yaml = require("yaml");
  const inv = yaml.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const c of inv.containers) console.log(c.name);
' "$DEMO_DIR/farm.yaml")

export FLYMINING_LOG_LEVEL=${FLYMINING_LOG_LEVEL:-warn}
i=0
for name in "${container_names[@]}"; do
  i=$((i + 1))
  port=$((FIRST_METRICS_PORT + i - 1))
  FLYMINING_INFLUX_SPOOL_DIR="$FLYMINING_STATE_DIR/spool/$name" \
    flymining_start_process "exporter-$i" "$LOG_DIR/exporter-$name.log" \
    node --max-old-space-size=256 -r tsx/cjs exporters/src/main.ts --inventory "$DEMO_DIR/farm.yaml" \
    --containers "$name" --name "$name" --interval "$INTERVAL" --listen "127.0.0.1:$port"
done
# The climate exporter reads every container's sensors (MQTT thermometers, Modbus damper and power meter).
FLYMINING_INFLUX_SPOOL_DIR="$FLYMINING_STATE_DIR/spool/climate" \
  flymining_start_process climate "$LOG_DIR/climate-exporter.log" \
  node node_modules/tsx/dist/cli.mjs exporters/src/climate/main.ts --inventory "$DEMO_DIR/farm.yaml" --name climate \
  --interval 10 --listen "127.0.0.1:$CLIMATE_PORT" --mqtt "$FLYMINING_MQTT_URL"
for ((j = 1; j <= i; j++)); do
  port=$((FIRST_METRICS_PORT + j - 1))
  flymining_wait_for_url "http://127.0.0.1:$port/healthz" 90 || flymining_die "exporter $j did not finish its first sweep; see $LOG_DIR"
done
flymining_wait_for_url "http://127.0.0.1:$CLIMATE_PORT/healthz" 60 || flymining_die "the climate exporter did not come up; see $LOG_DIR/climate-exporter.log"

# Alerting: faults → email to our local mail catcher (one .eml per mail under .flymining/mail).
flymining_start_process mail-catcher "$LOG_DIR/mail-catcher.log" \
  node node_modules/tsx/dist/cli.mjs alerting/src/mail-catcher.ts --dir "$FLYMINING_STATE_DIR/mail" --port "$SMTP_PORT"
flymining_start_process alerting "$LOG_DIR/alerting.log" \
  node node_modules/tsx/dist/cli.mjs alerting/src/main.ts --config provisioning/alerting/alerting.yaml \
  --redis "$FLYMINING_REDIS_URL" --influx "$FLYMINING_INFLUX_URL" --inventory "$DEMO_DIR/farm.yaml" \
  --listen "127.0.0.1:$ALERTING_PORT" --external-url "http://127.0.0.1:$ALERTING_PORT" --smtp "smtp://127.0.0.1:$SMTP_PORT"
flymining_wait_for_url "http://127.0.0.1:$ALERTING_PORT/healthz" 60 || flymining_die "alerting did not come up; see $LOG_DIR/alerting.log"

# The investor portal on its own demo billing database: one investor with a week of credits, one staff account.
PORTAL_PG_URL="${FLYMINING_PG_URL%/*}/flymining_demo"
portal_logins=$(node node_modules/tsx/dist/cli.mjs billing/src/portal/demo-seed.ts --pg "$PORTAL_PG_URL" 2>"$LOG_DIR/portal-seed.log") ||
  flymining_die "seeding the portal's demo data failed; see $LOG_DIR/portal-seed.log"
FLYMINING_PORTAL_SESSION_SECRET=$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))') \
  flymining_start_process portal "$LOG_DIR/portal.log" \
  node node_modules/tsx/dist/cli.mjs billing/src/portal/main.ts --listen "127.0.0.1:$PORTAL_PORT" --pg "$PORTAL_PG_URL" --redis "$FLYMINING_REDIS_URL"
flymining_wait_for_url "http://127.0.0.1:$PORTAL_PORT/healthz" 60 || flymining_die "the investor portal did not come up; see $LOG_DIR/portal.log"

# The TV wall: the rack map full screen, read from InfluxDB, refreshing itself (grafana-plugin/tvwall).
TVWALL_PORT=${FLYMINING_DEMO_TVWALL_PORT:-4200}
npm run --silent build -w grafana-plugin >"$LOG_DIR/grafana-plugin-build.log" 2>&1 ||
  flymining_die "building the rack map failed; see $LOG_DIR/grafana-plugin-build.log"
flymining_start_process tvwall "$LOG_DIR/tvwall.log" \
  node node_modules/tsx/dist/cli.mjs grafana-plugin/tvwall/main.ts --port "$TVWALL_PORT" --refresh 10
flymining_wait_for_url "http://127.0.0.1:$TVWALL_PORT/healthz" 60 || flymining_die "the TV wall did not come up; see $LOG_DIR/tvwall.log"

first_miner=$(node -e '
  const inv = require("yaml").parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const s = inv.containers[0].racks[0].shelves[0].slots.find((s) => s.host);
  console.log(`${s.id} ${s.host}`);
' "$DEMO_DIR/farm.yaml")
read -r first_id first_host <<<"$first_miner"

cat <<EOF

  FlyMining Ops demo is up: $MINERS simulated miners in ${#container_names[@]} containers, one exporter each.

  InfluxDB          $FLYMINING_INFLUX_URL   (database flymining; try:
                    curl -sG $FLYMINING_INFLUX_URL/query --data-urlencode db=flymining --data-urlencode 'q=SELECT last(hashrate_ths) FROM miner GROUP BY container' )
  Redis             $FLYMINING_REDIS_URL   (fault events on channel flymining:faults)
  MQTT sensors      $FLYMINING_MQTT_URL   (tele/<container>-<intake|exhaust|outside>/SENSOR)
  Simulator control http://127.0.0.1:$CONTROL_PORT/miners
  Investor portal   http://127.0.0.1:$PORTAL_PORT   ($portal_logins)
EOF
for ((j = 1; j <= i; j++)); do
  port=$((FIRST_METRICS_PORT + j - 1))
  printf '  Exporter %-8s http://127.0.0.1:%s/metrics   http://127.0.0.1:%s/healthz\n' "${container_names[$((j - 1))]}" "$port" "$port"
done
printf '  Climate exporter  http://127.0.0.1:%s/metrics   http://127.0.0.1:%s/healthz   (Modbus damper/meter from 127.0.0.1:%s)\n' "$CLIMATE_PORT" "$CLIMATE_PORT" "$MODBUS_PORT"
printf '  Alerting          http://127.0.0.1:%s/api/alerts   /api/silences   /metrics   (mails: %s, listed in %s)\n' "$ALERTING_PORT" "$FLYMINING_STATE_DIR/mail" "$LOG_DIR/mail-catcher.log"
printf '  TV wall           http://127.0.0.1:%s/   (rack map; ?metric=temperature|hashrate|fan|power)\n' "$TVWALL_PORT"
cat <<EOF

  Try:
    npx flymining scrape $first_host                     # one miner's sample and faults
    curl -X POST http://127.0.0.1:$CONTROL_PORT/miners/$first_id/faults -H 'content-type: application/json' -d '{"fault":"stopFan","index":0}'
                                                        # within one sweep ($INTERVAL s): FAN_STOPPED in InfluxDB and on Redis
    npx flymining discover ${BASE_ADDRESS%.*}.0/24 --inventory $DEMO_DIR/farm.yaml
    curl -X POST http://127.0.0.1:$CONTROL_PORT/containers/${container_names[0]}/sensor-faults -H 'content-type: application/json' -d '{"fault":"stuckDamper","positionPct":0}'
                                                        # within a minute: DAMPER_STUCK (climate_container, fault)

  Alerting: the stopFan above also emails on-call within a sweep (one .eml each in $FLYMINING_STATE_DIR/mail).
  Silence a container for two hours:
    curl -X POST http://127.0.0.1:$ALERTING_PORT/api/silences -H 'content-type: application/json' -d '{"matchers":["container=\\"${container_names[0]}\\""],"duration":"2h","comment":"maintenance","createdBy":"you"}'

  Logs: $LOG_DIR    Press Ctrl-C to stop.
EOF

if [[ -n "${FLYMINING_DEMO_SECONDS:-}" ]]; then
  sleep "$FLYMINING_DEMO_SECONDS"
else
  while true; do sleep 3600; done
fi
