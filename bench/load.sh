#!/usr/bin/env bash
# End-to-end load comparison on loopback, side by side in one run:
#   A: wrk → zai-proxy → upstream        B: wrk → upstream (no proxy)
#   C: wrk → nginx (plain reverse proxy, proxy_buffering off) → upstream   — the floor
# The upstream is nginx replaying one recorded 64-delta stream (it must not be the bottleneck;
# its own ceiling is row B). The floor runs as many nginx workers as the proxy runs event loops
# (WORKERS, default: this machine's cores). Then: the Anthropic and Responses surfaces against
# chat completions, CPU seconds per 1 000 completions, idle RSS, and peak RSS while holding paced
# streams (the same stream rate-limited to 1 KB/s). Writes a Markdown report to $OUT (default
# build/bench/report.md).
#   bench/load.sh [--tiny | --paced]   (--tiny: a few seconds, to prove the harness works in CI;
#   --paced: only the paced streams' memory, e.g. PACED=1000 for one row)
set -euo pipefail
cd "$(dirname "$0")/.."

tiny=false paced_only=false
[ "${1:-}" = "--tiny" ] && tiny=true
[ "${1:-}" = "--paced" ] && paced_only=true
bin=${ZAI_PROXY_BIN:-build/release/zai-proxy}
work=$(mktemp -d /tmp/zai-bench.XXXXXX)
chmod 755 "$work"  # nginx workers run unprivileged and read the recorded stream from here
out=${OUT:-build/bench/report.md}
mkdir -p "$(dirname "$out")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for d in upstream floor; do [ -f "$work/$d/nginx.pid" ] && kill "$(cat "$work/$d/nginx.pid")" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

if $tiny; then duration=1; conns=(1 16); paced=(50); else duration=${DURATION:-8}; conns=(1 16 64 256); read -r -a paced <<<"${PACED:-1000 5000 10000}"; fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # the proxy needs two per paced stream
loops=${WORKERS:-$(nproc)}
export WORKERS=$loops

