#!/bin/sh
# Installs the Debian packages the project needs, and only those missing,
# then Swagger UI's files for GET docs/ (scripts/install-swagger-ui.sh: npm).
# Idempotent: when everything is present it touches nothing (no apt-get update).
# Usage: scripts/install-deps.sh [--check]   (--check: exit 1 if something is missing)
set -eu

PACKAGES="
build-essential
cmake
pkg-config
libfcgi-dev
libcgicc-dev
libsqlite3-dev
sqlite3
libssl-dev
libcurl4-openssl-dev
rapidjson-dev
libgtest-dev
nginx
python3
python3-aiosmtpd
python3-jsonschema
python3-selenium
chromium
chromium-driver
openssl
curl
prometheus
systemd
libpq-dev
postgresql
python3-psycopg2
"
# prometheus: the metrics test runs its promtool (check metrics) and a real
# server that scrapes the service once (installing it starts no service where
# services are not started, as in CI's containers; the test starts its own).
# systemd: tests/e2e/test_unit_file.py runs systemd-analyze on the unit (no
# running systemd needed).
# libpq-dev: AUTH_DATABASE_URL (PostgreSQL). postgresql: the pg tests start
# their own server with its initdb and pg_ctl (tests/pg/postgres.py; the
# package's own cluster is not used). python3-psycopg2: the e2e harness reads
# the database of a service on PostgreSQL as it reads SQLite's (Service.db()).
# Sanitizer and fuzz builds (make test-asan, make fuzz) and benchmarks (make bench).
EXTRA_PACKAGES="
clang
libclang-rt-dev
llvm
wrk
"

missing=""
for p in $PACKAGES ${WITH_EXTRAS:+$EXTRA_PACKAGES}; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

# npm fetches Swagger UI. Debian's package only when no npm is there at all:
# a Node.js from elsewhere (nodesource) brings its own, which Debian's conflicts with.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

here=$(dirname "$0")
if [ -z "$missing" ]; then
  exec "$here/install-swagger-ui.sh" "$@"
fi
if [ "${1:-}" = "--check" ]; then
  echo "missing Debian packages:$missing" >&2
  exit 1
fi

echo "install-deps: installing$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
exec "$here/install-swagger-ui.sh"
