// Every upstream failure the reference (§5, §7.4) describes, as the client sees it: retried where
// a retry can help and nothing was sent yet, otherwise one OpenAI error with a sensible status —
// or, once a stream has begun, an error event. Failures that change the token pool's state
// (429, 500, truncation, timeouts) get a fresh stack each.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  assertOpenAIError, assertRecovered, bearerOf, drain, get, jwtPayload, post, sseEvents, summarize,
  useStack,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello'), thinking: { type: 'disabled' } };
const helloStream = { ...hello, stream: true };

async function health(stack) {
  return (await get(stack.proxy, '/health')).json.pool;
}

// The token the proxy uses now: learnt from the request it sends upstream.
async function currentToken(stack) {
  const since = await stack.ctl.mark();
  const r = await post(stack.proxy, '/v1/chat/completions', hello);
  assert.equal(r.status, 200, r.text);
  const [rec] = await stack.ctl.requests({ since });
  return bearerOf(rec);
}

function assertNoUpstreamLeak(text) {
  assert.doesNotMatch(text, /<html|<!doctype|<title|aliyun|textarea|签名|detail/i);
}

// Failures that leave the token usable share one stack (one token, so a 401 must be survived
// by re-minting it); the fake is reset after each test.
describe('on a one-token stack', () => {
  const stack = useStack({
    fake: { max_inflight_per_user: 0 }, env: { ZAI_MODELS: '{"ghost-model":"ghost-upstream"}' },
  });
  afterEach(async () => {
    await stack.ctl.reset();
    await assertRecovered(stack);
  });

  describe('upstream 401: the guest token died mid-life', () => {

    test('the token is re-minted and the request succeeds', async () => {
      const old = await currentToken(stack);
      await stack.ctl.revoke(old);
      const minted = (await stack.ctl.stats()).guests_minted;
      const since = await stack.ctl.mark();
      const r = await stack.client.chat.completions.create(hello);
      assert.equal(r.choices[0].message.content, 'You said: Hello');
      const recs = await stack.ctl.requests({ since });
      assert.deepEqual(recs.map((x) => x.status), [401, 200]);
      assert.equal(recs[0].outcome.result, 'auth_invalid');
      assert.equal(bearerOf(recs[0]), old);
      assert.notEqual(recs[1].query.user_id, jwtPayload(old).id);
      assert.equal((await stack.ctl.stats()).guests_minted, minted + 1);
      const pool = await health(stack);
      assert.equal(pool.total, 1);
      assert.equal(pool.ready, 1);
    });

    test('a stream on a revoked token also succeeds', async () => {
      await stack.ctl.revoke(await currentToken(stack));
      const { chunks, error } = await drain(await stack.client.chat.completions.create(helloStream));
      assert.equal(error, undefined);
      const s = summarize(chunks);
      assert.equal(s.content, 'You said: Hello');
      assert.deepEqual(s.finish, ['stop']);
    });

    test('concurrent requests on a revoked token share one re-mint', async () => {
      await stack.ctl.revoke(await currentToken(stack));
      const minted = (await stack.ctl.stats()).guests_minted;
      const results = await Promise.all([1, 2, 3, 4].map((i) =>
        post(stack.proxy, '/v1/chat/completions', { ...hello, messages: user(`concurrent ${i}`) })));
      for (const [i, r] of results.entries()) {
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.choices[0].message.content, `You said: concurrent ${i + 1}`);
      }
      assert.equal((await stack.ctl.stats()).guests_minted, minted + 1);
    });

    test('a token that fails again after its re-mint is a 502, not a loop', async () => {
      await stack.ctl.script({ http: 401, times: -1 });
      const since = await stack.ctl.mark();
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      await stack.ctl.dropScripts();
      const e = assertOpenAIError(r, 502);
      assert.equal(e.type, 'server_error');
      assert.equal((await stack.ctl.requests({ since })).length, 2);
      assertNoUpstreamLeak(r.text);
    });
  });

  // The WAF block (405 HTML) opens the circuit breaker, which changes what later requests see:
  // its tests have a stack of their own in breaker.test.js.

  describe('upstream 426 (client outdated)', () => {

    test('once: the proxy refreshes its front-end version and retries', async () => {
      const since = await stack.ctl.mark();
      await stack.ctl.script({ http: 426 });
      const r = await stack.client.chat.completions.create(hello);
      assert.equal(r.choices[0].message.content, 'You said: Hello');
      const recs = await stack.ctl.requests({ since });
      assert.deepEqual(recs.map((x) => x.status), [426, 200]);
      // The refresh is a GET of the front page; it runs beside the retry, so wait for it (bounded).
      const deadline = Date.now() + 5_000;
      while ((await stack.ctl.requests({ path: '/', since })).length === 0) {
        assert.ok(Date.now() < deadline, 'no front-page scrape after the 426');
        await new Promise((res) => setTimeout(res, 10));
      }
    });

    test('persisting: a 502 after one retry', async () => {
      await stack.ctl.script({ http: 426, times: -1 });
      const since = await stack.ctl.mark();
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      await stack.ctl.dropScripts();
      assertOpenAIError(r, 502, 'upstream_error');
      assertNoUpstreamLeak(r.text);
      assert.equal((await stack.ctl.requests({ since })).length, 2);
    });

    test('S11 (the 2025 inline 426 frame) maps the same way', async () => {
      await stack.ctl.script({ sample: 'S11', times: -1 });
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      await stack.ctl.dropScripts();
      assertOpenAIError(r, 502);
      assertNoUpstreamLeak(r.text);
      assert.doesNotMatch(r.text, /客户端/);
    });
  });

  describe('captcha required and no provider (S7)', () => {
    for (const stream of [false, true]) {
      test(`is a 503 telling the operator to set CAPTCHA_PROVIDER_URL (${stream ? 'stream' : 'non-stream'})`, async () => {
        await stack.ctl.config({ captcha_required: true });
        const since = await stack.ctl.mark();
        const r = await post(stack.proxy, '/v1/chat/completions', stream ? helloStream : hello);
        const e = assertOpenAIError(r, 503, 'captcha_required');
        assert.match(e.message, /CAPTCHA_PROVIDER_URL/);
        const recs = await stack.ctl.requests({ since });
        assert.equal(recs.length, 1, 'no retry without a provider');
        assert.equal(recs[0].outcome.result, 'captcha_missing');
        assert.ok(!('captcha_verify_param' in recs[0].json));
      });
    }

    test('the scripted S7 sample maps the same way, and the token stays ready', async () => {
      await stack.ctl.script({ sample: 'S7' });
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      assertOpenAIError(r, 503, 'captcha_required');
      assert.equal((await post(stack.proxy, '/v1/chat/completions', hello)).status, 200);
      assert.equal((await health(stack)).ready, 1);
    });
  });

  describe('in-stream upstream errors before any content', () => {

    test('S8 (captcha rejected) is a 503', async () => {
      await stack.ctl.script({ sample: 'S8' });
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      const e = assertOpenAIError(r, 503);
      assert.match(e.code, /^captcha_/);
      assert.doesNotMatch(r.text, /F003|FRONTEND_CAPTCHA_REQUIRED/);
    });

    for (const stream of [false, true]) {
      test(`S9 (model needs a login) is a 403 (${stream ? 'stream' : 'non-stream'})`, async () => {
        await stack.ctl.script({ sample: 'S9' });
        const r = await post(stack.proxy, '/v1/chat/completions', stream ? helloStream : hello);
        const e = assertOpenAIError(r, 403, 'model_requires_login');
        assert.equal(e.type, 'permission_error');
      });
    }

    test('a guest asking the real fake for glm-5 gets a 403 PermissionDeniedError', async () => {
      const since = await stack.ctl.mark();
      await assert.rejects(stack.client.chat.completions.create({ ...hello, model: 'glm-5' }),
        (e) => e instanceof OpenAI.PermissionDeniedError && e.code === 'model_requires_login');
      const [rec] = await stack.ctl.requests({ since });
      assert.equal(rec.json.model, 'glm-5');
      assert.equal(rec.outcome.result, 'model_forbidden');
    });

    test('a model the upstream does not know is a 404 model_not_found', async () => {
      const since = await stack.ctl.mark();
      await assert.rejects(stack.client.chat.completions.create({ ...hello, model: 'ghost-model' }),
        (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
      const [rec] = await stack.ctl.requests({ since });
      assert.equal(rec.json.model, 'ghost-upstream');
      assert.equal(rec.outcome.result, 'model_unknown');
      const r = await post(stack.proxy, '/v1/chat/completions', { ...helloStream, model: 'ghost-model' });
      assertOpenAIError(r, 404, 'model_not_found');
    });

    test('none of these cost the token anything', async () => {
      const pool = await health(stack);
      assert.equal(pool.ready, 1);
      assert.equal(pool.benched, 0);
      assert.equal((await post(stack.proxy, '/v1/chat/completions', hello)).status, 200);
    });
  });

  describe('S10: an upstream error after partial content', () => {

    test('stream: the partial content, then an OpenAI error event, and no [DONE]', async () => {
      await stack.ctl.script({ sample: 'S10' });
      const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
      assert.equal(r.status, 200);
      const events = sseEvents(r.text);
      const s = summarize(events);
      assert.equal(s.content, 'Partial answ');
      assert.equal(s.role, 'assistant');
      assert.deepEqual(s.finish, [], 'an error is not a finish');
      assert.equal(s.errors.length, 1);
      assert.equal(events.at(-1), events.find((e) => e.error), 'the error event ends the stream');
      const e = s.errors[0];
      assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(e.type, 'server_error');
      assert.equal(s.done, false);
    });

    test('stream through the SDK: the content arrives, then the SDK throws', async () => {
      await stack.ctl.script({ sample: 'S10' });
      const { chunks, error } = await drain(await stack.client.chat.completions.create(helloStream));
      assert.equal(summarize(chunks).content, 'Partial answ');
      assert.ok(error instanceof OpenAI.APIError, `got ${error}`);
    });

    test('non-stream: a 502, never the truncated answer', async () => {
      await stack.ctl.script({ sample: 'S10' });
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      assertOpenAIError(r, 502, 'upstream_error');
      assert.doesNotMatch(r.text, /Partial answ/);
    });
  });

  describe('S15: the content filter', () => {

    test('stream: finish_reason content_filter and none of the withdrawn text', async () => {
      await stack.ctl.script({ sample: 'S15' });
      const r = await post(stack.proxy, '/v1/chat/completions', { ...helloStream, stream_options: { include_usage: true } });
      assert.equal(r.status, 200);
      const s = summarize(sseEvents(r.text));
      assert.equal(s.role, 'assistant');
      assert.deepEqual(s.finish, ['content_filter']);
      assert.equal(s.content, '');
      assert.equal(s.errors.length, 0);
      assert.ok(s.done);
      assert.equal(s.usageChunks.length, 1);
    });

    test('non-stream: finish_reason content_filter with the text wiped', async () => {
      await stack.ctl.script({ sample: 'S15' });
      const r = await stack.client.chat.completions.create(hello);
      assert.equal(r.choices[0].finish_reason, 'content_filter');
      assert.equal(r.choices[0].message.content, '');
    });

    test('the fake\'s own filter on a trigger word, through the SDK stream helper', async () => {
      const final = await stack.client.chat.completions.stream({
        ...hello, messages: user('Tell me about FORBIDDEN_TOPIC in detail please'),
      }).finalChatCompletion();
      assert.equal(final.choices[0].finish_reason, 'content_filter');
      assert.doesNotMatch(final.choices[0].message.content ?? '', /FORBIDDEN_TOPIC/);
    });
  });
});

describe('upstream 429', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '3' } });
  // Resting tokens are the point here: only check that nothing is left open upstream.
  afterEach(() => assertRecovered(stack, { serves: false }));

  test('is retried on another token', async () => {
    // Retry-After 60: the limited token stays out for the rest of this describe.
    await stack.ctl.script({ http: { status: 429, retry_after: 60 } });
    const since = await stack.ctl.mark();
    const r = await stack.client.chat.completions.create(hello);
    assert.equal(r.choices[0].message.content, 'You said: Hello');
    const recs = await stack.ctl.requests({ since });
    assert.deepEqual(recs.map((x) => x.status), [429, 200]);
    assert.notEqual(recs[0].query.user_id, recs[1].query.user_id, 'the retry used the other token');
    assert.equal((await health(stack)).cooling, 1, 'the limited token rests');
  });

  test('on every token left: a 429 with Retry-After', async () => {
    await stack.ctl.script({ http: { status: 429, retry_after: 7 }, times: -1 });
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    const e = assertOpenAIError(r, 429, 'rate_limit_exceeded');
    assert.equal(e.type, 'rate_limit_error');
    assert.ok(Number(r.headers.get('retry-after')) >= 1, `retry-after ${r.headers.get('retry-after')}`);
    const recs = await stack.ctl.requests({ since });
    assert.deepEqual(recs.map((x) => x.status), [429, 429]);
    assert.notEqual(recs[0].query.user_id, recs[1].query.user_id);
    assert.equal((await health(stack)).cooling, 3);
  });

  test('while every token rests, new requests get 503 with Retry-After and the upstream is spared', async () => {
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    assertOpenAIError(r, 503, 'no_token_available');
    const wait = Number(r.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 7, `retry-after ${wait}`);
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });
});

