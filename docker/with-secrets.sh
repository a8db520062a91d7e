#!/bin/sh
# Entrypoint wrapper for images that read a secret only from an environment variable (Grafana's data source
# provisioning reads $FLYMINING_INFLUX_PASSWORD): for each NAME in FLYMINING_SECRET_ENV (space separated), sets
# NAME to the content of the file named by NAME_FILE (trailing newlines dropped), unsets NAME_FILE, then runs
# the command given as arguments. Refuses a missing, unreadable or empty file, naming the variable and the file,
# never the content.
set -eu

fail() {
  echo "with-secrets: $*" >&2
  exit 78
}

[ "$#" -gt 0 ] || fail "usage: with-secrets.sh COMMAND [ARG...]"
for name in ${FLYMINING_SECRET_ENV:-}; do
  case "$name" in
    *[!A-Z0-9_]* | [0-9]*) fail "FLYMINING_SECRET_ENV: '$name' is not a variable name (A-Z, 0-9, _)" ;;
  esac
  eval "file=\${${name}_FILE:-}"
  [ -n "$file" ] || fail "${name}_FILE is not set"
  [ -f "$file" ] && [ -r "$file" ] || fail "${name}_FILE: cannot read $file"
  # $(...) drops trailing newlines: a secret file written by echo or an editor ends with one.
  value=$(cat "$file")
  [ -n "$value" ] || fail "${name}_FILE: $file is empty"
  export "$name=$value"
  unset "${name}_FILE"
done
unset FLYMINING_SECRET_ENV
exec "$@"
