// Starts the real zai-proxy binary against an in-process fake Z.AI on loopback and hands tests
// an official `openai` client pointed at it, plus raw-HTTP helpers for wire-level checks and a
// client of the fake's /__fake/ control API.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before } from 'node:test';
import http from 'node:http';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { startFake } from '../fake-zai/server.js';
import { startWorker } from './worker_target.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const proxyBin = path.resolve(root, process.env.ZAI_PROXY_BIN ?? 'build/release/zai-proxy');
export const API_KEY = 'sk-test-key-9f3a71c2';
export const COMPLETIONS = '/api/v2/chat/completions';

// Which proxy the suite drives: the native binary (default) or, with ZAI_TARGET=worker, the
// Worker (the same core as WebAssembly) in workerd.
export const TARGET = process.env.ZAI_TARGET ?? 'native';

// Options for a test or describe that is about the native process itself (signals, its log
// lines, start-up); other targets skip it, saying why.
export function nativeOnly(reason) {
  return TARGET === 'native' ? {} : { skip: `native only: ${reason}` };
}
export function workerOnly(reason) {
  return TARGET === 'worker' ? {} : { skip: `worker only: ${reason}` };
}

// Why tests that end by abandoning a stalled request are native only: workerd notices that a
// client went away only when it next writes to it, and a stalled upstream gives it nothing to
// write. (On Cloudflare the edge cancels the request, which the Worker follows via request.signal.)
export const CLIENT_GONE_UNSEEN = 'workerd sees a departed client only at its next write';

// Any JWT-shaped text (base64url header and payload that both start with '{"'); guest tokens
// are JWTs, so a log line matching this leaked one.
const JWT_PATTERN = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+/;

// Children still running when the test process exits (a failed assertion skipped stop()).
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// Starts the proxy with `env` on an ephemeral port; resolves once it logs that it listens.
// The log lines are kept (tests grep them for leaks) and the process is stopped by stop().
export async function startProxy(env = {}, args = []) {
  if (TARGET === 'worker') return startWorkerProxy(env, args);
  const child = spawn(proxyBin, ['--port', '0', '--host', '127.0.0.1', ...args], {
    // ZAI_PROXY_WORKERS: the event loops of every proxy the suite starts (the TSan run sets it).
    env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS,
           UBSAN_OPTIONS: process.env.UBSAN_OPTIONS, TSAN_OPTIONS: process.env.TSAN_OPTIONS,
           WORKERS: process.env.ZAI_PROXY_WORKERS, API_KEY, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs = [];
  let signalled = null;
  const exited = once(child, 'exit');
  exited.then(() => running.delete(child));
  const lines = createInterface({ input: child.stderr });
  const drained = once(lines, 'close');
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
    client: makeClient(url),
    // Sends `signal` once; a second SIGTERM while the proxy drains would be a different test.
    signal(signal = 'SIGTERM') {
      if (signalled || child.exitCode !== null || child.signalCode !== null) return;
      signalled = signal;
      child.kill(signal);
    },
    // Sends `signal` (SIGTERM) unless one was sent already, and resolves with the exit code once
    // the stderr pipe is drained, so `logs` is complete. The logs must never hold the API key or
    // a guest JWT.
    async stop(signal = 'SIGTERM') {
      this.signal(signal);
      const [code, killedBy] = await exited;
      await drained;
      // A crash (a sanitizer abort, say) shows here as a signal: keep its report in the output.
      if (code !== 0 && signalled !== 'SIGKILL') {
        process.stderr.write(`zai-proxy exited with ${code ?? killedBy}; its log:\n${logs.join('\n')}\n`);
      }
      assertNoSecrets(logs);
      // A sanitizer that reports and carries on (TSan) must still fail the test that saw it.
      const report = logs.find((line) => /^(WARNING|ERROR): \w+Sanitizer/.test(line));
      assert.equal(report, undefined, `zai-proxy's log holds a sanitizer report:\n${logs.join('\n')}`);
      return code;
    },
  };
}

// The Worker in workerd with `env` as its vars; flags exist only for the native server.
async function startWorkerProxy(env, args) {
  assert.deepEqual(args, [], 'command-line flags are native only');
  const worker = await startWorker({ API_KEY, LOG_LEVEL: 'info', ...env });
  running.add(worker.child);
  worker.child.on('exit', () => running.delete(worker.child));
  return {
    ...worker,
    client: makeClient(worker.url),
    async stop(signal) {
      const code = await worker.stop(signal);
      assertNoSecrets(worker.logs);
      return code;
    },
  };
}

export function makeClient(url, apiKey = API_KEY) {
  return new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0, timeout: 30_000 });
}

export function assertNoSecrets(logs) {
  for (const line of logs) {
    assert.ok(!line.includes(API_KEY), `a log line holds the API key: ${line}`);
    assert.ok(!JWT_PATTERN.test(line), `a log line holds a JWT: ${line}`);
  }
}

