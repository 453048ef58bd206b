#!/usr/bin/env bash
# Installs what building and testing zai-proxy needs on Debian 12, and nothing when it is all
# there already. Debian packages only (plus npm packages for the test clients).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libssl-dev ca-certificates
  libgtest-dev libbenchmark-dev
  nodejs npm
)

# --bench: also what the load comparison needs.
[ "${1:-}" = "--bench" ] && packages+=(nginx-light wrk curl)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine image may ship its own node/npm outside dpkg; accept those.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"

if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -f test/package.json ]; then
  if [ ! -d test/node_modules ] || [ test/package-lock.json -nt test/node_modules ]; then
    (cd test && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
