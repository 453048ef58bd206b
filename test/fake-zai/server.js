#!/usr/bin/env node
// A fake chat.z.ai for zai-proxy's integration tests, written from the protocol reference
// (docs: zai-upstream.md §7) and nothing else. `startFake()` runs it in-process on loopback;
// `node test/fake-zai/server.js [--port N] [--knob value …]` runs it standalone and prints
// `FAKE_ZAI_LISTENING http://127.0.0.1:<port>` once ready. README.md lists every knob.
import http from 'node:http';
import { once, setMaxListeners } from 'node:events';
import { pathToFileURL } from 'node:url';
import { FakeState } from './state.js';
import { handleCompletion } from './completions.js';
import { handleControl } from './control.js';
import { frontPage, apiConfig, auths, guest, models, newChat, deleteChat } from './site.js';
import { sendJson, CORS_HEADERS } from './transport.js';
import { parseCli } from './config.js';

const MAX_BODY_BYTES = 32 * 1024 * 1024;

const ROUTES = [
  ['GET', /^\/$/, frontPage],
  ['GET', /^\/api\/config$/, apiConfig],
  ['GET', /^\/api\/v1\/auths\/?$/, auths],
  ['POST', /^\/api\/v1\/auths\/guest\/?$/, guest],
  ['GET', /^\/api\/models\/?$/, models],
  ['POST', /^\/api\/v1\/chats\/new\/?$/, newChat],
  ['DELETE', /^\/api\/v1\/chats\/?$/, (fake, ctx) => deleteChat(fake, ctx, null)],
  ['DELETE', /^\/api\/v1\/chats\/([^/]+)\/?$/, (fake, ctx, m) => deleteChat(fake, ctx, decodeURIComponent(m[1]))],
  ['POST', /^\/api\/v2\/chat\/completions\/?$/, (fake, ctx) => handleCompletion(fake, ctx)],
  ['POST', /^\/api\/chat\/completions\/?$/, (fake, ctx) => handleCompletion(fake, ctx, { legacy: true })],
];

const isLoopback = (host) => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

const clientIp = (socket) => String(socket.remoteAddress ?? '').replace(/^::ffff:/, '');

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function parseJson(text) {
  if (!text.trim()) return null;
  try { return JSON.parse(text); } catch { return undefined; }
}

async function serve(fake, req, res) {
  const { state } = fake;
  const url = new URL(req.url, 'http://fake.invalid');
  const bytes = await readBody(req).catch(() => Buffer.alloc(0));
  if (bytes === null) return sendJson(res, 413, { detail: 'Request body too large' });
  const text = bytes.toString('utf8');
  const record = {
    time_ms: Date.now(),
    method: req.method,
    path: url.pathname,
    raw_query: url.search.slice(1),
    headers: req.headers,
    raw_headers: req.rawHeaders.reduce((pairs, v, i) => (i % 2 ? pairs.at(-1).push(v) : pairs.push([v]), pairs), []),
    body: text,
    json: parseJson(text),
    ip: clientIp(req.socket),
    status: null,
    outcome: null,
  };
  const ctx = { req, res, url, record, ip: record.ip };

  if (url.pathname.startsWith('/__fake/')) {
    // Connections that carry the test's control calls are not the proxy's upstream connections.
    if (!req.socket.fakeControl) {
      req.socket.fakeControl = true;
      state.open.connections--;
      state.open.controlConnections++;
    }
    return handleControl(fake, ctx, url.pathname.slice('/__fake/'.length).replace(/\/$/, ''));
  }

  state.record(record);
  state.open.requests++;
  state.changed();
  res.once('close', () => {
    record.status = res.headersSent ? res.statusCode : null;
    state.open.requests--;
    state.changed();
  });
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS_HEADERS, 'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS', 'access-control-allow-headers': '*' });
    return res.end();
  }
  for (const [method, pattern, handler] of ROUTES) {
    const m = pattern.exec(url.pathname);
    if (m && method === req.method) return handler(fake, ctx, m);
  }
  return sendJson(res, 404, { detail: 'Not Found' });
}

export async function startFake(options = {}) {
  const { port = 0, host = '127.0.0.1', config = {} } = options;
  if (!isLoopback(host)) throw new Error(`the fake listens on loopback only, not ${host}`);
  const state = new FakeState(config);
  const stopping = new AbortController();
  setMaxListeners(0, stopping.signal); // one listener per open stream or long-poll
  const fake = { state, signal: stopping.signal };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    serve(fake, req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { detail: `fake-zai bug: ${err.message}` });
      else res.destroy(err);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    state.open.connections++;
    state.connectionsTotal++;
    state.changed();
    socket.once('close', () => {
      sockets.delete(socket);
      if (socket.fakeControl) state.open.controlConnections--;
      else state.open.connections--;
      state.changed();
    });
  });
  // Node's default accept backlog (511) overflows when thousands of streams open at once (the
  // load benchmark); dropped SYNs then surface in the proxy as upstream connect timeouts.
  server.listen({ port, host, backlog: 4096 });
  await once(server, 'listening');
  const bound = server.address().port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound}`;

  let closing = null;
  const close = () => {
    closing ??= (async () => {
      stopping.abort();
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    })();
    return closing;
  };
  return { url, port: bound, state, close };
}

async function main() {
  let options;
  try {
    options = parseCli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`fake-zai: ${err.message}\n`);
    process.exit(2);
  }
  // Handlers first: a test may signal as soon as it reads the ready line.
  let fake = null;
  const stop = async () => {
    await fake?.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  fake = await startFake(options);
  process.stdout.write(`FAKE_ZAI_LISTENING ${fake.url}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
