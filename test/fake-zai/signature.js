// The X-Signature algorithm of the reference (§2.2), written from the reference alone so that the
// fake cannot share a bug with the proxy's signer. Two HMAC-SHA256 layers: a key derived from the
// 5-minute bucket of the timestamp, then the signature over the sorted ids, the Base64 prompt and
// the timestamp again.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNING_SALT = 'key-@@@@)))()((9))-xxxx&&&%%%%%';
const BUCKET_MS = 300000;

// Every intermediate value is returned so tests can check them against vectors A–D one by one.
export function computeSignature({ prompt, requestId, timestamp, userId }) {
  const ts = String(timestamp);
  const bucket = String(Math.floor(Number(ts) / BUCKET_MS));
  const derivedKey = createHmac('sha256', SIGNING_SALT).update(bucket).digest('hex');
  // Sorted by key name in byte order, which always yields requestId, timestamp, user_id.
  const pairs = [['requestId', requestId], ['timestamp', ts], ['user_id', userId]]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sortedPayload = pairs.map(([k, v]) => `${k},${v}`).join(',');
  const promptB64 = Buffer.from(String(prompt), 'utf8').toString('base64');
  const stringToSign = `${sortedPayload}|${promptB64}|${ts}`;
  // The second key is the ASCII of the 64-char hex string, not the 32 raw digest bytes.
  const signature = createHmac('sha256', Buffer.from(derivedKey, 'ascii'))
    .update(stringToSign, 'utf8').digest('hex');
  return { bucket, derivedKey, sortedPayload, promptB64, stringToSign, signature };
}

function hexEquals(expected, given) {
  const a = Buffer.from(expected, 'ascii');
  const b = Buffer.from(String(given).toLowerCase(), 'ascii');
  return a.length === b.length && timingSafeEqual(a, b);
}

// Checks one completion request. `query` is a URLSearchParams, `prompt` the body's
// signature_prompt, `user` the authenticated user (or null when auth checking is off).
// Returns null when valid, else a short machine-readable reason recorded for tests.
export function verifySignedRequest({ query, header, prompt, bearer, user, nowMs, options }) {
  const ts = query.get('timestamp');
  const requestId = query.get('requestId');
  const userId = query.get('user_id');
  if (!header) return 'missing_header';
  if (ts === null || requestId === null || userId === null) return 'missing_query_param';
  if (!/^\d+$/.test(ts)) return 'bad_timestamp';
  if (query.get('signature_timestamp') !== ts) return 'signature_timestamp_mismatch';
  if (typeof prompt !== 'string') return 'missing_signature_prompt';
  if (user && userId !== user.id) return 'user_id_mismatch';
  if (options.check_query_token && query.get('token') !== bearer) return 'token_mismatch';
  if (Math.abs(nowMs - Number(ts)) > options.signature_tolerance_ms) return 'timestamp_out_of_tolerance';
  const candidates = [prompt];
  if (options.signature_mode === 'lenient' && prompt.trim() !== prompt) candidates.push(prompt.trim());
  for (const candidate of candidates) {
    const { signature } = computeSignature({ prompt: candidate, requestId, timestamp: ts, userId });
    if (hexEquals(signature, header)) return null;
  }
  return 'mismatch';
}
