#!/usr/bin/env bash
# Installs what a fresh machine needs for `npm run demo`, `npm test` or `npm run bench`:
# Debian packages (only the missing ones, with apt-get) and node_modules (npm ci when the lock
# file is newer than the installed tree). Safe to run again: it does nothing when all is there.
set -euo pipefail
mode=${1:-test}
cd "$(dirname "$0")/.."

demo_packages=(openssl softhsm2 opensc gnutls-bin p11-kit awscli)
test_packages=("${demo_packages[@]}" swtpm swtpm-tools tpm2-tools tpm2-openssl libtpm2-pkcs11-1 libtpm2-pkcs11-tools
  ykcs11 yubico-piv-tool pcscd vsmartcard-vpcd python3 faketime)
bench_packages=("${test_packages[@]}" hyperfine)

case "$mode" in
  demo) wanted=("${demo_packages[@]}") ;;
  test) wanted=("${test_packages[@]}") ;;
  bench) wanted=("${bench_packages[@]}") ;;
  *) echo "usage: $0 demo|test|bench" >&2; exit 2 ;;
esac

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
fi
# The aws CLI may come from pip instead of Debian; either will do.
if command -v aws >/dev/null 2>&1; then
  kept=()
  for pkg in "${missing[@]}"; do [ "$pkg" = awscli ] || kept+=("$pkg"); done
  missing=("${kept[@]}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing Debian packages: ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies (npm ci)" >&2
  npm ci --no-audit --no-fund >/dev/null
fi
