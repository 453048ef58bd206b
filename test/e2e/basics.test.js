// The proxy's own surface, before any completion reaches the upstream: health, models, CORS,
// routing errors, client authentication, request validation and the body size limit.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  API_KEY, assertOpenAIError, bearerOf, get, jwtPayload, makeClient, nativeOnly, post, request, startProxy,
  startStack,
} from './harness.js';

const SECOND_KEY = 'sk-second-key-0c1d';
let stack;
before(async () => {
  // A pinned front-end version: no background scrape of the fake's front page, so any upstream
  // request seen during a test was caused by that test.
  stack = await startStack({
    env: { MAX_BODY_BYTES: '65536', API_KEY: `${API_KEY},${SECOND_KEY}`, ZAI_FE_VERSION: 'prod-fe-1.1.98' },
  });
});
after(async () => {
  assert.equal(await stack.stop(), 0);
});

const hello = { model: 'glm-4.7', messages: [{ role: 'user', content: 'Hello' }] };

describe('GET /health', () => {
  test('reports pool counts and never touches the upstream', async () => {
    const before = await stack.ctl.stats();
    const r = await get(stack.proxy, '/health', { auth: false });
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ok');
    assert.equal(r.json.pool.total, 1);
    assert.equal(r.json.pool.ready, 1);
    for (const v of Object.values(r.json.pool)) assert.equal(typeof v, 'number');
    const after = await stack.ctl.stats();
    assert.equal(after.requests_total, before.requests_total, 'health made an upstream request');
  });

  test('holds no token text', async () => {
    const since = await stack.ctl.mark();
    await post(stack.proxy, '/v1/chat/completions', hello);
    const [record] = await stack.ctl.requests({ since });
    const token = bearerOf(record);
    const r = await get(stack.proxy, '/health');
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes(token), 'health shows the guest token');
    assert.ok(!r.text.includes(jwtPayload(token).id), 'health shows the guest user id');
    assert.doesNotMatch(r.text, /eyJ/);
    assert.ok(!r.text.includes(API_KEY));
  });
});

