# shellcheck shell=bash
# Starts, stops and reports the servers FlyMining needs locally: InfluxDB, Redis, PostgreSQL, Mosquitto.
# A server already answering on its configured port is reused and never stopped by us; otherwise we start our
# own, bound to 127.0.0.1, with data under $FLYMINING_STATE_DIR and its PID in $FLYMINING_RUN_DIR/<name>.pid.
#
# For scripts that source this file:
#   flymining_start_services [influxdb|redis|postgres|mosquitto|all]...   start (or reuse) them, install if needed
#   flymining_stop_services [NAME...]    stop the ones we started; with no name also every process started
#                                        through processes.sh (flymining_start_process), first
#   flymining_status                     print one line per server
#   flymining_env                        print `export FLYMINING_*_URL=...` lines (and our InfluxDB's admin credential
#                                        as FLYMINING_INFLUX_USERNAME + FLYMINING_INFLUX_PASSWORD_FILE)
#   flymining_influx_access              how we may use the InfluxDB of flymining_url influxdb: auth | open | refused
#   flymining_influx_exec USER PASSFILE STATEMENT   one InfluxQL statement (USER empty: no credentials)
#
# Our InfluxDB runs with authentication on: at its first start an admin user is created with a generated password in
# $FLYMINING_SECRETS_DIR/influx-admin.pass (mode 600). Our Redis keeps its data (append-only file) across restarts.
#   FLYMINING_STARTED_SERVICES           array: the servers the last flymining_start_services started itself
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
source "$(dirname "${BASH_SOURCE[0]}")/processes.sh"

FLYMINING_ALL_SERVICES=(influxdb redis postgres mosquitto)
FLYMINING_STARTED_SERVICES=()

flymining_port() {
  case "$1" in
    influxdb) printf '%s\n' "${FLYMINING_INFLUX_PORT:-8086}" ;;
    redis) printf '%s\n' "${FLYMINING_REDIS_PORT:-6379}" ;;
    postgres) printf '%s\n' "${FLYMINING_PG_PORT:-5432}" ;;
    mosquitto) printf '%s\n' "${FLYMINING_MQTT_PORT:-1883}" ;;
    *) flymining_die "unknown server '$1' (known: ${FLYMINING_ALL_SERVICES[*]})" ;;
  esac
}

# The name of the variable a user sets to point FlyMining at a server of their own.
_flymining_url_var() {
  case "$1" in
    influxdb) echo FLYMINING_INFLUX_URL ;;
    redis) echo FLYMINING_REDIS_URL ;;
    postgres) echo FLYMINING_PG_URL ;;
    mosquitto) echo FLYMINING_MQTT_URL ;;
  esac
}

flymining_url() {
  local service=$1 var port
  var=$(_flymining_url_var "$service")
  if [[ -n "${!var:-}" ]]; then
    printf '%s\n' "${!var}"
    return
  fi
  port=$(flymining_port "$service")
  case "$service" in
    influxdb) echo "http://127.0.0.1:$port" ;;
    redis) echo "redis://127.0.0.1:$port/0" ;;
    postgres) echo "postgres://postgres@127.0.0.1:$port/postgres" ;;
    mosquitto) echo "mqtt://127.0.0.1:$port" ;;
  esac
}

_flymining_pidfile() { echo "$FLYMINING_RUN_DIR/$1.pid"; }

_flymining_our_pid() { flymining_process_pid "$1"; }

_flymining_package() {
  case "$1" in
    influxdb) echo influxdb ;;
    redis) echo redis-server ;;
    postgres) echo postgresql ;;
    mosquitto) echo mosquitto ;;
  esac
}

# Debian keeps PostgreSQL's server programs out of PATH, in /usr/lib/postgresql/<major>/bin.
flymining_pg_bindir() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$dir" && -x "$dir/initdb" ]]; then
    echo "$dir"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  else
    return 1
  fi
}

