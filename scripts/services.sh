#!/usr/bin/env bash
# Starts, stops and reports FlyMining's local servers. See docs/operations.md.
#   bash scripts/services.sh start [influxdb|redis|postgres|mosquitto|all]...
#   bash scripts/services.sh stop | status | env
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib/servers.sh"

usage() {
  cat >&2 <<'USAGE'
usage: services.sh start [influxdb|redis|postgres|mosquitto|all]...   start ours or reuse what answers
       services.sh stop [NAME]...                                     stop the servers we started
       services.sh status                                             what runs, where
       services.sh env                                                export lines for FLYMINING_*_URL
USAGE
  exit 2
}

command=${1:-status}
shift || true
case "$command" in
  start) flymining_start_services "$@" ;;
  stop) flymining_stop_services "$@" ;;
  status) flymining_status ;;
  env) flymining_env ;;
  -h | --help | help) usage ;;
  *)
    echo "services.sh: unknown command '$command'" >&2
    usage
    ;;
esac
