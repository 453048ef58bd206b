#!/usr/bin/env bash
# The real coding-agent CLIs (Claude Code and Codex, pinned in test/agents/package.json) driven
# offline against zai-proxy and the fake Z.AI: test/agents/*.test.js. Installs nothing:
# scripts/install-deps.sh (run by `make test`) puts the CLIs in test/agents/node_modules.
# $1 is the build directory whose zai-proxy they talk to; with ZAI_TARGET=worker they talk to
# the Worker in workerd instead (worker/dist, which scripts/test-worker.sh builds first).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
target=${ZAI_TARGET:-native}
claude=test/agents/node_modules/@anthropic-ai/claude-code/bin/claude.exe
codex=test/agents/node_modules/.bin/codex
if [ ! -d test/agents/node_modules ] || [ ! -d test/node_modules ]; then
  echo "missing test/agents/node_modules or test/node_modules: run 'make test' (or scripts/install-deps.sh), which installs them" >&2
  exit 1
fi
if [ "$(head -c 4 "$claude" 2>/dev/null | tail -c 3)" != ELF ] || [ ! -e "$codex" ]; then
  echo "the Claude Code or Codex CLI is not installed in test/agents/node_modules: run scripts/install-deps.sh" >&2
  exit 1
fi
if [ "$target" = worker ]; then
  if [ ! -f worker/dist/worker.js ]; then
    echo "missing worker/dist: run scripts/test-worker.sh, which builds it" >&2
    exit 1
  fi
  echo "== the real Claude Code and Codex CLIs against the Worker in workerd"
else
  if [ ! -x "$build/zai-proxy" ]; then
    echo "missing $build/zai-proxy: run 'make test', which builds it" >&2
    exit 1
  fi
  echo "== the real Claude Code and Codex CLIs against $build/zai-proxy"
fi
ZAI_PROXY_BIN="$build/zai-proxy" node --test --test-concurrency=1 test/agents/
