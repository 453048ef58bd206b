#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang-14, core-only) into $FUZZ_BUILD (default build/fuzz)
# and runs each over its seed corpus, one after another.
#   scripts/fuzz.sh           FUZZ_RUNS executions per target (default 10000000)
#   scripts/fuzz.sh --smoke   about 15 s per target: proves the targets build and still pass (CI)
# FUZZ_TARGETS picks targets (default: all). The committed seeds in fuzz/corpus/<target>/ are only
# read; what libFuzzer learns goes to $FUZZ_BUILD/corpus/<target>/ and is reused by the next run.
# A crash (sanitizer report or failed invariant) leaves its input in $FUZZ_BUILD/findings/ and
# makes this script fail; reproduce it with `$FUZZ_BUILD/fuzz/<target>_fuzz <file>`.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${FUZZ_BUILD:-build/fuzz}
targets=${FUZZ_TARGETS:-sse_stream openai_request openai_responses config jwt tool_parser}
limits=(-runs="${FUZZ_RUNS:-10000000}")
[ "${1:-}" = "--smoke" ] && limits=(-runs=200000 -max_total_time=15)

if [ ! -f "$build/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DZAI_FUZZ=ON -DZAI_BUILD_SERVER=OFF >/dev/null
fi
cmake --build "$build" -j "$(nproc)"

# The core allocates on every event, and ASan records a stack trace for each allocation; without
# those traces the targets run about twice as fast and still catch every memory error. To see
# where a reported block was allocated, replay the finding with the default ASAN_OPTIONS.
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0}

mkdir -p "$build/findings" "$build/logs"
for t in $targets; do
  mkdir -p "$build/corpus/$t"
  echo "== ${t}_fuzz ${limits[*]}"
  # -timeout: an input that takes seconds is a hang worth reporting, not a slow machine.
  if ! "$build/fuzz/${t}_fuzz" "${limits[@]}" -timeout=10 -print_final_stats=1 \
      -dict="fuzz/$t.dict" -artifact_prefix="$build/findings/$t-" \
      "$build/corpus/$t" "fuzz/corpus/$t" >"$build/logs/$t.log" 2>&1; then
    tail -n 60 "$build/logs/$t.log"
    echo "${t}_fuzz FAILED: see $build/logs/$t.log and $build/findings/" >&2
    exit 1
  fi
  # The last status line (coverage, features, corpus) and libFuzzer's final counts.
  grep -E '^#[0-9]+[[:space:]]+DONE' "$build/logs/$t.log" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$build/logs/$t.log" \
    || true
done
