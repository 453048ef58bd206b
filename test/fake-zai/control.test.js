// The test-control API (/__fake/…), scripted responses and faults, and the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { withFake, control, mintGuest, complete, parseEvents, finalText, rawRequest, buildCompletion } from './harness.js';
import { loadSample } from './stream.js';
import { DEFAULTS, parseCli } from './config.js';

test('config: merge, read back, reject unknown knobs and bad values', () => withFake({ fe_version: 'prod-fe-1.1.95' }, async (fake) => {
  let r = await control(fake, 'GET', 'config');
  assert.deepEqual(r.body, { ...DEFAULTS, fe_version: 'prod-fe-1.1.95' });
  r = await control(fake, 'POST', 'config', { max_inflight_per_user: 4, chunk_mode: 'coalesce' });
  assert.equal(r.body.max_inflight_per_user, 4);
  assert.equal(r.body.chunk_mode, 'coalesce');
  assert.equal((await control(fake, 'POST', 'config', { clock_offset_ms: -5000 })).status, 200);
  for (const bad of [{ no_such_knob: 1 }, { chunk_mode: 'bytes' }, { max_inflight_per_user: -1 }, { truncate_after_n_events: 1.5 },
    { captcha_required: 'yes' }, { guest_models: 'glm-4.7' }, { markup_era: 2025 }]) {
    r = await control(fake, 'POST', 'config', bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.ok(r.body.error);
  }
}));

test('the README documents every knob with its default', () => {
  const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  for (const [knob, value] of Object.entries(DEFAULTS)) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${knob}\` |`));
    assert.ok(row, `${knob} has a row`);
    assert.ok(row.includes(`\`${JSON.stringify(value)}\``), `${knob} row shows ${JSON.stringify(value)}`);
  }
});

test('reset restores the start config and forgets scripts, records and counters, but keeps tokens', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'config', { captcha_required: false });
  await control(fake, 'POST', 'script', { http: 500, times: -1 });
  await (await complete(fake, guest)).arrayBuffer();
  await control(fake, 'POST', 'reset');
  const stats = (await control(fake, 'GET', 'stats')).body;
  assert.equal(stats.requests_total, 0);
  assert.equal(stats.scripts_pending, 0);
  assert.equal(stats.guests_minted, 0);
  assert.equal(stats.completions.total, 0);
  assert.equal((await control(fake, 'GET', 'config')).body.captcha_required, true);
  assert.deepEqual((await control(fake, 'GET', 'requests')).body.requests, []);
  const res = await complete(fake, guest);
  assert.equal(res.status, 200, 'the old guest token still works');
  await res.arrayBuffer();
  await control(fake, 'POST', 'reset', { users: true });
  assert.equal((await complete(fake, guest)).status, 401);
}));

test('scripts match by user, run `times` times, then the default answer returns', () => withFake({}, async (fake) => {
  const alice = await mintGuest(fake);
  const bob = await mintGuest(fake);
  const r = await control(fake, 'POST', 'script', { sample: 'S14', match: { user_id: bob.id }, times: 2 });
  assert.deepEqual(r.body, { queued: 1, ids: [1] });
  const textOf = async (guest) => (await complete(fake, guest, { prompt: 'p' })).text();
  assert.equal(finalText(await textOf(alice)), 'You said: p');
  assert.equal(await textOf(bob), loadSample('S14').join(''));
  assert.equal((await control(fake, 'GET', 'script')).body.scripts[0].times, 1);
  assert.equal(await textOf(bob), loadSample('S14').join(''));
  assert.equal(finalText(await textOf(bob)), 'You said: p');
  await control(fake, 'POST', 'script', { sample: 'S01', times: -1 });
  for (let i = 0; i < 3; i++) assert.equal(await textOf(alice), loadSample('S01').join(''));
  await control(fake, 'DELETE', 'script');
  assert.equal(finalText(await textOf(alice)), 'You said: p');
  const outcomes = (await control(fake, 'GET', 'requests?path=/api/v2/chat/completions&limit=3')).body.requests.map((q) => q.outcome);
  assert.deepEqual(outcomes.map((o) => o.result), ['scripted_sample', 'scripted_sample', 'ok']);
  assert.equal(outcomes[0].script, 2);
}));

