// Three behaviours of the completion flow that users met: every guest session invalidated at
// once, a single WAF block page, and an upstream that stays silent before its first text. Each
// runs against the native server and the Worker (ZAI_TARGET=worker).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertOpenAIError, drain, get, nativeOnly, post, sseEvents, summarize, useStack,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello'), thinking: { type: 'disabled' } };
const helloStream = { ...hello, stream: true };

function assertBlocked(r) {
  const e = assertOpenAIError(r, 503, 'upstream_blocked');
  assert.doesNotMatch(r.text, /<html|<!doctype|<title|aliyun|textarea/i);
  assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After is set');
  return e;
}

async function breakerState(stack) {
  return (await get(stack.proxy, '/health')).json.waf_breaker.state;
}

describe('every guest session invalidated at once', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { TOKEN_POOL_SIZE: '3' } });

  test('the next request succeeds on a freshly minted token, not on another stale one', async () => {
    // The upstream forgets every session it issued (as after a deploy): all three pooled
    // tokens are dead now. (The reset zeroes the fake's counters too.)
    await stack.ctl.call('POST', 'reset', { users: true });
    const minted = (await stack.ctl.stats()).guests_minted;
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'You said: Hello');
    const attempts = await stack.ctl.requests({ since });
    assert.deepEqual(attempts.map((a) => a.status), [401, 200],
      'one rejected attempt, then one on a token minted after the rejection');
    assert.notEqual(attempts[1].query.user_id, attempts[0].query.user_id);
    assert.ok((await stack.ctl.stats()).guests_minted > minted, 'a fresh guest was minted');
  });

  test('the requests after it succeed too, streamed or not', async () => {
    for (const body of [hello, helloStream, hello, helloStream]) {
      const r = await post(stack.proxy, '/v1/chat/completions', body);
      assert.equal(r.status, 200, r.text);
      if (body.stream) assert.equal(summarize(sseEvents(r.text)).content, 'You said: Hello');
    }
    await stack.ctl.waitFor({ open_streams: 0 });
  });

  test('only a fresh token rejected too is a 502', async () => {
    await stack.ctl.script({ http: 401, times: 2 });
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    assertOpenAIError(r, 502, 'upstream_error');
    const attempts = await stack.ctl.requests({ since });
    assert.equal(attempts.length, 2);
    assert.notEqual(attempts[1].query.user_id, attempts[0].query.user_id);
  });
});

describe('one WAF block page', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { WAF_COOLDOWN_MS: '300' } });

  for (const body of [hello, helloStream]) {
    test(`answers its own request 503 and stops no one else (${body.stream ? 'stream' : 'non-stream'})`, async () => {
      await stack.ctl.script({ http: 405 });
      const since = await stack.ctl.mark();
      assertBlocked(await post(stack.proxy, '/v1/chat/completions', body));
      assert.equal((await stack.ctl.requests({ since })).length, 1, 'the same version is not retried');
      assert.equal(await breakerState(stack), 'closed');
      const next = await post(stack.proxy, '/v1/chat/completions', body);
      assert.equal(next.status, 200, next.text);
    });
  }

  test('a stale front-end version is scraped anew and the request retried with it, invisibly', async () => {
    // Since prod-fe-1.1.93 the upstream answers a stale X-FE-Version with its block page.
    await stack.ctl.config({ fe_version: 'prod-fe-1.1.99' });
    try {
      const since = await stack.ctl.mark();
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      assert.equal(r.status, 200, r.text);
      const seen = (await stack.ctl.requests({ since, path: '' })).map((x) =>
        `${x.method} ${x.path} ${x.status}${x.headers['x-fe-version'] ? ` ${x.headers['x-fe-version']}` : ''}`);
      assert.deepEqual(seen, [
        'POST /api/v2/chat/completions 405 prod-fe-1.1.98',
        'GET / 200',
        'POST /api/v2/chat/completions 200 prod-fe-1.1.99',
      ]);
      assert.equal((await get(stack.proxy, '/health')).json.fe_version, 'prod-fe-1.1.99');
      assert.equal(await breakerState(stack), 'closed');
    } finally {
      await stack.ctl.reset();
    }
  });

  test('blocks of three different requests in a row open the breaker for everyone', async () => {
    await stack.ctl.script({ http: 405, times: 3 });
    for (let i = 0; i < 3; i++) assertBlocked(await post(stack.proxy, '/v1/chat/completions', hello));
    assert.equal(await breakerState(stack), 'open');
    const since = await stack.ctl.mark();
    assertBlocked(await post(stack.proxy, '/v1/chat/completions', hello));
    assert.equal((await stack.ctl.requests({ since })).length, 0, 'the open breaker spares the upstream');
  });
});

describe('an upstream silent before its first text', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { SSE_KEEPALIVE_MS: '100' } });

  test('the head and keep-alive comments go out before the answer', async () => {
    await stack.ctl.script({ generate: {}, transport: { first_event_delay_ms: 450 } });
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    assert.ok(r.text.startsWith(': keep-alive\n\n'), JSON.stringify(r.text.slice(0, 60)));
    const s = summarize(sseEvents(r.text));
    assert.equal(s.content, 'You said: Hello');
    assert.deepEqual(s.finish, ['stop']);
    assert.ok(s.done);
  });

  test('an error after the head is an error event, not a status', async () => {
    await stack.ctl.script({ sample: 'S09', transport: { first_event_delay_ms: 450 } });
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    assert.equal(r.status, 200);
    assert.ok(r.text.startsWith(': keep-alive\n\n'), JSON.stringify(r.text.slice(0, 60)));
    const s = summarize(sseEvents(r.text));
    assert.equal(s.errors.length, 1, r.text);
    assert.equal(s.errors[0].code, 'model_requires_login');
    assert.equal(s.done, false, 'no [DONE] after an error');
  });

  test('the official SDK reads such a stream', async () => {
    await stack.ctl.script({ generate: {}, transport: { first_event_delay_ms: 450 } });
    const { chunks, error } = await drain(await stack.client.chat.completions.create(helloStream));
    assert.equal(error, undefined);
    assert.equal(summarize(chunks).content, 'You said: Hello');
  });

  test('a non-streamed answer waits silently, as it must', async () => {
    await stack.ctl.script({ generate: {}, transport: { first_event_delay_ms: 250 } });
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    assert.equal(r.status, 200);
    assert.equal(r.json.choices[0].message.content, 'You said: Hello');
  });
});

describe('upstream connections', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });

  test('a cleanly finished answer leaves its connection for the next request, streamed or not',
    nativeOnly('the Worker runtime pools its own fetch connections'), async () => {
      const before = (await stack.ctl.stats()).connections_total;
      const bodies = [hello, hello, helloStream, helloStream, hello, hello, helloStream, hello];
      for (const body of bodies) {
        const r = await post(stack.proxy, '/v1/chat/completions', body);
        assert.equal(r.status, 200, r.text);
        await stack.ctl.waitFor({ open_requests: 0 });
      }
      const opened = (await stack.ctl.stats()).connections_total - before;
      // One, or two when a request starts while the previous connection is still being drained
      // of its tail before it goes back to the idle pool; never one per completion.
      assert.ok(opened <= 2, `${bodies.length} completions opened ${opened} upstream connections`);
    });
});
