// How an SSE response reaches the wire (§7.3 transport knobs): cut into writes per event, at
// random byte offsets (also inside `data:` and inside multi-byte UTF-8) or coalesced; delayed,
// stalled once, truncated without done, gzipped when the client asks. Also the plain JSON and
// HTML replies.
import { createGzip, gzipSync, constants as zlibConstants } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes, randomInt } from 'node:crypto';

export const CORS_HEADERS = {
  'access-control-allow-origin': 'https://chat.z.ai',
  'access-control-allow-credentials': 'true',
  'access-control-expose-headers': 'X-Chat-Id, X-Trace-ID',
};

export const traceId = () => randomBytes(15).toString('hex');

export function sendJson(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendHtml(res, status, html, headers = {}) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(html), ...headers });
  res.end(html);
}

// Seedable so a failing random split can be replayed (mulberry32).
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Byte ranges [start, end) of the writes, per chunk_mode.
function planWrites(total, eventEnds, knobs, seed) {
  const cuts = [];
  if (knobs.chunk_mode === 'random_bytes') {
    const next = prng(seed);
    const max = Math.max(1, Math.floor(knobs.chunk_max_bytes));
    for (let at = 0; at < total;) {
      at = Math.min(total, at + 1 + Math.floor(next() * max));
      cuts.push(at);
    }
  } else {
    const step = knobs.chunk_mode === 'coalesce' ? Math.max(1, Math.floor(knobs.coalesce_events)) : 1;
    for (let i = step - 1; i < eventEnds.length; i += step) cuts.push(eventEnds[i]);
    if (cuts.at(-1) !== total && total > 0) cuts.push(total);
  }
  let start = 0;
  return cuts.filter((end) => end <= total).map((end) => { const r = [start, end]; start = end; return r; });
}

function acceptsGzip(req) {
  return /(^|,)\s*(gzip|\*)\s*(;\s*q=(?!0(\.0*)?\s*(,|$))[\d.]+)?\s*(,|$)/i.test(req.headers['accept-encoding'] ?? '');
}

// The byte sink: plain chunked writes, or a gzip stream flushed after every write so each piece
// still arrives on its own. `write` resolves once the bytes are handed to the socket.
function openSink(res, gzip) {
  const toSocket = (buf) => new Promise((resolve) => { res.write(buf, () => resolve()); });
  if (!gzip) return { write: toSocket, close: () => {} };
  const gz = createGzip();
  let pending = Promise.resolve();
  gz.on('data', (chunk) => { pending = toSocket(chunk); });
  gz.on('error', () => {});
  return {
    write: (buf) => new Promise((resolve) => {
      gz.write(buf);
      gz.flush(zlibConstants.Z_SYNC_FLUSH, () => pending.then(resolve));
    }),
    // Finishes the gzip member (trailer) so the client sees a complete body.
    finish: () => new Promise((resolve) => { gz.end(); gz.once('end', () => pending.then(resolve)); }),
    close: () => gz.destroy(),
  };
}

// The fast path (no delays, no truncation): every write queued while the socket is corked, so
// the chunks keep their framing but leave in one system call. Benchmarks use this.
function writeAtOnce(res, head, body, writes, eventEnds, progress) {
  return new Promise((resolve) => {
    res.writeHead(200, head);
    progress.writes = writes.length;
    res.cork();
    for (const [start, end] of writes) res.write(body.subarray(start, end));
    progress.events_written = eventEnds.length;
    progress.bytes_written = eventEnds.at(-1) ?? 0;
    res.end();
    res.uncork();
    const settle = () => resolve(res.writableFinished ? 'completed' : 'aborted');
    if (res.writableFinished) settle();
    else res.once('close', settle);
  });
}

