#!/usr/bin/env bash
# Builds the core for wasm32-wasi into $1 (default build/wasm)/core.wasm with Debian's clang-14:
# the same sources as the native build, no exceptions, no threads (src/wasm/CMakeLists.txt).
# `make test` runs it so the core stays buildable both ways; the Worker's `npm run build` too.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/wasm}
if [ ! -f "$out/build.ninja" ]; then
  cmake -S src/wasm -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$PWD/src/wasm/wasm32-wasi.cmake" >/dev/null
fi
cmake --build "$out" -j "$(nproc)"
