#!/usr/bin/env bash
# Bootstrap a development / CI machine for Longpan. Idempotent: safe to rerun.
#   scripts/setup.sh            (normally via `make setup`, which skips it when nothing changed)
# 1. Debian packages the test suite needs (installed only when missing).
# 2. The virtual environment .venv with the package installed editable, with extras.
# 3. npm packages, only when a package.json exists.
# Environment: PYTHON=/path/to/python3.11 to choose the interpreter for a new .venv.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
EXTRAS="spark,postgres,web,threat,dev"
PG_BIN=/usr/lib/postgresql/15/bin

# Debian packages installed when `dpkg -s` says they are missing: a CJK font for notices
# rendered as PDF (WeasyPrint, which needs Pango) and for screenshots; Debian's Chromium
# for the browser tests (Playwright drives it; never `playwright install`). PostgreSQL
# and Java are checked separately below, by what they provide.
EXTRA_APT_PACKAGES=(
  fonts-wqy-microhei
  libpango-1.0-0
  libpangoft2-1.0-0
  chromium
)

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. Debian packages
pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

java_major() {
  # Prints the major version of `java` on PATH (e.g. 17), or nothing.
  command -v java >/dev/null 2>&1 || return 0
  java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)[^"]*".*/\1/p' | head -n1
}

missing=()
if [ ! -x "$PG_BIN/initdb" ]; then
  missing+=(postgresql-15)
fi
jmajor=$(java_major)
if [ -z "$jmajor" ] || [ "$jmajor" -lt 17 ]; then
  pkg_installed openjdk-17-jre-headless || missing+=(openjdk-17-jre-headless)
fi
for p in "${EXTRA_APT_PACKAGES[@]}"; do
  pkg_installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "missing system packages (${missing[*]}) and no apt-get to install them"
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "need root or sudo to install: ${missing[*]}"
    SUDO=(sudo -n)
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${SUDO[@]}" apt-get update -qq </dev/null || die "apt-get update failed"
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null \
    || die "apt-get install failed for: ${missing[*]}"
else
  say "Debian packages: all present"
fi

[ -x "$PG_BIN/initdb" ] || die "PostgreSQL 15 server binaries still missing in $PG_BIN"
jmajor=$(java_major)
[ -n "$jmajor" ] && [ "$jmajor" -ge 17 ] \
  || die "Java 17+ runtime not on PATH after install (found: ${jmajor:-none}); check update-alternatives --config java"

# The throwaway test cluster (scripts/with-postgres.sh) runs as the 'postgres' user when
# we are root. The postgresql package creates it; make sure it exists anyway.
if ! id postgres >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "system user 'postgres' is missing; create it as root"
  say "creating system user postgres"
  if command -v adduser >/dev/null 2>&1; then
    adduser --system --quiet --home /var/lib/postgresql --no-create-home \
      --shell /bin/bash --group postgres
  else
    useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
fi

# ---------------------------------------------------------------- 2. Python venv
py_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }

if [ -x "$VENV/bin/python" ] && ! py_ok "$VENV/bin/python"; then
  say "$VENV is broken or older than Python 3.11; recreating it"
  rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
  python=${PYTHON:-}
  if [ -z "$python" ]; then
    for cand in python3.11 python3; do
      if command -v "$cand" >/dev/null 2>&1 && py_ok "$cand"; then python=$cand; break; fi
    done
  fi
  [ -n "$python" ] && py_ok "$python" || die "no Python >= 3.11 found (set PYTHON=/path/to/python3.11)"
  say "creating $VENV with $("$python" --version 2>&1)"
  "$python" -m venv "$VENV" || die "python -m venv failed"
fi

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
say "upgrading pip"
"$VENV/bin/python" -m pip install -q --progress-bar off --upgrade pip || die "pip upgrade failed"
say "installing longpan (editable) with extras [$EXTRAS]"
"$VENV/bin/python" -m pip install -q --progress-bar off -e ".[$EXTRAS]" \
  || die "pip install -e '.[$EXTRAS]' failed"

# ---------------------------------------------------------------- 3. npm (hook)
if [ -f package.json ]; then
  command -v npm >/dev/null 2>&1 || die "package.json exists but npm is not installed"
  if [ -f package-lock.json ]; then
    say "npm ci"
    npm ci --no-audit --no-fund </dev/null || die "npm ci failed"
  else
    say "npm install"
    npm install --no-audit --no-fund </dev/null || die "npm install failed"
  fi
fi

say "done ($("$VENV/bin/python" --version 2>&1), java $jmajor, $("$PG_BIN/postgres" --version 2>/dev/null || echo 'postgres ?'))"
