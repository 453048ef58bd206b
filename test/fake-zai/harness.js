// Helpers for the fake's own tests: a minimal, honest client of the fake (guest, captcha, a
// correctly signed completion), raw HTTP access to see chunk framing, and SSE splitting.
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { startFake } from './server.js';
import { computeSignature } from './signature.js';
import { finalTextOf } from './stream.js';

export async function withFake(config, fn) {
  const fake = await startFake({ config });
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

export async function control(fake, method, path, body) {
  const res = await fetch(`${fake.url}/__fake/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

export async function mintGuest(fake) {
  const res = await fetch(`${fake.url}/api/v1/auths/`);
  return res.json();
}

export async function mintCaptcha(fake, options = {}) {
  return (await control(fake, 'POST', 'captcha', options)).body.token;
}

export const FE_VERSION = 'prod-fe-1.1.98';

// Builds the request §3.9 describes (signed query subset, headers, body) for `guest`.
// `tweak` may replace any part: { prompt, signedPrompt, timestamp, query, headers, body, captcha }.
export async function buildCompletion(fake, guest, tweak = {}) {
  const prompt = tweak.prompt ?? 'Hello, what model are you running?';
  const timestamp = String(tweak.timestamp ?? fake.state.clock());
  const requestId = randomUUID();
  const signed = computeSignature({ prompt: tweak.signedPrompt ?? prompt, requestId, timestamp, userId: guest.id });
  const query = new URLSearchParams({
    timestamp, requestId, user_id: guest.id, version: '0.0.1', platform: 'web', token: guest.token,
    current_url: 'https://chat.z.ai/', pathname: '/', signature_timestamp: timestamp,
    ...tweak.query,
  });
  for (const [k, v] of Object.entries(tweak.query ?? {})) if (v === null) query.delete(k);
  const captcha = 'captcha' in tweak ? tweak.captcha : await mintCaptcha(fake);
  const body = {
    stream: true,
    model: 'glm-4.7',
    messages: [{ role: 'user', content: prompt }],
    signature_prompt: prompt,
    features: { enable_thinking: false },
    chat_id: randomUUID(),
    id: randomUUID(),
    ...(captcha === null ? {} : { captcha_verify_param: captcha }),
    ...tweak.body,
  };
  const headers = {
    authorization: `Bearer ${guest.token}`,
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'x-fe-version': FE_VERSION,
    'x-signature': signed.signature,
    'x-region': 'overseas',
    ...tweak.headers,
  };
  for (const [k, v] of Object.entries(headers)) if (v === null) delete headers[k];
  return { path: `/api/v2/chat/completions?${query}`, headers, body: JSON.stringify(body), parsed: body, signed };
}

export async function complete(fake, guest, tweak = {}, init = {}) {
  const request = await buildCompletion(fake, guest, tweak);
  return fetch(fake.url + request.path, { method: 'POST', headers: request.headers, body: request.body, ...init });
}

// The JSON payloads of an SSE text ("[DONE]" kept as the string).
export function parseEvents(text) {
  return text.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => {
    const payload = e.slice(6);
    return payload === '[DONE]' ? payload : JSON.parse(payload);
  });
}

// The message text the frontend would show after applying every event of an SSE body.
export const finalText = (sseText) => finalTextOf([sseText]);

// One HTTP/1.1 request over a raw socket; returns the status, headers and the body's chunks as
// framed on the wire (chunked encoding), so tests can see where the fake cut its writes.
export function rawRequest(url, { method = 'POST', path, headers = {}, body = '' }) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const parts = [];
    socket.on('data', (d) => parts.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(parts);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(head[0].split(' ')[1]);
      const hdrs = Object.fromEntries(head.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const chunks = [];
      let at = split + 4;
      let complete = false;
      if (hdrs['transfer-encoding'] !== 'chunked') {
        const body = all.subarray(at);
        resolve({ status, headers: hdrs, chunks: [body], body, complete: body.length === Number(hdrs['content-length'] ?? body.length) });
        return;
      }
      while (at < all.length) {
        const eol = all.indexOf('\r\n', at);
        if (eol < 0) break;
        const size = parseInt(all.subarray(at, eol).toString('latin1'), 16);
        if (size === 0) { complete = true; break; }
        if (eol + 2 + size > all.length) { chunks.push(all.subarray(eol + 2)); break; }
        chunks.push(all.subarray(eol + 2, eol + 2 + size));
        at = eol + 4 + size;
      }
      resolve({ status, headers: hdrs, chunks, body: Buffer.concat(chunks), complete });
    });
    const bytes = Buffer.from(body, 'utf8');
    const lines = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: close', `Content-Length: ${bytes.length}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
    socket.write(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), bytes]));
  });
}