describe('models', () => {
  test('GET /v1/models lists z-ai models with or without a key', async () => {
    for (const auth of [false, true]) {
      const r = await get(stack.proxy, '/v1/models', { auth });
      assert.equal(r.status, 200);
      assert.equal(r.json.object, 'list');
      assert.ok(r.json.data.length > 0);
      for (const m of r.json.data) {
        assert.equal(m.object, 'model');
        assert.equal(m.owned_by, 'z-ai');
        assert.equal(typeof m.id, 'string');
        assert.equal(typeof m.created, 'number');
      }
      assert.ok(r.json.data.some((m) => m.id === 'glm-4.7'));
    }
  });

  test('the SDK lists and retrieves models', async () => {
    const ids = [];
    for await (const m of stack.client.models.list()) ids.push(m.id);
    assert.ok(ids.includes('glm-4.7'));
    const m = await stack.client.models.retrieve('glm-4.7');
    assert.deepEqual({ id: m.id, object: m.object, owned_by: m.owned_by },
      { id: 'glm-4.7', object: 'model', owned_by: 'z-ai' });
  });

  test('GET /v1/models/{id} without a key works', async () => {
    const r = await get(stack.proxy, '/v1/models/glm-4.7', { auth: false });
    assert.equal(r.status, 200);
    assert.equal(r.json.id, 'glm-4.7');
    assert.equal(r.json.owned_by, 'z-ai');
  });

  test('a wrong key is still rejected with 401', async () => {
    for (const p of ['/v1/models', '/v1/models/glm-4.7']) {
      const r = await get(stack.proxy, p, { auth: false, headers: { authorization: 'Bearer sk-wrong' } });
      assertOpenAIError(r, 401, 'invalid_api_key');
    }
    await assert.rejects(makeClient(stack.proxy.url, 'sk-wrong').models.list(),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  });

  test('an unknown model id is 404 model_not_found', async () => {
    const r = await get(stack.proxy, '/v1/models/no-such-model');
    const e = assertOpenAIError(r, 404, 'model_not_found');
    assert.equal(e.type, 'invalid_request_error');
    await assert.rejects(stack.client.models.retrieve('no-such-model'),
      (err) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found');
  });
});

describe('CORS', () => {
  test('a preflight is answered without a key', async () => {
    const r = await request(stack.proxy, 'OPTIONS', '/v1/chat/completions', {
      auth: false,
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, x-stainless-os',
      },
    });
    assert.ok(r.status === 204 || r.status === 200, `status ${r.status}`);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    assert.match(r.headers.get('access-control-allow-methods'), /POST/);
    const allowed = r.headers.get('access-control-allow-headers').toLowerCase();
    for (const h of ['authorization', 'content-type', 'x-stainless-os']) assert.ok(allowed.includes(h), h);
  });

  test('every response carries the CORS grant, errors and streams included', async () => {
    const origin = { origin: 'https://app.example' };
    const responses = [
      await get(stack.proxy, '/v1/models', { headers: origin }),
      await get(stack.proxy, '/health', { headers: origin }),
      await post(stack.proxy, '/v1/chat/completions', hello, { ...origin, authorization: 'Bearer no' }),
      await get(stack.proxy, '/nowhere', { headers: origin }),
      await post(stack.proxy, '/v1/chat/completions', { ...hello, stream: true }, origin),
    ];
    for (const r of responses) assert.equal(r.headers.get('access-control-allow-origin'), '*', r.text);
    assert.equal(responses.at(-1).status, 200);
  });

  test('CORS_ALLOW_ORIGINS grants only the listed origins', async () => {
    const proxy = await startProxy({
      ZAI_BASE_URL: stack.fake.url, ZAI_FE_VERSION: 'prod-fe-1.1.98', TOKEN_POOL_SIZE: '0',
      CORS_ALLOW_ORIGINS: 'https://good.example',
    });
    try {
      const good = await get(proxy, '/v1/models', { headers: { origin: 'https://good.example' } });
      assert.equal(good.headers.get('access-control-allow-origin'), 'https://good.example');
      assert.match(good.headers.get('vary') ?? '', /origin/i);
      const bad = await get(proxy, '/v1/models', { headers: { origin: 'https://evil.example' } });
      assert.equal(bad.status, 200);
      assert.equal(bad.headers.get('access-control-allow-origin'), null);
    } finally {
      assert.equal(await proxy.stop(), 0);
    }
  });
});

describe('routing', () => {
  test('an unknown path is 404 in the OpenAI shape', async () => {
    for (const p of ['/v1/nothing', '/', '/v1/chat/completions/extra']) {
      const r = await get(stack.proxy, p);
      const e = assertOpenAIError(r, 404);
      assert.equal(e.param, null);
    }
  });

  test('a wrong method is 405 with Allow', async () => {
    const r = await get(stack.proxy, '/v1/chat/completions');
    assertOpenAIError(r, 405);
    assert.match(r.headers.get('allow'), /POST/);
    const d = await request(stack.proxy, 'DELETE', '/v1/models');
    assertOpenAIError(d, 405);
    assert.match(d.headers.get('allow'), /GET/);
    const p = await post(stack.proxy, '/health', {});
    assertOpenAIError(p, 405);
  });
});

describe('client authentication', () => {
  test('a missing key is 401', async () => {
    const r = await request(stack.proxy, 'POST', '/v1/chat/completions', { body: hello, auth: false });
    const e = assertOpenAIError(r, 401, 'invalid_api_key');
    assert.equal(e.type, 'authentication_error');
  });

  test('a wrong key, or the right key without Bearer, is 401', async () => {
    for (const authorization of ['Bearer sk-wrong', `Bearer ${API_KEY}x`, API_KEY, `Basic ${API_KEY}`, 'Bearer ']) {
      const r = await post(stack.proxy, '/v1/chat/completions', hello, { authorization });
      assertOpenAIError(r, 401, 'invalid_api_key');
      assert.ok(!r.text.includes(API_KEY), 'the error echoes the key');
    }
  });

  test('the SDK raises AuthenticationError and nothing reaches the upstream', async () => {
    const since = await stack.ctl.mark();
    await assert.rejects(makeClient(stack.proxy.url, 'sk-wrong').chat.completions.create(hello),
      (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });

  test('any key of a comma-separated API_KEY list is accepted', async () => {
    for (const key of [API_KEY, SECOND_KEY]) {
      const r = await post(stack.proxy, '/v1/chat/completions', hello, { authorization: `Bearer ${key}` });
      assert.equal(r.status, 200, r.text);
    }
    for (const key of [`${API_KEY},${SECOND_KEY}`, `${SECOND_KEY},`, SECOND_KEY.slice(0, -1)]) {
      assertOpenAIError(await post(stack.proxy, '/v1/chat/completions', hello, { authorization: `Bearer ${key}` }), 401);
    }
  });
});

describe('request validation', () => {
  const cases = [
    ['missing model', { messages: hello.messages }, 'model'],
    ['null model', { model: null, messages: hello.messages }, 'model'],
    ['model not a string', { model: 47, messages: hello.messages }, 'model'],
    ['missing messages', { model: 'glm-4.7' }, 'messages'],
    ['messages not an array', { model: 'glm-4.7', messages: 'Hello' }, 'messages'],
    ['empty messages', { model: 'glm-4.7', messages: [] }, 'messages'],
    ['message without role', { model: 'glm-4.7', messages: [{ content: 'Hi' }] }, 'messages[0].role'],
    ['unknown role', { model: 'glm-4.7', messages: [{ role: 'wizard', content: 'Hi' }] }, 'messages[0].role'],
    ['content of the wrong type', { model: 'glm-4.7', messages: [{ role: 'user', content: 'a' }, { role: 'user', content: 5 }] }, 'messages[1].content'],
    ['stream not a boolean', { ...hello, stream: 'yes' }, 'stream'],
    ['temperature not a number', { ...hello, temperature: 'hot' }, 'temperature'],
    ['temperature out of range', { ...hello, temperature: 7 }, 'temperature'],
    ['top_p not a number', { ...hello, top_p: [] }, 'top_p'],
    ['max_tokens not an integer', { ...hello, max_tokens: 1.5 }, 'max_tokens'],
    ['stream_options not an object', { ...hello, stream: true, stream_options: true }, 'stream_options'],
    ['more than one choice', { ...hello, n: 2 }, 'n'],
    ['include_usage not a boolean', { ...hello, stream: true, stream_options: { include_usage: 1 } }, 'stream_options.include_usage'],
  ];
  for (const [name, body, param] of cases) {
    test(`${name} → 400 naming ${param}`, async () => {
      const r = await post(stack.proxy, '/v1/chat/completions', body);
      const e = assertOpenAIError(r, 400);
      assert.equal(e.type, 'invalid_request_error');
      assert.equal(e.param, param, r.text);
    });
  }

  test('the SDK raises BadRequestError with the param', async () => {
    await assert.rejects(stack.client.chat.completions.create({ model: 'glm-4.7', messages: [{ role: 'user' }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages[0].content');
  });

  test('malformed JSON and non-object bodies are 400', async () => {
    for (const body of ['{"model":"glm-4.7",', 'not json', '']) {
      const r = await post(stack.proxy, '/v1/chat/completions', body);
      assertOpenAIError(r, 400, 'invalid_json');
    }
    for (const body of ['[]', '"text"', '42']) {
      const r = await post(stack.proxy, '/v1/chat/completions', body);
      assertOpenAIError(r, 400);
    }
  });

  test('an unknown model is 404 before any upstream request', async () => {
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', { ...hello, model: 'gpt-4o' });
    const e = assertOpenAIError(r, 404, 'model_not_found');
    assert.match(e.message, /gpt-4o/);
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });

  test('invalid requests never reach the upstream', async () => {
    const since = await stack.ctl.mark();
    await post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7' });
    await post(stack.proxy, '/v1/chat/completions', '{');
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });
});

describe('body size limit', () => {
  // 5 MB is more than the socket buffers hold: the client is still uploading when the proxy
  // answers, and must still get to read the 413.
  for (const size of [200_000, 5_000_000]) {
    test(`a ${size}-byte body over MAX_BODY_BYTES is 413 in the OpenAI shape`, async () => {
      const big = { model: 'glm-4.7', messages: [{ role: 'user', content: 'x'.repeat(size) }] };
      const r = await post(stack.proxy, '/v1/chat/completions', big, { origin: 'https://app.example' });
      assertOpenAIError(r, 413, 'request_too_large');
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
    });
  }

  test('a body just under the limit is served', async () => {
    const content = 'y'.repeat(60_000);
    const r = await post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7', messages: [{ role: 'user', content }] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, `You said: ${content}`);
  });

  test('the proxy serves normally after a 413', async () => {
    const r = await stack.client.chat.completions.create({ ...hello, thinking: { type: 'disabled' } });
    assert.equal(r.choices[0].message.content, 'You said: Hello');
  });
});

describe('HTTP details', () => {
  // curl sends Expect: 100-continue for bodies over 1 KiB and waits for the interim answer.
  test('Expect: 100-continue gets its 100 before the body is sent',
       nativeOnly('workerd never sends 100 Continue; on Cloudflare the edge, not the Worker, speaks HTTP to the client'),
       async () => {
    const body = JSON.stringify({ ...hello, messages: [{ role: 'user', content: 'z'.repeat(2_000) }], thinking: { type: 'disabled' } });
    const result = await new Promise((resolve, reject) => {
      const req = http.request(`${stack.proxy.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json', authorization: `Bearer ${API_KEY}`,
          'content-length': Buffer.byteLength(body), expect: '100-continue',
        },
      });
      let continued = false;
      req.on('continue', () => { continued = true; req.end(body); });
      req.on('response', (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => { text += d; });
        res.on('end', () => resolve({ continued, status: res.statusCode, text }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.ok(result.continued, 'no 100 Continue');
    assert.equal(result.status, 200, result.text);
    assert.equal(JSON.parse(result.text).choices[0].message.content, `You said: ${'z'.repeat(2_000)}`);
  });

  test('HEAD answers with headers only, and the connection stays usable', async () => {
    const sock = net.connect(stack.proxy.port, '127.0.0.1');
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => { data += d; });
    const ended = new Promise((resolve) => sock.on('end', resolve));
    sock.write('HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n'
      + 'GET /v1/models/glm-4.7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await ended;
    const [head, rest] = [data.slice(0, data.indexOf('\r\n\r\n') + 4), data.slice(data.indexOf('\r\n\r\n') + 4)];
    assert.match(head, /^HTTP\/1\.1 200 /);
    assert.match(head, /content-length: [1-9]\d*/i);
    assert.match(rest, /^HTTP\/1\.1 200 /, `the HEAD answer carried a body: ${JSON.stringify(rest.slice(0, 60))}`);
    assert.ok(rest.includes('"owned_by":"z-ai"'), rest);
  });

  test('a keep-alive connection serves many requests in a row', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set();
    try {
      for (let i = 0; i < 5; i++) {
        const r = await new Promise((resolve, reject) => {
          const req = http.request(`${stack.proxy.url}/v1/chat/completions`, {
            method: 'POST', agent,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
          }, (res) => {
            sockets.add(res.socket);
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { text += d; });
            res.on('end', () => resolve({ status: res.statusCode, text }));
          });
          req.on('error', reject);
          req.end(JSON.stringify({ ...hello, stream: i % 2 === 1, messages: [{ role: 'user', content: `k${i}` }] }));
        });
        assert.equal(r.status, 200, r.text);
        assert.ok(r.text.includes(`You said: k${i}`), r.text);
      }
      assert.equal(sockets.size, 1, 'one connection for all five');
    } finally {
      agent.destroy();
    }
  });
});
