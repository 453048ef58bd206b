// The fake's endpoints (§7.1) and its completion validation pipeline (§7.2), driven with plain
// fetch — no proxy involved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withFake, control, mintGuest, mintCaptcha, complete, buildCompletion, parseEvents, finalText, FE_VERSION } from './harness.js';
import { loadSample } from './stream.js';

const decode = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

test('GET / embeds the configured frontend build in an asset URL', () => withFake({}, async (fake) => {
  let res = await fetch(`${fake.url}/`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html/);
  assert.match(await res.text(), /\/frontend\/prod-fe-1\.1\.98\/assets\/index-abc123\.js/);
  await control(fake, 'POST', 'config', { fe_version: 'prod-fe-1.1.99' });
  res = await fetch(`${fake.url}/`);
  assert.deepEqual((await res.text()).match(/prod-fe-\d+\.\d+\.\d+/g), ['prod-fe-1.1.99', 'prod-fe-1.1.99']);
}));

test('GET /api/config reports whether captcha is enabled', () => withFake({ captcha_required: false }, async (fake) => {
  const body = await (await fetch(`${fake.url}/api/config`)).json();
  assert.deepEqual(body.features, { enable_captcha: false, enable_signup: true });
  assert.equal(body.name, 'Z.ai');
}));

test('a guest is minted with an ES256-shaped JWT whose payload is exactly {id, email}', () => withFake({}, async (fake) => {
  const res = await fetch(`${fake.url}/api/v1/auths/`);
  assert.equal(res.status, 200);
  const body = await res.json();
  const [header, payload, signature] = body.token.split('.');
  assert.deepEqual(decode(header), { alg: 'ES256', typ: 'JWT' });
  assert.deepEqual(Object.keys(decode(payload)), ['id', 'email']);
  assert.deepEqual(decode(payload), { id: body.id, email: body.email });
  assert.equal(Buffer.from(signature, 'base64url').length, 64);
  assert.match(body.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(body.email, /^guest-\d+@guest\.com$/);
  assert.equal(body.name, `Guest-${body.email.match(/\d+/)[0]}`);
  assert.equal(body.role, 'guest');
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_at, null);
  assert.equal(res.headers.get('set-cookie'), `token=${body.token}; Path=/; HttpOnly; SameSite=Lax`);
}));

test('a known bearer or cookie gets the same user; an unknown well-formed one a new guest; a malformed one 401', () => withFake({}, async (fake) => {
  const first = await mintGuest(fake);
  const again = await (await fetch(`${fake.url}/api/v1/auths/`, { headers: { authorization: `Bearer ${first.token}` } })).json();
  assert.equal(again.token, first.token);
  const viaCookie = await (await fetch(`${fake.url}/api/v1/auths/`, { headers: { cookie: `a=b; token=${first.token}` } })).json();
  assert.equal(viaCookie.id, first.id);
  const forged = `${first.token.split('.').slice(0, 2).join('.')}.${Buffer.alloc(64).toString('base64url')}`;
  const downgraded = await (await fetch(`${fake.url}/api/v1/auths/`, { headers: { authorization: `Bearer ${forged}` } })).json();
  assert.notEqual(downgraded.id, first.id);
  assert.match(downgraded.email, /^guest-\d+@guest\.com$/);
  const bad = await fetch(`${fake.url}/api/v1/auths/`, { headers: { authorization: 'Bearer not-a-jwt' } });
  assert.equal(bad.status, 401);
  assert.deepEqual(await bad.json(), { detail: 'Your session has expired or the token is invalid. Please sign in again.' });
  const guest = await (await fetch(`${fake.url}/api/v1/auths/guest`, { method: 'POST', body: '{}' })).json();
  assert.match(guest.email, /^guest-\d+@guest\.com$/);
  assert.equal((await control(fake, 'GET', 'stats')).body.guests_minted, 3);
}));

test('guest emails stay unique when many are minted in the same millisecond', () => withFake({ clock_ms: 1782413241147 }, async (fake) => {
  const guests = await Promise.all(Array.from({ length: 5 }, () => mintGuest(fake)));
  assert.equal(new Set(guests.map((g) => g.email)).size, 5);
}));

