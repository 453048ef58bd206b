#!/usr/bin/env bash
# Before/after on a noisy machine: starts each proxy variant once against the same replay
# upstream (bench/replay_upstream.sh), then runs wrk against them in turn, ROUNDS times, so that
# every variant sees the same mix of background load. Prints, per variant and concurrency, the
# median completions per second, the median p50, and CPU time per completion (the proxy
# process's user+system ticks over the completions it served) — medians over the rounds.
#   bench/alternate.sh 'WORKERS=1 build/release/zai-proxy' 'WORKERS=2 build/release/zai-proxy'
#   ROUNDS=5 SECONDS_=3 CONNS="16 64" bench/alternate.sh 'old/zai-proxy' 'new/zai-proxy'
# A variant is environment assignments followed by a binary.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-5}
seconds=${SECONDS_:-3}
read -r -a conns <<<"${CONNS:-16 64}"
path=${PATH_:-/v1/chat/completions}
body=${BODY:-'{"model":"glm-4.7","stream":true,"messages":[{"role":"user","content":"Hello"}]}'}
work=$(mktemp -d /tmp/zai-alt.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/upstream/nginx.pid" ] && kill "$(cat "$work/upstream/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/replay_upstream.sh
. bench/replay_upstream.sh
up_port=$(free_port)
nginx_conf "$work/upstream" auto "$(upstream_server "$up_port" "")"

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-z2api-key-2024"
wrk.headers["x-api-key"] = "sk-z2api-key-2024"
wrk.body = '$body'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %.1f %.3f\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000))
end
LUA

ports=()
n=0
for variant in "$@"; do
  port=$(free_port)
  # shellcheck disable=SC2086
  env ZAI_BASE_URL="http://127.0.0.1:$up_port" ZAI_FE_VERSION=prod-fe-1.1.98 TOKEN_POOL_SIZE=5 \
    LOG_LEVEL=warn $variant --host 127.0.0.1 --port "$port" 2>"$work/proxy.$n.log" &
  pids+=("$!"); ports+=("$port")
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
  n=$((n + 1))
done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

declare -A rps lat cpu
for c in "${conns[@]}"; do
  for _ in $(seq "$rounds"); do
    for i in "${!pids[@]}"; do
      before=$(ticks "${pids[$i]}")
      read -r _ total r p50 < <(wrk -t"$(( c < 2 ? 1 : 2 ))" -c"$c" -d"${seconds}s" -s "$work/post.lua" \
        "http://127.0.0.1:${ports[$i]}$path" | grep '^RESULT')
      after=$(ticks "${pids[$i]}")
      rps[$i,$c]+="$r "
      lat[$i,$c]+="$p50 "
      cpu[$i,$c]+="$(awk -v t=$((after - before)) -v hz="$hz" -v n="$total" 'BEGIN { printf "%.1f", n ? t / hz / n * 1e6 : 0 }') "
    done
  done
done

echo "| variant | c | completions/s (median of $rounds) | p50 ms | CPU µs per completion |"
echo "|---|---|---|---|---|"
n=0
for variant in "$@"; do
  for c in "${conns[@]}"; do
    echo "| \`$variant\` | $c | $(tr ' ' '\n' <<<"${rps[$n,$c]}" | grep . | median) | $(tr ' ' '\n' <<<"${lat[$n,$c]}" | grep . | median) | $(tr ' ' '\n' <<<"${cpu[$n,$c]}" | grep . | median) |"
  done
  n=$((n + 1))
done
