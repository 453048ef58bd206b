// What only the Worker has: a trap in the WebAssembly core costs one request a 500 (the instance
// is replaced, the next request works), and a bad setting, which would stop the native server at
// start-up, makes each request a 500 naming it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { API_KEY, assertOpenAIError, get, post, startProxy, useStack, workerOnly } from './harness.js';

const hello = { model: 'glm-4.7', messages: [{ role: 'user', content: 'Hello' }] };

describe('a trap in the core', workerOnly('the Worker runs the core as WebAssembly'), () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '1' } });

  test('fails that request with a 500 error object; the next request works', async () => {
    const trapped = await post(stack.proxy, '/v1/chat/completions', hello, { 'x-zai-test-trap': '1' });
    const e = assertOpenAIError(trapped, 500, 'internal_error');
    assert.equal(e.type, 'server_error');
    assert.equal(trapped.headers.get('access-control-allow-origin'), '*');

    // A fresh instance has a fresh pool: it mints its token for the next request.
    const r = await stack.client.chat.completions.create(hello);
    assert.equal(r.choices[0].message.content, 'You said: Hello');
    const models = await get(stack.proxy, '/v1/models');
    assert.equal(models.status, 200);
  });

  test('a trap mid-stream ends only that stream', async () => {
    const stream = await stack.client.chat.completions.create({ ...hello, stream: true });
    const trapped = await post(stack.proxy, '/v1/chat/completions', hello, { 'x-zai-test-trap': '1' });
    assert.equal(trapped.status, 500);
    const chunks = [];
    let error;
    try {
      for await (const c of stream) chunks.push(c);
    } catch (err) {
      error = err;
    }
    // The stream began on the instance that trapped: it ends, complete or cut, but never hangs.
    assert.ok(error || chunks.some((c) => c.choices[0]?.finish_reason === 'stop'));
    const r = await stack.client.chat.completions.create(hello);
    assert.equal(r.choices[0].message.content, 'You said: Hello');
  });
});

describe('a bad setting', workerOnly('the native server refuses to start instead (lifecycle.test.js)'), () => {
  test('makes every request a 500 naming the variable, never the secret', async () => {
    const proxy = await startProxy({ TOKEN_POOL_SIZE: 'lots' });
    try {
      for (const path of ['/health', '/v1/models']) {
        const r = await get(proxy, path);
        const e = assertOpenAIError(r, 500, 'internal_error');
        assert.match(e.message, /TOKEN_POOL_SIZE/);
        assert.ok(!r.text.includes(API_KEY));
      }
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });
});