test('GET /api/models needs a token and lists the reference catalogue', () => withFake({}, async (fake) => {
  assert.equal((await fetch(`${fake.url}/api/models`)).status, 403);
  const guest = await mintGuest(fake);
  const { data } = await (await fetch(`${fake.url}/api/models`, { headers: { authorization: `Bearer ${guest.token}` } })).json();
  const byId = Object.fromEntries(data.map((m) => [m.id, m]));
  for (const id of ['glm-4.7', 'glm-5.2', 'glm-4.6v', 'GLM-4-6-API-V1', '0727-360B-API']) assert.ok(byId[id], id);
  assert.equal(byId['glm-4.7'].info.meta.capabilities.think, true);
  assert.equal(byId['glm-4.7'].info.meta.capabilities.web_search, true);
  assert.equal(byId['glm-5.2'].info.meta.capabilities.reasoning_effort, true);
  assert.equal(byId['glm-4.6v'].info.meta.capabilities.vision, true);
  assert.ok(data.some((m) => m.info.meta.hidden === true));
}));

test('chats: create, delete one, unknown id 404, delete all', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const auth = { authorization: `Bearer ${guest.token}`, 'content-type': 'application/json' };
  const newChat = async () => (await fetch(`${fake.url}/api/v1/chats/new`, { method: 'POST', headers: auth, body: JSON.stringify({ chat: { title: 'New Chat', models: ['glm-4.7'] } }) })).json();
  const chat = await newChat();
  assert.equal(chat.user_id, guest.id);
  assert.equal(chat.title, 'New Chat');
  assert.equal(chat.type, 'default');
  for (const k of ['updated_at', 'created_at', 'share_id', 'archived', 'pinned', 'meta', 'folder_id', 'message_version']) assert.ok(k in chat, k);
  let res = await fetch(`${fake.url}/api/v1/chats/${chat.id}`, { method: 'DELETE', headers: auth });
  assert.equal(res.status, 200);
  assert.equal(await res.json(), true);
  res = await fetch(`${fake.url}/api/v1/chats/${chat.id}`, { method: 'DELETE', headers: auth });
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { detail: "We could not find what you're looking for :/" });
  await newChat();
  await newChat();
  assert.equal((await control(fake, 'GET', 'stats')).body.chats_open, 2);
  res = await fetch(`${fake.url}/api/v1/chats/`, { method: 'DELETE', headers: auth });
  assert.equal(await res.json(), true);
  assert.equal((await control(fake, 'GET', 'stats')).body.chats_open, 0);
}));

test('a correctly signed completion streams the default answer', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const res = await complete(fake, guest, { prompt: 'Hi there' });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(res.headers.get('access-control-allow-origin'), 'https://chat.z.ai');
  assert.ok(res.headers.get('x-chat-id'));
  assert.match(res.headers.get('x-trace-id'), /^[0-9a-f]+$/);
  const events = parseEvents(await res.text());
  assert.deepEqual(events.at(-2), { type: 'chat:completion', data: { phase: 'done', done: true } });
  assert.equal(events.at(-1), '[DONE]');
  const [{ outcome }] = (await control(fake, 'GET', 'requests?limit=1')).body.requests;
  assert.equal(outcome.result, 'ok');
  assert.equal(outcome.stream.final_text, 'You said: Hi there');
  assert.equal((await control(fake, 'GET', 'stats')).body.chats_open, 1, 'the chat materialised');
}));

