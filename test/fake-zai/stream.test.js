// What the fake streams (§4, §7.3, §7.4): sample replay, the message buffer, the generator, and
// the transport knobs (chunking, gzip, delays, stall, truncation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { withFake, control, mintGuest, buildCompletion, complete, parseEvents, rawRequest } from './harness.js';
import { loadSample, MessageText, utf16Length, generateAnswer } from './stream.js';
import { DEFAULTS } from './config.js';

const SAMPLES = Array.from({ length: 15 }, (_, i) => `S${String(i + 1).padStart(2, '0')}`);

// An independent replay of §4.3 for checking the fake's own buffer: JavaScript substring
// semantics are the frontend's.
function replay(events) {
  let text = '';
  for (const e of events) {
    const d = e.data;
    if (typeof d.edit_content === 'string') {
      assert.ok(Number.isInteger(d.edit_index ?? 0) && (d.edit_index ?? 0) <= text.length, `edit_index ${d.edit_index} within ${text.length}`);
      text = text.substring(0, d.edit_index ?? 0) + d.edit_content;
    } else if (typeof d.delta_content === 'string') text += d.delta_content;
  }
  return text;
}

const jsonEvents = (sample) => parseEvents(loadSample(sample).join('')).filter((e) => e !== '[DONE]');

test('utf16Length counts an emoji as two code units', () => {
  assert.equal(utf16Length('Ok 👍 do'), 8);
  assert.equal(utf16Length('你好'), 2);
});

test('the message buffer reproduces the final buffers the reference states', () => {
  const expected = {
    S01: 'Hello! How can I help you today?',
    S02: '<details type="reasoning" done="true">\n> The user says hi.\n> \n> I should greet back.\n</details>\nHi there! How can I help?',
    S12: 'The answer is 42 because 6×7=42.',
    S14: 'Ok 👍 one.',
  };
  for (const sample of SAMPLES) {
    const buffer = new MessageText();
    for (const event of jsonEvents(sample)) assert.equal(buffer.apply(event.data), null, `${sample} is index-consistent`);
    if (expected[sample]) assert.equal(buffer.text, expected[sample], sample);
  }
  const s4 = new MessageText();
  const lengths = jsonEvents('S04').map((e) => { s4.apply(e.data); return s4.text.length; });
  assert.equal(lengths[2], 173, 'S4: 173 is the length after the first answer delta');
});

test('every sample is replayed byte for byte', () => withFake({ captcha_required: false }, async (fake) => {
  const guest = await mintGuest(fake);
  for (const sample of SAMPLES) {
    await control(fake, 'POST', 'script', { sample });
    const res = await complete(fake, guest, { captcha: null });
    assert.equal(res.status, 200);
    assert.equal(Buffer.from(await res.arrayBuffer()).toString('utf8'), loadSample(sample).join(''), sample);
  }
}));

test('the generator keeps every edit consistent, in both markup eras and with non-BMP text', () => {
  for (const markup_era of ['2026', '2025']) {
    for (const prompt of ['hi', 'Ok 👍 do 𝄞 你好', '']) {
      const knobs = { ...DEFAULTS, markup_era };
      const { events, finalText } = generateAnswer({ prompt, thinking: true, knobs });
      const parsed = parseEvents(events.join('')).filter((e) => e !== '[DONE]');
      assert.equal(replay(parsed), finalText);
      assert.ok(finalText.endsWith(`You said: ${prompt}`), finalText);
      assert.equal(parsed[0].data.phase, 'thinking');
      const close = parsed.find((e) => e.data.edit_index !== undefined);
      if (markup_era === '2026') {
        assert.equal(close.data.edit_index, 32);
        assert.ok(finalText.startsWith('<details type="reasoning" done="true">\n> The user sent a message.\n> \n> I will echo it back.\n</details>\n'));
      } else {
        assert.ok(finalText.includes('<summary>Thought for 1 seconds</summary>'));
        assert.ok(finalText.includes('</details>\nYou said'));
      }
    }
  }
});

test('without thinking the stream starts with answer deltas; usage and done close it', () => {
  const { events } = generateAnswer({ prompt: 'abc', thinking: false, knobs: DEFAULTS });
  const parsed = parseEvents(events.join(''));
  assert.deepEqual(parsed[0].data.phase, 'answer');
  assert.deepEqual(parsed.at(-3).data, { phase: 'other', usage: { prompt_tokens: 1, completion_tokens: 4, total_tokens: 5, prompt_tokens_details: {} } });
  assert.deepEqual(parsed.at(-2).data, { phase: 'done', done: true });
  assert.equal(parsed.at(-1), '[DONE]');
  const tail = parsed.at(-4).data;
  assert.equal(tail.edit_index, replay(parsed.slice(0, -4)).length, 'the tail edit is a pure append');
});

