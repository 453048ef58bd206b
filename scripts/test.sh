#!/usr/bin/env bash
# Runs the unit tests and the end-to-end suite against the binaries in build directory $1.
set -euo pipefail
build=${1:-build/release}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "== unit tests ($build)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"

if [ -x "$build/zai-proxy" ] && [ -d test/node_modules ]; then
  echo "== end-to-end tests ($build/zai-proxy)"
  ZAI_PROXY_BIN="$build/zai-proxy" node --test --test-concurrency=1 test/e2e/ test/fake-zai/
fi
