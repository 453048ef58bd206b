// Successful completions end to end: the official SDK's non-stream and stream calls, the wire
// shape of the OpenAI stream (role first, one id/created, finish, usage only when asked), the
// reference samples' exact reasoning and content, and the exact request the upstream received.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { computeSignature } from '../fake-zai/signature.js';
import {
  assertOpenAIError, bearerOf, drain, get, jwtPayload, post, sseEvents, startStack, summarize,
} from './harness.js';

// A front-end build other than the proxy's pinned fallback: the fake blocks a stale X-FE-Version,
// so every success below also proves the proxy scraped the version from the fake's front page.
const FE_VERSION = 'prod-fe-1.2.7';
const THINKING_TEXT = 'The user sent a message.\n\nI will echo it back.';

let stack;
before(async () => {
  stack = await startStack({ fake: { fe_version: FE_VERSION } });
  // The scrape runs beside the first mint; wait until /health shows it landed.
  const deadline = Date.now() + 10_000;
  while ((await get(stack.proxy, '/health')).json.fe_version !== FE_VERSION) {
    assert.ok(Date.now() < deadline, 'the proxy never scraped the front-end version');
    await new Promise((r) => setTimeout(r, 5));
  }
});
after(async () => {
  assert.equal(await stack.stop(), 0);
});

const user = (content) => [{ role: 'user', content }];
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function lastCompletion(since) {
  const records = await stack.ctl.requests({ since });
  assert.equal(records.length, 1, `expected one upstream completion, got ${records.length}`);
  return records[0];
}

describe('non-stream', () => {
  test('the SDK gets one chat.completion with content, finish_reason and usage', async () => {
    const since = await stack.ctl.mark();
    const r = await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: user('Hello there'), thinking: { type: 'disabled' },
    });
    assert.equal(r.object, 'chat.completion');
    assert.match(r.id, /^chatcmpl-[A-Za-z0-9]+$/);
    assert.ok(Math.abs(r.created - nowSeconds()) <= 5, `created ${r.created}`);
    assert.equal(r.model, 'glm-4.7');
    assert.equal(r.choices.length, 1);
    const [choice] = r.choices;
    assert.equal(choice.index, 0);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(choice.message.content, 'You said: Hello there');
    assert.equal(choice.message.reasoning_content, undefined);
    assert.equal(choice.finish_reason, 'stop');
    const u = r.usage;
    assert.ok(u.prompt_tokens > 0 && u.completion_tokens > 0);
    assert.equal(u.total_tokens, u.prompt_tokens + u.completion_tokens);
    const record = await lastCompletion(since);
    assert.equal(record.json.features.enable_thinking, false);
    assert.equal(record.outcome.result, 'ok');
  });

  test('with thinking on, reasoning goes to reasoning_content', async () => {
    const r = await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: user('Think first'), thinking: { type: 'enabled' },
    });
    assert.equal(r.choices[0].message.reasoning_content, THINKING_TEXT);
    assert.equal(r.choices[0].message.content, 'You said: Think first');
  });

  test('two completions get different ids', async () => {
    const a = await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('one') });
    const b = await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('two') });
    assert.notEqual(a.id, b.id);
  });
});

