#!/usr/bin/env bash
# Builds the hardening addon that ships prebuilt inside the npm package, so that Linux x64
# (glibc) users get it without a compiler: prebuilds/linux-x64/roles_anywhere_native.glibc.node.
# Run by `npm pack` / `npm publish` (prepack) and by hand as `npm run build:prebuilt`.
#
# Unlike scripts/build-native.sh (best effort, at install time), this one FAILS when it cannot
# build: a package packed without its prebuilt binary would quietly lose the hardening for
# every user without a compiler.
#
# Reproducible: one C file compiled straight with cc (no node-gyp, no Makefile paths), no debug
# information, no build id, symbols stripped, source paths mapped to ".", so the same source and
# the same compiler give the same bytes wherever the checkout lives. N-API (NAPI_VERSION 8) keeps
# one binary valid for every Node from 20 on; napi_* symbols resolve against the running node.
# The compiler used is recorded beside the binary (BUILD-INFO), with the binary's SHA-256.
#
# Usage: scripts/build-prebuilt.sh [output dir (default prebuilds)]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/prebuilds}

platform=$(node -p 'process.platform + "-" + process.arch')
if [ "$platform" != linux-x64 ]; then
  echo "build-prebuilt: the shipped binary is for linux-x64 (glibc); this machine is $platform" >&2
  exit 1
fi
# Read ldd's banner whole first: `grep -q` closing a pipe early would fail it under pipefail.
libc_banner=$(ldd --version 2>&1 || true)
libc_banner=${libc_banner%%$'\n'*}
if ! [[ "$libc_banner" =~ [Gg][Ll][Ii][Bb][Cc]|GNU\ libc ]]; then
  echo "build-prebuilt: the shipped binary must be built against glibc (ldd says: $libc_banner)" >&2
  exit 1
fi

# node_api.h: the headers beside this node (Debian and the official tarballs put them in
# <prefix>/include/node), or the ones npm was told about.
include=
for dir in "${npm_config_nodedir:-}/include/node" "$(node -p 'process.config.variables.node_prefix || ""')/include/node" \
  "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"; do
  if [ -f "$dir/node_api.h" ]; then include=$dir; break; fi
done
if [ -z "$include" ]; then
  echo "build-prebuilt: node_api.h not found (install the Node headers or set npm_config_nodedir)" >&2
  exit 1
fi

cc=${CC:-cc}
target=$out/linux-x64
mkdir -p "$target"
binary=$target/roles_anywhere_native.glibc.node
# Compile beside the output then rename: a failed build never leaves a half-written binary.
"$cc" -shared -fPIC -O2 -std=c11 -D_GNU_SOURCE -DNAPI_VERSION=8 \
  -Wall -Wextra -Werror=implicit-function-declaration \
  -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
  -ffile-prefix-map="$root"=. -I"$include" \
  -Wl,--build-id=none -Wl,-z,relro -Wl,-z,now -s \
  -o "$binary.tmp" "$root/native/hardening.c"
mv "$binary.tmp" "$binary"
{
  echo "file: roles_anywhere_native.glibc.node"
  echo "sha256: $(sha256sum "$binary" | cut -d' ' -f1)"
  echo "compiler: $("$cc" --version | head -n 1)"
  echo "glibc symbols needed: $(objdump -T "$binary" 2>/dev/null | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -n 1 || echo unknown)"
} > "$target/BUILD-INFO"
echo "build-prebuilt: $binary" >&2
