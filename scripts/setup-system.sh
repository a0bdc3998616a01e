#!/usr/bin/env bash
# System set-up for Bauhof on Debian 12: Mosquitto, PostgreSQL 15, Node.js with npm (for the
# pages' front-end libraries) and TimescaleDB (built from
# Debian's trixie source package, Apache-only edition). Idempotent: when everything is already
# there it checks and returns in well under a second.
set -euo pipefail

PG_MAJOR=15
PG_CONFIG=/usr/lib/postgresql/$PG_MAJOR/bin/pg_config
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
  SUDO="sudo"
fi

packages=(mosquitto mosquitto-clients "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
          "postgresql-server-dev-$PG_MAJOR" cmake build-essential dpkg-dev libssl-dev
          python3-venv python3-dev
          # The crew web app's browser test drives Debian's Chromium.
          chromium fonts-dejavu-core)
# npm installs the pages' front-end libraries (package.json); any Node.js with npm will do.
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
updated=0
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  updated=1
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

sharedir=$("$PG_CONFIG" --sharedir)
if [ ! -f "$sharedir/extension/timescaledb.control" ]; then
  echo "setup: building TimescaleDB (Apache-only) from Debian's trixie source for PostgreSQL $PG_MAJOR"
  src_list=/etc/apt/sources.list.d/bauhof-trixie-src.sources
  if [ ! -f "$src_list" ]; then
    # Source packages only (Types: deb-src): nothing from trixie is ever installed as a binary.
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      | $SUDO tee "$src_list" >/dev/null
    updated=0
  fi
  [ "$updated" -eq 1 ] || $SUDO apt-get update -q
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get source -q timescaledb >/dev/null 2>&1 || apt-get source -q timescaledb)
  srcdir=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'timescaledb-*' | head -1)
  [ -n "$srcdir" ] || { echo "setup: apt-get source timescaledb gave no source tree" >&2; exit 1; }
  (cd "$srcdir" && ./bootstrap -DAPACHE_ONLY=1 -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF \
      -DWARNINGS_AS_ERRORS=OFF -DSEND_TELEMETRY_DEFAULT=OFF -DPG_CONFIG="$PG_CONFIG" >"$work/bootstrap.log" 2>&1 \
    || { tail -30 "$work/bootstrap.log" >&2; exit 1; })
  (cd "$srcdir/build" && make -j"$(nproc)" >"$work/make.log" 2>&1 \
    || { tail -30 "$work/make.log" >&2; exit 1; })
  (cd "$srcdir/build" && $SUDO make install >"$work/install.log" 2>&1 \
    || { tail -30 "$work/install.log" >&2; exit 1; })
  echo "setup: TimescaleDB $(basename "$srcdir" | sed 's/timescaledb-//') installed"
fi