describe('stream', () => {
  test('client.chat.completions.create({stream:true}) yields role, reasoning, content, stop', async () => {
    const stream = await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: user('Stream this answer back to me please'), stream: true,
      thinking: { type: 'enabled' },
    });
    const { chunks, error } = await drain(stream);
    assert.equal(error, undefined);
    const s = summarize(chunks);
    assert.equal(s.role, 'assistant');
    assert.deepEqual(s.order, ['R', 'C']);
    assert.equal(s.reasoning, THINKING_TEXT);
    assert.equal(s.content, 'You said: Stream this answer back to me please');
    assert.deepEqual(s.finish, ['stop']);
    assert.equal(s.ids.size, 1);
    assert.equal(s.created.size, 1);
    assert.deepEqual([...s.models], ['glm-4.7']);
    assert.equal(s.usageChunks.length, 0);
    assert.match([...s.ids][0], /^chatcmpl-/);
    assert.ok(Math.abs([...s.created][0] - nowSeconds()) <= 5);
    // finish_reason is null on every chunk but the finishing one.
    const finishing = chunks.filter((c) => c.choices.some((ch) => ch.finish_reason !== null));
    assert.equal(finishing.length, 1);
    assert.equal(finishing[0], chunks.at(-1));
  });

  test('client.chat.completions.stream() assembles a final completion', async () => {
    const contentEvents = [];
    const runner = stack.client.chat.completions.stream({
      model: 'glm-4.7', messages: user('Helper stream'), thinking: { type: 'disabled' },
    });
    runner.on('content', (delta) => contentEvents.push(delta));
    // The finalizer throws unless the stream carried a role and a finish_reason.
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.role, 'assistant');
    assert.equal(final.choices[0].message.content, 'You said: Helper stream');
    assert.equal(final.choices[0].finish_reason, 'stop');
    assert.equal(contentEvents.join(''), 'You said: Helper stream');
  });

  test('the wire: SSE headers, data lines, one id and created, [DONE] last', async () => {
    const r = await post(stack.proxy, '/v1/chat/completions', {
      model: 'glm-4.7', messages: user('wire check with a few more words'), stream: true,
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    assert.match(r.headers.get('cache-control') ?? '', /no-cache/);
    assert.ok(r.text.endsWith('data: [DONE]\n\n'), r.text.slice(-80));
    for (const block of r.text.split('\n\n').filter(Boolean)) assert.match(block, /^data: /);
    const events = sseEvents(r.text);
    assert.equal(events.filter((e) => e === '[DONE]').length, 1);
    const s = summarize(events);
    assert.equal(s.ids.size, 1);
    assert.equal(s.created.size, 1);
    assert.deepEqual(s.finish, ['stop']);
  });
});

describe('stream_options.include_usage', () => {
  test('on: exactly one usage chunk with choices [] right before [DONE]', async () => {
    await stack.ctl.script({ sample: 'S1' });
    const r = await post(stack.proxy, '/v1/chat/completions', {
      model: 'glm-4.7', messages: user('usage please'), stream: true,
      stream_options: { include_usage: true },
    });
    const events = sseEvents(r.text);
    assert.equal(events.at(-1), '[DONE]');
    const usageChunk = events.at(-2);
    assert.deepEqual(usageChunk.choices, []);
    assert.deepEqual(
      { p: usageChunk.usage.prompt_tokens, c: usageChunk.usage.completion_tokens, t: usageChunk.usage.total_tokens },
      { p: 12, c: 9, t: 21 });
    const s = summarize(events);
    assert.equal(s.usageChunks.length, 1);
    assert.equal(s.ids.size, 1);
    assert.equal(s.content, 'Hello! How can I help you today?');
    // Every chunk before it says usage: null.
    for (const e of events.slice(0, -2)) assert.equal(e.usage, null, JSON.stringify(e));
    // The finish chunk comes before the usage chunk.
    assert.equal(events.at(-3).choices[0].finish_reason, 'stop');
  });

  test('on, through the SDK', async () => {
    await stack.ctl.script({ sample: 'S2' });
    const { chunks } = await drain(await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: user('usage via sdk'), stream: true, stream_options: { include_usage: true },
    }));
    const withUsage = chunks.filter((c) => c.usage);
    assert.equal(withUsage.length, 1);
    assert.equal(withUsage[0], chunks.at(-1));
    assert.deepEqual(withUsage[0].choices, []);
    assert.equal(withUsage[0].usage.total_tokens, 51);
  });

  for (const [name, options] of [['absent', undefined], ['false', { include_usage: false }]]) {
    test(`${name}: no usage anywhere in the stream`, async () => {
      await stack.ctl.script({ sample: 'S1' });
      const body = { model: 'glm-4.7', messages: user('no usage'), stream: true };
      if (options) body.stream_options = options;
      const r = await post(stack.proxy, '/v1/chat/completions', body);
      assert.equal(r.status, 200);
      assert.doesNotMatch(r.text, /"usage":\{/);
      const events = sseEvents(r.text);
      for (const e of events) if (e !== '[DONE]') assert.ok(e.choices.length === 1 && !e.usage);
      assert.equal(summarize(events).content, 'Hello! How can I help you today?');
    });
  }
});

