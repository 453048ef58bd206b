// The WAF circuit breaker (reference §5): a 405 HTML block page opens it; while it is open no
// request reaches the upstream and clients get 503 upstream_blocked with Retry-After; when the
// cool-down ends one request probes — blocked again doubles the cool-down, anything else closes
// the breaker. Cool-downs are shortened (WAF_COOLDOWN_MS) so the test waits a fraction of a
// second for each, by polling /health for the moment the probe is due.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertOpenAIError, drain, get, post, summarize, useStack } from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello'), thinking: { type: 'disabled' } };
const helloStream = { ...hello, stream: true };

function assertNoUpstreamLeak(text) {
  assert.doesNotMatch(text, /<html|<!doctype|<title|aliyun|textarea/i);
}

async function breaker(stack) {
  return (await get(stack.proxy, '/health')).json.waf_breaker;
}

// Polls /health (the observable condition) until the breaker's probe is due.
async function untilProbeDue(stack, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const b = await breaker(stack);
    if (b.state !== 'open' || b.retry_after_ms === 0) return b;
    assert.ok(Date.now() < deadline, `the probe never came due: ${JSON.stringify(b)}`);
    await new Promise((res) => setTimeout(res, Math.min(b.retry_after_ms, 50)));
  }
}

function assertBlocked(r) {
  const e = assertOpenAIError(r, 503, 'upstream_blocked');
  assertNoUpstreamLeak(r.text);
  assert.ok(Number(r.headers.get('retry-after')) >= 1, 'Retry-After is set');
  assert.match(e.message, /firewall/i);
  return e;
}

describe('the WAF circuit breaker', () => {
  const stack = useStack({
    fake: { max_inflight_per_user: 0 },
    env: { WAF_COOLDOWN_MS: '300', WAF_COOLDOWN_MAX_MS: '1200', WAF_BLOCKS_TO_OPEN: '1' },
  });

  test('a block page is a 503 without the HTML, not retried, and the token is not blamed', async () => {
    for (const body of [hello, helloStream]) {
      await stack.ctl.script({ http: 405 });
      const since = await stack.ctl.mark();
      const r = await post(stack.proxy, '/v1/chat/completions', body);
      assertBlocked(r);
      const recs = await stack.ctl.requests({ since });
      assert.equal(recs.length, 1, 'a WAF block is not retried at once');
      assert.equal(recs[0].status, 405);
      await untilProbeDue(stack);
      // The probe passes (the script was used up): the breaker closes.
      const ok = await post(stack.proxy, '/v1/chat/completions', body);
      assert.equal(ok.status, 200, ok.text);
      assert.equal((await breaker(stack)).state, 'closed');
    }
    assert.equal((await get(stack.proxy, '/health')).json.pool.ready, 1);
  });

  test('open: requests are answered 503 at once and never reach the upstream', async () => {
    await stack.ctl.config({ force_waf: true });
    try {
      const since = await stack.ctl.mark();
      assertBlocked(await post(stack.proxy, '/v1/chat/completions', hello));
      const b = await breaker(stack);
      assert.equal(b.state, 'open');
      assert.equal(b.cooldown_ms, 300);
      assert.ok(b.retry_after_ms > 0 && b.retry_after_ms <= 300, JSON.stringify(b));

      const refused = await Promise.all([
        post(stack.proxy, '/v1/chat/completions', hello),
        post(stack.proxy, '/v1/chat/completions', helloStream),
        stack.client.chat.completions.create(hello).catch((err) => err),
      ]);
      assertBlocked(refused[0]);
      assertBlocked(refused[1]);
      assert.equal(refused[2].status, 503, 'the SDK sees an APIError with status 503');
      assert.equal(refused[2].code, 'upstream_blocked');
      assert.equal((await stack.ctl.requests({ since })).length, 1, 'only the first one went upstream');

      // Each probe that is blocked again doubles the cool-down, up to WAF_COOLDOWN_MAX_MS.
      for (const doubled of [600, 1200, 1200]) {
        await untilProbeDue(stack);
        const before = await stack.ctl.mark();
        assertBlocked(await post(stack.proxy, '/v1/chat/completions', hello));
        assert.equal((await stack.ctl.requests({ since: before })).length, 1, 'one probe');
        const now = await breaker(stack);
        assert.equal(now.state, 'open');
        assert.equal(now.cooldown_ms, doubled);
      }
    } finally {
      await stack.ctl.config({ force_waf: false });
    }

    // The block lifts: the next probe passes, the breaker closes, the cool-down resets.
    await untilProbeDue(stack);
    const r = await stack.client.chat.completions.create(hello);
    assert.equal(r.choices[0].message.content, 'You said: Hello');
    const b = await breaker(stack);
    assert.deepEqual([b.state, b.cooldown_ms, b.retry_after_ms], ['closed', 300, 0]);
    assert.ok(b.blocks >= 5);
    await stack.ctl.waitFor({ open_streams: 0, open_requests: 0 });
  });

  test('while the probe is out, other requests wait for it (503, Retry-After: 1)', async () => {
    await stack.ctl.script({ http: 405 });
    assertBlocked(await post(stack.proxy, '/v1/chat/completions', hello));
    await untilProbeDue(stack);
    // The probe's answer starts slowly, so it is still out when the next request comes.
    await stack.ctl.config({ first_event_delay_ms: 400 });
    try {
      // Not awaited: the proxy answers the head only once the first text has arrived.
      const probe = stack.client.chat.completions.create(helloStream).then(drain);
      await stack.ctl.waitFor({ open_streams: 1 });
      assert.equal((await breaker(stack)).state, 'probing');
      const other = await post(stack.proxy, '/v1/chat/completions', hello);
      assertBlocked(other);
      assert.equal(other.headers.get('retry-after'), '1');
      const { chunks, error } = await probe;
      assert.equal(error, undefined);
      assert.equal(summarize(chunks).content, 'You said: Hello');
    } finally {
      await stack.ctl.config({ first_event_delay_ms: 0 });
    }
    assert.equal((await breaker(stack)).state, 'closed');
    const after = await post(stack.proxy, '/v1/chat/completions', hello);
    assert.equal(after.status, 200, after.text);
  });

  test('a probe that fails otherwise (HTTP 500) still closes the breaker: the block is over', async () => {
    await stack.ctl.script({ http: 405 });
    assertBlocked(await post(stack.proxy, '/v1/chat/completions', hello));
    await untilProbeDue(stack);
    await stack.ctl.script({ http: 500 });
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    // The 500 is retried on the budget as usual and the retry succeeds.
    assert.equal(r.status, 200, r.text);
    assert.equal((await breaker(stack)).state, 'closed');
  });
});
