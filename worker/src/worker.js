// zai-proxy as a Cloudflare Worker. Every decision is the C++ core's (core.wasm, src/wasm/): the
// routes, auth, CORS, validation, the model map, the signed upstream request, the stream
// translation and its chunks, the verdicts on upstream failures and the guest-token pool. This
// file only does what JavaScript must: fetch, streams and timers. Settings are the Worker's
// vars and secrets, with the native server's names. The pool lives in the isolate's memory, so
// each isolate mints its own guest tokens.
import { ACTION, Core, Trap, text } from './core.js';

let core;  // this isolate's instance; replaced when it traps
const mintWaiters = new Set();  // completions waiting for a token being minted

function currentCore(env) {
  if (!core || core.broken) {
    const vars = Object.entries(env).filter(([, v]) => typeof v === 'string');
    core = new Core(vars);
  }
  return core;
}

function toResponse([status, body, ...headers]) {
  const h = new Headers({ server: 'zai-proxy' });
  if (body.length) h.set('content-type', 'application/json');
  for (let i = 0; i + 1 < headers.length; i += 2) h.set(text(headers[i]), text(headers[i + 1]));
  // A HEAD answer keeps its body here: the runtime sends its Content-Length and drops the bytes.
  return new Response(body.length ? body : null, { status: Number(text(status)), headers: h });
}

function headerPairs(fields) {
  const pairs = [];
  for (let i = 0; i + 1 < fields.length; i += 2) pairs.push([text(fields[i]), text(fields[i + 1])]);
  return pairs;
}

// A bad configuration or a trap: a 500 in the OpenAI shape, from a fresh instance if one can
// be made.
function internalError(request, env, message = '') {
  const origin = request.headers.get('origin') ?? '';
  try {
    return toResponse(currentCore(env).internalError(origin, message));
  } catch {
    return Response.json({ error: { message: 'Internal proxy error.', type: 'server_error',
                                    param: null, code: 'internal_error' } },
                         { status: 500, headers: { 'access-control-allow-origin': '*' } });
  }
}

// Starts the upstream requests the pool and the front-end version need now (guest mints, the
// front page), kept alive past this request by waitUntil.
function housekeeping(c, ctx) {
  for (const job of c.housekeeping(Date.now())) ctx.waitUntil(runJob(c, job));
}

async function runJob(c, job) {
  let status = 0;
  let body = new Uint8Array(0);
  try {
    const r = await fetch(job.url, {
      method: job.method, headers: job.headers, body: job.body.length ? job.body : undefined,
      redirect: 'manual', signal: AbortSignal.timeout(c.settings.firstByteMs),
    });
    status = r.status;
    body = new Uint8Array(await r.arrayBuffer());
  } catch {
    status = 0;  // unreachable or timed out: the pool backs off
  }
  if (c.broken) return;
  try {
    if (job.kind === 'mint') c.mintDone(job.slot, status, body, Date.now());
    else c.scrapeDone(status, body, Date.now());
  } catch (err) {
    if (!(err instanceof Trap)) throw err;
  } finally {
    if (job.kind === 'mint') for (const wake of [...mintWaiters]) wake();
  }
}

function waitForMint(ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      mintWaiters.delete(done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    mintWaiters.add(done);
  });
}

// The request body, unless it is over MAX_BODY_BYTES (then it is not read further).
async function readBody(request, limit) {
  if (!request.body) return { body: new Uint8Array(0), tooLarge: false };
  // An oversized body is still read to its end (and dropped), as the native server drains it:
  // a client that is still uploading then sees the 413 instead of a reset connection.
  let tooLarge = Number(request.headers.get('content-length') ?? 0) > limit;
  const parts = [];
  let size = 0;
  for await (const part of request.body) {
    size += part.length;
    if (size > limit) tooLarge = true;
    if (!tooLarge) parts.push(part);
  }
  if (tooLarge) return { body: new Uint8Array(0), tooLarge };
  const body = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return { body, tooLarge: false };
}

async function readLimited(response, limit) {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(0);
  const parts = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  const out = new Uint8Array(Math.min(size, limit));
  let at = 0;
  for (const p of parts) {
    const n = Math.min(p.length, out.length - at);
    out.set(p.subarray(0, n), at);
    at += n;
  }
  return out;
}

const ERROR_BODY_LIMIT = 64 * 1024;

