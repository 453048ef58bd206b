#!/usr/bin/env bash
# clang-tidy over the product's C++ (src/core, src/native, src/server) with the checks in
# .clang-tidy, against the release build's compile_commands.json; any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
if [ ! -f "$build/compile_commands.json" ]; then
  echo "missing $build/compile_commands.json: run 'make build' first" >&2
  exit 1
fi
# asio_impl.cpp only compiles Asio and Beast themselves.
files=$(git ls-files 'src/core/*.cpp' 'src/native/*.cpp' 'src/server/*.cpp' |
        grep -v -e '_test\.cpp$' -e 'asio_impl\.cpp$')
echo "== clang-tidy: $(echo "$files" | wc -l) files"
echo "$files" | xargs -P "$(nproc)" -n 4 clang-tidy-14 -p "$build" --quiet
echo "clang-tidy: no findings"