# shellcheck source=bench/replay_upstream.sh
. bench/replay_upstream.sh
# Four distinct ports: two picks may return the same free port, and a proxy that cannot listen
# would leave /readyz to whichever nginx holds it.
picked=()
while [ ${#picked[@]} -lt 4 ]; do
  p=$(free_port)
  [[ " ${picked[*]} " == *" $p "* ]] || picked+=("$p")
done
read -r up_port floor_port proxy_port paced_port <<<"${picked[*]}"
wait_ready() {  # $1 the proxy's pid: /readyz answers 200 within 30 s, or its log is shown
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$proxy_port/readyz" >/dev/null && return 0
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05  # start-up poll of an observable condition, bounded
  done
  echo "bench: the proxy (pid $1, port $proxy_port) never became ready; its log:" >&2
  cat "$work/proxy.log" >&2
  return 1
}

# Paced streams come from the same nginx, rate-limited to 1 KB/s: the recorded stream then
# takes about six seconds, arriving a few events at a time. (A Node fake pacing per event
# could not keep more than a few hundred streams going at once on two cores.)
nginx_conf "$work/upstream" auto "$(upstream_server "$up_port" "")
  $(upstream_server "$paced_port" "limit_rate 1k; sendfile off;")"
nginx_conf "$work/floor" "$loops" "upstream zai { server 127.0.0.1:$up_port; keepalive 64; }
  server {
    listen 127.0.0.1:$floor_port;
    location / { proxy_pass http://zai; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_buffering off; }
  }"

ZAI_BASE_URL="http://127.0.0.1:$up_port" ZAI_FE_VERSION=prod-fe-1.1.98 TOKEN_POOL_SIZE=5 \
  LOG_LEVEL=warn "$bin" --host 127.0.0.1 --port "$proxy_port" 2>"$work/proxy.log" &
proxy_pid=$!; pids+=("$proxy_pid")
wait_ready "$proxy_pid"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
cpu_ticks() {  # user + system ticks of the given processes (all their threads), summed
  local total=0 t
  for p in "$@"; do t=$(awk '{print $14 + $15}' "/proc/$p/stat"); total=$((total + t)); done
  echo "$total"
}
read -r -a floor_workers <<<"$(pgrep -P "$(cat "$work/floor/nginx.pid")" | tr '\n' ' ')"
idle_rss=$(rss_kb "$proxy_pid")

wrk_script() {  # $1 file, $2 request body: a streamed POST that reports one RESULT line
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-z2api-key-2024"
wrk.body = '$2'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.3f %.3f %.3f\\n", summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
LUA
}
wrk_script "$work/post.lua" '{"model":"glm-4.7","stream":true,"messages":[{"role":"user","content":"Hello"}]}'
# The other surfaces, the same prompt and answer (the Responses one not stored: what Codex sends).
wrk_script "$work/messages.lua" '{"model":"glm-4.7","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"Hello"}]}'
wrk_script "$work/responses.lua" '{"model":"glm-4.7","stream":true,"store":false,"input":"Hello"}'

declare -A rps p50 p99 errs
run() {  # $1 label, $2 url, $3 connections[, $4 wrk script]
  local threads=$(( $3 < 2 ? 1 : 2 ))
  local line
  line=$(wrk -t"$threads" -c"$3" -d"${duration}s" -s "${4:-$work/post.lua}" "$2" | grep '^RESULT')
  read -r _ total e r a b <<<"$line"
  rps[$1,$3]=$r; p50[$1,$3]=$a; p99[$1,$3]=$b; errs[$1,$3]=$e
}

if ! $paced_only; then
  for c in "${conns[@]}"; do
    run A "http://127.0.0.1:$proxy_port/v1/chat/completions" "$c"
    run B "http://127.0.0.1:$up_port/api/v2/chat/completions" "$c"
    run C "http://127.0.0.1:$floor_port/api/v2/chat/completions" "$c"
  done

  # CPU per 1 000 completions at c=64 (c=16 in tiny mode), proxy process vs the nginx floor's
  # workers; and the Anthropic and Responses surfaces beside chat completions, alternating.
  cpu_c=${conns[-1]}; [ "$cpu_c" -gt 64 ] && cpu_c=64
  hz=$(getconf CLK_TCK)
  measure_cpu() {  # $1 url, $2 wrk script, $3... pids → "<s per 1000 completions> <req/s> <errors>"
    local url=$1 script=$2 before after line
    shift 2
    before=$(cpu_ticks "$@")
    line=$(wrk -t2 -c"$cpu_c" -d"${duration}s" -s "$script" "$url" | grep '^RESULT')
    after=$(cpu_ticks "$@")
    read -r _ n e r _ <<<"$line"
    awk -v t=$((after - before)) -v hz="$hz" -v n="$n" -v r="$r" -v e="$e" 'BEGIN { printf "%.3f %.0f %d", t / hz / n * 1000, r, e }'
  }
  proxy_url="http://127.0.0.1:$proxy_port"
  read -r cpu_a _ <<<"$(measure_cpu "$proxy_url/v1/chat/completions" "$work/post.lua" "$proxy_pid")"
  read -r cpu_c_floor _ <<<"$(measure_cpu "http://127.0.0.1:$floor_port/api/v2/chat/completions" "$work/post.lua" "${floor_workers[@]}")"
  declare -A surface_cpu surface_rps surface_errs
  surface_rows=("chat completions|/v1/chat/completions|post" "Anthropic messages|/v1/messages|messages" "Responses|/v1/responses|responses")
  for row in "${surface_rows[@]}"; do
    IFS='|' read -r name path script <<<"$row"
    read -r "surface_cpu[$name]" "surface_rps[$name]" "surface_errs[$name]" <<<"$(measure_cpu "$proxy_url$path" "$work/$script.lua" "$proxy_pid")"
  done
fi
busy_rss=$(rss_kb "$proxy_pid")
kill "$proxy_pid"; wait "$proxy_pid" 2>/dev/null || true

# Paced streams: hold N at once against the rate-limited upstream, sample peak RSS.
declare -A paced_rss paced_ok
ZAI_BASE_URL="http://127.0.0.1:$paced_port" ZAI_FE_VERSION=prod-fe-1.1.98 TOKEN_POOL_SIZE=5 \
  LOG_LEVEL=warn "$bin" --host 127.0.0.1 --port "$proxy_port" 2>>"$work/proxy.log" &
proxy_pid=$!; pids+=("$proxy_pid")
wait_ready "$proxy_pid"
paced_idle=$(rss_kb "$proxy_pid")
# Each stream holds two descriptors in the proxy (client and upstream); beyond the limit the
# proxy would only be measuring EMFILE.
fd_limit=$(ulimit -n)
declare -A paced_held
for n in "${paced[@]}"; do
  if [ $((2 * n + 64)) -gt "$fd_limit" ]; then
    paced_ok[$n]="skipped: needs $((2 * n + 64)) file descriptors, the limit is $fd_limit"
    continue
  fi
  node bench/hold_streams.mjs "http://127.0.0.1:$proxy_port" "$n" "$proxy_pid" >"$work/hold.out" 2>"$work/hold.err"
  read -r ok peak held <"$work/hold.out"
  paced_rss[$n]=$peak; paced_ok[$n]=$ok; paced_held[$n]=$held
  sed 's/^/  /' "$work/hold.err" >&2
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
diff_ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
{
  if ! $paced_only; then
    echo "## Load comparison ($(date -u +%Y-%m-%d), $(nproc) cores, ${duration}s per cell)"
    echo
    echo "Streaming completions, 64-delta upstream stream, unpaced. A = zai-proxy, B = upstream direct, C = nginx pass-through."
    echo
    echo "| c | A req/s | B req/s | C req/s | A/B | A/C | A p50 ms | B p50 | C p50 | A−B p50 | A p99 ms | B p99 | C p99 | A−B p99 | errors A/B/C |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    for c in "${conns[@]}"; do
      echo "| $c | ${rps[A,$c]} | ${rps[B,$c]} | ${rps[C,$c]} | $(ratio "${rps[A,$c]}" "${rps[B,$c]}") | $(ratio "${rps[A,$c]}" "${rps[C,$c]}") | ${p50[A,$c]} | ${p50[B,$c]} | ${p50[C,$c]} | $(diff_ms "${p50[A,$c]}" "${p50[B,$c]}") | ${p99[A,$c]} | ${p99[B,$c]} | ${p99[C,$c]} | $(diff_ms "${p99[A,$c]}" "${p99[B,$c]}") | ${errs[A,$c]}/${errs[B,$c]}/${errs[C,$c]} |"
    done
    echo
    echo "| measure | zai-proxy | nginx floor | ratio |"
    echo "|---|---|---|---|"
    echo "| CPU s per 1 000 completions (c=$cpu_c; $loops loops / nginx workers) | $cpu_a | $cpu_c_floor | $(ratio "$cpu_a" "$cpu_c_floor") |"
    echo "| idle RSS (KB) | $idle_rss | | |"
    echo "| RSS after the load (KB) | $busy_rss | | |"
    echo
    echo "The surfaces, streamed, c=$cpu_c, one after the other (ratios to chat completions):"
    echo
    echo "| surface | req/s | CPU s per 1 000 | req/s ratio | CPU ratio | errors |"
    echo "|---|---|---|---|---|---|"
    chat="chat completions"
    for row in "${surface_rows[@]}"; do
      IFS='|' read -r name _ _ <<<"$row"
      echo "| $name | ${surface_rps[$name]} | ${surface_cpu[$name]} | $(ratio "${surface_rps[$name]}" "${surface_rps[$chat]}") | $(ratio "${surface_cpu[$name]}" "${surface_cpu[$chat]}") | ${surface_errs[$name]} |"
    done
    echo
  fi
  echo "Paced streams (the recorded stream rate-limited to 1 KB/s by nginx, ~6 s each), held at once:"
  echo
  echo "| streams | completed | most open at once | peak RSS (KB) | KB per stream over idle ($paced_idle KB) |"
  echo "|---|---|---|---|---|"
  for n in "${paced[@]}"; do
    if [ -z "${paced_rss[$n]:-}" ]; then echo "| $n | ${paced_ok[$n]} | | | |"; continue; fi
    echo "| $n | ${paced_ok[$n]} | ${paced_held[$n]} | ${paced_rss[$n]} | $(awk -v p="${paced_rss[$n]}" -v i="$paced_idle" -v n="${paced_held[$n]}" 'BEGIN { printf "%.1f", n ? (p - i) / n : 0 }') |"
  done
} | tee "$out"