_flymining_have_server_program() {
  case "$1" in
    influxdb) command -v influxd >/dev/null 2>&1 ;;
    redis) command -v redis-server >/dev/null 2>&1 ;;
    postgres) flymining_pg_bindir >/dev/null ;;
    mosquitto) flymining_find_program mosquitto >/dev/null ;;
  esac
}

# ---- protocol probes: bash's /dev/tcp, so no client programs are needed ----

_flymining_listening() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$1" 2>/dev/null
}

# Sends REQUEST (a printf format) to 127.0.0.1:PORT and prints the first N bytes of the reply as hex.
_flymining_exchange() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "$1" >&3
    head -c "$2" <&3 | od -An -v -tx1 | tr -d " \n"' "$1" "$2" "$3" 2>/dev/null
}

# Exit status: 0 the server answers and lets us in, 2 it answers but refuses us (auth), 1 something else holds
# the port, 3 nothing listens.
_flymining_probe() {
  local service=$1 port reply
  port=$(flymining_port "$service")
  _flymining_listening "$port" || return 3
  case "$service" in
    influxdb)
      reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
        printf "GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3; head -c 1024 <&3' "$port" 2>/dev/null | tr -d '\r')
      grep -qi '^X-Influxdb-Version:' <<<"$reply" || return 1
      grep -q '^HTTP/1\.[01] 204' <<<"$reply" || return 2
      ;;
    redis)
      reply=$(_flymining_exchange "$port" 'PING\r\n' 7)
      case "$reply" in
        2b504f4e470d0a) ;;     # +PONG
        2d4e4f41555448) return 2 ;; # -NOAUTH
        *) return 1 ;;
      esac
      ;;
    postgres)
      # SSLRequest: any PostgreSQL answers it with a single 'S' or 'N'.
      reply=$(_flymining_exchange "$port" '\x00\x00\x00\x08\x04\xd2\x16\x2f' 1)
      [[ "$reply" == 53 || "$reply" == 4e ]] || return 1
      if command -v psql >/dev/null 2>&1; then
        PGCONNECT_TIMEOUT=3 psql "$(flymining_url postgres)" -Atqc 'select 1' >/dev/null 2>&1 || return 2
      fi
      ;;
    mosquitto)
      # MQTT 3.1.1 CONNECT, clean session, empty client id; a broker answers CONNACK (20 02 00 rc).
      reply=$(_flymining_exchange "$port" '\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00' 4)
      case "$reply" in
        20020000) ;;
        200200*) return 2 ;;
        *) return 1 ;;
      esac
      ;;
  esac
}

# Whether the Redis on our port writes an append-only file or snapshots (CONFIG GET; a Redis that refuses CONFIG
# is given the benefit of the doubt).
_flymining_redis_keeps_data() {
  local reply
  reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "CONFIG GET appendonly\r\nCONFIG GET save\r\nQUIT\r\n" >&3; cat <&3' "$(flymining_port redis)" 2>/dev/null | tr -d '\r')
  [[ "$reply" == *$'appendonly\n$3\nyes'* ]] && return 0
  [[ "$reply" == *$'save\n$0\n'* ]] || return 0
  [[ "$reply" != *$'appendonly\n$2\nno'* ]]
}

_flymining_protocol_name() {
  case "$1" in
    influxdb) echo "InfluxDB's HTTP API" ;;
    redis) echo Redis ;;
    postgres) echo PostgreSQL ;;
    mosquitto) echo MQTT ;;
  esac
}

_flymining_port_var() {
  case "$1" in
    influxdb) echo FLYMINING_INFLUX_PORT ;;
    redis) echo FLYMINING_REDIS_PORT ;;
    postgres) echo FLYMINING_PG_PORT ;;
    mosquitto) echo FLYMINING_MQTT_PORT ;;
  esac
}

# ---- starting our own ----

# Runs a server in the background in its own session, PID kept in $FLYMINING_RUN_DIR/<name>.pid.
_flymining_spawn_server() {
  local service=$1 log=$2
  shift 2
  _flymining_spawn "$(_flymining_pidfile "$service")" "$log" "$@"
}