// Waits until /health reports at least `ready` tokens (polling the proxy's own health endpoint,
// which is the observable condition; each poll waits for the previous answer).
export async function waitReady(proxy, ready = 1, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await fetch(`${proxy.url}/health`).then((x) => x.json());
    if (r.pool && r.pool.ready >= ready) return r;
    if (Date.now() > deadline) throw new Error(`pool never reached ${ready} ready: ${JSON.stringify(r)}`);
    await new Promise((res) => setTimeout(res, 5));
  }
}

// A client of the fake's /__fake/ control API (README "Control API").
export function fakeControl(fake) {
  const call = async (method, pathname, body) => {
    const r = await fetch(`${fake.url}/__fake/${pathname}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json();
    if (r.status >= 400 && r.status !== 408) {
      throw new Error(`fake ${method} ${pathname} → ${r.status} ${JSON.stringify(json)}`);
    }
    return json;
  };
  return {
    call,
    reset: () => call('POST', 'reset', {}),
    config: (knobs) => call('POST', 'config', knobs),
    script: (s) => call('POST', 'script', s),
    dropScripts: () => call('DELETE', 'script'),
    pendingScripts: async () => (await call('GET', 'script')).scripts,
    stats: () => call('GET', 'stats'),
    revoke: (token) => call('POST', 'revoke', { token }),
    captcha: (options = {}) => call('POST', 'captcha', options),
    // Recorded requests, oldest first; by default the completions after `since`.
    async requests({ path: p = COMPLETIONS, since = 0, limit = 500 } = {}) {
      const q = new URLSearchParams({ limit: String(limit), since: String(since) });
      if (p) q.set('path', p);
      return (await call('GET', `requests?${q}`)).requests;
    },
    // The sequence number of the last recorded request, to read only what a test caused.
    async mark() {
      const all = await call('GET', 'requests?limit=1');
      return all.requests.length ? all.requests.at(-1).seq : 0;
    },
    // Resolves when the stats meet `conditions` (e.g. {open_streams: 0}); throws on timeout.
    async waitFor(conditions, timeoutMs = 5_000) {
      const q = new URLSearchParams({ ...conditions, timeout_ms: String(timeoutMs) });
      const r = await call('GET', `wait?${q}`);
      if (!r.ok) throw new Error(`fake never reached ${q}: ${JSON.stringify(r.stats)}`);
      return r.stats;
    },
  };
}

// A fake plus a proxy wired to it. `fake` holds the fake's config knobs (captcha off unless
// given), `env` the proxy's; `ready` is how many pool tokens to wait for.
export async function startStack({ fake: fakeConfig = {}, env = {}, ready } = {}) {
  const fake = await startFake({ config: { captcha_required: false, ...fakeConfig } });
  let proxy;
  try {
    proxy = await startProxy({ ZAI_BASE_URL: fake.url, TOKEN_POOL_SIZE: '1', ...env });
    const size = Number(env.TOKEN_POOL_SIZE ?? 1);
    if ((ready ?? size) > 0) await waitReady(proxy, ready ?? size);
  } catch (err) {
    if (proxy) await proxy.stop('SIGKILL').catch(() => {});
    await fake.close();
    throw err;
  }
  return {
    fake,
    proxy,
    client: proxy.client,
    ctl: fakeControl(fake),
    // Stops the proxy (checking its logs for secrets) and the fake; resolves with the exit code.
    async stop() {
      try {
        return await proxy.stop();
      } finally {
        await fake.close();
      }
    },
  };
}

export async function request(proxy, method, pathname, { body, headers = {}, auth = true } = {}) {
  const r = await fetch(`${proxy.url}${pathname}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(auth ? { authorization: `Bearer ${API_KEY}` } : {}),
      ...headers,
    },
    body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: r.status, headers: r.headers, text, json };
}

// Raw POST to the proxy; returns status, headers, the body text and (if JSON) the parsed body.
export function post(proxy, pathname, body, headers = {}) {
  return request(proxy, 'POST', pathname, { body, headers });
}

export function get(proxy, pathname, options = {}) {
  return request(proxy, 'GET', pathname, options);
}

// Opens a streaming completion (for an upstream scripted to stall after its first event) and
// reads the first relayed chunk, so the upstream stream is known to be open and stalled when it
// returns. `abort()` makes the client leave; `first` is the text of that first chunk.
export async function openStalledStream(proxy, body) {
  const controller = new AbortController();
  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: 'POST', signal: controller.signal,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const { value } = await reader.read();
  const first = decoder.decode(value, { stream: true });
  return {
    first,
    reader,
    abort: () => controller.abort(),
    // The whole stream: the first read and everything after it, until the proxy ends it.
    async whole() {
      let text = first;
      for (;;) {
        const { value: more, done } = await reader.read();
        if (done) return text + decoder.decode();
        text += decoder.decode(more, { stream: true });
      }
    },
  };
}

// Lines a real SSE stream may carry and the proxy must step over: comments, other fields, data
// that is not JSON, JSON that is not a completion event, events with no data.
export const SSE_GARBAGE = [
  ': a comment line\n\n',
  'data: this is not JSON at all\n\n',
  'event: ping\nid: 7\nretry: 100\n\n',
  'data: {"type":"chat:completion","data":\n\n',
  'data: {"type":"something:else","data":{"delta_content":"not this","phase":"answer"}}\n\n',
  'data: [1,2,3]\n\n',
  '\n\n\n',
  'data:\n\n',
];

