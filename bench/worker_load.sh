#!/usr/bin/env bash
# Requests per second of the Worker (core.wasm in workerd) against the native server, side by
# side in one run, both in front of the same fake Z.AI on loopback (captcha off, no per-guest
# concurrency cap, 16 answer deltas per completion, five guest tokens each). wrk sends
# non-stream and stream completions over keep-alive connections; each target is measured twice,
# alternating, and its process's CPU time is read from /proc. Prints a Markdown table.
#   bench/worker_load.sh            (DURATION=seconds per run, default 8; CONNS, default 16)
# Needs build/release/zai-proxy (make build) and worker/dist (cd worker && npm run build).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${ZAI_PROXY_BIN:-build/release/zai-proxy}
duration=${DURATION:-8}
conns=${CONNS:-16}
work=$(mktemp -d /tmp/zai-worker-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
key=sk-bench

node test/fake-zai/server.js --no-captcha --max-inflight-per-user 0 --answer-deltas 16 >"$work/fake.out" &
pids+=($!)
until grep -q FAKE_ZAI_LISTENING "$work/fake.out" 2>/dev/null; do sleep 0.05; done  # start-up poll
fake=$(awk '{print $2}' "$work/fake.out")

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
native_port=$(free_port)
worker_port=$(free_port)

ZAI_BASE_URL=$fake TOKEN_POOL_SIZE=5 API_KEY=$key LOG_LEVEL=warn \
  "$bin" --host 127.0.0.1 --port "$native_port" 2>"$work/native.log" &
native_pid=$!; pids+=("$native_pid")

mkdir "$work/worker"
cp worker/dist/worker.js worker/dist/core.wasm "$work/worker/"
node --input-type=module -e "
  import { workerdConfig } from './test/e2e/worker_target.js';
  process.stdout.write(workerdConfig({ ZAI_BASE_URL: '$fake', TOKEN_POOL_SIZE: '5', API_KEY: '$key' }));
" >"$work/worker/config.capnp"
(cd "$work/worker" && exec "$OLDPWD/worker/node_modules/@cloudflare/workerd-linux-64/bin/workerd" \
  serve config.capnp --socket-addr "http=127.0.0.1:$worker_port" 2>"$work/worker.log") &
worker_pid=$!; pids+=("$worker_pid")

# Both ready with a full pool (the Worker mints on its first requests).
for port in "$native_port" "$worker_port"; do
  for _ in $(seq 200); do
    ready=$(curl -sf "http://127.0.0.1:$port/health" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log(JSON.parse(s).pool.ready)}catch{console.log(0)}})')
    [ "$ready" = 5 ] && break
    sleep 0.05  # start-up poll of an observable condition, bounded
  done
done

for mode in false true; do
  cat >"$work/post-$mode.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
wrk.body = '{"model":"glm-4.7","stream":$mode,"thinking":{"type":"disabled"},"messages":[{"role":"user","content":"Hello"}]}'
LUA
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
declare -A rps cpu
run() {  # $1 name, $2 port, $3 pid, $4 stream
  local before after out r
  before=$(cpu_ticks "$3")
  out=$(wrk -t1 -c"$conns" -d"${duration}s" -s "$work/post-$4.lua" "http://127.0.0.1:$2/v1/chat/completions")
  after=$(cpu_ticks "$3")
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: non-2xx answers:" >&2; echo "$out" >&2; exit 1; fi
  r=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  rps[$1-$4]="${rps[$1-$4]:-} $r"
  cpu[$1-$4]="${cpu[$1-$4]:-} $(awk -v t=$((after - before)) -v hz="$hz" -v r="$r" -v d="$duration" 'BEGIN {printf "%.3f", 1000 * t / hz / (r * d)}')"
}
for round in 1 2; do
  for stream in false true; do
    run native "$native_port" "$native_pid" "$stream"
    run worker "$worker_port" "$worker_pid" "$stream"
  done
done

best() { tr ' ' '\n' | grep . | sort -g | tail -1; }
low() { tr ' ' '\n' | grep . | sort -g | head -1; }
echo "| completions ($conns connections, ${duration}s × 2 runs) | native req/s | Worker req/s | Worker/native | native CPU ms/req | Worker CPU ms/req |"
echo "|---|---|---|---|---|---|"
for stream in false true; do
  n=$(best <<<"${rps[native-$stream]}"); w=$(best <<<"${rps[worker-$stream]}")
  nc=$(low <<<"${cpu[native-$stream]}"); wc=$(low <<<"${cpu[worker-$stream]}")
  label=$([ "$stream" = true ] && echo stream || echo non-stream)
  echo "| $label | $n | $w | $(awk -v a="$w" -v b="$n" 'BEGIN {printf "%.2f", a / b}') | $nc | $wc |"
done
echo
echo "wasm: $(stat -c %s worker/dist/core.wasm) bytes raw, $(gzip -9c worker/dist/core.wasm | wc -c) gzip; bundle worker.js: $(stat -c %s worker/dist/worker.js) bytes"
node bench/worker_core.mjs worker/dist/core.wasm