_flymining_start_influxdb() {
  local port=$1 dir="$FLYMINING_STATE_DIR/influxdb" rpc_port="${FLYMINING_INFLUX_RPC_PORT:-$(($1 + 2))}"
  mkdir -p "$dir"
  # influxd reads its whole configuration from the environment; -config /dev/null keeps /etc out of it.
  _flymining_spawn_server influxdb "$FLYMINING_LOG_DIR/influxdb.log" env \
    INFLUXDB_HTTP_BIND_ADDRESS="127.0.0.1:$port" \
    INFLUXDB_BIND_ADDRESS="127.0.0.1:$rpc_port" \
    INFLUXDB_META_DIR="$dir/meta" \
    INFLUXDB_DATA_DIR="$dir/data" \
    INFLUXDB_DATA_WAL_DIR="$dir/wal" \
    INFLUXDB_MONITOR_STORE_ENABLED=false \
    INFLUXDB_REPORTING_DISABLED=true \
    INFLUXDB_HTTP_LOG_ENABLED=false \
    INFLUXDB_HTTP_AUTH_ENABLED=true \
    INFLUXDB_DATA_QUERY_LOG_ENABLED=false \
    influxd -config /dev/null
}

_flymining_start_redis() {
  local port=$1 dir="$FLYMINING_STATE_DIR/redis"
  mkdir -p "$dir"
  # Append-only file, fsynced every second: a restart keeps alert state, silences and the active faults.
  _flymining_spawn_server redis "$FLYMINING_LOG_DIR/redis.log" redis-server \
    --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize no --save '' --appendonly yes --appendfsync everysec --logfile ''
}

_flymining_start_mosquitto() {
  local port=$1 dir="$FLYMINING_STATE_DIR/mosquitto" conf
  mkdir -p "$dir"
  conf="$dir/mosquitto.conf"
  # No pid_file and no persistence: run as root, mosquitto drops to user 'mosquitto', who may not be able to
  # write into this folder. We track the PID ourselves; messages live only as long as the broker.
  cat >"$conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
log_type error
log_type warning
CONF
  _flymining_spawn_server mosquitto "$FLYMINING_LOG_DIR/mosquitto.log" "$(flymining_find_program mosquitto)" -c "$conf"
}

