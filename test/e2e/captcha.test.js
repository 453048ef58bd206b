// CAPTCHA_PROVIDER_URL: with a (loopback, test-only) provider that mints real captcha tokens from
// the fake, every completion fetches exactly one captcha and the upstream accepts it; a rejected
// captcha is retried once with a fresh one; a provider that fails leads to a clear 503 and never
// to an empty captcha field.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFake } from '../fake-zai/server.js';
import {
  assertOpenAIError, drain, fakeControl, post, startCaptchaProvider, startProxy, summarize, waitReady,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello'), thinking: { type: 'disabled' } };

let fake;
let ctl;
let provider;
let proxy;
before(async () => {
  fake = await startFake({ config: { captcha_required: true } });
  ctl = fakeControl(fake);
  provider = await startCaptchaProvider(fake);
  proxy = await startProxy({ ZAI_BASE_URL: fake.url, TOKEN_POOL_SIZE: '1', CAPTCHA_PROVIDER_URL: provider.url });
  await waitReady(proxy);
});
after(async () => {
  try {
    assert.equal(await proxy.stop(), 0);
  } finally {
    await provider.close();
    await fake.close();
  }
});

// What one client request cost: provider calls, captchas the fake saw spent, upstream requests.
async function measure(fn) {
  const calls = provider.calls;
  const tokens = provider.tokens.length;
  const consumed = (await ctl.stats()).captchas_consumed;
  const since = await ctl.mark();
  const result = await fn();
  return {
    result,
    calls: provider.calls - calls,
    minted: provider.tokens.slice(tokens),
    consumed: (await ctl.stats()).captchas_consumed - consumed,
    records: await ctl.requests({ since }),
  };
}

describe('with a captcha provider', () => {
  test('each completion fetches exactly one captcha and the upstream accepts it', async () => {
    const m = await measure(async () => {
      const a = await proxy.client.chat.completions.create(hello);
      const b = await drain(await proxy.client.chat.completions.create({ ...hello, stream: true }));
      const c = await proxy.client.chat.completions.stream({ ...hello, messages: user('third') }).finalChatCompletion();
      return [a.choices[0].message.content, summarize(b.chunks).content, c.choices[0].message.content];
    });
    assert.deepEqual(m.result, ['You said: Hello', 'You said: Hello', 'You said: third']);
    assert.equal(m.calls, 3);
    assert.equal(m.consumed, 3);
    assert.deepEqual(m.records.map((r) => r.json.captcha_verify_param), m.minted);
    assert.deepEqual(m.records.map((r) => r.outcome.result), ['ok', 'ok', 'ok']);
  });

  test('a rejected captcha (S8) is retried once with a fresh one', async () => {
    await ctl.script({ sample: 'S8' });
    const m = await measure(() => post(proxy, '/v1/chat/completions', hello));
    assert.equal(m.result.status, 200, m.result.text);
    assert.equal(m.result.json.choices[0].message.content, 'You said: Hello');
    assert.equal(m.calls, 2);
    assert.equal(m.records.length, 2);
    assert.notEqual(m.records[0].json.captcha_verify_param, m.records[1].json.captcha_verify_param);
  });

  test('a captcha the provider hands out twice is refused upstream (S8) and ends in a 503', async () => {
    // The provider replays one token: the fake spends it on the first use, then answers S8.
    const [token] = (await ctl.captcha({ ip: '127.0.0.1' })).tokens;
    const replay = await startReplayProvider(token);
    const other = await startProxy({ ZAI_BASE_URL: fake.url, TOKEN_POOL_SIZE: '1', CAPTCHA_PROVIDER_URL: replay.url });
    try {
      await waitReady(other);
      const first = await post(other, '/v1/chat/completions', hello);
      assert.equal(first.status, 200, first.text);
      const since = await ctl.mark();
      const second = await post(other, '/v1/chat/completions', hello);
      const e = assertOpenAIError(second, 503);
      assert.match(e.code, /^captcha_/);
      assert.doesNotMatch(second.text, /F003|verify_failed/);
      const recs = await ctl.requests({ since });
      assert.deepEqual(recs.map((r) => r.outcome.result), ['captcha_invalid', 'captcha_invalid'], 'one retry');
      assert.equal(replay.calls(), 3);
    } finally {
      assert.equal(await other.stop(), 0);
      await replay.close();
    }
  });

  test('captcha still missing after the retry (S7 twice) is a 503, not an empty answer', async () => {
    await ctl.script({ sample: 'S7', times: 2 });
    const m = await measure(() => post(proxy, '/v1/chat/completions', { ...hello, stream: true }));
    const e = assertOpenAIError(m.result, 503);
    assert.equal(e.code, 'captcha_failed', 'a provider is configured: the client must not be told to set one');
    assert.match(e.message, /CAPTCHA_PROVIDER_URL gave no usable/);
    assert.equal(m.calls, 2);
    assert.equal(m.records.length, 2);
  });

  test('a failing provider: no captcha field is sent (never ""), one retry, then 503', async () => {
    provider.mode = 'fail';
    try {
      const m = await measure(() => post(proxy, '/v1/chat/completions', hello));
      const e = assertOpenAIError(m.result, 503);
      assert.equal(e.code, 'captcha_failed');
      assert.match(e.message, /CAPTCHA_PROVIDER_URL gave no usable/);
      assert.equal(m.calls, 2);
      assert.equal(m.records.length, 2);
      for (const r of m.records) {
        assert.ok(!('captcha_verify_param' in r.json), 'an empty or absent captcha must not be sent');
        assert.equal(r.outcome.result, 'captcha_missing');
      }
    } finally {
      provider.mode = 'ok';
    }
  });

  test('the proxy serves normally afterwards', async () => {
    const m = await measure(() => proxy.client.chat.completions.create(hello));
    assert.equal(m.result.choices[0].message.content, 'You said: Hello');
    assert.equal(m.calls, 1);
  });
});

// A provider that always answers with the same token.
async function startReplayProvider(token) {
  const http = await import('node:http');
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ captcha_verify_param: token }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    calls: () => calls,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }),
  };
}
