#!/usr/bin/env bash
# What each paced stream holds on the heap, by allocation site: the proxy runs under heaptrack,
# N paced streams open (the recorded stream at 1 KB/s, as in load.sh), and once they are all
# waiting mid-stream (SECONDS_IN, default 4 s of their ~6) gdb makes the proxy call exit(0), so
# that what heaptrack reports as "leaked" is what was live at that moment. Prints, per site, the
# bytes per stream (sites with fewer calls than streams, and OpenSSL's, are the process's own).
#   bench/heap_per_stream.sh [N=500]   (ZAI_PROXY_BIN, default build/release/zai-proxy)
# Needs heaptrack and gdb (and ptrace permission).
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:-500}
bin=$(realpath "${ZAI_PROXY_BIN:-build/release/zai-proxy}")
work=$(mktemp -d /tmp/zai-heap.XXXXXX)
chmod 755 "$work"  # nginx workers read the recorded stream from here
cleanup() {
  [ -f "$work/up/nginx.pid" ] && kill "$(cat "$work/up/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=bench/replay_upstream.sh
. bench/replay_upstream.sh
up_port=$(free_port)
proxy_port=$(free_port)
nginx_conf "$work/up" 1 "$(upstream_server "$up_port" "limit_rate 1k; sendfile off;")"

ZAI_BASE_URL="http://127.0.0.1:$up_port" ZAI_FE_VERSION=prod-fe-1.1.98 TOKEN_POOL_SIZE=5 \
  LOG_LEVEL=warn heaptrack -o "$work/heap" "$bin" --host 127.0.0.1 --port "$proxy_port" \
  >"$work/heaptrack.log" 2>&1 &
tracer=$!
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$proxy_port/readyz" >/dev/null && break
  sleep 0.05  # start-up poll of an observable condition, bounded
done
pid=$(pgrep -f "^$bin --host 127.0.0.1 --port $proxy_port" | head -1)
node bench/hold_streams.mjs "http://127.0.0.1:$proxy_port" "$n" "$pid" >/dev/null 2>&1 &
sleep "${SECONDS_IN:-4}"  # the streams last ~6 s: mid-stream is a time, not an event
echo "RSS with $n streams open: $(awk '/VmRSS/ {print $2}' "/proc/$pid/status") KB"
gdb -p "$pid" -batch -ex 'call (void)exit(0)' >/dev/null 2>&1 || true
wait "$tracer" || true

heaptrack_print -f "$work"/heap.*zst --print-leaks 1 --print-peaks 0 --print-allocators 0 \
  --print-temporary 0 --peak-limit 80 --sub-peak-limit 0 2>/dev/null |
  grep -A1 -E '^[0-9.]+[KMG]?B? leaked over' | grep -v '^--' | paste - - |
  awk -v n="$n" '{
    v = $1; unit = substr(v, length(v)); m = 1
    if (unit == "K") m = 1024; else if (unit == "M") m = 1048576; else if (unit == "G") m = 1073741824
    if (unit ~ /[KMG]/) v = substr(v, 1, length(v) - 1); else sub(/B$/, "", v)
    calls = $4; $1 = $2 = $3 = $4 = $5 = ""; site = substr($0, 6, 110)
    per = v * m / n
    # OpenSSL allocates tens of thousands of times at start (the CA store): not per stream.
    if (calls >= n && site !~ /^from (CRYPTO_|OPENSSL_|ASN1_|BN_|EC_)/) {
      total += per; printf "%7.0f B  %7d calls  %s\n", per, calls, site
    }
  } END { printf "%7.0f B per stream over the sites with at least one call per stream\n", total }'
