#!/usr/bin/env bash
# Runs every test against the binaries in build directory $1: the core's unit tests (ctest),
# the fake Z.AI's own tests, the end-to-end suite (real zai-proxy + fake + the openai and
# Anthropic SDKs), the real Claude Code and Codex CLIs against it (scripts/test-agents.sh);
# then the core built for wasm32 and the same end-to-end suite and CLIs against the Worker in
# workerd (scripts/test-worker.sh), unless ZAI_WORKER_TESTS=0 (the ASan run: the Worker is not built
# from the native binaries, so once is enough). ZAI_UNIT_TESTS=0 leaves out the unit tests (the TSan
# run builds only the server).
set -euo pipefail
build=${1:-build/release}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [ "${ZAI_UNIT_TESTS:-1}" != 0 ]; then
  echo "== unit tests ($build)"
  ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
fi

if [ ! -x "$build/zai-proxy" ] || [ ! -d test/node_modules ]; then
  echo "missing $build/zai-proxy or test/node_modules: run 'make test', which builds and installs them" >&2
  exit 1
fi
echo "== fake Z.AI and end-to-end tests ($build/zai-proxy)"
ZAI_PROXY_BIN="$build/zai-proxy" node --test --test-concurrency=1 test/fake-zai/ test/e2e/

# The real Claude Code and Codex CLIs against this build's proxy (test/agents).
scripts/test-agents.sh "$build"

if [ "${ZAI_WORKER_TESTS:-1}" != 0 ]; then
  scripts/test-worker.sh
fi
