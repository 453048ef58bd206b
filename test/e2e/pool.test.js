// TOKEN_POOL_SIZE 0, 1 and 5: what /health reports, how many guests the proxy mints, which token
// serves which request (idle first, least recently used), and that an empty pool is a 503 with
// Retry-After rather than a hang or an upstream request.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  assertOpenAIError, CLIENT_GONE_UNSEEN, get, nativeOnly, openStalledStream, post, useStack,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello'), thinking: { type: 'disabled' } };

// `times` upstream answers that send one event and then stall for longer than any test runs.
const stallAfterFirst = (times) => ({
  events: [{ delta_content: 'A first piece that is long enough to be relayed at once.', phase: 'answer' },
    { delta_content: ' The end.', phase: 'answer' }],
  finish: true,
  times,
  transport: { stall_after_events: 1, stall_ms: 30_000 },
});

async function usersOf(stack, since) {
  return (await stack.ctl.requests({ since })).map((r) => r.query.user_id);
}

describe('TOKEN_POOL_SIZE=0', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '0' } });

  test('health shows an empty pool and readiness fails', async () => {
    const h = await get(stack.proxy, '/health');
    assert.equal(h.status, 200);
    assert.equal(h.json.pool.total, 0);
    assert.equal(h.json.pool.ready, 0);
    assert.equal((await get(stack.proxy, '/readyz')).status, 503);
  });

  for (const stream of [false, true]) {
    test(`a completion is a 503 with Retry-After (${stream ? 'stream' : 'non-stream'})`, async () => {
      const r = await post(stack.proxy, '/v1/chat/completions', { ...hello, stream });
      const e = assertOpenAIError(r, 503, 'no_token_available');
      assert.equal(e.type, 'server_error');
      assert.ok(Number(r.headers.get('retry-after')) >= 1, `retry-after ${r.headers.get('retry-after')}`);
    });
  }

  test('the SDK raises InternalServerError 503', async () => {
    await assert.rejects(stack.client.chat.completions.create(hello),
      (e) => e instanceof OpenAI.InternalServerError && e.status === 503 && e.code === 'no_token_available');
  });

  test('nothing was minted and nothing reached the upstream; models still work', async () => {
    const s = await stack.ctl.stats();
    assert.equal(s.guests_minted, 0);
    assert.equal(s.completions?.total ?? 0, 0);
    assert.equal((await get(stack.proxy, '/v1/models')).status, 200);
  });
});

describe('TOKEN_POOL_SIZE=1', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '1' } });

  test('one guest serves every request', async () => {
    const h = await get(stack.proxy, '/health');
    assert.deepEqual([h.json.pool.total, h.json.pool.ready], [1, 1]);
    assert.equal((await get(stack.proxy, '/readyz')).status, 200);
    const since = await stack.ctl.mark();
    for (let i = 0; i < 3; i++) {
      const r = await stack.client.chat.completions.create({ ...hello, messages: user(`n${i}`) });
      assert.equal(r.choices[0].message.content, `You said: n${i}`);
    }
    const users = await usersOf(stack, since);
    assert.equal(users.length, 3);
    assert.equal(new Set(users).size, 1);
    assert.equal((await stack.ctl.stats()).guests_minted, 1);
  });

  test('health counts the lease while a stream is open', nativeOnly(CLIENT_GONE_UNSEEN), async () => {
    await stack.ctl.script(stallAfterFirst(1));
    const stalled = await openStalledStream(stack.proxy, hello);
    const pool = (await get(stack.proxy, '/health')).json.pool;
    assert.equal(pool.in_flight, 1);
    assert.equal(pool.busy, 1);
    stalled.abort();
    await stack.ctl.waitFor({ open_streams: 0 });
    const deadline = Date.now() + 5_000;
    while ((await get(stack.proxy, '/health')).json.pool.in_flight !== 0) {
      assert.ok(Date.now() < deadline, 'the lease was never released');
      await new Promise((r) => setTimeout(r, 5));
    }
  });
});

describe('TOKEN_POOL_SIZE=5', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '5' } });

  test('five guests are minted at start-up, before any request asks for one', async () => {
    const h = await get(stack.proxy, '/health');
    assert.deepEqual([h.json.pool.total, h.json.pool.ready], [5, 5]);
    const s = await stack.ctl.stats();
    assert.equal(s.guests_minted, 5);
    assert.equal(s.completions?.total ?? 0, 0);
  });

  test('sequential requests rotate through every token, least recently used first', async () => {
    const since = await stack.ctl.mark();
    for (let i = 0; i < 10; i++) await post(stack.proxy, '/v1/chat/completions', hello);
    const users = await usersOf(stack, since);
    assert.equal(new Set(users.slice(0, 5)).size, 5, 'the first five use five tokens');
    assert.deepEqual(users.slice(5), users.slice(0, 5), 'then the same order again');
  });

  test('five concurrent streams hold five different tokens (the fake allows one stream per guest)',
       nativeOnly(CLIENT_GONE_UNSEEN), async () => {
    await stack.ctl.script(stallAfterFirst(5));
    const streams = await Promise.all([0, 1, 2, 3, 4].map(() => openStalledStream(stack.proxy, hello)));
    for (const s of streams) assert.match(s.first, /"role":"assistant"/);
    const stats = await stack.ctl.waitFor({ open_streams: 5 });
    const inflight = Object.values(stats.inflight).filter((n) => n > 0);
    assert.deepEqual(inflight, [1, 1, 1, 1, 1]);
    assert.equal((await get(stack.proxy, '/health')).json.pool.busy, 5);

    // A sixth finds every guest at the fake's concurrency limit: 429s, retried on other tokens,
    // then a 429 for the client.
    const since = await stack.ctl.mark();
    const sixth = await post(stack.proxy, '/v1/chat/completions', hello);
    assertOpenAIError(sixth, 429, 'rate_limit_exceeded');
    const recs = await stack.ctl.requests({ since });
    assert.ok(recs.length >= 2, 'retried on another token');
    for (const r of recs) assert.equal(r.outcome.detail, 'concurrency');
    assert.equal(new Set(recs.map((r) => r.query.user_id)).size, recs.length, 'each retry on another token');

    for (const s of streams) s.abort();
    await stack.ctl.waitFor({ open_streams: 0, open_requests: 0 });
  });
});
