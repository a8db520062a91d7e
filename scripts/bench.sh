#!/usr/bin/env bash
# `npm run bench`: every benchmark under bench/, each printing JSON with its same-run baseline.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"
cd "$FLYMINING_ROOT" || exit 1
set -e
flymining_ensure_node_modules
command -v influxd >/dev/null 2>&1 || flymining_ensure_debian_packages influxdb
flymining_say "write path (storage layer vs raw HTTP)..."
npx tsx bench/write-path.ts
flymining_say "sweep of 5,000 simulated miners (exporter vs bare TCP)..."
npx tsx bench/sweep.ts 5000 4
flymining_say "climate ingest: 10,000 MQTT sensors every 10 s (climate exporter vs bare subscriber)..."
flymining_start_services mosquitto
FLYMINING_MQTT_URL="$(flymining_url mosquitto)" npx tsx bench/climate-ingest.ts 10000 30
flymining_say "billing daily run for 100,000 contracts (ledger vs plain INSERTs)..."
npx tsx bench/billing.ts 100000
flymining_say "monthly statement PDFs for 10,000 investors (statements vs plain read-and-write)..."
npx tsx bench/statements.ts 10000
flymining_say "repair tickets: 5,000 miners, 2 % failing a day, a year of history (sync and staff actions vs plain statements, MTTR report vs plain aggregate)..."
npx tsx bench/tickets.ts 5000 365
flymining_say "alerting: 50,000 alerts across 5,000 miners (pipeline vs bare Redis round trips)..."
npx tsx bench/alerting.ts 5000 10
flymining_say "uplink: 20-sweep outage of a 300-miner edge (backfill vs raw POST, cut to ContainerSilent mail, spool size)..."
flymining_start_services redis
FLYMINING_BENCH_REDIS_URL="$(flymining_url redis)" npx tsx bench/uplink.ts 300 20 2
flymining_say "container door: MQTT door-open message to the on-call mail (vs the same fault written straight into Redis)..."
flymining_start_services mosquitto redis
FLYMINING_MQTT_URL="$(flymining_url mosquitto)" FLYMINING_BENCH_REDIS_URL="$(flymining_url redis)" npx tsx bench/door.ts 8
flymining_say "hostile miner replies: 50,000 mutated corpus replies through parse → dialects → points → health (vs JSON.parse)..."
node --max-old-space-size=256 -r tsx/cjs bench/miner-fuzz.ts 50000 777
flymining_say "pool-hijack check at 5,000 miners (health evaluation with vs without expected pools)..."
node --expose-gc -r tsx/cjs bench/pool-check.ts 5000 40
flymining_say "rack-map render, 5,000 slots in chromium (panel vs plain divs)..."
npm run --silent build -w grafana-plugin
npx tsx bench/rackmap-render.ts 5000 60
flymining_say "temperature loop over a simulated 24 h, 10 units (loop vs the same container without it)..."
npx tsx bench/temperature-loop.ts 10 2
flymining_say "dashboards over history: every panel at 24 h, 7 d, 30 d, 1 y on a cached fixture (tiered vs raw)..."
npx tsx bench/dashboards.ts --miners 20 --detail-miners 1
flymining_say "control: 300-miner container slept and woken with staggering (vs unstaggered), 5,000-miner write path (vs the family's writes alone)..."
npx tsx bench/control.ts 300 5000
