#!/usr/bin/env bash
# User-space instructions per streamed completion, the figure that does not move with the
# machine's load: each binary runs under `valgrind --tool=callgrind` against nginx replaying the
# recorded 64-delta stream, serves FEW and then MANY sequential completions (two runs), and the
# difference in total instructions divided by MANY − FEW is what one completion costs (start-up
# and the pool's mints cancel out). Binaries side by side in one run:
#   bench/instructions.sh [binary …]     (default: build/release/zai-proxy)
#   FEW=20 MANY=120 PATH_=/v1/chat/completions BODY='{…}' bench/instructions.sh old new
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- build/release/zai-proxy
few=${FEW:-20}
many=${MANY:-120}
path=${PATH_:-/v1/chat/completions}
body=${BODY:-'{"model":"glm-4.7","stream":true,"messages":[{"role":"user","content":"Hello"}]}'}
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)" >&2; exit 1; }

work=$(mktemp -d /tmp/zai-instr.XXXXXX)
chmod 755 "$work"
cleanup() {
  [ -f "$work/upstream/nginx.pid" ] && kill "$(cat "$work/upstream/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/replay_upstream.sh
. bench/replay_upstream.sh
up_port=$(free_port)
nginx_conf "$work/upstream" 1 "$(upstream_server "$up_port" "")"

# Total instructions of one process life that served $2 completions with binary $1.
instructions() {
  local port out pid
  port=$(free_port)
  out="$work/callgrind.$$.$2"
  ZAI_BASE_URL="http://127.0.0.1:$up_port" ZAI_FE_VERSION=prod-fe-1.1.98 TOKEN_POOL_SIZE=5 \
    LOG_LEVEL=warn valgrind --tool=callgrind --callgrind-out-file="$out" "$1" \
    --host 127.0.0.1 --port "$port" 2>"$work/valgrind.log" &
  pid=$!
  for _ in $(seq 400); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.05  # start-up under valgrind is slow; a bounded poll of an observable condition
  done
  for _ in $(seq "$2"); do
    curl -sf -o /dev/null -X POST "http://127.0.0.1:$port$path" \
      -H 'content-type: application/json' -H 'authorization: Bearer sk-z2api-key-2024' \
      -H 'x-api-key: sk-z2api-key-2024' -d "$body"
  done
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  awk '/^summary:/ {print $2}' "$out"
}

printf '| binary | instructions, %s completions | %s completions | per completion |\n' "$few" "$many"
printf '|---|---|---|---|\n'
for bin in "$@"; do
  a=$(instructions "$bin" "$few")
  b=$(instructions "$bin" "$many")
  printf '| %s | %s | %s | %s |\n' "$bin" "$a" "$b" \
    "$(awk -v a="$a" -v b="$b" -v n=$((many - few)) 'BEGIN { printf "%.0f", (b - a) / n }')"
done