# Runs a command as the PostgreSQL server's owner: user 'postgres' when we are root (PostgreSQL refuses root).
_flymining_as_pg_owner() {
  if flymining_is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_flymining_start_postgres() {
  local port=$1 bindir dir="$FLYMINING_STATE_DIR/postgres"
  bindir=$(flymining_pg_bindir) || flymining_die "PostgreSQL's initdb not found (package postgresql)"
  mkdir -p "$dir"
  if flymining_is_root; then
    chown postgres: "$dir"
    if ! runuser -u postgres -- test -w "$dir"; then
      # The checkout sits where user postgres cannot reach (e.g. under /root); keep the cluster in /var/lib.
      local outside
      outside="/var/lib/flymining/$(printf '%s' "$FLYMINING_STATE_DIR" | md5sum | cut -c1-12)/postgres"
      flymining_say "user postgres cannot reach $dir; keeping PostgreSQL's data in $outside"
      rmdir "$dir" 2>/dev/null || true
      mkdir -p "$outside" && chown postgres: "$outside" && chmod 755 "$(dirname "$outside")"
      ln -sfn "$outside" "$dir"
      dir=$outside
    fi
  fi
  if [[ ! -f "$dir/data/PG_VERSION" ]]; then
    flymining_say "creating a PostgreSQL cluster in $dir/data"
    _flymining_as_pg_owner "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 \
      >"$FLYMINING_LOG_DIR/postgres-initdb.log" 2>&1 ||
      flymining_die "initdb failed; see $FLYMINING_LOG_DIR/postgres-initdb.log"
  fi
  # TCP only (no Unix socket): socket paths are length-limited and need a folder user postgres can write.
  if ! setsid -w "$(command -v bash)" -c 'if [ "$(id -u)" = 0 ]; then exec runuser -u postgres -- "$@"; else exec "$@"; fi' _ \
    "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='' -c fsync=off" start >/dev/null; then
    flymining_die "PostgreSQL did not start; see $dir/postgres.log"
  fi
  local pid
  pid=$(head -n 1 "$dir/data/postmaster.pid")
  printf '%s %s\n' "$pid" "$(_flymining_start_time "$pid")" >"$(_flymining_pidfile postgres)"
}

_flymining_start_one() {
  local service=$1 port pid log
  port=$(flymining_port "$service")
  if pid=$(_flymining_our_pid "$service"); then
    flymining_say "$service: already running (ours, pid $pid) at $(flymining_url "$service")"
    return 0
  fi
  flymining_say "$service: starting our own on 127.0.0.1:$port (data in $FLYMINING_STATE_DIR/$service)"
  "_flymining_start_$service" "$port"
  log="$FLYMINING_LOG_DIR/$service.log"
  [[ "$service" == postgres ]] && log="$FLYMINING_STATE_DIR/postgres/postgres.log"
  local deadline=$((SECONDS + 30))
  while ((SECONDS < deadline)); do
    if ! pid=$(_flymining_our_pid "$service"); then
      flymining_die "$service exited during start-up; last lines of $log:
$(tail -n 15 "$log" 2>/dev/null)"
    fi
    if _flymining_probe "$service"; then
      FLYMINING_STARTED_SERVICES+=("$service")
      [[ "$service" != influxdb ]] || _flymining_influx_bootstrap_admin
      flymining_say "$service: ready (pid $pid) at $(flymining_url "$service")"
      return 0
    fi
    sleep 0.1
  done
  flymining_die "$service (pid $pid) did not answer on 127.0.0.1:$port within 30 s; see $log"
}

_flymining_expand_services() {
  local name
  if (($# == 0)); then set -- all; fi
  for name in "$@"; do
    case "$name" in
      all) printf '%s\n' "${FLYMINING_ALL_SERVICES[@]}" ;;
      influxdb | redis | postgres | mosquitto) printf '%s\n' "$name" ;;
      influx) echo influxdb ;;
      postgresql | pg) echo postgres ;;
      mqtt) echo mosquitto ;;
      *) flymining_die "unknown server '$name' (known: ${FLYMINING_ALL_SERVICES[*]} all)" ;;
    esac
  done
}

