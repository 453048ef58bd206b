#!/usr/bin/env bash
# Installs what building and testing zai-proxy needs on Debian 12, and nothing when it is all
# there already. Debian packages only (plus npm packages for the test clients).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config
  libboost1.81-dev libboost-json1.81-dev libssl-dev ca-certificates
  libgtest-dev libbenchmark-dev
  # The lint CI runs (make tidy, with .clang-tidy).
  clang-tidy-14
  nodejs npm
  # The core for wasm32-wasi (the Worker): clang-14, wasm-ld, WASI libc and libc++.
  clang-14 lld wasi-libc libc++-14-dev-wasm32 libc++abi-14-dev-wasm32 libclang-rt-14-dev-wasm32
  # The fuzz targets (make fuzz): libFuzzer and the sanitizer runtimes for clang-14, which
  # clang-14 only recommends.
  libclang-rt-14-dev
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

# test/agents holds the real Claude Code and Codex CLIs (about 800 MB of native binaries) that
# test/agents/*.test.js drive.
for dir in test worker test/agents; do
  if [ -f "$dir/package.json" ]; then
    if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
      (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
  fi
done

# Claude Code's package ships a placeholder bin/claude.exe that its postinstall (install.cjs)
# replaces with the native binary from the platform package; npm 11 skips install scripts its
# allowScripts policy does not cover, so run it when the placeholder is still there.
claude=test/agents/node_modules/@anthropic-ai/claude-code
if [ -f "$claude/install.cjs" ] && [ "$(head -c 4 "$claude/bin/claude.exe" 2>/dev/null | tail -c 3)" != ELF ]; then
  (cd "$claude" && node install.cjs)
fi
