#!/bin/sh
# Swagger UI's files for GET docs/ (API.md §8: every asset served by this
# server, no CDN): swagger-ui-dist from the npm registry at a pinned version,
# its tarball checked against the pinned sha512 integrity (the value npm's
# lockfiles record, `npm view swagger-ui-dist@VERSION dist.integrity`), then
# the files the page loads copied into third_party/swagger-ui/ (git-ignored),
# with docs/ui/swagger-initializer.js beside them. nginx serves that directory
# under /api/v1/auth/docs/assets/ (AUTH_SWAGGER_UI_DIR; production: README).
#
# Idempotent: nothing is fetched when the directory already holds this version.
# Usage: scripts/install-swagger-ui.sh [--check]  (--check: exit 1 if not installed)
# SWAGGER_UI_DIR=/path installs elsewhere.
set -eu

VERSION=5.35.0
INTEGRITY=sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==
# What the page loads (and the source maps a browser's tools ask for), and the licence.
FILES="swagger-ui-bundle.js swagger-ui-bundle.js.map swagger-ui-bundle.js.LICENSE.txt
swagger-ui.css swagger-ui.css.map favicon-16x16.png favicon-32x32.png LICENSE NOTICE"

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${SWAGGER_UI_DIR:-$root/third_party/swagger-ui}
initializer=$root/docs/ui/swagger-initializer.js
want="swagger-ui-dist@$VERSION $INTEGRITY"

if [ -f "$dest/.installed" ] && [ "$(cat "$dest/.installed")" = "$want" ]; then
  # Ours may have changed since: it is the one file not from the tarball.
  cmp -s "$initializer" "$dest/swagger-initializer.js" || cp "$initializer" "$dest/"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "Swagger UI $VERSION is not installed in $dest (scripts/install-swagger-ui.sh)" >&2
  exit 1
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "install-swagger-ui: npm is missing (scripts/install-deps.sh installs it)" >&2
  exit 1
fi

echo "install-swagger-ui: swagger-ui-dist@$VERSION into $dest" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent --ignore-scripts "swagger-ui-dist@$VERSION" >/dev/null)
tarball=$tmp/swagger-ui-dist-$VERSION.tgz
got="sha512-$(openssl dgst -sha512 -binary "$tarball" | openssl base64 -A)"
if [ "$got" != "$INTEGRITY" ]; then
  echo "install-swagger-ui: swagger-ui-dist-$VERSION.tgz has integrity $got, expected $INTEGRITY" >&2
  exit 1
fi
mkdir "$tmp/x"
tar -xzf "$tarball" -C "$tmp/x"
rm -rf "$dest.new"
mkdir -p "$dest.new"
for f in $FILES; do
  cp "$tmp/x/package/$f" "$dest.new/"
done
cp "$initializer" "$dest.new/"
echo "$want" > "$dest.new/.installed"
rm -rf "$dest"
mv "$dest.new" "$dest"