// Reference §7.4: what the proxy should output for each sample (SHOW_THINK_TAGS off).
const samples = [
  { sample: 'S1', reasoning: '', content: 'Hello! How can I help you today?', usage: [12, 9, 21], order: ['C'] },
  { sample: 'S2', reasoning: 'The user says hi.\n\nI should greet back.', content: 'Hi there! How can I help?',
    usage: [20, 31, 51], order: ['R', 'C'] },
  { sample: 'S3', reasoning: '用户在打招呼。', content: '你好！有什么可以帮你？', usage: [8, 15, 23], order: ['R', 'C'] },
  { sample: 'S4', reasoning: 'Need to search.\n\nResult says sunny.',
    content: /^Let me look that up\.\s+It is sunny in Paris \(24°C\)\.$/, usage: [880, 64, 944], cached: 512 },
  { sample: 'S12', reasoning: '', content: 'The answer is 42 because 6×7=42.', usage: [9, 12, 21], order: ['C'] },
  { sample: 'S13', reasoning: '',
    content: /^GLM-4\.7 was released in December 2025(\[\[1\]\]\(https:\/\/example\.com\/glm47\))?\.$/,
    usage: [1500, 30, 1530], order: ['C'] },
  { sample: 'S14', reasoning: '', content: 'Ok 👍 one.', order: ['C'] },
];

function assertText(actual, expected) {
  if (expected instanceof RegExp) assert.match(actual, expected);
  else assert.equal(actual, expected);
}

describe('reference samples', () => {
  for (const s of samples) {
    test(`${s.sample} non-stream`, async () => {
      await stack.ctl.script({ sample: s.sample });
      const r = await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user(`sample ${s.sample}`) });
      const m = r.choices[0].message;
      assertText(m.content, s.content);
      assert.equal(m.reasoning_content ?? '', s.reasoning);
      assert.doesNotMatch(m.content, /glm_block|<details|<summary|Thinking…|Thought for/);
      assert.equal(m.tool_calls, undefined);
      assert.equal(r.choices[0].finish_reason, 'stop');
      if (s.usage) {
        assert.deepEqual([r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens], s.usage);
      }
      if (s.cached) assert.equal(r.usage.prompt_tokens_details.cached_tokens, s.cached);
    });

    test(`${s.sample} stream, upstream bytes split at random`, async () => {
      await stack.ctl.script({ sample: s.sample, transport: { chunk_mode: 'random_bytes', chunk_seed: 1234, chunk_max_bytes: 7 } });
      const { chunks, error } = await drain(await stack.client.chat.completions.create({
        model: 'glm-4.7', messages: user(`sample ${s.sample}`), stream: true, stream_options: { include_usage: true },
      }));
      assert.equal(error, undefined);
      const sum = summarize(chunks);
      assert.equal(sum.role, 'assistant');
      assertText(sum.content, s.content);
      assert.equal(sum.reasoning, s.reasoning);
      if (s.order) assert.deepEqual(sum.order, s.order);
      assert.doesNotMatch(sum.content, /glm_block|<details|<summary/);
      assert.deepEqual(sum.finish, ['stop']);
      assert.equal(sum.ids.size, 1);
      assert.equal(sum.usageChunks.length, 1);
      if (s.usage) {
        const u = sum.usageChunks[0].usage;
        assert.deepEqual([u.prompt_tokens, u.completion_tokens, u.total_tokens], s.usage);
      }
    });
  }

  test('S4: reasoning from both blocks comes before each answer part', async () => {
    await stack.ctl.script({ sample: 'S4' });
    const { chunks } = await drain(await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: user('S4 order'), stream: true,
    }));
    const s = summarize(chunks);
    assert.ok(s.order[0] === 'R' && s.order.at(-1) === 'C', s.order.join(''));
    assert.ok(chunks.every((c) => !c.choices[0]?.delta?.tool_calls), 'a server-side tool is not a tool call');
  });
});