describe('upstream 500', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '2' } });
  afterEach(() => assertRecovered(stack));

  test('once: retried, and the client gets the answer', async () => {
    await stack.ctl.script({ http: 500 });
    const since = await stack.ctl.mark();
    const r = await stack.client.chat.completions.create(hello);
    assert.equal(r.choices[0].message.content, 'You said: Hello');
    assert.deepEqual((await stack.ctl.requests({ since })).map((x) => x.status), [500, 200]);
  });

  test('persisting: a 502 after a bounded number of attempts', async () => {
    await stack.ctl.script({ http: 500, times: -1 });
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    await stack.ctl.dropScripts();
    const e = assertOpenAIError(r, 502, 'upstream_error');
    assert.equal(e.type, 'server_error');
    assertNoUpstreamLeak(r.text);
    const n = (await stack.ctl.requests({ since })).length;
    assert.ok(n >= 2 && n <= 3, `${n} upstream attempts`);
  });
});

describe('a truncated upstream stream', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '2' } });
  afterEach(() => assertRecovered(stack));
  const first = 'This part arrives before the cut and is long enough to be sent.';
  const cut = (transport) => ({
    events: [{ delta_content: first, phase: 'answer' }, { delta_content: 'And a bit more', phase: 'answer' },
      { delta_content: ' that never', phase: 'answer' }, { delta_content: ' finishes.', phase: 'answer' }],
    finish: true,
    transport,
  });

  for (const [how, transport] of [['the connection drops', { truncate_after_n_events: 2 }]]) {
    test(`mid-stream (${how}): content, then an error event`, async () => {
      await stack.ctl.script(cut(transport));
      const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
      assert.equal(r.status, 200);
      const s = summarize(sseEvents(r.text));
      assert.ok(s.content.startsWith(first.slice(0, 20)), s.content);
      assert.ok(!s.content.includes('never'), s.content);
      assert.deepEqual(s.finish, []);
      assert.equal(s.errors.length, 1);
      assert.equal(s.done, false);
    });

    test(`mid-stream (${how}), non-stream: a 502`, async () => {
      await stack.ctl.script(cut(transport));
      const r = await post(stack.proxy, '/v1/chat/completions', hello);
      assertOpenAIError(r, 502);
      assert.doesNotMatch(r.text, /arrives before the cut/);
    });
  }

  test('ending without done (clean EOF) after content is an error event too', async () => {
    await stack.ctl.script({ events: [{ delta_content: first, phase: 'answer' }], finish: false });
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    const s = summarize(sseEvents(r.text));
    assert.equal(s.content, first);
    assert.equal(s.errors.length, 1);
    assert.deepEqual(s.finish, []);
  });

  test('before any content: retried, and the client never notices', async () => {
    await stack.ctl.script({ events: [], finish: false });
    const since = await stack.ctl.mark();
    const { chunks, error } = await drain(await stack.client.chat.completions.create(helloStream));
    assert.equal(error, undefined);
    assert.equal(summarize(chunks).content, 'You said: Hello');
    assert.equal((await stack.ctl.requests({ since })).length, 2);
  });
});