// One completion: performs the actions the core asks for until it answers. Resolves `respond`
// with the Response (whole, or the head of a stream whose body is then written here).
class Completion {
  constructor(c, handle, ctx) {
    this.c = c;
    this.h = handle;
    this.ctx = ctx;
    this.upstream = undefined;  // { reader, abort, silent }
    this.writer = undefined;
    this.keepAlive = undefined;  // the pending keep-alive's timer
    this.writing = false;        // a write is under way (a slow client takes its time)
    this.over = false;           // the stream is closing or closed: write nothing more
    this.responded = false;
    this.gone = false;
  }

  // The client disconnected: stop at once, closing the upstream (the lease goes back as the
  // completion is dropped).
  clientGone() {
    this.gone = true;
    this.closeUpstream();
    this.writer?.abort().catch(() => {});
  }

  run(signal) {
    signal?.addEventListener('abort', () => this.clientGone(), { once: true });
    return new Promise((resolve, reject) => {
      this.respond = (r) => {
        this.responded = true;
        resolve(r);
      };
      this.armKeepAlive();
      this.drive().catch((err) => {
        if (!this.responded) reject(err);
        else this.writer?.abort(err).catch(() => {});
      });
    });
  }

  async drive() {
    const { c, h } = this;
    try {
      let a = c.next(h, Date.now());
      for (;;) {
        if (this.gone) return;
        switch (a) {
          case ACTION.respond:
            this.respond(toResponse(c.fields()));
            return;
          case ACTION.streamStart: {
            const [status, bytes, ...headers] = c.fields();
            this.startStream(status, headers);
            if (!(await this.write(bytes))) return;
            a = c.next(h, Date.now());
            break;
          }
          case ACTION.write:
            if (!(await this.write(c.fields()[0]))) return;
            a = c.next(h, Date.now());
            break;
          case ACTION.read:
            a = await this.read();
            break;
          case ACTION.endStream: {
            const [bytes] = c.fields();
            if (!(await this.write(bytes))) return;
            this.stopKeepAlive();
            await this.writer.close().catch(() => {});
            return;
          }
          case ACTION.waitToken: {
            const ms = Number(text(c.fields()[0]));
            housekeeping(c, this.ctx);  // the mint this completion waits for may be due now
            await waitForMint(ms);
            a = c.next(h, Date.now());
            break;
          }
          case ACTION.captcha:
            a = await this.captcha(text(c.fields()[0]));
            break;
          case ACTION.fetch: {
            const request = c.fields();
            housekeeping(c, this.ctx);  // a verdict may have asked for a new token
            a = await this.fetch(request);
            break;
          }
          case ACTION.refreshVersion:
            a = await this.frontPage(c.fields());
            break;
          default:
            throw new Error(`unknown action ${a}`);
        }
      }
    } finally {
      this.stopKeepAlive();
      this.closeUpstream();
      if (!c.broken) {
        c.drop(h, Date.now());
        housekeeping(c, this.ctx);
      }
    }
  }

  // The head of a streamed answer: the Response goes to the client now, its body follows.
  startStream(status, headers) {
    const { readable, writable } = new TransformStream();
    this.writer = writable.getWriter();
    this.respond(new Response(readable, {
      status: Number(text(status)),
      headers: [['server', 'zai-proxy'], ...headerPairs(headers)],
    }));
  }

  // Writes to the client's stream; false when the client went away.
  async write(bytes) {
    if (!bytes.length) return true;
    this.writing = true;
    try {
      await this.writer.write(bytes);
      return true;
    } catch {
      return false;  // the finally in drive() closes the upstream
    } finally {
      this.writing = false;
      this.armKeepAlive();
    }
  }

  // When nothing has been written for SSE_KEEPALIVE_MS, the core says what keeps the client's
  // connection, and anything between, from dropping it as idle: nothing (a whole answer is
  // coming), a keep-alive event, or, before a streamed answer's first text, its head with one.
  // Every write re-arms the timer, as the native server measures from its last write.
  armKeepAlive() {
    clearTimeout(this.keepAlive);
    const ms = this.c.settings.keepAliveMs;
    if (this.over || ms <= 0) return;
    this.keepAlive = setTimeout(() => {
      // A write still under way (a slow client) counts as activity.
      if (this.writing) return this.armKeepAlive();
      if (this.c.broken || this.gone) return;
      const a = this.c.quiet(this.h, Date.now());
      if (a === ACTION.none) return;
      const [first, second, ...headers] = this.c.fields();
      if (a === ACTION.streamStart) {
        this.startStream(first, headers);
        this.write(second);
      } else {
        this.write(first);
      }
    }, ms);
  }

