#!/usr/bin/env bash
# Runs the proxy against the bundled fake Z.AI on loopback: a working setup with no network.
set -euo pipefail
bin=${1:-build/release/zai-proxy}
fifo=$(mktemp -u)
mkfifo "$fifo"
node test/fake-zai/server.js --port 0 --no-captcha >"$fifo" &
fake=$!
trap 'kill "$fake" 2>/dev/null; rm -f "$fifo"' EXIT
exec 3<"$fifo"  # kept open, so later output from the fake never hits a closed pipe
read -r line <&3
url=${line#FAKE_ZAI_LISTENING }
echo "fake Z.AI at $url; proxy on :${PORT:-3000} (Ctrl-C stops both)"
ZAI_BASE_URL="$url" "$bin"
