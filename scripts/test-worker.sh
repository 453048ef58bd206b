#!/usr/bin/env bash
# The Worker: the core built for wasm32-wasi (the same sources as the native build), the Worker
# bundled and checked with wrangler's offline `deploy --dry-run`, then the end-to-end suite and
# the real agent CLIs (scripts/test-agents.sh) against it in workerd on loopback
# (ZAI_TARGET=worker).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d worker/node_modules ] || [ ! -d test/node_modules ] || [ ! -d test/agents/node_modules ]; then
  echo "missing worker/node_modules, test/node_modules or test/agents/node_modules: run 'make test', which installs them" >&2
  exit 1
fi
echo "== core for wasm32 and the Worker bundle"
(cd worker && npm run --silent build)
echo "== wrangler deploy --dry-run"
log=build/wrangler-dry-run.log
if ! (cd worker && WRANGLER_SEND_METRICS=false npx wrangler deploy --dry-run --outdir ../build/wrangler) >"$log" 2>&1; then
  cat "$log" >&2
  exit 1
fi
grep -E "Total Upload" "$log" || true
echo "== end-to-end tests against the Worker in workerd"
ZAI_TARGET=worker node --test --test-concurrency=1 test/e2e/
ZAI_TARGET=worker scripts/test-agents.sh