// Each step of §7.2 in order: a request that breaks every rule fails on the earliest one, and
// fixing that rule reveals the next.
test('validation steps apply in the reference order', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const broken = {
    query: { signature_timestamp: null }, // WAF: unsigned query
    headers: { authorization: null, 'x-fe-version': null, 'x-signature': '0'.repeat(64) },
    captcha: null,
    body: { model: 'glm-5.2' },
  };
  const status = async (tweak) => {
    const res = await complete(fake, guest, tweak);
    const text = await res.text();
    return { status: res.status, text, events: res.headers.get('content-type')?.startsWith('text/event-stream') ? parseEvents(text) : null };
  };
  let r = await status(broken);
  assert.equal(r.status, 405);
  delete broken.query;
  r = await status(broken);
  assert.equal(r.status, 403);
  assert.deepEqual(JSON.parse(r.text), { detail: 'Not authenticated' });
  broken.headers.authorization = `Bearer ${guest.token}`;
  r = await status(broken);
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.text), { detail: 'Missing X-FE-Version' });
  broken.headers['x-fe-version'] = FE_VERSION;
  r = await status(broken);
  assert.equal(r.status, 400);
  assert.deepEqual(JSON.parse(r.text), { detail: '403: Signature validation failed: 签名验证失败' });
  delete broken.headers['x-signature'];
  r = await status(broken);
  assert.equal(r.status, 200);
  assert.equal(r.text, loadSample('S07').join(''));
  delete broken.captcha;
  r = await status(broken);
  assert.equal(r.text, loadSample('S09').join(''));
  delete broken.body;
  r = await status(broken);
  assert.equal(r.events.at(-1), '[DONE]');
  const outcomes = (await control(fake, 'GET', 'requests?path=/api/v2/chat/completions')).body.requests.map((q) => q.outcome.result);
  assert.deepEqual(outcomes, ['waf', 'auth_missing', 'fe_missing', 'signature', 'captcha_missing', 'model_forbidden', 'ok']);
}));

test('each step can be switched off', () => withFake({
  waf_check: false, auth_check: false, fe_version_check: false, signature_check: false,
  captcha_required: false, model_check: false, rate_check: false, content_filter_words: [],
}, async (fake) => {
  const res = await fetch(`${fake.url}/api/v2/chat/completions`, {
    method: 'POST', body: JSON.stringify({ model: 'no-such-model', signature_prompt: 'FORBIDDEN_TOPIC' }),
  });
  assert.equal(res.status, 200);
  assert.equal(finalText(await res.text()), 'You said: FORBIDDEN_TOPIC');
}));

test('a wrong signature, a foreign user_id, a stale timestamp and a mismatched token each get the 400 body', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const other = await mintGuest(fake);
  const tweaks = [
    { signedPrompt: 'something else' },
    { query: { user_id: other.id } },
    { timestamp: fake.state.clock() - 300001 },
    { query: { token: other.token } },
  ];
  for (const tweak of tweaks) {
    const res = await complete(fake, guest, tweak);
    assert.equal(res.status, 400, JSON.stringify(tweak));
    assert.deepEqual(await res.json(), { detail: '403: Signature validation failed: 签名验证失败' });
  }
  const reasons = (await control(fake, 'GET', 'requests?path=/api/v2/chat/completions')).body.requests.map((r) => r.outcome.detail);
  assert.deepEqual(reasons, ['mismatch', 'user_id_mismatch', 'timestamp_out_of_tolerance', 'token_mismatch']);
}));

test('clock knobs move the tolerance window; legacy_426_inline answers S11 in-stream', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'config', { clock_offset_ms: 600000 });
  let res = await complete(fake, guest, { timestamp: Date.now() });
  assert.equal(res.status, 400);
  await res.arrayBuffer();
  res = await complete(fake, guest, { timestamp: Date.now() + 600000 });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  await control(fake, 'POST', 'config', { clock_offset_ms: 0, clock_ms: 1700000299999, legacy_426_inline: true });
  res = await complete(fake, guest, { timestamp: 1700000299999 });
  assert.equal(res.status, 200);
  assert.equal(finalText(await res.text()), 'You said: Hello, what model are you running?');
  res = await complete(fake, guest, { signedPrompt: 'tampered' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), loadSample('S11').join(''));
}));

test('lenient signature mode accepts a signature over the trimmed prompt', () => withFake({ signature_mode: 'lenient' }, async (fake) => {
  const guest = await mintGuest(fake);
  const res = await complete(fake, guest, { prompt: '  padded prompt \n', signedPrompt: 'padded prompt' });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
}));