test('several scripts queue in order; malformed ones are refused', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'script', { scripts: [{ http: 401 }, { http: { status: 429, retry_after: 7 } }] });
  let res = await complete(fake, guest);
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { detail: 'Your session has expired or the token is invalid. Please sign in again.' });
  res = await complete(fake, guest);
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '7');
  for (const bad of [{}, { sample: 'S16' }, { http: 99 }, { fault: 'explode' }, { sample: 'S01', http: 500 }, { sample: 'S01', times: 0 },
    { sample: 'S01', match: { ip: 'x' } }, { events: 'data: x' }, { sample: 'S01', transport: { stall: 1 } }, { generate: { bogus: 1 } }]) {
    const r = await control(fake, 'POST', 'script', bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
  }
}));

test('HTTP fixtures of §7.4 by status, and custom bodies', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const expected = {
    400: { detail: '403: Signature validation failed: 签名验证失败' },
    401: { detail: 'Your session has expired or the token is invalid. Please sign in again.' },
    403: { detail: 'Not authenticated' },
    426: { detail: '您的客户端版本过旧，请刷新页面 (New version detected)' },
    429: { detail: 'Too many requests, please try again later.' },
    500: { detail: 'Internal Server Error' },
  };
  for (const [status, body] of Object.entries(expected)) {
    await control(fake, 'POST', 'script', { http: Number(status) });
    const res = await complete(fake, guest);
    assert.equal(res.status, Number(status));
    assert.deepEqual(await res.json(), body);
  }
  await control(fake, 'POST', 'script', { http: 405 });
  const waf = await complete(fake, guest);
  assert.equal(waf.status, 405);
  assert.match(await waf.text(), /<title>405<\/title>/);
  await control(fake, 'POST', 'script', { http: { status: 502, body: 'upstream exploded', headers: { 'x-test': '1' } } });
  const custom = await complete(fake, guest);
  assert.equal(custom.status, 502);
  assert.equal(custom.headers.get('x-test'), '1');
  assert.equal(await custom.text(), 'upstream exploded');
}));

test('a "pre" script answers before any validation', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'script', { stage: 'pre', http: 500 });
  const res = await complete(fake, guest, { headers: { authorization: null }, captcha: null });
  assert.equal(res.status, 500);
}));

test('faults: reset and close before headers; hang holds the request until the client leaves', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'script', { fault: 'reset' });
  await assert.rejects(complete(fake, guest), (err) => err.cause?.code === 'ECONNRESET' || /fetch failed|terminated|socket/.test(err.message));
  await control(fake, 'POST', 'script', { fault: 'close' });
  await assert.rejects(complete(fake, guest));
  await control(fake, 'POST', 'script', { fault: 'hang' });
  const aborter = new AbortController();
  const hung = complete(fake, guest, {}, { signal: aborter.signal });
  const waited = await control(fake, 'GET', `wait?open_requests=1&inflight.${guest.id}=1&completions.by_outcome.scripted_hang=1`);
  assert.equal(waited.status, 200);
  aborter.abort();
  await assert.rejects(hung);
  await control(fake, 'GET', 'wait?open_requests=0');
  const [rec] = (await control(fake, 'GET', 'requests?limit=1')).body.requests;
  assert.equal(rec.status, null, 'no answer was ever sent');
}));

test('closing the fake ends hanging requests and stalled streams', async () => {
  let url;
  const pending = await withFake({ stall_ms: 60000, stall_after_events: 1 }, async (fake) => {
    url = fake.url;
    const guest = await mintGuest(fake);
    await control(fake, 'POST', 'script', { fault: 'hang' });
    const hung = complete(fake, guest).then((r) => r.status, () => 'failed');
    const stalled = await complete(fake, await mintGuest(fake));
    await control(fake, 'GET', 'wait?open_requests=2&open_streams=1');
    return [hung, stalled.text().catch(() => 'cut')];
  });
  assert.deepEqual(await Promise.all(pending), ['failed', 'cut']);
  await assert.rejects(fetch(url));
});

test('generate scripts override the default answer', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'script', { generate: { thinking: true, answer_text: 'Scripted 👍', markup_era: '2025' } });
  const text = finalText(await (await complete(fake, guest)).text());
  assert.ok(text.startsWith('<details type="reasoning" done="true" duration="1"'));
  assert.ok(text.endsWith('</details>\nScripted 👍'));
}));