// Sends `events` (complete SSE event strings) as a 200 event stream. `signal` aborts when the
// server closes. Resolves with how it ended: 'completed' | 'truncated' | 'aborted'.
export async function sendStream({ req, res, events, knobs, headers, signal, progress }) {
  const buffers = events.map((e) => Buffer.from(e, 'utf8'));
  const eventEnds = [];
  let total = 0;
  for (const b of buffers) eventEnds.push((total += b.length));
  const body = buffers.length === 1 ? buffers[0] : Buffer.concat(buffers, total);
  const truncateAt = knobs.truncate_after_n_events;
  const truncated = truncateAt !== null && truncateAt < buffers.length;
  const limit = truncated ? (truncateAt === 0 ? 0 : eventEnds[truncateAt - 1]) : total;
  const random = knobs.chunk_mode === 'random_bytes';
  const seed = random ? knobs.chunk_seed ?? randomInt(2 ** 31) : null;
  const writes = planWrites(limit, eventEnds, knobs, seed);
  const gzip = knobs.gzip && acceptsGzip(req);
  if (random) progress.seed = seed;
  progress.writes = writes.length;
  const head = {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    ...(gzip ? { 'content-encoding': 'gzip', vary: 'Accept-Encoding' } : {}),
    ...CORS_HEADERS,
    ...headers,
  };
  const timed = knobs.first_event_delay_ms > 0 || knobs.inter_event_delay_ms > 0 || knobs.stall_ms > 0;
  if (!truncated && !timed) {
    if (!gzip) return writeAtOnce(res, head, body, writes, eventEnds, progress);
    // Nothing to space out: compress once, and cut the compressed bytes as the mode says.
    const zipped = gzipSync(body);
    const zippedWrites = random ? planWrites(zipped.length, [zipped.length], knobs, seed) : [[0, zipped.length]];
    return writeAtOnce(res, head, zipped, zippedWrites, eventEnds, progress);
  }

  const aborter = new AbortController();
  const abort = () => aborter.abort();
  signal.addEventListener('abort', abort, { once: true });
  res.once('close', abort);
  try {
    return await writeAll();
  } finally {
    signal.removeEventListener('abort', abort);
    res.off('close', abort);
  }

  async function writeAll() {
    // Every wait also ends when the client goes away or the server closes, so no request can
    // hang on a write callback that a destroyed socket will never call.
    const aborted = new Promise((resolve) => aborter.signal.addEventListener('abort', resolve, { once: true }));
    const until = (promise) => Promise.race([promise, aborted]);
    const pause = async (ms) => {
      if (ms > 0) await sleep(ms, undefined, { signal: aborter.signal }).catch(() => {});
    };
    res.writeHead(200, head);
    res.flushHeaders();
    const sink = openSink(res, gzip);
    let stalled = false;
    const maybeStall = async (eventsDone) => {
      if (!stalled && knobs.stall_ms > 0 && eventsDone >= knobs.stall_after_events) {
        stalled = true;
        await pause(knobs.stall_ms);
      }
    };
    await pause(knobs.first_event_delay_ms);
    await maybeStall(0);
    let eventsDone = 0;
    for (let i = 0; i < writes.length && !aborter.signal.aborted; i++) {
      const [start, end] = writes[i];
      await until(sink.write(body.subarray(start, end)));
      while (eventsDone < eventEnds.length && eventEnds[eventsDone] <= end) eventsDone++;
      progress.events_written = eventsDone;
      progress.bytes_written = end;
      await maybeStall(eventsDone);
      if (i < writes.length - 1) await pause(knobs.inter_event_delay_ms);
    }
    if (aborter.signal.aborted || res.destroyed) {
      sink.close();
      return 'aborted';
    }
    if (truncated) {
      // Drop the connection after the bytes already written: FIN without the chunked terminator,
      // so the client sees the body end early and no done event.
      res.socket?.end();
      return 'truncated';
    }
    if (sink.finish) await until(sink.finish());
    await until(new Promise((resolve) => res.end(resolve)));
    return aborter.signal.aborted && !res.writableFinished ? 'aborted' : 'completed';
  }
}
