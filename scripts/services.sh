#!/usr/bin/env bash
# Starts, stops and reports FlyMining's local servers (scripts/services.ts). See docs/operations.md.
#   bash scripts/services.sh start [influxdb|redis|postgres|mosquitto|all]...
#   bash scripts/services.sh stop | status | env
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"
flymining_services "$@"