test('captcha: missing → S7; reused, expired, wrong IP or forged → S8; a fresh one passes once', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const text = async (tweak) => (await complete(fake, guest, tweak)).text();
  assert.equal(await text({ captcha: '' }), loadSample('S07').join(''));
  assert.equal(await text({ captcha: null }), loadSample('S07').join(''));
  const token = await mintCaptcha(fake);
  const fields = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
  assert.deepEqual(Object.keys(fields), ['certifyId', 'sceneId', 'isSign', 'securityToken']);
  assert.equal(fields.sceneId, '36qgs6xb');
  assert.equal(finalText(await text({ captcha: token })), 'You said: Hello, what model are you running?');
  assert.equal(await text({ captcha: token }), loadSample('S08').join(''), 'single use');
  assert.equal(await text({ captcha: await mintCaptcha(fake, { ttl_ms: 0 }) }), loadSample('S08').join(''), 'expired');
  assert.equal(await text({ captcha: await mintCaptcha(fake, { ip: '203.0.113.7' }) }), loadSample('S08').join(''), 'wrong IP');
  const forged = Buffer.from(JSON.stringify({ ...fields, certifyId: 'aX1SNewVwW' })).toString('base64');
  assert.equal(await text({ captcha: forged }), loadSample('S08').join(''), 'never issued');
  const aged = await mintCaptcha(fake);
  await control(fake, 'POST', 'config', { clock_offset_ms: 75000 });
  assert.equal(await text({ captcha: aged, timestamp: Date.now() + 75000 }), loadSample('S08').join(''), 'older than the TTL');
  const details = (await control(fake, 'GET', 'requests?path=/api/v2/chat/completions')).body.requests.map((r) => r.outcome.detail ?? r.outcome.result);
  assert.deepEqual(details, ['missing', 'missing', 'ok', 'reused', 'expired', 'wrong_ip', 'unknown', 'expired']);
}));

test('WAF: 405 HTML page for forced block, stale FE build and unsigned query', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const check = async (tweak) => {
    const res = await complete(fake, guest, tweak);
    assert.equal(res.status, 405);
    assert.match(res.headers.get('content-type'), /^text\/html/);
    const html = await res.text();
    assert.match(html, /<title>405<\/title>/);
    assert.match(html, /https:\/\/errors\.aliyun\.com\//);
    assert.match(html, /Sorry, your request has been blocked as it may cause potential threats to the server's security\./);
    assert.match(html, /<textarea id="renderData" style="display:none">\{"traceid":"[0-9a-f]+","lang":"en"\}<\/textarea>/);
  };
  await check({ headers: { 'x-fe-version': 'prod-fe-1.1.92' } });
  for (const p of ['timestamp', 'requestId', 'user_id', 'signature_timestamp']) await check({ query: { [p]: null } });
  await control(fake, 'POST', 'config', { force_waf: true });
  await check({});
  const reasons = (await control(fake, 'GET', 'requests')).body.requests.filter((r) => r.outcome?.result === 'waf').map((r) => r.outcome.detail);
  assert.deepEqual(reasons, ['stale_fe_version', ...Array(4).fill('missing_signed_query'), 'forced']);
}));

test('WAF trips after n requests per IP and lifts after the cooldown', () => withFake({ waf_after_n_requests: 2, waf_cooldown_ms: 10000 }, async (fake) => {
  const guest = await mintGuest(fake);
  const statusOf = async (tweak = {}) => { const res = await complete(fake, guest, tweak); await res.arrayBuffer(); return res.status; };
  assert.deepEqual([await statusOf(), await statusOf(), await statusOf(), await statusOf()], [200, 200, 405, 405]);
  await control(fake, 'POST', 'config', { clock_offset_ms: 10000 });
  assert.equal(await statusOf({ timestamp: Date.now() + 10000 }), 200);
}));

test('stale FE version → 426 when the WAF does not catch it first', () => withFake({ strict_fe_version: false, stale_fe_mode: '426' }, async (fake) => {
  const guest = await mintGuest(fake);
  const res = await complete(fake, guest, { headers: { 'x-fe-version': 'prod-fe-1.1.90' } });
  assert.equal(res.status, 426);
  assert.match((await res.json()).detail, /New version detected/);
}));

test('revoked and unknown tokens get 401 on completions', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  assert.equal((await control(fake, 'POST', 'revoke', { token: guest.token })).status, 200);
  const res = await complete(fake, guest);
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { detail: 'Your session has expired or the token is invalid. Please sign in again.' });
  const forged = { ...guest, token: `${guest.token.slice(0, -4)}AAAA` };
  assert.equal((await complete(fake, forged)).status, 401);
}));