test('requests: limit, path filter and since', () => withFake({}, async (fake) => {
  await mintGuest(fake);
  await fetch(`${fake.url}/`);
  await fetch(`${fake.url}/api/config?x=1&x=2`);
  let { requests } = (await control(fake, 'GET', 'requests?limit=2')).body;
  assert.deepEqual(requests.map((r) => r.path), ['/', '/api/config']);
  assert.deepEqual(requests[1].query, { x: ['1', '2'] });
  assert.equal(requests[1].raw_query, 'x=1&x=2');
  ({ requests } = (await control(fake, 'GET', 'requests?path=/api/v1/auths/')).body);
  assert.equal(requests.length, 1);
  assert.equal(requests[0].outcome.result, 'minted');
  ({ requests } = (await control(fake, 'GET', `requests?since=${requests[0].seq}`)).body);
  assert.equal(requests.length, 2);
}));

test('stats count connections; wait answers 408 when the condition does not come', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const request = await buildCompletion(fake, guest);
  const r = await rawRequest(fake.url, { path: request.path, headers: request.headers, body: request.body });
  assert.equal(r.status, 200);
  // The raw request said Connection: close; fetch's pooled sockets stay open but those that only
  // carried control calls are counted apart.
  const stats = (await control(fake, 'GET', 'wait?connections_total_gte=3&open_streams=0&streams.completed=1')).body.stats;
  assert.equal(stats.completions.by_outcome.ok, 1);
  assert.ok(stats.open_control_connections >= 1, 'the control connection itself');
  const timedOut = await control(fake, 'GET', 'wait?open_streams=5&timeout_ms=50');
  assert.equal(timedOut.status, 408);
  assert.equal(timedOut.body.ok, false);
  assert.equal((await control(fake, 'GET', 'wait')).status, 400);
}));

test('open_connections counts the proxy-side sockets only, and drops to 0 when they close', () => withFake({ captcha_required: false }, async (fake) => {
  const minted = await rawRequest(fake.url, { method: 'GET', path: '/api/v1/auths/' });
  const guest = JSON.parse(minted.body.toString('utf8'));
  const request = await buildCompletion(fake, guest, { captcha: null });
  assert.equal((await rawRequest(fake.url, { path: request.path, headers: request.headers, body: request.body })).status, 200);
  const stats = (await control(fake, 'GET', 'wait?open_connections=0&connections_total_gte=3')).body.stats;
  assert.equal(stats.open_streams, 0);
  assert.equal(stats.open_requests, 0);
}));

test('sorted_keys applies to generated error frames too', () => withFake({ sorted_keys: true }, async (fake) => {
  const guest = await mintGuest(fake);
  const text = await (await complete(fake, guest, { body: { model: 'nope' } })).text();
  assert.equal(text, 'data: {"data":{"data":{"done":true,"error":{"code":404,"detail":"Model not found"}},"done":true,"error":{"code":404,"detail":"Model not found"}},"type":"chat:completion"}\n\n');
  assert.deepEqual(parseEvents(text)[0].data.error, { code: 404, detail: 'Model not found' });
}));

test('the CLI prints one ready line, takes knob flags, and exits cleanly on SIGTERM and SIGINT', async () => {
  const server = fileURLToPath(new URL('./server.js', import.meta.url));
  const child = spawn(process.execPath, [server, '--port', '0', '--no-captcha', '--answer-deltas', '4', '--fe-version', 'prod-fe-1.1.99', '--guest-models', 'glm-4.7,glm-5'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const m = /^FAKE_ZAI_LISTENING (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line);
  assert.ok(m, line);
  const config = await (await fetch(`${m[1]}/__fake/config`)).json();
  assert.equal(config.captcha_required, false);
  assert.equal(config.answer_deltas, 4);
  assert.equal(config.fe_version, 'prod-fe-1.1.99');
  assert.deepEqual(config.guest_models, ['glm-4.7', 'glm-5']);
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  // A signal right after the ready line is handled too (the handlers come first).
  const quick = spawn(process.execPath, [server], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(createInterface({ input: quick.stdout }), 'line');
  quick.kill('SIGINT');
  assert.deepEqual(await once(quick, 'exit'), [0, null]);
});

test('CLI flags map onto knobs; unknown flags and bad values are refused', () => {
  assert.deepEqual(parseCli(['--port', '8080', '--no-gzip', '--stall-ms=250', '--force-waf', '--chunk-mode', 'random_bytes']), {
    port: 8080, host: '127.0.0.1', config: { gzip: false, stall_ms: 250, force_waf: true, chunk_mode: 'random_bytes' },
  });
  assert.throws(() => parseCli(['--no-such-flag', '1']), /unknown option/);
  assert.throws(() => parseCli(['--stall-ms', 'soon']), /integer/);
  assert.throws(() => parseCli(['--markup-era', '1999']), /one of/);
});
