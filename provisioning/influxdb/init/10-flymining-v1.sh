#!/bin/bash
# Run once by the influxdb:2.x image after its first setup (the influx CLI is already logged in as admin).
# FlyMining writes line protocol to /write and queries InfluxQL on /query: InfluxDB 2 serves those through a
# DBRP mapping (database "flymining", retention policy "raw" -> the setup bucket) and a v1 user.
set -euo pipefail

influx v1 dbrp create \
  --org "$DOCKER_INFLUXDB_INIT_ORG" \
  --bucket-id "$DOCKER_INFLUXDB_INIT_BUCKET_ID" \
  --db flymining \
  --rp raw \
  --default

influx v1 auth create \
  --org "$DOCKER_INFLUXDB_INIT_ORG" \
  --username "${FLYMINING_INFLUX_V1_USERNAME:-flymining}" \
  --password "$FLYMINING_INFLUX_V1_PASSWORD" \
  --read-bucket "$DOCKER_INFLUXDB_INIT_BUCKET_ID" \
  --write-bucket "$DOCKER_INFLUXDB_INIT_BUCKET_ID" \
  --description "FlyMining services (v1 /write and /query)"
