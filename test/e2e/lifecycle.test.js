// The proxy under load and at its edges: 50 parallel streams, a client that leaves mid-stream
// (the upstream stream must close promptly and the proxy keep serving), SIGTERM (in-flight
// streams finish, exit code 0; past the grace period they are cut with an error), and logs that never hold the API key or a guest token.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import {
  API_KEY, assertNoSecrets, assertOpenAIError, bearerOf, CLIENT_GONE_UNSEEN, drain, get, makeClient,
  nativeOnly, openStalledStream, post, proxyBin, sseEvents, startStack, summarize, useStack,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const THINKING_TEXT = 'The user sent a message.\n\nI will echo it back.';
const LONG_FIRST = 'A first piece that is long enough to be relayed at once.';
const stalled = (times = 1) => ({
  events: [{ delta_content: LONG_FIRST, phase: 'answer' }, { delta_content: ' The end.', phase: 'answer' }],
  finish: true,
  times,
  transport: { stall_after_events: 1, stall_ms: 30_000 },
});

describe('50 parallel streams', () => {
  const stack = useStack({
    env: { TOKEN_POOL_SIZE: '5' },
    fake: { max_inflight_per_user: 0, chunk_mode: 'random_bytes', chunk_max_bytes: 11 },
  });

  test('all complete with their own exact answer', async () => {
    const since = await stack.ctl.mark();
    const n = 50;
    const results = await Promise.all(Array.from({ length: n }, async (_, i) => {
      const prompt = `parallel stream number ${i} — ünïcödé ✓`;
      const { chunks, error } = await drain(await stack.client.chat.completions.create({
        model: 'glm-4.7', messages: user(prompt), stream: true, thinking: { type: 'enabled' },
        stream_options: { include_usage: true },
      }));
      assert.equal(error, undefined);
      const s = summarize(chunks);
      assert.equal(s.role, 'assistant');
      assert.equal(s.reasoning, THINKING_TEXT);
      assert.equal(s.content, `You said: ${prompt}`);
      assert.deepEqual(s.order, ['R', 'C']);
      assert.deepEqual(s.finish, ['stop']);
      assert.equal(s.ids.size, 1);
      assert.equal(s.usageChunks.length, 1);
      return [...s.ids][0];
    }));
    assert.equal(new Set(results).size, n, 'every completion has its own id');
    const recs = await stack.ctl.requests({ since });
    assert.equal(recs.length, n, 'no retries were needed');
    const perToken = new Map();
    for (const r of recs) perToken.set(r.query.user_id, (perToken.get(r.query.user_id) ?? 0) + 1);
    assert.equal(perToken.size, 5, 'the load spreads over every token');
    const stats = await stack.ctl.waitFor({ open_streams: 0 });
    assert.equal(stats.streams.completed >= n, true);
    assert.equal((await get(stack.proxy, '/health')).json.pool.in_flight, 0);
  });
});

describe('a client that leaves mid-stream', nativeOnly(CLIENT_GONE_UNSEEN), () => {
  const stack = useStack({});

  test('SDK stream aborted: the upstream stream closes promptly', async () => {
    await stack.ctl.script(stalled());
    const before = (await stack.ctl.stats()).streams.aborted;
    const abort = new AbortController();
    const stream = await stack.client.chat.completions.create(
      { model: 'glm-4.7', messages: user('abort me'), stream: true }, { signal: abort.signal });
    let content = '';
    const finishes = [];
    // The SDK ends the iteration quietly when its signal aborts.
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (content) abort.abort();
    }
    assert.deepEqual(finishes, []);
    assert.ok(LONG_FIRST.startsWith(content), content);
    // The fake's stall lasts 30 s; the proxy must close its side within a second of the abort.
    await stack.ctl.waitFor({ open_streams: 0, 'streams.aborted': before + 1, open_requests: 0 }, 1_000);
  });

  test('non-stream request abandoned while the upstream is silent: the upstream closes too', async () => {
    await stack.ctl.script({ ...stalled(), transport: { first_event_delay_ms: 30_000 } });
    const before = (await stack.ctl.stats()).streams.aborted;
    const abort = new AbortController();
    const pending = fetch(`${stack.proxy.url}/v1/chat/completions`, {
      method: 'POST', signal: abort.signal,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ model: 'glm-4.7', messages: user('never mind') }),
    });
    await stack.ctl.waitFor({ open_streams: 1 });
    abort.abort();
    await assert.rejects(pending);
    await stack.ctl.waitFor({ open_streams: 0, 'streams.aborted': before + 1, open_requests: 0 }, 1_000);
  });

  test('the proxy serves the next request normally, with its token released', async () => {
    const r = await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('next'), stream: false });
    assert.equal(r.choices[0].message.content, 'You said: next');
    const pool = (await get(stack.proxy, '/health')).json.pool;
    assert.equal(pool.in_flight, 0);
    assert.equal(pool.ready, 1);
  });
});