test('usage_on_done, emit_done_sentinel and sorted_keys change the ending and key order', () => {
  const knobs = { ...DEFAULTS, usage_on_done: true, emit_done_sentinel: false, sorted_keys: true };
  const { events } = generateAnswer({ prompt: 'abc', thinking: false, knobs });
  assert.ok(events.at(-1).startsWith('data: {"data":{"done":true,"phase":"done","usage":{"completion_tokens":'));
  assert.ok(events.every((e) => e.startsWith('data: {"data":')));
});

test('fast mode: N small answer deltas and nothing else to compute', () => withFake({ answer_deltas: 64, captcha_required: false }, async (fake) => {
  const guest = await mintGuest(fake);
  const parsed = parseEvents(await (await complete(fake, guest, { body: { features: { enable_thinking: true } } })).text());
  const deltas = parsed.filter((e) => e.data?.delta_content !== undefined);
  assert.equal(deltas.length, 64);
  assert.ok(deltas.every((e) => e.data.phase === 'answer'));
  assert.equal(replay(parsed.filter((e) => e !== '[DONE]')), Array.from({ length: 64 }, (_, i) => `w${i} `).join(''));
}));

async function rawCompletion(fake, transport, { sample = 'S03', headers = {} } = {}) {
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'script', { sample, transport });
  const request = await buildCompletion(fake, guest);
  return rawRequest(fake.url, { path: request.path, headers: { ...request.headers, ...headers }, body: request.body });
}

test('random_bytes chunking splits inside `data:` and inside multi-byte UTF-8, and reassembles exactly', () => withFake({}, async (fake) => {
  const expected = Buffer.from(loadSample('S03').join(''), 'utf8');
  const r = await rawCompletion(fake, { chunk_mode: 'random_bytes', chunk_seed: 7, chunk_max_bytes: 6 });
  assert.equal(r.status, 200);
  assert.ok(r.complete);
  assert.ok(r.body.equals(expected));
  let offset = 0;
  let insideUtf8 = 0;
  let insideData = 0;
  for (const chunk of r.chunks.slice(0, -1)) {
    offset += chunk.length;
    if ((expected[offset] & 0xc0) === 0x80) insideUtf8++;
    const lineStart = expected.lastIndexOf(0x0a, offset - 1) + 1;
    if (offset - lineStart > 0 && offset - lineStart < 5 && expected.subarray(lineStart, lineStart + 5).toString() === 'data:') insideData++;
  }
  assert.ok(r.chunks.every((c) => c.length >= 1 && c.length <= 6));
  assert.ok(insideUtf8 > 0, 'some write ends inside a UTF-8 sequence');
  assert.ok(insideData > 0, 'some write ends inside `data:`');
  const again = await rawCompletion(fake, { chunk_mode: 'random_bytes', chunk_seed: 7, chunk_max_bytes: 6 });
  assert.deepEqual(again.chunks.map((c) => c.length), r.chunks.map((c) => c.length), 'a seed reproduces the split');
  const recorded = (await control(fake, 'GET', 'requests?limit=1')).body.requests[0].outcome.stream;
  assert.equal(recorded.seed, 7);
  assert.equal(recorded.writes, r.chunks.length);
}));

test('event mode writes one event per chunk; coalesce several', () => withFake({}, async (fake) => {
  const events = loadSample('S04');
  const perEvent = await rawCompletion(fake, {}, { sample: 'S04' });
  assert.deepEqual(perEvent.chunks.map((c) => c.toString('utf8')), [...events]);
  const grouped = await rawCompletion(fake, { chunk_mode: 'coalesce', coalesce_events: 4 }, { sample: 'S04' });
  assert.equal(grouped.chunks.length, Math.ceil(events.length / 4));
  assert.equal(grouped.body.toString('utf8'), events.join(''));
}));