describe('transport faults and timeouts', () => {
  const stack = useStack({ env: { UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '300', UPSTREAM_IDLE_TIMEOUT_MS: '300' } });
  afterEach(() => assertRecovered(stack));
  const stalledAfterFirst = {
    events: [{ delta_content: 'A first piece that is long enough to be relayed at once.', phase: 'answer' },
      { delta_content: ' Never sent.', phase: 'answer' }],
    finish: true,
    transport: { stall_after_events: 1, stall_ms: 30_000 },
  };

  test('a reset connection is a 502', async () => {
    await stack.ctl.script({ fault: 'reset' });
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    assertOpenAIError(r, 502);
  });

  test('an upstream that never answers is a 504 after the first-byte timeout', async () => {
    await stack.ctl.script({ fault: 'hang' });
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    assertOpenAIError(r, 504, 'upstream_timeout');
    await stack.ctl.waitFor({ open_requests: 0 });
  });

  test('a stream that goes silent past the idle timeout ends with an error event', async () => {
    await stack.ctl.script(stalledAfterFirst);
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    assert.equal(r.status, 200);
    const s = summarize(sseEvents(r.text));
    assert.equal(s.content, 'A first piece that is long enough to be relayed at once.');
    assert.equal(s.errors.length, 1);
    assert.equal(s.errors[0].code, 'upstream_timeout');
    assert.deepEqual(s.finish, []);
    // The proxy gave up on the upstream: its stream was closed, not left to run for 30 s.
    await stack.ctl.waitFor({ open_streams: 0, open_requests: 0 }, 2_000);
  });

  test('non-stream: a silent upstream is an error, not a partial answer', async () => {
    await stack.ctl.script(stalledAfterFirst);
    const r = await post(stack.proxy, '/v1/chat/completions', hello);
    const e = assertOpenAIError(r, 504, 'upstream_timeout');
    assert.equal(e.type, 'server_error');
    assert.doesNotMatch(r.text, /first piece/);
    await stack.ctl.waitFor({ open_streams: 0, open_requests: 0 }, 2_000);
  });

  test('the next request is served normally', async () => {
    assert.equal((await post(stack.proxy, '/v1/chat/completions', hello)).status, 200);
  });
});
