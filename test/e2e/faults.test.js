// Upstream faults below the HTTP level: garbage and oversize SSE events, error frames split at
// random bytes, an upstream that refuses connections, and a client that stops reading a long
// stream. Each test checks what the client sees, that the proxy serves the next request normally,
// and that no upstream request or stream is left open at the fake.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { afterEach, describe, test } from 'node:test';
import { startFake } from '../fake-zai/server.js';
import {
  API_KEY, assertOpenAIError, fakeControl, get, nativeOnly, oversizeSseEvent, post, SSE_GARBAGE,
  sseEvents, startProxy, summarize, useStack, waitReady,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello'), thinking: { type: 'disabled' } };
const helloStream = { ...hello, stream: true };
const answer = (text) => ({ delta_content: text, phase: 'answer' });
const FIRST = 'A first piece that is long enough to be relayed at once.';

const GARBAGE = SSE_GARBAGE;

// The fake holds no upstream request or stream open, and the proxy only idle keep-alive
// connections: one per request in flight at a time here, plus one that may still have been
// reading the previous answer's tail (app::drain_and_keep) when the next request took another.
async function assertUpstreamIdle(stack) {
  await stack.ctl.waitFor({ open_streams: 0, open_requests: 0, open_connections_lte: 2 });
}

async function assertServesNext(stack) {
  const r = await stack.client.chat.completions.create(hello);
  assert.equal(r.choices[0].message.content, 'You said: Hello');
  await assertUpstreamIdle(stack);
}

describe('garbage and oversize SSE events, and random byte splits', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '2' } });
  afterEach(async () => {
    await stack.ctl.reset();
    await assertServesNext(stack);
  });
  const garbled = (transport = {}) => ({
    events: [GARBAGE[0], answer('Garbage '), ...GARBAGE, answer('does not '), GARBAGE[1], answer('stop me.')],
    finish: true,
    transport,
  });

  test('garbage lines between events are skipped (stream)', async () => {
    await stack.ctl.script(garbled());
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    assert.equal(r.status, 200);
    const s = summarize(sseEvents(r.text));
    assert.equal(s.content, 'Garbage does not stop me.');
    assert.deepEqual(s.finish, ['stop']);
    assert.deepEqual(s.errors, []);
    assert.ok(s.done);
  });

  test('garbage lines between events are skipped (non-stream)', async () => {
    await stack.ctl.script(garbled());
    const r = await stack.client.chat.completions.create(hello);
    assert.equal(r.choices[0].message.content, 'Garbage does not stop me.');
    assert.equal(r.choices[0].finish_reason, 'stop');
  });

  test('garbage split at random bytes is skipped the same way', async () => {
    for (const seed of [1, 2, 3]) {
      await stack.ctl.script(garbled({ chunk_mode: 'random_bytes', chunk_seed: seed, chunk_max_bytes: 3 }));
      const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
      const s = summarize(sseEvents(r.text));
      assert.equal(s.content, 'Garbage does not stop me.', `seed ${seed}`);
      assert.ok(s.done);
    }
  });

  test('a stream of nothing but garbage is retried like a truncated one', async () => {
    await stack.ctl.script({ events: GARBAGE, finish: false });
    const since = await stack.ctl.mark();
    const r = await stack.client.chat.completions.create(hello);
    assert.equal(r.choices[0].message.content, 'You said: Hello');
    assert.equal((await stack.ctl.requests({ since })).length, 2);
  });

  test('an oversize event after content: the content, then an error chunk and no [DONE]', async () => {
    await stack.ctl.script({ events: [answer(FIRST), oversizeSseEvent(), answer(' Never.')], finish: true });
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    assert.equal(r.status, 200);
    const events = sseEvents(r.text);
    const s = summarize(events);
    assert.equal(s.content, FIRST);
    assert.deepEqual(s.finish, []);
    assert.equal(s.errors.length, 1);
    assert.equal(s.errors[0].code, 'upstream_error');
    assert.match(s.errors[0].message, /oversized/);
    assert.ok(events.at(-1).error, 'the error chunk ends the stream');
    assert.equal(s.done, false);
  });

  test('an oversize event, non-stream: a 502 without the partial answer', async () => {
    await stack.ctl.script({ events: [answer(FIRST), oversizeSseEvent(), answer(' Never.')], finish: true });
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    const e = assertOpenAIError(r, 502, 'upstream_error');
    assert.match(e.message, /oversized/);
    assert.doesNotMatch(r.text, /first piece/);
  });

  test('an oversize event before any content is retried, and the client never notices', async () => {
    await stack.ctl.script({ events: [oversizeSseEvent(), answer(' Never.')], finish: true });
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    const s = summarize(sseEvents(r.text));
    assert.equal(s.content, 'You said: Hello');
    assert.ok(s.done);
    assert.equal((await stack.ctl.requests({ since })).length, 2);
  });

  // Successful samples at random splits are in completions.test.js; these are the endings.
  for (const seed of [7, 8]) {
    test(`S10 and S15 split at random bytes end as unsplit (seed ${seed})`, async () => {
      const transport = { chunk_mode: 'random_bytes', chunk_seed: seed, chunk_max_bytes: 2 };
      await stack.ctl.script({ sample: 'S10', transport });
      const partial = summarize(sseEvents((await post(stack.proxy, '/v1/chat/completions', helloStream)).text));
      assert.equal(partial.content, 'Partial answ');
      assert.deepEqual(partial.errors.map((e) => e.code), ['upstream_error']);
      assert.equal(partial.done, false);
      await assertUpstreamIdle(stack);
      await stack.ctl.script({ sample: 'S15', transport });
      const filtered = summarize(sseEvents((await post(stack.proxy, '/v1/chat/completions', helloStream)).text));
      assert.deepEqual(filtered.finish, ['content_filter']);
      assert.equal(filtered.content, '');
      assert.ok(filtered.done);
    });
  }
});

