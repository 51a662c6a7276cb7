# Shared by scripts/demo and scripts/test: find the repo, make the virtualenv, talk to the user.
# Sourced, never run. Everything here is safe to repeat: a second run does nothing new.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
STAMP="$VENV/.attendnc-deps"

# Colour only on a terminal, so CI logs stay plain text.
if [[ -t 1 ]]; then B=$'\033[1m' Y=$'\033[1;33m' R=$'\033[1;31m' N=$'\033[0m'; else B= Y= R= N=; fi
say() { printf '%s==> %s%s\n' "$B" "$*" "$N"; }
warn() { printf '%s!!! %s%s\n' "$Y" "$*" "$N" >&2; }
die() { printf '%sxxx %s%s\n' "$R" "$*" "$N" >&2; exit 1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

# The interpreter the venv is built from: python3.11 when present, else any python3 >= 3.11.
find_python() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

deps_key() {
    cat "$ROOT/pyproject.toml" "$ROOT/requirements-dev.lock" | sha256sum | cut -d' ' -f1
}

# Creates .venv if missing (or broken) and installs the hashed lock (requirements-dev.lock, made by
# scripts/lock from pyproject.toml) plus the project itself, only when either changed since the
# last successful install. A lock keeps two scripts from installing at once.
ensure_venv() {
    if [[ ! -x "$PY" ]] || ! "$PY" -c 'import sys' >/dev/null 2>&1; then
        local base
        base="$(find_python)" || die "Python 3.11+ not found (looked for python3.11, python3)."
        say "Creating .venv with $base"
        rm -rf "$VENV"
        "$base" -m venv "$VENV"
    fi
    local key
    key="$(deps_key)"
    if [[ "$(cat "$STAMP" 2>/dev/null)" == "$key" ]]; then
        return 0
    fi
    (
        if command -v flock >/dev/null 2>&1; then
            exec 9>"$VENV/.install.lock"
            flock 9
        fi
        [[ "$(cat "$STAMP" 2>/dev/null)" == "$key" ]] && exit 0
        say "Installing Python dependencies into .venv (first run or the lock changed; a few minutes)"
        "$PY" -m pip install --disable-pip-version-check --quiet --require-hashes -r "$ROOT/requirements-dev.lock"
        "$PY" -m pip install --disable-pip-version-check --quiet --no-deps -e "$ROOT"
        echo "$key" >"$STAMP"
    ) || die "pip install failed (see above)."
}

# True when something accepts TCP connections on host:port (no client tools needed).
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") >/dev/null 2>&1
}

wait_for_port() {
    local host="$1" port="$2" tries="${3:-30}"
    while ((tries-- > 0)); do
        port_open "$host" "$port" && return 0
        sleep 1
    done
    return 1
}

APT_UPDATED=0
apt_install() {
    is_root || return 1
    command -v apt-get >/dev/null 2>&1 || return 1
    export DEBIAN_FRONTEND=noninteractive
    local log
    log="$(mktemp)"
    if [[ "$APT_UPDATED" == 0 ]]; then
        say "apt-get update"
        apt-get -o DPkg::Lock::Timeout=300 update >"$log" 2>&1 || { tail -n 20 "$log" >&2; return 1; }
        APT_UPDATED=1
    fi
    say "apt-get install $*"
    apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "$@" >"$log" 2>&1 ||
        { tail -n 20 "$log" >&2; return 1; }
    rm -f "$log"
}

missing_debs() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

demo_logins() {
    "$PY" - <<'EOF'
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendnc.settings")
django.setup()
from students.demo_accounts import DEMO_ACCOUNTS, DEMO_DISTRICT_NAME, DEMO_PASSWORD
print(f"Demo district: {DEMO_DISTRICT_NAME}")
print(f"Every account's password: {DEMO_PASSWORD}")
for email, role, school, _landing in DEMO_ACCOUNTS:
    where = f" at {school}" if school else ""
    print(f"  {email:<30} {role.label}{where}")
EOF
}