describe('the upstream request', () => {
  test('is signed, versioned and carries the flattened conversation', async () => {
    const since = await stack.ctl.mark();
    const messages = [
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: [{ type: 'text', text: 'What is' }, { type: 'text', text: '2+2? 你好 👍' }] },
    ];
    const started = Date.now();
    const r = await stack.client.chat.completions.create({
      model: 'glm-4.7', messages, temperature: 0.5, top_p: 0.9, max_tokens: 100, thinking: { type: 'disabled' },
    });
    const rec = await lastCompletion(since);
    assert.equal(rec.status, 200);
    assert.equal(rec.outcome.result, 'ok', JSON.stringify(rec.outcome));

    const prompt = 'System: Be terse.\n\nUser: Hi\n\nAssistant: Hello!\n\nUser: What is\n2+2? 你好 👍';
    const body = rec.json;
    assert.equal(body.signature_prompt, prompt);
    assert.deepEqual(body.messages, [{ role: 'user', content: prompt }]);
    assert.equal(r.choices[0].message.content, `You said: ${prompt}`);
    assert.equal(body.stream, true);
    assert.equal(body.model, 'glm-4.7');
    assert.equal(body.features.enable_thinking, false);
    assert.deepEqual(body.params, { temperature: 0.5, top_p: 0.9, max_tokens: 100 });
    assert.ok(!('captcha_verify_param' in body), 'no captcha field without a provider');
    for (const k of ['chat_id', 'id', 'current_user_message_id']) assert.match(body[k], /^[0-9a-f-]{36}$/);

    const q = rec.query;
    const token = bearerOf(rec);
    assert.equal(q.user_id, jwtPayload(token).id);
    assert.equal(q.token, token);
    assert.match(q.requestId, /^[0-9a-f-]{36}$/);
    assert.match(q.timestamp, /^\d{13}$/);
    assert.equal(q.signature_timestamp, q.timestamp);
    assert.ok(Math.abs(Number(q.timestamp) - started) < 10_000);
    assert.ok(rec.raw_query.endsWith(`&signature_timestamp=${q.timestamp}`), 'signature_timestamp comes last');

    const h = rec.headers;
    assert.equal(h['x-fe-version'], FE_VERSION);
    assert.match(h['x-signature'], /^[0-9a-f]{64}$/);
    const expected = computeSignature({ prompt, requestId: q.requestId, timestamp: q.timestamp, userId: q.user_id });
    assert.equal(h['x-signature'], expected.signature);
    assert.equal(h['x-region'], 'overseas');
    assert.equal(h['accept-encoding'], 'identity');
    assert.match(h['user-agent'], /Mozilla\/5\.0/);
    assert.equal(h.origin, stack.fake.url);
    assert.ok(h.referer.startsWith(stack.fake.url));
  });

  test('a single user message is sent as it is', async () => {
    const since = await stack.ctl.mark();
    await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('  Just me  ') });
    const rec = await lastCompletion(since);
    assert.equal(rec.json.signature_prompt, 'Just me');
    assert.equal(rec.outcome.result, 'ok');
  });

  test('thinking toggles reach features.enable_thinking', async () => {
    const cases = [
      [{ thinking: { type: 'enabled' } }, true],
      [{ thinking: { type: 'disabled' } }, false],
      [{ enable_thinking: false }, false],
      [{ enable_thinking: true }, true],
      [{ reasoning_effort: 'none' }, false],
      [{ reasoning_effort: 'high' }, true],
    ];
    for (const [extra, want] of cases) {
      const since = await stack.ctl.mark();
      const r = await post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7', messages: user('toggle'), ...extra });
      assert.equal(r.status, 200, r.text);
      const rec = await lastCompletion(since);
      assert.equal(rec.json.features.enable_thinking, want, JSON.stringify(extra));
      assert.equal(r.json.choices[0].message.reasoning_content, want ? THINKING_TEXT : undefined);
    }
  });

  test('each completion uses a fresh chat and message ids', async () => {
    const since = await stack.ctl.mark();
    await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('a') });
    await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('b') });
    const [a, b] = await stack.ctl.requests({ since });
    for (const k of ['chat_id', 'id', 'current_user_message_id']) assert.notEqual(a.json[k], b.json[k], k);
    assert.notEqual(a.query.requestId, b.query.requestId);
  });

  test('an invalid thinking value is refused before the upstream', async () => {
    const since = await stack.ctl.mark();
    const r = await post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7', messages: user('x'), thinking: { type: 'maybe' } });
    const e = assertOpenAIError(r, 400);
    assert.equal(e.param, 'thinking.type');
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });
});