flymining_start_services() {
  local services=() to_start=() packages=() service var status
  mapfile -t services < <(_flymining_expand_services "$@")
  mkdir -p "$FLYMINING_RUN_DIR" "$FLYMINING_LOG_DIR"
  FLYMINING_STARTED_SERVICES=()
  for service in "${services[@]}"; do
    var=$(_flymining_url_var "$service")
    if [[ -n "${!var:-}" ]]; then
      flymining_say "$service: using $var=${!var} (not starting one)"
      continue
    fi
    if _flymining_our_pid "$service" >/dev/null; then
      to_start+=("$service")
      continue
    fi
    status=0
    _flymining_probe "$service" || status=$?
    case $status in
      0)
        flymining_say "$service: reusing the server already answering at $(flymining_url "$service")"
        if [[ "$service" == redis ]] && ! _flymining_redis_keeps_data; then
          flymining_warn "redis: the Redis at $(flymining_url redis) keeps nothing on disk (no append-only file, no snapshots): restarting it loses alert state (set FLYMINING_REDIS_PORT to a free port to have ours, persistent, started instead)"
        fi
        if [[ "$service" == influxdb && "$(flymining_influx_access)" == open ]]; then
          flymining_warn "influxdb: the InfluxDB at $(flymining_url influxdb) is not ours and has authentication off: it is used as it is, without credentials (set FLYMINING_INFLUX_PORT to a free port to have ours, with authentication, started instead)"
        fi
        ;;
      2) flymining_die "$service: the server on 127.0.0.1:$(flymining_port "$service") answers $(_flymining_protocol_name "$service") but refuses $(flymining_url "$service") (authentication?); set $var to a URL it accepts, or $(_flymining_port_var "$service") to a free port so we start our own" ;;
      1) flymining_die "$service: port $(flymining_port "$service") on 127.0.0.1 is taken by something that does not answer $(_flymining_protocol_name "$service"); free it or set $(_flymining_port_var "$service") to another port" ;;
      *)
        to_start+=("$service")
        _flymining_have_server_program "$service" || packages+=("$(_flymining_package "$service")")
        ;;
    esac
  done
  ((${#packages[@]} == 0)) || flymining_ensure_debian_packages "${packages[@]}"
  for service in "${to_start[@]}"; do
    _flymining_start_one "$service"
  done
}

# Stops what the scripts started: first the processes that use the servers (demo apps), then the servers, each
# asked at once and then waited for (up to 20 s, then SIGKILL). With names, only those.
flymining_stop_services() {
  local services=() service pid pids=()
  if (($# == 0)); then
    flymining_stop_processes
    services=("${FLYMINING_ALL_SERVICES[@]}")
  else
    mapfile -t services < <(_flymining_expand_services "$@")
  fi
  for service in "${services[@]}"; do
    pid=$(_flymining_our_pid "$service") || continue
    flymining_say "$service: stopping (pid $pid)"
    # PostgreSQL treats SIGTERM as "wait for every client to leave"; SIGINT is its fast shutdown.
    if [[ "$service" == postgres ]]; then kill -INT "$pid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
    pids+=("$pid")
    rm -f "$(_flymining_pidfile "$service")"
  done
  if ((${#pids[@]} == 0)); then
    flymining_say "none of our servers is running"
    return 0
  fi
  _flymining_wait_gone "${pids[@]}"
  flymining_say "stopped ${#pids[@]} server(s)"
}

flymining_status() {
  local service pid status var
  for service in "${FLYMINING_ALL_SERVICES[@]}"; do
    var=$(_flymining_url_var "$service")
    if pid=$(_flymining_our_pid "$service"); then
      printf '%-10s running (ours, pid %s)  %s\n' "$service" "$pid" "$(flymining_url "$service")"
    elif [[ -n "${!var:-}" ]]; then
      printf '%-10s external (from %s)  %s\n' "$service" "$var" "${!var}"
    else
      status=0
      _flymining_probe "$service" || status=$?
      case $status in
        0) printf '%-10s running (not ours, reused)  %s\n' "$service" "$(flymining_url "$service")" ;;
        2) printf '%-10s running (not ours) but refuses %s\n' "$service" "$(flymining_url "$service")" ;;
        1) printf '%-10s port %s taken by something that does not answer %s\n' "$service" "$(flymining_port "$service")" "$(_flymining_protocol_name "$service")" ;;
        *) printf '%-10s stopped  (port %s)\n' "$service" "$(flymining_port "$service")" ;;
      esac
    fi
  done
  local name
  while read -r name; do
    [[ -n "$name" ]] || continue
    if pid=$(flymining_process_pid "$name"); then printf '%-10s running (ours, pid %s)\n' "$name" "$pid"; fi
  done < <(_flymining_process_names)
}

flymining_env() {
  local service
  for service in "${FLYMINING_ALL_SERVICES[@]}"; do
    printf 'export %s=%q\n' "$(_flymining_url_var "$service")" "$(flymining_url "$service")"
  done
  if [[ -z "${FLYMINING_INFLUX_URL:-}" ]] && _flymining_our_pid influxdb >/dev/null && [[ -s "$FLYMINING_SECRETS_DIR/influx-admin.pass" ]]; then
    printf 'export FLYMINING_INFLUX_USERNAME=admin\nexport FLYMINING_INFLUX_PASSWORD_FILE=%q\n' "$FLYMINING_SECRETS_DIR/influx-admin.pass"
  fi
}

# ---- InfluxDB users, over bash's /dev/tcp: no client program, and no password ever on a command line ----

_flymining_urlencode() {
  local text=$1 out='' char i
  for ((i = 0; i < ${#text}; i++)); do
    char=${text:i:1}
    case "$char" in
      [A-Za-z0-9._~-]) out+=$char ;;
      *) printf -v char '%%%02X' "'$char" && out+=$char ;;
    esac
  done
  printf '%s' "$out"
}

_flymining_influx_port() {
  local url
  url=$(flymining_url influxdb)
  url=${url#http://}
  url=${url%%/*}
  [[ "$url" == 127.0.0.1:* || "$url" == localhost:* ]] || return 1
  printf '%s\n' "${url##*:}"
}

# flymining_influx_exec USER PASSFILE STATEMENT: POST /query to our local InfluxDB. Exit 0 when InfluxDB ran it; 1
# with InfluxDB's error on stderr (passwords masked); 2 when it refused the credentials; 3 when it did not answer.
flymining_influx_exec() {
  local user=$1 passfile=$2 statement=$3 port body auth='' fd reply status password=''
  port=$(_flymining_influx_port) || {
    flymining_warn "InfluxDB users are managed only on a local InfluxDB (127.0.0.1), not $(flymining_url influxdb)"
    return 3
  }
  if [[ -n "$user" ]]; then
    password=$(<"$passfile") || return 2
    auth="Authorization: Basic $(printf '%s:%s' "$user" "$password" | base64 -w0)"$'\r\n'
  fi
  body="q=$(_flymining_urlencode "$statement")"
  exec {fd}<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || return 3
  printf 'POST /query HTTP/1.0\r\nHost: 127.0.0.1\r\n%sContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s' \
    "$auth" "${#body}" "$body" >&"$fd"
  IFS= read -r -d '' -t 15 reply <&"$fd" || true
  exec {fd}<&-
  status=${reply%%$'\r'*}
  case "$status" in
    'HTTP/1.'?' 200'*) ;;
    'HTTP/1.'?' 401'* | 'HTTP/1.'?' 403'*) return 2 ;;
    '') return 3 ;;
    *) ;;
  esac
  reply=${reply#*$'\r\n\r\n'}
  if [[ "$status" != *' 200'* || "$reply" == *'"error"'* ]]; then
    # Mask every password this statement could carry, in case InfluxDB quotes it back.
    [[ -z "$password" ]] || reply=${reply//"$password"/***}
    reply=$(sed -E "s/'[A-Za-z0-9]{32}'/'***'/g" <<<"$reply")
    printf '%s\n' "${reply:0:300}" >&2
    return 1
  fi
}

# auth: our admin credential works; open: InfluxDB answers without credentials (authentication off); refused: neither.
flymining_influx_access() {
  local admin="$FLYMINING_SECRETS_DIR/influx-admin.pass"
  if [[ -s "$admin" ]] && flymining_influx_exec admin "$admin" 'SHOW USERS' 2>/dev/null; then
    echo auth
  elif flymining_influx_exec '' '' 'SHOW DATABASES' 2>/dev/null; then
    echo open
  else
    echo refused
  fi
}

# At our InfluxDB's first start (no user yet, authentication on) InfluxDB lets exactly one statement in without
# credentials: creating the first admin. Later starts find the admin's password file and check it.
_flymining_influx_bootstrap_admin() {
  local admin password error
  admin=$(flymining_secret_file influx-admin.pass) || exit 1
  flymining_influx_exec admin "$admin" 'SHOW USERS' 2>/dev/null && return 0
  password=$(<"$admin")
  if error=$(flymining_influx_exec '' '' "CREATE USER admin WITH PASSWORD '$password' WITH ALL PRIVILEGES" 2>&1); then
    flymining_say "influxdb: authentication on; admin user created (password in $admin)"
    return 0
  fi
  flymining_die "influxdb: its users (in $FLYMINING_STATE_DIR/influxdb) do not accept the admin password in $admin${error:+ ($error)}; put admin's password there, or remove $FLYMINING_STATE_DIR/influxdb (its data goes too) to start afresh"
}
