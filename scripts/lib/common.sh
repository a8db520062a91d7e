# shellcheck shell=bash
# Shared basics for FlyMining's shell scripts: where things live, messages, running as root.
# Source it; it defines functions and variables only (no side effects besides creating nothing).

if [[ -n "${_FLYMINING_COMMON_LOADED:-}" ]]; then return 0; fi
_FLYMINING_COMMON_LOADED=1

FLYMINING_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Everything the scripts create at run time (server data, logs, PID files) lives here; git ignores it.
FLYMINING_STATE_DIR="${FLYMINING_STATE_DIR:-$FLYMINING_ROOT/.flymining}"
FLYMINING_RUN_DIR="$FLYMINING_STATE_DIR/run"
FLYMINING_LOG_DIR="$FLYMINING_STATE_DIR/log"
# Generated passwords, one per file (mode 600, folder 700); never printed, only their paths.
FLYMINING_SECRETS_DIR="$FLYMINING_STATE_DIR/secrets"

flymining_say() { printf '[flymining] %s\n' "$*" >&2; }
flymining_warn() { printf '[flymining] warning: %s\n' "$*" >&2; }
flymining_die() {
  printf '[flymining] error: %s\n' "$*" >&2
  exit 1
}

flymining_is_root() { [[ "$(id -u)" == 0 ]]; }

# Runs a command as root: directly when we are root, through sudo otherwise.
flymining_as_root() {
  if flymining_is_root; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    flymining_die "need root to run '$*' and sudo is not installed; run it as root, then retry"
  fi
}

# Finds a program even when it lives in an sbin folder that a normal user's PATH lacks (mosquitto does).
flymining_find_program() {
  local name=$1 dir
  if command -v "$name" 2>/dev/null; then return 0; fi
  for dir in /usr/sbin /sbin /usr/local/sbin; do
    if [[ -x "$dir/$name" ]]; then
      printf '%s\n' "$dir/$name"
      return 0
    fi
  done
  return 1
}

# flymining_secret_file NAME: prints the path of the password file $FLYMINING_SECRETS_DIR/NAME (e.g. influx-admin.pass),
# generating a random password into it (32 letters and digits: safe in InfluxQL and mosquitto quoting) when missing.
flymining_secret_file() {
  local file="$FLYMINING_SECRETS_DIR/$1" password=''
  if [[ ! -s "$file" ]]; then
    (umask 077 && mkdir -p "$(dirname "$file")") || flymining_die "cannot create $(dirname "$file")"
    chmod 700 "$FLYMINING_SECRETS_DIR" "$(dirname "$file")"
    while ((${#password} < 32)); do
      password+=$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
    done
    (umask 077 && printf '%s' "${password:0:32}" >"$file.new" && mv -f "$file.new" "$file") || flymining_die "cannot write $file"
  fi
  chmod 600 "$file"
  printf '%s\n' "$file"
}
