# shellcheck shell=bash
# Installs what FlyMining needs: the npm packages of the workspaces and Debian packages for the servers.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Packages installed by this shell session, so callers can tell a fresh install from one that was already there.
FLYMINING_INSTALLED_PACKAGES=()
_FLYMINING_APT_UPDATED=""

# Runs `npm ci` when node_modules is missing or older than package-lock.json, then checks that the native
# pieces the tools rely on (esbuild for tsx, @swc/core for jest) really load: npm may skip install scripts.
flymining_ensure_node_modules() {
  local lock="$FLYMINING_ROOT/package-lock.json" installed="$FLYMINING_ROOT/node_modules/.package-lock.json"
  if [[ ! -f "$installed" || "$lock" -nt "$installed" ]]; then
    flymining_say "installing npm packages (npm ci)..."
    (cd "$FLYMINING_ROOT" && npm ci --no-audit --no-fund) || flymining_die "npm ci failed (see the npm output above)"
  fi
  if ! _flymining_native_tools_work; then
    flymining_say "esbuild or @swc/core did not load; rebuilding them (npm rebuild)..."
    (cd "$FLYMINING_ROOT" && npm rebuild esbuild @swc/core) || true
    _flymining_native_tools_work ||
      flymining_die "esbuild (used by tsx) or @swc/core (used by jest) still fails to load after 'npm rebuild'; try 'rm -rf node_modules && npm ci'"
  fi
  _FLYMINING_NODE_MODULES_CHECKED=1
}

_flymining_native_tools_work() {
  (cd "$FLYMINING_ROOT" && node -e '
    const { createRequire } = require("node:module");
    const fromTsx = createRequire(require.resolve("tsx/package.json"));
    fromTsx("esbuild").transformSync("const a: number = 1", { loader: "ts" });
    require("@swc/core").transformSync("const a: number = 1", { jsc: { parser: { syntax: "typescript" } } });
  ' >/dev/null 2>&1)
}

flymining_package_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# flymining_ensure_debian_packages PKG...: installs the missing ones (apt-get update once, first).
flymining_ensure_debian_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    flymining_package_installed "$pkg" || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null 2>&1 ||
    flymining_die "missing packages ${missing[*]} and this is not a Debian-like system (no apt-get); install them by hand"
  flymining_say "installing Debian packages: ${missing[*]}"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -q)
  if [[ -z "$_FLYMINING_APT_UPDATED" ]]; then
    flymining_as_root "${apt[@]}" update >/dev/null || flymining_die "apt-get update failed"
    _FLYMINING_APT_UPDATED=1
  fi
  flymining_as_root "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    flymining_die "apt-get install ${missing[*]} failed"
  FLYMINING_INSTALLED_PACKAGES+=("${missing[@]}")
  _flymining_quiet_distro_services "${missing[@]}"
}

# Debian starts a system-wide server when its package is installed (InfluxDB then listens on every interface,
# PostgreSQL asks for passwords on TCP). FlyMining runs its own, bound to 127.0.0.1 with data in .flymining/,
# so a server that our install just started is stopped and disabled again.
_flymining_quiet_distro_services() {
  local pkg service
  for pkg in "$@"; do
    case "$pkg" in
      influxdb | redis-server | mosquitto | postgresql) service=$pkg ;;
      *) continue ;;
    esac
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
      if systemctl is-active --quiet "$service" 2>/dev/null || systemctl is-enabled --quiet "$service" 2>/dev/null; then
        flymining_say "stopping and disabling Debian's own $service service (re-enable: systemctl enable --now $service)"
        flymining_as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
      fi
    elif [[ -x "/etc/init.d/$service" ]]; then
      flymining_as_root "/etc/init.d/$service" stop >/dev/null 2>&1 || true
    fi
  done
}
