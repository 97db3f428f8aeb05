#!/usr/bin/env bash
# Builds the optional N-API addon in native/ (hop limit on sockets, no core dumps, mlock).
# It never fails the build: without a compiler, Python or Node headers the CLI still works and
# says at run time what it could not enforce. Set ROLES_ANYWHERE_SKIP_NATIVE=1 to skip it.
# Usage: scripts/build-native.sh   (run by `npm run build`; output native/build/Release/*.node)
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${ROLES_ANYWHERE_SKIP_NATIVE:-}" = 1 ]; then
  echo "native addon: skipped (ROLES_ANYWHERE_SKIP_NATIVE=1)" >&2
  exit 0
fi

# node-gyp: the one npm passes to lifecycle scripts, else one on PATH, else the copy npm ships.
gyp=()
if [ -n "${npm_config_node_gyp:-}" ] && [ -f "${npm_config_node_gyp}" ]; then
  gyp=(node "${npm_config_node_gyp}")
elif command -v node-gyp >/dev/null 2>&1; then
  gyp=(node-gyp)
else
  npm_dir=$(dirname "$(readlink -f "$(command -v npm 2>/dev/null || echo /nonexistent)")")/..
  candidate="$npm_dir/node_modules/node-gyp/bin/node-gyp.js"
  [ -f "$candidate" ] && gyp=(node "$candidate")
fi
if [ ${#gyp[@]} -eq 0 ]; then
  echo "native addon: not built (node-gyp not found); the CLI runs without hop-limit and core-dump hardening" >&2
  exit 0
fi

# Use the headers installed beside this node (Debian's nodejs puts them in /usr/include/node)
# instead of downloading them: CI machines and air-gapped hosts have no route to nodejs.org.
flags=(--directory native --loglevel=error)
if [ -z "${npm_config_nodedir:-}" ]; then
  node_bin=$(readlink -f "$(command -v node)")
  for prefix in "$(node -p 'process.config.variables.node_prefix || ""' 2>/dev/null)" "$(dirname "$(dirname "$node_bin")")"; do
    if [ -n "$prefix" ] && [ -f "$prefix/include/node/common.gypi" ]; then
      flags+=("--nodedir=$prefix")
      break
    fi
  done
fi

log=$(mktemp)
if "${gyp[@]}" rebuild "${flags[@]}" >"$log" 2>&1; then
  echo "native addon: built native/build/Release/roles_anywhere_native.node" >&2
else
  echo "native addon: not built (node-gyp failed; last lines below); the CLI runs without hop-limit and core-dump hardening" >&2
  tail -n 5 "$log" >&2
fi
rm -f "$log"
exit 0
