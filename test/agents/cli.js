// What the agent suites share: where the pinned CLIs are, a loopback HTTPS proxy that refuses
// every CONNECT (so a CLI that tries to reach the internet fails at once, and the test sees the
// attempt), a bounded run of a CLI, and a throwaway home directory.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGET } from '../e2e/harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = path.join(here, 'node_modules');
export const CLAUDE_BIN = path.join(modules, '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
export const CODEX_BIN = path.join(modules, '.bin', 'codex');

export function assertInstalled(bin) {
  assert.ok(existsSync(bin), `${bin} is missing: run scripts/install-deps.sh (npm ci in test/agents)`);
}

// A proxy for HTTPS_PROXY / HTTP_PROXY that refuses everything: CONNECT gets 403 and plain
// requests 403. `attempts` lists what was asked for ("CONNECT api.anthropic.com:443").
export async function startRefusingProxy() {
  const attempts = [];
  const server = http.createServer((req, res) => {
    attempts.push(`${req.method} ${req.url}`);
    res.writeHead(403, { connection: 'close' });
    res.end();
  });
  server.on('connect', (req, socket) => {
    attempts.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    attempts,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// The environment every CLI run starts from: only PATH, a private HOME, no proxy but the refusing
// one, loopback exempt from it.
export function offlineEnv(home, refusing) {
  return {
    PATH: process.env.PATH, HOME: home, TERM: 'dumb', LANG: 'C.UTF-8',
    HTTPS_PROXY: refusing.url, HTTP_PROXY: refusing.url, https_proxy: refusing.url, http_proxy: refusing.url,
    NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost',
  };
}

// Runs `bin args` with stdin closed; kills it (SIGKILL) after `timeoutMs`. Resolves with the
// exit code, the signal, stdout, stderr and how long it took.
export async function run(bin, args, { env, cwd, timeoutMs = 120_000 } = {}) {
  const started = Date.now();
  const child = spawn(bin, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
  const [code, signal] = await once(child, 'close');
  clearTimeout(timer);
  const result = { code, signal, stdout, stderr, timedOut, ms: Date.now() - started };
  assert.ok(!timedOut, `${path.basename(bin)} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`);
  return result;
}

// A fresh directory under the system temp dir, removed by the returned cleanup.
export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// The requests the proxy served, from its access log lines (the native server's; the path
// without its query), /health polls left out.
function servedRequests(logs) {
  const out = [];
  for (const line of logs) {
    let entry;
    try { entry = JSON.parse(line); } catch { continue; }
    if (entry.event === 'request' && entry.path !== '/health') out.push(entry);
  }
  return out;
}

// Where a test starts reading the traffic a CLI run causes: the fake's last record and the
// proxy's log length.
export async function markTraffic(stack) {
  return { since: await stack.ctl.mark(), logged: stack.proxy.logs.length };
}

// What every agent test checks after its run: the fake saw one completion per entry of
// `checks`, each answered 200 and passed to its check (prompt, record); the proxy served exactly
// that many POSTs on `route` (native: from its access log; the Worker keeps none); and the CLI
// tried nothing through the refusing proxy. Returns the records.
export async function assertTraffic(stack, mark, refusing, route, checks) {
  const records = await stack.ctl.requests({ since: mark.since });
  assert.equal(records.length, checks.length, records.map((x) => `${x.path} ${x.status}`).join(', '));
  records.forEach((record, i) => {
    assert.equal(record.status, 200);
    checks[i](record.json.signature_prompt, record);
  });
  if (TARGET === 'native') {
    assert.deepEqual(servedRequests(stack.proxy.logs.slice(mark.logged)).map((e) => `${e.method} ${e.path} ${e.status}`),
      checks.map(() => `POST ${route} 200`), 'the CLI made one request per upstream completion');
  }
  assert.deepEqual(refusing.attempts, [], 'the CLI tried to reach the internet');
  return records;
}