  stopKeepAlive() {
    this.over = true;
    clearTimeout(this.keepAlive);
  }

  async captcha(url) {
    let status = 0;
    let body = new Uint8Array(0);
    try {
      const r = await fetch(url, { headers: { accept: 'application/json' },
                                   signal: AbortSignal.timeout(this.c.settings.firstByteMs) });
      status = r.status;
      body = await readLimited(r, 1024 * 1024);
    } catch {
      status = 0;
    }
    return this.c.captcha(this.h, status, body, Date.now());
  }

  // The upstream's front page, which names its front-end version (after a 426 or a block page).
  async frontPage([method, url, , ...headers]) {
    let status = 0;
    let body = new Uint8Array(0);
    try {
      const r = await fetch(text(url), {
        method: text(method), headers: headerPairs(headers), redirect: 'manual',
        signal: AbortSignal.timeout(this.c.settings.firstByteMs),
      });
      status = r.status;
      body = await readLimited(r, 4 * 1024 * 1024);
    } catch {
      status = 0;
    }
    return this.c.frontPage(this.h, status, body, Date.now());
  }

  async fetch([method, url, body, ...headers]) {
    this.closeUpstream();
    const { c, h } = this;
    const abort = new AbortController();
    const upstream = { abort, silent: false };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, c.settings.firstByteMs);
    let r;
    try {
      r = await fetch(text(url), {
        method: text(method), headers: headerPairs(headers),
        body: body.length ? body : undefined, redirect: 'manual', signal: abort.signal,
      });
    } catch {
      clearTimeout(timer);
      return c.failure(h, timedOut, Date.now());
    }
    const contentType = r.headers.get('content-type') ?? '';
    const retryAfter = r.headers.get('retry-after') ?? '';
    if (r.status !== 200) {
      let errorBody = new Uint8Array(0);
      try {
        errorBody = await readLimited(r, ERROR_BODY_LIMIT);
      } catch {
        // the status alone decides then
      }
      clearTimeout(timer);
      return c.response(h, r.status, contentType, retryAfter, errorBody, Date.now());
    }
    clearTimeout(timer);
    upstream.reader = r.body.getReader();
    this.upstream = upstream;
    return c.response(h, 200, contentType, retryAfter, new Uint8Array(0), Date.now());
  }

  // The next piece of the upstream body, or its end (a read error or UPSTREAM_IDLE_TIMEOUT_MS
  // of silence ends it too; the core decides what that means).
  async read() {
    const { c, h, upstream } = this;
    const timer = setTimeout(() => {
      upstream.silent = true;
      upstream.abort.abort();
    }, c.settings.idleMs);
    let piece;
    try {
      piece = await upstream.reader.read();
    } catch {
      piece = { done: true };
    } finally {
      clearTimeout(timer);
    }
    if (piece.done) {
      this.upstream = undefined;
      return c.end(h, upstream.silent, Date.now());
    }
    return c.bytes(h, piece.value, Date.now());
  }

  closeUpstream() {
    if (!this.upstream) return;
    this.upstream.reader?.cancel().catch(() => {});
    this.upstream.abort.abort();
    this.upstream = undefined;
  }
}

async function handle(request, env, ctx) {
  const c = currentCore(env);
  if (c.configError) return internalError(request, env, `zai-proxy: ${c.configError}`);
  housekeeping(c, ctx);
  if (env.ZAI_TEST_HOOKS === '1' && request.headers.has('x-zai-test-trap')) c.trap();

  const url = new URL(request.url);
  const { body, tooLarge } = await readBody(request, c.settings.maxBodyBytes);
  const handle = c.begin(request.method, url.pathname + url.search,
                         request.headers.get('authorization') ?? '',
                         request.headers.get('origin') ?? '', request.headers.get('x-api-key') ?? '',
                         body, tooLarge, Date.now());
  if (handle === 0) return toResponse(c.fields());
  return new Completion(c, handle, ctx).run(request.signal);
}

export default {
  async fetch(request, env, ctx) {
    try {
      return await handle(request, env, ctx);
    } catch (err) {
      if (err instanceof Trap) {
        console.error(`core trapped: ${err.message}; the instance is replaced`);
        return internalError(request, env);
      }
      console.error(`worker error: ${err?.stack ?? err}`);
      return internalError(request, env);
    }
  },
};