test('gzip only when the client asks for it', () => withFake({}, async (fake) => {
  const plain = await rawCompletion(fake, {});
  assert.equal(plain.headers['content-encoding'], undefined);
  const zipped = await rawCompletion(fake, { chunk_mode: 'random_bytes', chunk_max_bytes: 9 }, { headers: { 'Accept-Encoding': 'gzip, deflate, br, zstd' } });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(zipped.body).toString('utf8'), loadSample('S03').join(''));
  const refused = await rawCompletion(fake, {}, { headers: { 'Accept-Encoding': 'br, gzip;q=0' } });
  assert.equal(refused.headers['content-encoding'], undefined);
}));

test('truncate_after_n_events drops the connection without the done event', () => withFake({}, async (fake) => {
  const r = await rawCompletion(fake, { truncate_after_n_events: 2 }, { sample: 'S01' });
  assert.equal(r.complete, false, 'no terminating chunk');
  assert.equal(r.body.toString('utf8'), loadSample('S01').slice(0, 2).join(''));
  const viaFetch = await complete(fake, await mintGuest(fake), { captcha: await (await control(fake, 'POST', 'captcha', {})).body.token });
  await viaFetch.arrayBuffer(); // a normal one in between
  await control(fake, 'POST', 'script', { sample: 'S02', transport: { truncate_after_n_events: 3 } });
  const cut = await complete(fake, await mintGuest(fake));
  await assert.rejects(cut.text());
  const stats = (await control(fake, 'GET', 'wait?streams.truncated=2&open_streams=0')).body.stats;
  assert.equal(stats.streams.completed, 1);
}));

test('a stall pauses once, then the stream resumes; first-event and inter-event delays space writes', () => withFake({}, async (fake) => {
  // Only lower bounds on elapsed time: a loaded machine can make a stream slower, never faster.
  // Where the pause sits is proven without timing by the next test.
  const guest = await mintGuest(fake);
  await control(fake, 'POST', 'script', { sample: 'S01', transport: { stall_ms: 100, stall_after_events: 2 } });
  let started = performance.now();
  assert.equal(await (await complete(fake, guest)).text(), loadSample('S01').join(''));
  assert.ok(performance.now() - started >= 95);

  await control(fake, 'POST', 'script', { sample: 'S01', transport: { first_event_delay_ms: 40, inter_event_delay_ms: 15 } });
  started = performance.now();
  assert.equal(await (await complete(fake, guest)).text(), loadSample('S01').join(''));
  assert.ok(performance.now() - started >= 40 + 4 * 15 - 5);
}));

test('a stall holds the stream after the configured event; a client leaving then is an aborted stream', () => withFake({ stall_ms: 60000, stall_after_events: 2, gzip: false }, async (fake) => {
  const guest = await mintGuest(fake);
  const aborter = new AbortController();
  const res = await complete(fake, guest, {}, { signal: aborter.signal });
  const reader = res.body.getReader();
  let text = '';
  while (text.split('\n\n').length - 1 < 2) text += Buffer.from((await reader.read()).value).toString('utf8');
  assert.equal(text.split('\n\n').length - 1, 2, 'nothing beyond the stall point arrives');
  let stats = (await control(fake, 'GET', 'stats')).body;
  assert.equal(stats.open_streams, 1);
  assert.equal(stats.inflight[guest.id], 1);
  const [rec] = (await control(fake, 'GET', 'requests?limit=1&path=/api/v2/chat/completions')).body.requests;
  assert.equal(rec.outcome.stream.end, 'open');
  assert.equal(rec.outcome.stream.events_written, 2);
  aborter.abort();
  stats = (await control(fake, 'GET', 'wait?open_streams=0&streams.aborted=1')).body.stats;
  assert.deepEqual(stats.inflight, {});
  assert.equal((await control(fake, 'GET', 'requests?limit=1')).body.requests[0].outcome.stream.end, 'aborted');
}));

test('events scripts wrap objects, write strings raw, and carry events of a mebibyte', () => withFake({}, async (fake) => {
  const guest = await mintGuest(fake);
  const big = 'x'.repeat(1 << 20);
  await control(fake, 'POST', 'script', {
    events: [{ delta_content: big, phase: 'answer' }, ': comment\r\n\r\n', 'data: {"type":"status","data":{}}\n\n'],
    finish: true,
  });
  const text = await (await complete(fake, guest)).text();
  assert.equal(text, `data: {"type":"chat:completion","data":{"delta_content":"${big}","phase":"answer"}}\n\n`
    + ': comment\r\n\r\ndata: {"type":"status","data":{}}\n\n'
    + 'data: {"type":"chat:completion","data":{"phase":"done","done":true}}\n\ndata: [DONE]\n\n');
}));
