// The fake's signer against the reference's test vectors A–D (§2.4), and the verifier's rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeSignature, verifySignedRequest } from './signature.js';

test('vector A: every intermediate value matches the reference', () => {
  const s = computeSignature({ prompt: 'hello', requestId: 'req123', timestamp: 1700000000000, userId: 'user456' });
  assert.equal(s.bucket, '5666666');
  assert.equal(s.derivedKey, 'e37c98fb931005cbfac88fc6d9f09a459c0645f25d89a6c059f56417af6f260b');
  assert.equal(s.sortedPayload, 'requestId,req123,timestamp,1700000000000,user_id,user456');
  assert.equal(s.promptB64, 'aGVsbG8=');
  assert.equal(s.stringToSign, 'requestId,req123,timestamp,1700000000000,user_id,user456|aGVsbG8=|1700000000000');
  assert.equal(s.signature, 'f5272eee580c691659817cd55f6e9da5c45dadf9af3e29db915f600f5b283f81');
});

test('vector B: realistic ids', () => {
  const s = computeSignature({
    prompt: 'Hello, what model are you running?', requestId: '0ff3803e-c36e-4bfd-98fe-fa55e0f955b1',
    timestamp: '1782413241147', userId: '8f368c1b-c645-48c7-96b0-2456acc50b79',
  });
  assert.equal(s.bucket, '5941377');
  assert.equal(s.derivedKey, '3c9cedb9c59792ab5c92385479bbaad322b6c1ff13005e2f9cc1228c16594695');
  assert.equal(s.promptB64, 'SGVsbG8sIHdoYXQgbW9kZWwgYXJlIHlvdSBydW5uaW5nPw==');
  assert.equal(s.signature, '4eaf0e68237e3dea018d5fadcbabb1472e11c2ed35412aedbcba1476d2fe9d22');
});

test('vector C: a non-ASCII prompt is Base64 of its UTF-8 bytes', () => {
  const s = computeSignature({
    prompt: '你好', requestId: 'c0ffee00-0000-4000-8000-000000000001',
    timestamp: 1782413241147, userId: '8f368c1b-c645-48c7-96b0-2456acc50b79',
  });
  assert.equal(s.promptB64, '5L2g5aW9');
  assert.equal(s.signature, 'c40ebd54303bfc29ddc3893397b8d5bfa7a2a5aecda02cb1c50bd19bd7fe1b37');
});

test('vector D: 299.999 s after A the timestamp falls in the next bucket, so the key changes', () => {
  const s = computeSignature({ prompt: 'hello', requestId: 'req123', timestamp: 1700000299999, userId: 'user456' });
  assert.equal(s.bucket, '5666667');
  assert.equal(s.derivedKey, '02206e13ee80e88ccb278c5e704b34a0afac5e9f8a0cfaffe9b91d3f5769e4d7');
  assert.equal(s.signature, '6e9796b16f50f39078b03dce84c4dd6f1b8cf23c5fbc13d77a6449b6f7a2f86b');
});

const STRICT = { check_query_token: true, signature_tolerance_ms: 300000, signature_mode: 'strict' };

function vectorBRequest(overrides = {}) {
  const query = new URLSearchParams({
    timestamp: '1782413241147', requestId: '0ff3803e-c36e-4bfd-98fe-fa55e0f955b1',
    user_id: '8f368c1b-c645-48c7-96b0-2456acc50b79', token: 'jwt', signature_timestamp: '1782413241147',
  });
  return {
    query,
    header: '4eaf0e68237e3dea018d5fadcbabb1472e11c2ed35412aedbcba1476d2fe9d22',
    prompt: 'Hello, what model are you running?',
    bearer: 'jwt',
    user: { id: '8f368c1b-c645-48c7-96b0-2456acc50b79' },
    nowMs: 1782413241147 + 299000,
    options: STRICT,
    ...overrides,
  };
}

test('verifier accepts the worked request of §3.9, hex in either case', () => {
  assert.equal(verifySignedRequest(vectorBRequest()), null);
  assert.equal(verifySignedRequest(vectorBRequest({ header: vectorBRequest().header.toUpperCase() })), null);
});

test('verifier names the first broken rule', () => {
  const cases = [
    [{ header: undefined }, 'missing_header'],
    [{ header: '0'.repeat(64) }, 'mismatch'],
    [{ prompt: 'Hello, what model are you running? ' }, 'mismatch'],
    [{ user: { id: 'someone-else' } }, 'user_id_mismatch'],
    [{ bearer: 'other' }, 'token_mismatch'],
    [{ nowMs: 1782413241147 + 300001 }, 'timestamp_out_of_tolerance'],
    [{ nowMs: 1782413241147 - 300001 }, 'timestamp_out_of_tolerance'],
    [{ prompt: undefined }, 'missing_signature_prompt'],
  ];
  for (const [overrides, reason] of cases) assert.equal(verifySignedRequest(vectorBRequest(overrides)), reason, JSON.stringify(overrides));
  const q = vectorBRequest().query;
  q.set('signature_timestamp', '1782413241148');
  assert.equal(verifySignedRequest(vectorBRequest({ query: q })), 'signature_timestamp_mismatch');
});

test('lenient mode also accepts a signature over the trimmed prompt; strict does not', () => {
  const padded = '  Hello, what model are you running?\n';
  assert.equal(verifySignedRequest(vectorBRequest({ prompt: padded })), 'mismatch');
  assert.equal(verifySignedRequest(vectorBRequest({ prompt: padded, options: { ...STRICT, signature_mode: 'lenient' } })), null);
});