describe('a stream that ends in an error chunk', () => {
  const stack = useStack({});

  // The response is complete (its last chunk was sent) and did not say `Connection: close`, so
  // a client reuses the connection; closing it after the error would fail that client's next
  // request (undici: "other side closed").
  test('leaves the client\'s keep-alive connection usable for the next request', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body) => new Promise((resolve, reject) => {
      const req = http.request(`${stack.proxy.url}/v1/chat/completions`, {
        method: 'POST', agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (piece) => { text += piece; });
        res.on('end', () => resolve({ res, text, socket: req.socket }));
      });
      req.on('error', reject);
      req.end(JSON.stringify(body));
    });
    try {
      await stack.ctl.script({ sample: 'S10' });
      const failed = await send(helloStream);
      assert.equal(summarize(sseEvents(failed.text)).errors.length, 1);
      assert.notEqual(failed.res.headers.connection, 'close');
      const next = await send(hello);
      assert.equal(next.res.statusCode, 200);
      assert.equal(next.socket, failed.socket, 'the next request went out on the same connection');
    } finally {
      agent.destroy();
    }
  });
});

// A loopback TCP gate in front of the fake that can be shut (connections refused) and opened
// again on the same port.
async function startGate(target) {
  const sockets = new Set();
  let server;
  const gate = {
    async open(port = 0) {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => {});
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      gate.port = server.address().port;
      gate.url = `http://127.0.0.1:${gate.port}`;
    },
    async shut() {
      const closed = new Promise((res) => server.close(res));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
  await gate.open();
  return gate;
}

async function freePort() {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address();
  await new Promise((res) => s.close(res));
  return port;
}

describe('an upstream that refuses connections', () => {
  test('while running: a 502 upstream_error, then served again once it is back', async () => {
    const fake = await startFake({ config: { captcha_required: false } });
    const ctl = fakeControl(fake);
    const gate = await startGate(fake);
    const proxy = await startProxy({ ZAI_BASE_URL: gate.url, TOKEN_POOL_SIZE: '1' });
    const stack = { proxy, ctl, client: proxy.client };
    try {
      await waitReady(proxy);
      await assertServesNext(stack);  // leaves an idle keep-alive connection through the gate
      await gate.shut();
      await ctl.waitFor({ open_connections: 0 });
      for (const body of [hello, helloStream]) {
        const r = await post(proxy, '/v1/chat/completions', body);
        const e = assertOpenAIError(r, 502, 'upstream_error');
        assert.match(e.message, /reach the upstream/);
      }
      // A refused connection is the network's fault: the token stays in service.
      assert.equal((await get(proxy, '/health')).json.pool.ready, 1);
      await gate.open(gate.port);
      await assertServesNext(stack);
    } finally {
      assert.equal(await proxy.stop(), 0);
      await gate.shut();
      await fake.close();
    }
  });

  test('from start-up: 503 no_token_available until the upstream comes up, then served', async () => {
    const port = await freePort();
    const proxy = await startProxy({ ZAI_BASE_URL: `http://127.0.0.1:${port}`, TOKEN_POOL_SIZE: '1' });
    let fake;
    try {
      for (const body of [hello, helloStream]) {
        const r = await post(proxy, '/v1/chat/completions', body);
        assertOpenAIError(r, 503, 'no_token_available');
        assert.ok(Number(r.headers.get('retry-after')) >= 1, `retry-after ${r.headers.get('retry-after')}`);
      }
      assert.equal((await get(proxy, '/readyz')).status, 503);
      fake = await startFake({ port, config: { captcha_required: false } });
      await waitReady(proxy, 1, 30_000);  // the next mint attempt, after its back-off
      await assertServesNext({ proxy, client: proxy.client, ctl: fakeControl(fake) });
    } finally {
      assert.equal(await proxy.stop(), 0);
      await fake?.close();
    }
  });
});

// VmRSS of a process, in KiB.
const rssKb = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

describe('a client that stops reading a long, fast stream', nativeOnly('reads the proxy process\'s memory from /proc'), () => {
  // 300 000 deltas: about 25 MB from the upstream and 50 MB to the client, far more than the
  // socket buffers between them hold. A 1 ms stall puts the fake on its paced path, where each
  // write waits for the socket to take the previous one — so it feels the back-pressure.
  const DELTAS = 300_000;
  // Under AddressSanitizer freed memory sits in a quarantine instead of being reused, so RSS
  // would measure how much the proxy allocated, not how much it holds; this stack turns the
  // quarantine off (harmless for a build without ASan).
  const stack = useStack({ fake: { answer_deltas: DELTAS, stall_ms: 1, stall_after_events: 1,
                                    chunk_mode: 'coalesce', coalesce_events: 64 },
                           env: { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=0'].filter(Boolean).join(':') } });

  test('back-pressures the upstream with bounded memory, then delivers every delta', async () => {
    const before = rssKb(stack.proxy.child.pid);
    const since = await stack.ctl.mark();
    const req = http.request(`${stack.proxy.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    });
    req.end(JSON.stringify(helloStream));
    const [res] = await once(req, 'response');
    assert.equal(res.statusCode, 200);
    // Nothing reads `res` yet: Node stops reading the socket once its small buffer is full.
    await stack.ctl.waitFor({ open_streams: 1 });
    // The upstream cannot finish while the client does not read (were it not held back, the
    // whole stream would be written within milliseconds): wait for it to, and expect to time out.
    const held = await stack.ctl.call('GET', 'wait?streams.completed_gte=1&timeout_ms=1500');
    assert.equal(held.ok, false, 'the upstream finished although the client read nothing');
    const [rec] = await stack.ctl.requests({ since });
    const progress = rec.outcome.stream;
    assert.equal(progress.end, 'open');
    assert.ok(progress.events_written < progress.events_total / 2,
      `upstream wrote ${progress.events_written} of ${progress.events_total} events`);
    const grown = rssKb(stack.proxy.child.pid) - before;
    assert.ok(grown < 16 * 1024, `the proxy grew by ${grown} KiB while the client was not reading`);

    res.setEncoding('utf8');
    let text = '';
    res.on('data', (piece) => { text += piece; });
    await once(res, 'end');
    const s = summarize(sseEvents(text));
    // Compared without printing: a failure would otherwise dump megabytes. (The answer's
    // trailing space is trimmed, as the web front end does.)
    const expected = Array.from({ length: DELTAS }, (_, i) => `w${i} `).join('').trimEnd();
    assert.ok(s.content === expected, `content of ${s.content.length} chars, expected ${expected.length}`);
    assert.deepEqual(s.finish, ['stop']);
    assert.ok(s.done);
    await stack.ctl.reset();
    await stack.ctl.config({ answer_deltas: 0, stall_ms: 0, chunk_mode: 'event' });
    await assertServesNext(stack);
  });
});