describe('SIGTERM', nativeOnly('signals and exit codes belong to the native process'), () => {
  test('a stream in flight finishes, even through a second SIGTERM, then the proxy exits 0', async () => {
    const stack = await startStack({});
    try {
      await stack.ctl.script({ ...stalled(), transport: { stall_after_events: 1, stall_ms: 300 } });
      const res = await fetch(`${stack.proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ model: 'glm-4.7', messages: user('finish me'), stream: true }),
      });
      assert.equal(res.status, 200);
      const reader = res.body.getReader();
      let text = new TextDecoder().decode((await reader.read()).value);
      stack.proxy.signal('SIGTERM');
      // An impatient second signal (signal() sends only one) neither kills nor hurries the drain.
      stack.proxy.child.kill('SIGTERM');
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const s = summarize(sseEvents(text));
      assert.equal(s.content, `${LONG_FIRST} The end.`);
      assert.deepEqual(s.finish, ['stop']);
      assert.ok(s.done);
    } finally {
      assert.equal(await stack.stop(), 0);
    }
  });
});

describe('SIGTERM past SHUTDOWN_GRACE_MS', nativeOnly('signals and exit codes belong to the native process'), () => {
  test('requests still in flight are cut with server_shutting_down, the upstream closed, exit 0', async () => {
    const stack = await startStack({ env: { SHUTDOWN_GRACE_MS: '300' }, fake: { max_inflight_per_user: 0 } });
    try {
      // Both upstream streams stall for 30 s after their first event, far past the grace.
      await stack.ctl.script(stalled(2));
      const stream = await openStalledStream(stack.proxy, { model: 'glm-4.7', messages: user('cut me') });
      const whole = post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7', messages: user('and me') });
      await stack.ctl.waitFor({ open_streams: 2 });
      stack.proxy.signal('SIGTERM');

      // The stream keeps what it had, then ends with an error event instead of finishing.
      const text = await stream.whole();
      const s = summarize(sseEvents(text));
      assert.equal(s.content, LONG_FIRST);
      assert.deepEqual(s.finish, []);
      assert.equal(s.done, false);
      assert.equal(s.errors.length, 1, text);
      assert.equal(s.errors[0].code, 'server_shutting_down');

      // The non-streamed one had nothing to show: a plain 503 the SDKs retry.
      const r = await whole;
      assertOpenAIError(r, 503, 'server_shutting_down');
      assert.equal(r.headers.get('retry-after'), '1');

      await stack.ctl.waitFor({ open_streams: 0 });
      assert.ok(stack.proxy.logs.some((l) => /"phase":"cutting"/.test(l)), 'the cut is logged');
    } finally {
      assert.equal(await stack.stop(), 0);
    }
  });
});

describe('logs', nativeOnly('the access log is the native server\'s stderr'), () => {
  test('one JSON line per request, never the API key or a guest token (debug level); SIGTERM exits 0', async () => {
    const stack = await startStack({ env: { LOG_LEVEL: 'debug', TOKEN_POOL_SIZE: '2' } });
    let secrets;
    try {
      const since = await stack.ctl.mark();
      await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('log me') });
      const [rec] = await stack.ctl.requests({ since });
      await stack.ctl.revoke(bearerOf(rec));
      await drain(await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('again'), stream: true }));
      await stack.ctl.script({ http: 405 });
      await post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7', messages: user('blocked') });
      await post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7', messages: user('bad key') }, { authorization: 'Bearer sk-wrong-secret-key' });
      await makeClient(stack.proxy.url).models.list();
      secrets = [API_KEY, 'sk-wrong-secret-key',
        ...(await stack.ctl.requests({ since: 0, path: null })).flatMap((r) => r.headers.authorization ? [bearerOf(r)] : [])];
    } finally {
      assert.equal(await stack.stop(), 0);
    }
    const logs = stack.proxy.logs;
    assert.ok(logs.some((l) => /"event":"shutdown"/.test(l)), 'the SIGTERM drain is logged');
    assertNoSecrets(logs);
    for (const line of logs) for (const s of secrets) assert.ok(!line.includes(s), `secret in: ${line}`);
    const requests = logs.map((l) => JSON.parse(l)).filter((l) => l.event === 'request');
    // Two completions, the 405 one, the bad key, the models list, plus the harness's /health polls.
    const chat = requests.filter((l) => l.path === '/v1/chat/completions');
    assert.deepEqual(chat.map((l) => l.status), ['200', '200', '503', '401']);
    for (const l of chat) {
      for (const k of ['method', 'path', 'status', 'model', 'pool_slot', 'latency_ms', 'ttfb_ms']) assert.ok(k in l, k);
    }
    assert.equal(chat[0].model, 'glm-4.7');
    assert.ok(requests.some((l) => l.path === '/v1/models' && l.status === '200'));
  });
});

describe('bad configuration', nativeOnly('start-up of the native binary; the Worker has none (worker.test.js covers its answer)'), () => {
  const cases = [
    ['TOKEN_POOL_SIZE', 'many'],
    ['ZAI_BASE_URL', 'ftp://example.com'],
    ['ZAI_MODELS', '{"broken": '],
    ['PORT', '70000'],
  ];
  for (const [name, value] of cases) {
    test(`${name}=${value} stops start-up with one line naming it`, () => {
      const r = spawnSync(proxyBin, ['--host', '127.0.0.1'], {
        env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS, [name]: value },
        encoding: 'utf8', timeout: 10_000,
      });
      assert.notEqual(r.status, 0);
      assert.equal(r.signal, null);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.ok(lines[0].includes(name), lines[0]);
    });
  }
});
