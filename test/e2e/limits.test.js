// The limits that keep one client (or a flood of them) from taking the proxy down: request
// deadlines, header size, idle keep-alive connections, the connection cap and the cap on
// completions in flight — each answered with a precise OpenAI error and a Retry-After where
// coming back later helps — and the SSE comment lines that keep a stream alive while the
// upstream is silent. Each stack sets the limit under test low so a test needs only a few sockets.
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, test } from 'node:test';
import {
  API_KEY, assertOpenAIError, drain, get, nativeOnly, post, sseEvents, summarize, useStack,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello'), thinking: { type: 'disabled' } };
const helloStream = { ...hello, stream: true };

// A raw client connection that records everything it receives and when the proxy closed it.
function rawConnection(port) {
  const sock = net.connect(port, '127.0.0.1');
  const conn = { sock, data: '' };
  sock.setEncoding('utf8');
  sock.on('data', (d) => { conn.data += d; });
  conn.closed = new Promise((resolve) => sock.on('close', resolve));
  conn.connected = new Promise((resolve, reject) => {
    sock.on('connect', resolve);
    sock.on('error', reject);
  });
  // Resolves with the received text once it holds `marker`.
  conn.until = (marker) => new Promise((resolve, reject) => {
    const check = () => {
      if (conn.data.includes(marker)) resolve(conn.data);
    };
    sock.on('data', check);
    sock.on('close', () => reject(new Error(`closed before ${JSON.stringify(marker)}: ${conn.data}`)));
    check();
  });
  return conn;
}

function jsonOf(raw) {
  return JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
}

describe('request deadlines and sizes', nativeOnly('socket-level limits of the native server'), () => {
  const stack = useStack({
    env: {
      REQUEST_HEADER_TIMEOUT_MS: '300', REQUEST_BODY_TIMEOUT_MS: '300', KEEP_ALIVE_TIMEOUT_MS: '200',
      MAX_HEADER_BYTES: '2048',
    },
  });

  test('headers that never finish (slowloris) get the connection closed, and nothing else', async () => {
    const c = rawConnection(stack.proxy.port);
    c.sock.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await c.closed;
    assert.equal(c.data, '', 'no response for a request that never arrived');
    assert.equal((await get(stack.proxy, '/healthz')).status, 200);
  });

  test('a body that stops arriving is a 408 request_timeout', async () => {
    const c = rawConnection(stack.proxy.port);
    c.sock.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\n`
      + 'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":');
    await c.closed;
    assert.match(c.data, /^HTTP\/1\.1 408 /);
    assert.match(c.data, /connection: close/i);
    const e = jsonOf(c.data).error;
    assert.equal(e.code, 'request_timeout');
    assert.equal(e.type, 'invalid_request_error');
  });

  test('headers over MAX_HEADER_BYTES are a 431', async () => {
    const r = await post(stack.proxy, '/v1/chat/completions', hello, { 'x-padding': 'p'.repeat(4096) });
    assertOpenAIError(r, 431, 'request_headers_too_large');
    assert.equal((await post(stack.proxy, '/v1/chat/completions', hello)).status, 200);
  });

  test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const c = rawConnection(stack.proxy.port);
    c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.until('{"status":"ok"}');
    const started = Date.now();
    await c.closed;
    assert.match(c.data, /^HTTP\/1\.1 200 /);
    assert.ok(Date.now() - started >= 150, 'closed only after the idle time');
  });
});

describe('MAX_CONNECTIONS', nativeOnly('the Worker has no connections of its own to count'), () => {
  // Four loops: the cap is the process's, not each loop's.
  const stack = useStack({ env: { MAX_CONNECTIONS: '4', WORKERS: '4' } });

  test('a connection over the cap gets 503 server_overloaded with Retry-After, then service resumes', async () => {
    // Keep-alive connections that each got an answer stay held by the proxy. The test runner's
    // own fetch pool may hold some of the four already, so open them until one is turned away.
    const held = [];
    let refused;
    for (let i = 0; i < 5 && !refused; i++) {
      const c = rawConnection(stack.proxy.port);
      held.push(c);
      c.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const text = await c.until('\r\n\r\n').then(() => c.until('}'));
      if (/^HTTP\/1\.1 503 /.test(text)) refused = c;
    }
    assert.ok(refused, 'the fifth connection at the latest is over the cap');
    await refused.closed;
    assert.match(refused.data, /^HTTP\/1\.1 503 /);
    assert.match(refused.data, /\r\nretry-after: 1\r\n/i);
    assert.match(refused.data, /\r\nconnection: close\r\n/i);
    const e = jsonOf(refused.data).error;
    assert.equal(e.code, 'server_overloaded');
    assert.equal(e.type, 'server_error');

    for (const c of held) c.sock.destroy();
    await Promise.all(held.map((c) => c.closed));
    // The proxy notices the closes on its next turn; a client retries as Retry-After invites.
    let again;
    for (let i = 0; i < 50; i++) {
      again = await get(stack.proxy, '/healthz');
      if (again.status === 200) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(again.status, 200, again.text);
  });
});

// The native server counts its process's completions (on all of its loops); the Worker counts
// its isolate's.
describe('MAX_CONCURRENT_STREAMS', () => {
  const stack = useStack({
    fake: { max_inflight_per_user: 0 }, env: { MAX_CONCURRENT_STREAMS: '1', WORKERS: '4' },
  });

  test('a completion over the cap gets 429 with Retry-After; the first one is unharmed', async () => {
    // The first stream stalls after its first event, so it is in flight for a while.
    await stack.ctl.config({ stall_after_events: 1, stall_ms: 500 });
    try {
      const first = post(stack.proxy, '/v1/chat/completions', helloStream);
      await stack.ctl.waitFor({ open_streams: 1 });
      const second = await post(stack.proxy, '/v1/chat/completions', hello);
      const e = assertOpenAIError(second, 429, 'too_many_concurrent_requests');
      assert.equal(second.headers.get('retry-after'), '1');
      assert.equal(e.type, 'rate_limit_error');
      const { status, text } = await first;
      assert.equal(status, 200);
      assert.equal(summarize(sseEvents(text)).content, 'You said: Hello');
    } finally {
      await stack.ctl.config({ stall_ms: 0 });
    }
    const third = await post(stack.proxy, '/v1/chat/completions', hello);
    assert.equal(third.status, 200, third.text);
  });
});

// An answer long enough that text reaches the client before the upstream falls silent (the
// translator holds back a little text until it is certain).
const LONG_ANSWER = 'The quick brown fox jumps over the lazy dog. '.repeat(3);
const longAnswer = { answer_text: LONG_ANSWER, answer_pieces: 9, stall_after_events: 6 };

// The SSE comment blocks of a stream's text; every one must be the keep-alive line.
function keepAliveComments(text) {
  const comments = text.split('\n\n').filter((b) => b.startsWith(':'));
  for (const c of comments) assert.equal(c, ': keep-alive');
  return comments;
}

describe('SSE keep-alive comments', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { SSE_KEEPALIVE_MS: '100' } });

  test('a silent upstream mid-stream gets comment lines; clients see the same answer', async () => {
    await stack.ctl.config({ ...longAnswer, stall_ms: 700 });
    try {
      const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
      assert.equal(r.status, 200);
      const comments = keepAliveComments(r.text);
      assert.ok(comments.length >= 3, `expected comments during the 700 ms gap: ${JSON.stringify(r.text)}`);
      // They come during the gap: after the first text, before the end.
      assert.ok(r.text.lastIndexOf(': keep-alive') > r.text.indexOf('"content"'));
      const s = summarize(sseEvents(r.text));
      assert.equal(s.content, LONG_ANSWER.trim());
      assert.ok(s.done);

      // The official SDK ignores the comments.
      const { chunks, error } = await drain(await stack.client.chat.completions.create(helloStream));
      assert.equal(error, undefined);
      assert.equal(summarize(chunks).content, LONG_ANSWER.trim());
    } finally {
      await stack.ctl.reset();
    }
    await stack.ctl.waitFor({ open_streams: 0 });
  });

  test('an upstream that trickles bytes with no output yet still gets comments', async () => {
    // A few bytes every 3 ms: the upstream never goes quiet for 100 ms, but each event takes
    // far longer than that to complete, so the client hears nothing between events. The
    // interval counts from the last write to the client, not from the last upstream read.
    await stack.ctl.config({
      answer_text: LONG_ANSWER, answer_pieces: 9,
      chunk_mode: 'random_bytes', chunk_max_bytes: 4, inter_event_delay_ms: 3, gzip: false,
    });
    try {
      const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
      assert.equal(r.status, 200);
      const comments = keepAliveComments(r.text);
      assert.ok(comments.length >= 1, `expected comments between slow events: ${JSON.stringify(r.text)}`);
      assert.ok(r.text.lastIndexOf(': keep-alive') > r.text.indexOf('"content"'));
      const s = summarize(sseEvents(r.text));
      assert.equal(s.content, LONG_ANSWER.trim());
      assert.ok(s.done);
    } finally {
      await stack.ctl.reset();
    }
  });

  test('an upstream that keeps talking gets no comments', async () => {
    const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
    assert.equal(r.status, 200);
    assert.ok(!r.text.includes(': keep-alive'), r.text);
  });
});

describe('SSE keep-alive comments turned off', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { SSE_KEEPALIVE_MS: '0' } });

  test('SSE_KEEPALIVE_MS=0 sends none, even through a long gap', async () => {
    await stack.ctl.config({ ...longAnswer, stall_ms: 300 });
    try {
      const r = await post(stack.proxy, '/v1/chat/completions', helloStream);
      assert.equal(r.status, 200);
      assert.ok(!r.text.includes(': keep-alive'), r.text);
      assert.equal(summarize(sseEvents(r.text)).content, LONG_ANSWER.trim());
    } finally {
      await stack.ctl.reset();
    }
  });
});