// One answer event just over the proxy's 8 MiB bound on a single SSE event (sse_decoder);
// built on first use and kept.
let oversize;
export function oversizeSseEvent() {
  oversize ??= `data: {"type":"chat:completion","data":{"delta_content":"${'x'.repeat((8 << 20) + 64)}","phase":"answer"}}\n\n`;
  return oversize;
}

// Parses an SSE body into its data payloads (JSON objects, or the string '[DONE]').
export function sseEvents(text) {
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => {
    const data = b.slice(6);
    return data === '[DONE]' ? data : JSON.parse(data);
  });
}

// What an OpenAI stream said, from its chunks (SDK objects or parsed SSE payloads): the text per
// channel, the order in which channels appeared, the finish reasons, the ids seen, usage chunks
// and error events.
export function summarize(chunks) {
  const out = { role: undefined, reasoning: '', content: '', order: [], finish: [], ids: new Set(),
                created: new Set(), models: new Set(), usageChunks: [], errors: [], done: false,
                chunks: 0 };
  for (const c of chunks) {
    if (c === '[DONE]') { out.done = true; continue; }
    assert.ok(!out.done, 'nothing may follow [DONE]');
    if (c.error) { out.errors.push(c.error); continue; }
    out.chunks++;
    assert.equal(c.object, 'chat.completion.chunk');
    out.ids.add(c.id);
    out.created.add(c.created);
    out.models.add(c.model);
    if (c.usage) out.usageChunks.push(c);
    for (const choice of c.choices) {
      assert.equal(choice.index, 0);
      const d = choice.delta ?? {};
      if (d.role !== undefined) {
        assert.equal(out.role, undefined, 'role is sent once');
        assert.equal(out.chunks, 1, 'role rides on the first chunk');
        out.role = d.role;
      }
      if (d.reasoning_content) {
        out.reasoning += d.reasoning_content;
        if (out.order.at(-1) !== 'R') out.order.push('R');
      }
      if (d.content) {
        out.content += d.content;
        if (out.order.at(-1) !== 'C') out.order.push('C');
      }
      if (choice.finish_reason) out.finish.push(choice.finish_reason);
    }
  }
  return out;
}

// Collects an SDK stream (`for await`); returns the chunks and the error it threw, if any.
export async function drain(stream) {
  const chunks = [];
  try {
    for await (const c of stream) chunks.push(c);
  } catch (error) {
    return { chunks, error };
  }
  return { chunks, error: undefined };
}

// A loopback captcha provider for CAPTCHA_PROVIDER_URL: each GET mints one token from the fake's
// /__fake/captcha (bound to 127.0.0.1, the proxy's address) unless `mode` says otherwise.
export async function startCaptchaProvider(fake) {
  const provider = { calls: 0, tokens: [], mode: 'ok' };
  const server = http.createServer(async (req, res) => {
    provider.calls++;
    if (provider.mode === 'fail') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":"no captcha today"}');
      return;
    }
    const r = await fetch(`${fake.url}/__fake/captcha`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ip":"127.0.0.1"}',
    }).then((x) => x.json());
    provider.tokens.push(r.token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ captcha_verify_param: r.token }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  provider.url = `http://127.0.0.1:${server.address().port}/captcha`;
  provider.close = async () => {
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
  };
  return provider;
}

// The JSON payload of a JWT (decoded, not verified).
export function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

export const bearerOf = (record) => record.headers.authorization.replace(/^Bearer /, '');

// Asserts an OpenAI error body and returns its `error` object.
export function assertOpenAIError(res, status, code) {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.ok(res.json && typeof res.json.error === 'object', `not an OpenAI error: ${res.text}`);
  const e = res.json.error;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.equal(typeof e.type, 'string');
  if (code !== undefined) assert.equal(e.code, code, `code of ${res.text}`);
  return e;
}

// After a fault: nothing is left open upstream (no request or stream the fake still serves) and,
// unless the fault rightly rests the pool, the proxy answers the next request normally.
export async function assertRecovered(stack, { serves = true } = {}) {
  await stack.ctl.waitFor({ open_streams: 0, open_requests: 0 });
  if (!serves) return;
  const r = await post(stack.proxy, '/v1/chat/completions',
    { model: 'glm-4.7', messages: [{ role: 'user', content: 'next' }] });
  assert.equal(r.status, 200, `the request after the fault: ${r.text}`);
  assert.equal(r.json.choices[0].message.content, 'You said: next');
}

// A stack for the enclosing describe(): started before its first test, stopped (exit code 0 and
// secret-free logs asserted) after its last. The returned object fills in once started.
export function useStack(options) {
  const ref = {};
  before(async () => Object.assign(ref, await startStack(options)));
  after(async () => assert.equal(await ref.stop(), 0));
  return ref;
}
