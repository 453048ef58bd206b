// Starts the real zai-proxy binary against an in-process fake Z.AI on loopback and hands tests
// an official `openai` client pointed at it, plus raw-HTTP helpers for wire-level checks.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { startFake } from '../fake-zai/server.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const proxyBin = path.resolve(root, process.env.ZAI_PROXY_BIN ?? 'build/release/zai-proxy');
export const API_KEY = 'sk-test-key';

// Starts the proxy with `env` on an ephemeral port; resolves once it logs that it listens.
// The log lines are kept (tests grep them for leaks) and the process is killed by stop().
export async function startProxy(env = {}, args = []) {
  const child = spawn(proxyBin, ['--port', '0', '--host', '127.0.0.1', ...args], {
    env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS,
           UBSAN_OPTIONS: process.env.UBSAN_OPTIONS, API_KEY, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stderr });
  const port = await new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      logs.push(line);
      const m = /"event":"listening".*"address":"[^"]*:(\d+)"/.exec(line);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`zai-proxy exited with ${code}:\n${logs.join('\n')}`)));
  });
  child.stdout.resume();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    logs,
    child,
    client: new OpenAI({ apiKey: API_KEY, baseURL: `${url}/v1`, maxRetries: 0, timeout: 20_000 }),
    // Sends SIGTERM and resolves with the exit code.
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const [code] = await exited;
      return code;
    },
  };
}

// Waits until /health reports at least `ready` tokens (polling the proxy's own health endpoint,
// which is the observable condition; each poll waits for the previous answer).
export async function waitReady(proxy, ready = 1, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${proxy.url}/health`).then((x) => x.json());
    if (r.pool && r.pool.ready >= ready) return r;
    if (Date.now() > deadline) throw new Error(`pool never reached ${ready} ready: ${JSON.stringify(r)}`);
    await new Promise((res) => setImmediate(res));
  }
}

// A fake plus a proxy wired to it. `fakeOptions` go to startFake, `env` to the proxy.
export async function startStack({ fakeOptions = {}, env = {}, ready = 1 } = {}) {
  const fake = await startFake({ captcha_required: false, ...fakeOptions });
  const proxy = await startProxy({ ZAI_BASE_URL: fake.url, TOKEN_POOL_SIZE: '1', ...env });
  if (ready > 0) await waitReady(proxy, ready);
  return {
    fake,
    proxy,
    client: proxy.client,
    async control(pathname, body) {
      const r = await fetch(`${fake.url}${pathname}`, body === undefined ? {} : {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
      });
      return r.json();
    },
    async stop() {
      const code = await proxy.stop();
      await fake.close();
      return code;
    },
  };
}

// Raw POST to the proxy; returns status, headers and the body text.
export async function post(proxy, pathname, body, headers = {}) {
  const r = await fetch(`${proxy.url}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, headers: r.headers, text: await r.text() };
}

// Parses an SSE body into its data payloads (JSON objects, or the string '[DONE]').
export function sseEvents(text) {
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => {
    const data = b.slice(6);
    return data === '[DONE]' ? data : JSON.parse(data);
  });
}
