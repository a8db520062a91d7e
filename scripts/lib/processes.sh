# shellcheck shell=bash
# Background processes that FlyMining's scripts start (the demo's simulator, exporter, ...): each runs in its own
# session, its PID and start time are kept in $FLYMINING_RUN_DIR/<name>.pid, and `services.sh stop` ends them.
#   flymining_start_process NAME LOGFILE COMMAND...   start it unless it already runs
#   flymining_process_pid NAME                        print its PID when it runs (fails otherwise)
#   flymining_stop_processes [NAME...]                stop them (all of them when no name is given)
#   flymining_wait_for_url URL SECONDS                wait until an HTTP URL answers below 500
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot. A PID with another start
# time is a different process that reused the number.
# A process that has exited but was not reaped yet (state Z, e.g. killed while its parent is busy) counts as gone.
_flymining_start_time() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  read -r -a fields <<<"$stat"
  [[ "${fields[0]}" != Z ]] || return 1
  echo "${fields[19]}"
}

# Starts COMMAND detached in its own session (a Ctrl-C meant for the caller does not reach it); the PID file is
# written by the process itself just before it becomes COMMAND, so it names the right process.
_flymining_spawn() {
  local pidfile=$1 log=$2 waited=0 pid
  shift 2
  mkdir -p "$(dirname "$pidfile")" "$(dirname "$log")"
  rm -f "$pidfile"
  setsid bash -c 'echo $$ >"$0.new"; exec "$@"' "$pidfile" "$@" </dev/null >>"$log" 2>&1 &
  while [[ ! -s "$pidfile.new" ]] && ((waited < 50)); do
    sleep 0.1
    waited=$((waited + 1))
  done
  pid=$(cat "$pidfile.new" 2>/dev/null) || return 1
  rm -f "$pidfile.new"
  printf '%s %s\n' "$pid" "$(_flymining_start_time "$pid" || echo 0)" >"$pidfile"
}

flymining_process_pid() {
  local pidfile="$FLYMINING_RUN_DIR/$1.pid" pid started
  [[ -s "$pidfile" ]] || return 1
  read -r pid started <"$pidfile"
  if [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(_flymining_start_time "$pid" 2>/dev/null)" == "${started:-}" ]]; then
    echo "$pid"
    return 0
  fi
  rm -f "$pidfile"
  return 1
}

flymining_start_process() {
  local name=$1 log=$2 pid
  shift 2
  if pid=$(flymining_process_pid "$name"); then
    flymining_say "$name: already running (pid $pid)"
    return 0
  fi
  _flymining_spawn "$FLYMINING_RUN_DIR/$name.pid" "$log" "$@" || flymining_die "$name did not start; see $log"
  pid=$(flymining_process_pid "$name") || flymining_die "$name exited at once; last lines of $log:
$(tail -n 15 "$log" 2>/dev/null)"
  flymining_say "$name: started (pid $pid, log $log)"
}

# Whether a PID (or process group, as -PGID) still has a live process; zombies (exited, not yet reaped) do not count.
_flymining_alive() {
  local pids=${1#-}
  kill -0 -- "$1" 2>/dev/null || return 1
  # Without procps (a minimal image) a zombie cannot be told apart: it counts as alive.
  command -v ps >/dev/null 2>&1 && command -v pgrep >/dev/null 2>&1 || return 0
  if [[ "$1" == -* ]]; then pids=$(pgrep -d, -g "${1#-}") || return 0; fi
  ps -o stat= -p "$pids" 2>/dev/null | grep -qv '^Z'
}

# Waits for each PID (or process group, as -PGID) to go, sending SIGKILL to what is still there after 20 s.
_flymining_wait_gone() {
  local pid waited=0
  for pid in "$@"; do
    while _flymining_alive "$pid"; do
      if ((waited >= 200)); then
        flymining_warn "process ${pid#-} did not stop within 20 s; killing it"
        kill -KILL -- "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
  done
}

# Names of the processes with a PID file, servers excluded (they have their own stop order and signals).
_flymining_process_names() {
  local file name
  for file in "$FLYMINING_RUN_DIR"/*.pid; do
    [[ -e "$file" ]] || continue
    name=$(basename "$file" .pid)
    case "$name" in influxdb | redis | postgres | mosquitto) continue ;; esac
    echo "$name"
  done
}

flymining_stop_processes() {
  local names=() name pid pids=()
  if (($# == 0)); then mapfile -t names < <(_flymining_process_names); else names=("$@"); fi
  for name in "${names[@]}"; do
    pid=$(flymining_process_pid "$name") || continue
    flymining_say "$name: stopping (pid $pid)"
    # The whole session: tsx, for one, runs the program in a child process.
    if kill -TERM -- "-$pid" 2>/dev/null; then pids+=("-$pid"); else kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid"); fi
    rm -f "$FLYMINING_RUN_DIR/$name.pid"
  done
  ((${#pids[@]} == 0)) || _flymining_wait_gone "${pids[@]}"
}

flymining_wait_for_url() {
  local url=$1 seconds=${2:-30}
  node -e '
    const [url, seconds] = process.argv.slice(1);
    const deadline = Date.now() + Number(seconds) * 1000;
    (async () => {
      while (Date.now() < deadline) {
        try { if ((await fetch(url)).status < 500) process.exit(0); } catch {}
        await new Promise((r) => setTimeout(r, 200));
      }
      process.exit(1);
    })();
  ' "$url" "$seconds" || flymining_die "$url did not answer within $seconds s"
}