test('models: unknown id → in-stream 404; guests may not use other models; registered users may', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const res = await complete(fake, guest, { body: { model: 'gpt-4o' } });
  assert.equal(res.status, 200);
  assert.deepEqual(parseEvents(await res.text()), [{
    type: 'chat:completion',
    data: { data: { error: { detail: 'Model not found', code: 404 }, done: true }, error: { detail: 'Model not found', code: 404 }, done: true },
  }]);
  const user = (await control(fake, 'POST', 'user', { role: 'user' })).body;
  const ok = await complete(fake, user, { body: { model: 'GLM-5.2' }, prompt: 'hi' });
  assert.equal(finalText(await ok.text()), 'You said: hi');
}));

test('a second concurrent stream for one user gets 429; the slot frees when the first ends', () => withFake({ stall_ms: 60000, stall_after_events: 1, retry_after_s: 3 }, async (fake) => {
  const guest = await mintGuest(fake);
  const aborter = new AbortController();
  const first = await complete(fake, guest, {}, { signal: aborter.signal });
  const reader = first.body.getReader();
  await reader.read(); // the stream is open and stalled
  const second = await complete(fake, guest);
  assert.equal(second.status, 429);
  assert.equal(second.headers.get('retry-after'), '3');
  assert.deepEqual(await second.json(), { detail: 'Too many requests, please try again later.' });
  const other = await complete(fake, await mintGuest(fake), {}, { signal: aborter.signal });
  assert.equal(other.status, 200, 'the limit is per user');
  aborter.abort();
  await control(fake, 'GET', 'wait?open_streams=0&timeout_ms=3000');
  await control(fake, 'POST', 'config', { stall_ms: 0 });
  const third = await complete(fake, guest);
  assert.equal(third.status, 200);
  await third.arrayBuffer();
}));

test('rpm_per_user limits accepted requests per rolling minute', () => withFake({ rpm_per_user: 2 }, async (fake) => {
  const guest = await mintGuest(fake);
  const statuses = [];
  for (let i = 0; i < 3; i++) { const res = await complete(fake, guest); statuses.push(res.status); await res.arrayBuffer(); }
  assert.deepEqual(statuses, [200, 200, 429]);
}));

test('the content filter wipes the text after a partial answer', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const events = parseEvents(await (await complete(fake, guest, { prompt: 'tell me about FORBIDDEN_TOPIC' })).text());
  assert.equal(events.length, 2);
  assert.deepEqual(events[0].data, { delta_content: 'Sure, here is', phase: 'answer' });
  const frame = events[1].data;
  assert.deepEqual(frame.error, {
    detail: 'Content Security Warning: The content may contain inappropriate content.',
    content: 'Content Security Warning: The content may contain inappropriate content.',
  });
  assert.equal(frame.done, true);
  assert.equal(frame.edit_index, 0);
  assert.equal(frame.edit_content, ' ');
  assert.equal(frame.phase, 'other');
  assert.match(frame.message_id, /^[0-9a-f-]{36}$/);
}));

test('the legacy endpoint streams without signature or captcha', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const res = await fetch(`${fake.url}/api/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${guest.token}`, 'x-fe-version': FE_VERSION, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'glm-4.7', messages: [{ role: 'user', content: 'old times' }] }),
  });
  assert.equal(res.status, 200);
  assert.equal(finalText(await res.text()), 'You said: old times');
}));

test('the worked request of §3.9 is recorded exactly as sent', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const request = await buildCompletion(fake, guest, { prompt: 'Hello, what model are you running?' });
  const res = await fetch(fake.url + request.path, { method: 'POST', headers: request.headers, body: request.body });
  await res.arrayBuffer();
  const [rec] = (await control(fake, 'GET', 'requests?limit=1')).body.requests;
  assert.equal(rec.method, 'POST');
  assert.equal(rec.path, '/api/v2/chat/completions');
  assert.equal(`/api/v2/chat/completions?${rec.raw_query}`, request.path);
  assert.equal(rec.query.user_id, guest.id);
  assert.equal(rec.headers['x-signature'], request.signed.signature);
  assert.ok(rec.raw_headers.some(([name, value]) => name === 'x-fe-version' && value === FE_VERSION));
  assert.equal(rec.body, request.body);
  assert.deepEqual(rec.json, request.parsed);
  assert.equal(rec.ip, '127.0.0.1');
  assert.equal(rec.status, 200);
  assert.equal(typeof rec.time_ms, 'number');
}));
