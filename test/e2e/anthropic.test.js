// The Anthropic Messages surface end to end (issue 13), through the official @anthropic-ai/sdk
// and through raw HTTP where the wire matters: messages.create and messages.stream (text,
// thinking with its signature, system prompts, a mid-conversation system message, unknown
// fields), countTokens, the error envelope and statuses (401, 400, 404, 429, 503, an error after
// the stream started), `?beta=true`, the claude-* aliases and their listing, and the exact event
// grammar Claude Code depends on. Both targets (ZAI_TARGET=worker runs it against workerd).
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import {
  API_KEY, TARGET, assertRecovered, get, post, request, startStack, useStack,
} from './harness.js';
import {
  anthropicClient, checkMessageStream, onlyCompletion, promptOf, sdkError,
} from './surfaces.js';

const THINKING_TEXT = 'The user sent a message.\n\nI will echo it back.';
const PIECES = 'Piece one. Piece two. Piece three. Piece four.';
const base = { model: 'glm-4.7', max_tokens: 1024 };
const ask = (content, extra = {}) => ({ ...base, messages: [{ role: 'user', content }], ...extra });

// A raw Messages request with the Anthropic headers (x-api-key, anthropic-version).
function messages(proxy, body, { path = '/v1/messages', headers = {} } = {}) {
  return request(proxy, 'POST', path, {
    body, auth: false,
    headers: { 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', ...headers },
  });
}

// An Anthropic error body: {"type":"error","error":{"type":…,"message":…}} and nothing else.
function assertAnthropicError(res, status, type) {
  assert.equal(res.status, status, `status ${res.status}: ${res.text}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(res.json ?? {}).sort(), ['error', 'type'], res.text);
  assert.equal(res.json.type, 'error');
  assert.equal(res.json.error.type, type, res.text);
  assert.equal(typeof res.json.error.message, 'string');
  assert.ok(res.json.error.message.length > 0);
  return res.json.error;
}

describe('messages.create', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });
  const client = () => anthropicClient(stack.proxy.url);

  test('a text answer: the message object, end_turn, usage, thinking off by default', async () => {
    const since = await stack.ctl.mark();
    const m = await client().messages.create(ask('Hello there'));
    assert.match(m.id, /^msg_[A-Za-z0-9]+$/);
    assert.equal(m.type, 'message');
    assert.equal(m.role, 'assistant');
    assert.equal(m.model, 'glm-4.7');
    assert.deepEqual(m.content, [{ type: 'text', text: 'You said: Hello there' }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.equal(m.stop_sequence, null);
    assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0, JSON.stringify(m.usage));
    const record = await onlyCompletion(stack, since);
    assert.equal(record.json.features.enable_thinking, false, 'Anthropic models think only when asked');
    assert.equal(promptOf(record), 'Hello there');
  });

  for (const thinking of [{ type: 'enabled', budget_tokens: 2048 }, { type: 'adaptive' }]) {
    test(`thinking ${thinking.type}: a thinking block with a signature, then the text`, async () => {
      const since = await stack.ctl.mark();
      const m = await client().messages.create(ask('Think first', { thinking }));
      assert.equal(m.content.length, 2, JSON.stringify(m.content));
      const [t, text] = m.content;
      assert.equal(t.type, 'thinking');
      assert.equal(t.thinking, THINKING_TEXT);
      assert.ok(typeof t.signature === 'string' && t.signature.length > 0, 'Claude Code drops an unsigned thinking block');
      assert.deepEqual(text, { type: 'text', text: 'You said: Think first' });
      assert.equal(m.stop_reason, 'end_turn');
      assert.equal((await onlyCompletion(stack, since)).json.features.enable_thinking, true);
    });
  }

  test('thinking disabled: no thinking upstream or in the answer', async () => {
    const since = await stack.ctl.mark();
    const m = await client().messages.create(ask('No thoughts', { thinking: { type: 'disabled' } }));
    assert.deepEqual(m.content.map((b) => b.type), ['text']);
    assert.equal((await onlyCompletion(stack, since)).json.features.enable_thinking, false);
  });

  test('system as a string reaches the prompt ahead of the conversation', async () => {
    const since = await stack.ctl.mark();
    await client().messages.create(ask('What are you?', { system: 'You are a terse pirate.' }));
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('You are a terse pirate.'), prompt);
    assert.ok(prompt.indexOf('You are a terse pirate.') < prompt.indexOf('What are you?'), prompt);
  });

  test('system as text blocks (cache_control ignored, the billing header dropped)', async () => {
    const since = await stack.ctl.mark();
    const m = await client().messages.create(ask('Hi', {
      system: [
        { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.328; cc_entrypoint=sdk-cli;' },
        { type: 'text', text: 'First instruction block.', cache_control: { type: 'ephemeral' } },
        { type: 'text', text: 'Second instruction block.' },
      ],
    }));
    assert.equal(m.content[0].type, 'text');
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('First instruction block.') && prompt.includes('Second instruction block.'), prompt);
    assert.ok(prompt.indexOf('First instruction block.') < prompt.indexOf('Second instruction block.'));
    assert.ok(!prompt.includes('x-anthropic-billing-header'), prompt);
  });

  test('a role:"system" message in the middle of messages is accepted and passed on', async () => {
    // Claude Code sends the environment this way, after the first user turn.
    const since = await stack.ctl.mark();
    const m = await client().messages.create({
      ...base,
      messages: [
        { role: 'user', content: [{ type: 'text', text: '<system-reminder>ctx</system-reminder>' }, { type: 'text', text: 'List the files' }] },
        { role: 'system', content: 'Working directory: /srv/project-7731' },
        { role: 'assistant', content: 'Which files?' },
        { role: 'user', content: 'All of them' },
      ],
    });
    assert.equal(m.stop_reason, 'end_turn');
    const prompt = promptOf(await onlyCompletion(stack, since));
    for (const part of ['/srv/project-7731', 'List the files', 'Which files?', 'All of them']) {
      assert.ok(prompt.includes(part), `${part} missing from ${prompt}`);
    }
  });

  test('replayed thinking and redacted_thinking blocks are accepted and dropped', async () => {
    const since = await stack.ctl.mark();
    await client().messages.create({
      ...base,
      messages: [
        { role: 'user', content: 'One' },
        { role: 'assistant', content: [
          { type: 'thinking', thinking: 'SECRET-REASONING-4411', signature: 'c2lnbmF0dXJl' },
          { type: 'redacted_thinking', data: 'opaque-5522' },
          { type: 'text', text: 'Answer one' },
        ] },
        { role: 'user', content: 'Two' },
      ],
    });
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('Answer one') && prompt.includes('Two'), prompt);
    assert.ok(!prompt.includes('SECRET-REASONING-4411') && !prompt.includes('opaque-5522'), prompt);
  });

  test('unknown body fields (context_management, output_config, metadata, …) are ignored', async () => {
    const since = await stack.ctl.mark();
    const r = await messages(stack.proxy, ask('Still fine', {
      context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] },
      output_config: { effort: 'high' },
      metadata: { user_id: '{"device_id":"d","session_id":"s"}' },
      service_tier: 'auto',
      some_field_from_2027: { nested: [1, 2, 3] },
      temperature: 0.5, top_p: 0.9, stop_sequences: ['\n\nHuman:'],
    }), { headers: { 'anthropic-beta': 'context-management-2025-06-27,made-up-beta-2099-01-01', 'anthropic-version': '2099-12-31' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.content[0].text, 'You said: Still fine');
    // The sampling fields are passed on to the upstream.
    assert.deepEqual((await onlyCompletion(stack, since)).json.params,
      { temperature: 0.5, top_p: 0.9, max_tokens: 1024, stop: ['\n\nHuman:'] });
  });

  test('tool history: a tool_result\'s text reaches the prompt; a picture in it becomes a note', async () => {
    // History from a session that used tools (what Claude Code resends every turn) reads whole.
    // (A scripted answer: the fake's echo of a prompt with tools would quote its example call.)
    await stack.ctl.script({ generate: { answer_text: 'Summary.' } });
    const since = await stack.ctl.mark();
    const m = await client().messages.create({
      ...base,
      tools: [{ name: 'Read', description: 'Read a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } }],
      messages: [
        { role: 'user', content: 'Read the notes' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01abc', name: 'Read', input: { file_path: '/notes.txt' } }] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'toolu_01abc', content: [
            { type: 'text', text: 'NOTES-CONTENT-8675309' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
          ], cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'Summarise them' },
        ] },
      ],
    });
    assert.equal(m.stop_reason, 'end_turn');
    const prompt = promptOf(await onlyCompletion(stack, since));
    for (const part of ['Read the notes', '/notes.txt', 'NOTES-CONTENT-8675309', 'image omitted', 'Summarise them']) {
      assert.ok(prompt.includes(part), `${part} missing from ${prompt}`);
    }
    assert.ok(prompt.indexOf('NOTES-CONTENT-8675309') < prompt.indexOf('Summarise them'));
  });

  test('a tool_result for a tool_use that never happened is a 400 naming it', async () => {
    const r = await messages(stack.proxy, { ...base, messages: [
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_nowhere', content: 'x' }] },
    ] });
    const e = assertAnthropicError(r, 400, 'invalid_request_error');
    assert.match(e.message, /messages\.0\.content\.0\.tool_use_id.*toolu_nowhere/);
  });

  test('Anthropic server tools in `tools` are ignored, not refused', async () => {
    const r = await messages(stack.proxy, ask('Search nothing', {
      tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 5 }],
    }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.content[0].text, 'You said: Search nothing');
  });

  test('a filtered answer ends with stop_reason refusal and none of the withdrawn text', async () => {
    const m = await client().messages.create(ask('Tell me about FORBIDDEN_TOPIC'));
    assert.equal(m.stop_reason, 'refusal');
    assert.ok(!JSON.stringify(m.content).includes('FORBIDDEN_TOPIC'), JSON.stringify(m.content));
  });
});

describe('messages.stream', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });
  const client = () => anthropicClient(stack.proxy.url);

  test('text: the SDK sees the events in order and finalMessage() is the whole message', async () => {
    // Pieces apart in time, so that they reach the proxy in separate reads.
    await stack.ctl.script({ generate: { answer_text: PIECES, answer_pieces: 4, final_tail_edit: false },
      transport: { inter_event_delay_ms: 15 } });
    const stream = client().messages.stream(ask('Stream me'));
    const seen = [];
    let text = '';
    stream.on('streamEvent', (e) => seen.push(e.type));
    stream.on('text', (delta) => { text += delta; });
    const m = await stream.finalMessage();
    assert.equal(text, PIECES);
    assert.deepEqual(m.content, [{ type: 'text', text: PIECES }]);
    assert.equal(m.stop_reason, 'end_turn');
    assert.ok(m.usage.input_tokens > 0 && m.usage.output_tokens > 0, JSON.stringify(m.usage));
    assert.equal(seen[0], 'message_start');
    assert.deepEqual(seen.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.ok(seen.filter((t) => t === 'content_block_delta').length >= 3, 'the text arrives in pieces');
  });

  test('thinking: a thinking block with its signature, then the text block', async () => {
    const stream = client().messages.stream(ask('Think and stream', { thinking: { type: 'enabled', budget_tokens: 1024 } }));
    let thinking = '';
    stream.on('thinking', (delta) => { thinking += delta; });
    const m = await stream.finalMessage();
    assert.equal(thinking, THINKING_TEXT);
    assert.deepEqual(m.content.map((b) => b.type), ['thinking', 'text']);
    assert.equal(m.content[0].thinking, THINKING_TEXT);
    assert.ok(m.content[0].signature.length > 0);
    assert.equal(m.content[1].text, 'You said: Think and stream');
    assert.equal(m.stop_reason, 'end_turn');
  });

  test('create({stream: true}) yields the same events as raw objects', async () => {
    const events = [];
    for await (const e of await client().messages.create({ ...ask('Raw'), stream: true })) events.push(e);
    assert.equal(events[0].type, 'message_start');
    assert.equal(events.at(-1).type, 'message_stop');
    const text = events.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.text).join('');
    assert.equal(text, 'You said: Raw');
  });

  test('a filtered stream ends with stop_reason refusal', async () => {
    const m = await client().messages.stream(ask('More FORBIDDEN_TOPIC please')).finalMessage();
    assert.equal(m.stop_reason, 'refusal');
    assert.ok(!JSON.stringify(m.content).includes('FORBIDDEN_TOPIC'));
  });
});

describe('the raw event grammar', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });

  test('text: message_start, ping, one text block, message_delta, message_stop', async () => {
    const r = await messages(stack.proxy, ask('Grammar', { stream: true }));
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const s = checkMessageStream(r.text);
    assert.ok(s.pings >= 1, 'a ping after message_start');
    assert.equal(s.types[1], 'ping');
    assert.deepEqual(s.blocks.map((b) => [b.index, b.type, b.text]), [[0, 'text', 'You said: Grammar']]);
    assert.equal(s.stopReason, 'end_turn');
    assert.ok(s.usage.output_tokens > 0);
    assert.equal(s.comments, 0, 'pings, not SSE comments');
  });

  test('thinking then text: indexes 0 and 1, one signature_delta closing the thinking block', async () => {
    const r = await messages(stack.proxy, ask('Grammar with thoughts', { stream: true, thinking: { type: 'adaptive' } }));
    const s = checkMessageStream(r.text);
    assert.deepEqual(s.blocks.map((b) => [b.index, b.type]), [[0, 'thinking'], [1, 'text']]);
    assert.equal(s.blocks[0].text, THINKING_TEXT);
    assert.equal(s.blocks[1].text, 'You said: Grammar with thoughts');
    // The thinking block is closed before the first text delta (Claude Code needs it closed).
    const firstText = s.types.indexOf('content_block_start', s.types.indexOf('content_block_stop'));
    assert.ok(firstText > s.types.indexOf('content_block_stop'));
  });

  test('upstream edits and random byte splits do not break the grammar', async () => {
    await stack.ctl.script({ generate: { thinking: true, answer_pieces: 6 },
      transport: { chunk_mode: 'random_bytes', chunk_max_bytes: 7, chunk_seed: 11 } });
    const r = await messages(stack.proxy, ask('Split me into pieces', { stream: true, thinking: { type: 'adaptive' } }));
    const s = checkMessageStream(r.text);
    assert.deepEqual(s.blocks.map((b) => b.type), ['thinking', 'text']);
    assert.equal(s.blocks[1].text, 'You said: Split me into pieces');
  });

  test('the billed usage in message_delta is cumulative and message_start has the input count', async () => {
    const r = await messages(stack.proxy, ask('Count me', { stream: true }));
    const s = checkMessageStream(r.text);
    assert.ok(s.message.usage.input_tokens > 0);
    assert.equal(s.message.usage.output_tokens, 0);
    assert.ok(s.usage.output_tokens > 0);
    assert.ok(s.usage.input_tokens > 0);
  });
});

describe('pings during an upstream silence', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { SSE_KEEPALIVE_MS: '100' } });

  test('the stream opens at once and pings (never comments) until the answer comes', async () => {
    await stack.ctl.script({ generate: {}, transport: { first_event_delay_ms: 450 } });
    const r = await messages(stack.proxy, ask('Slow', { stream: true }));
    const s = checkMessageStream(r.text);
    assert.ok(s.pings >= 3, `${s.pings} pings in a 450 ms silence with a 100 ms keep-alive`);
    assert.equal(s.comments, 0);
    assert.equal(s.blocks[0].text, 'You said: Slow');
  });
});

describe('count_tokens', () => {
  const stack = useStack();
  const client = () => anthropicClient(stack.proxy.url);

  test('an estimate that grows with the prompt, without calling the upstream', async () => {
    const since = await stack.ctl.mark();
    const small = await client().messages.countTokens({ model: 'glm-4.7', messages: [{ role: 'user', content: 'Hi' }] });
    const big = await client().messages.countTokens({
      model: 'claude-sonnet-4-5', system: 'You are helpful.',
      messages: [{ role: 'user', content: 'Hi '.repeat(400) }],
    });
    assert.deepEqual(Object.keys(small), ['input_tokens']);
    assert.ok(Number.isInteger(small.input_tokens) && small.input_tokens > 0, JSON.stringify(small));
    assert.ok(big.input_tokens > small.input_tokens * 50, `${big.input_tokens} vs ${small.input_tokens}`);
    // Tools are part of the prompt the request would send, so they count.
    const withTools = await client().messages.countTokens({
      model: 'glm-4.7', messages: [{ role: 'user', content: 'Hi' }],
      tools: [{ name: 'Read', description: 'Reads a file.', input_schema: { type: 'object', properties: { file_path: { type: 'string' } } } }],
    });
    assert.ok(withTools.input_tokens > small.input_tokens + 50, `${withTools.input_tokens} vs ${small.input_tokens}`);
    assert.deepEqual(await stack.ctl.requests({ since }), [], 'count_tokens never reaches the upstream');
  });

  test('errors in the Anthropic envelope: no key, bad body, unknown model', async () => {
    assertAnthropicError(await request(stack.proxy, 'POST', '/v1/messages/count_tokens',
      { body: { model: 'glm-4.7', messages: [{ role: 'user', content: 'x' }] }, auth: false }), 401, 'authentication_error');
    const e = assertAnthropicError(await messages(stack.proxy, { model: 'glm-4.7' }, { path: '/v1/messages/count_tokens' }),
      400, 'invalid_request_error');
    assert.match(e.message, /messages/);
    assertAnthropicError(await messages(stack.proxy, { model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] },
      { path: '/v1/messages/count_tokens' }), 404, 'not_found_error');
  });
});

describe('errors', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 },
    env: { MAX_BODY_BYTES: '65536', UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '300' } });

  test('a wrong x-api-key: AuthenticationError, and the envelope on the wire', async () => {
    const e = await sdkError(() => anthropicClient(stack.proxy.url, 'sk-wrong').messages.create(ask('x')),
      Anthropic.AuthenticationError);
    assert.equal(e.status, 401);
    assert.equal(e.type, 'authentication_error');
    assertAnthropicError(await messages(stack.proxy, ask('x'), { headers: { 'x-api-key': 'sk-wrong' } }), 401, 'authentication_error');
  });

  test('no key at all: 401; a Bearer token (ANTHROPIC_AUTH_TOKEN) works as well as x-api-key', async () => {
    assertAnthropicError(await request(stack.proxy, 'POST', '/v1/messages', { body: ask('x'), auth: false }),
      401, 'authentication_error');
    const bearer = await request(stack.proxy, 'POST', '/v1/messages', { body: ask('Bearer me') });
    assert.equal(bearer.status, 200, bearer.text);
    const sdk = anthropicClient(stack.proxy.url, null, { authToken: API_KEY });
    assert.equal((await sdk.messages.create(ask('Token'))).content[0].text, 'You said: Token');
  });

  test('an image block: BadRequestError naming the block, and nothing sent upstream', async () => {
    const since = await stack.ctl.mark();
    const body = {
      ...base,
      messages: [{ role: 'user', content: [
        { type: 'text', text: 'What is this?' },
        { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      ] }],
    };
    const e = await sdkError(() => anthropicClient(stack.proxy.url).messages.create(body), Anthropic.BadRequestError);
    assert.equal(e.type, 'invalid_request_error');
    assert.match(e.message, /messages\.0\.content\.1/);
    assert.match(e.message, /image/);
    const raw = assertAnthropicError(await messages(stack.proxy, body), 400, 'invalid_request_error');
    assert.match(raw.message, /messages\.0\.content\.1.*image/);
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });

  test('a document block is refused the same way', async () => {
    const r = await messages(stack.proxy, { ...base, messages: [{ role: 'user', content: [
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'doc' } },
    ] }] });
    assert.match(assertAnthropicError(r, 400, 'invalid_request_error').message, /messages\.0\.content\.0.*document/);
  });

  // The native server refuses an oversized body before its handler runs; the refusal still
  // speaks the envelope of the path it was for.
  test('a body over MAX_BODY_BYTES: 413 request_too_large', async () => {
    const r = await messages(stack.proxy, ask('x'.repeat(70_000)));
    assertAnthropicError(r, 413, 'request_too_large');
  });

  test('an upstream that never answers: 504 timeout_error', async () => {
    await stack.ctl.script({ fault: 'hang' });
    const r = await messages(stack.proxy, ask('Hang'));
    assertAnthropicError(r, 504, 'timeout_error');
    await stack.ctl.waitFor({ open_requests: 0 });
  });

  test('a missing max_tokens and a bad thinking budget are 400s naming the field', async () => {
    const noMax = assertAnthropicError(await messages(stack.proxy, { model: 'glm-4.7', messages: [{ role: 'user', content: 'x' }] }),
      400, 'invalid_request_error');
    assert.match(noMax.message, /max_tokens/);
    const budget = assertAnthropicError(await messages(stack.proxy, ask('x', { thinking: { type: 'enabled', budget_tokens: 5 } })),
      400, 'invalid_request_error');
    assert.match(budget.message, /thinking\.budget_tokens/);
  });

  test('an unknown model that no alias covers: NotFoundError (404 not_found_error)', async () => {
    const since = await stack.ctl.mark();
    const e = await sdkError(() => anthropicClient(stack.proxy.url).messages.create({ ...ask('x'), model: 'gpt-nonexistent-1' }),
      Anthropic.NotFoundError);
    assert.equal(e.type, 'not_found_error');
    assert.match(e.message, /gpt-nonexistent-1/);
    assertAnthropicError(await messages(stack.proxy, { ...ask('x'), model: 'gpt-nonexistent-1', stream: true }), 404, 'not_found_error');
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });

  test('an unknown path and a wrong method keep the surface\'s envelope where it has one', async () => {
    const r = await request(stack.proxy, 'GET', '/v1/messages', { headers: { 'x-api-key': API_KEY }, auth: false });
    assertAnthropicError(r, 405, 'invalid_request_error');
    assert.match(r.headers.get('allow'), /POST/);
    // A path no surface serves keeps the OpenAI 404: the envelope belongs to the path.
    const unknown = await post(stack.proxy, '/v1/messages/batches', {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.type, undefined, unknown.text);
    assert.equal(typeof unknown.json.error.message, 'string');
  });

  describe('after the stream started', () => {
    afterEach(() => assertRecovered(stack));
    const cut = {
      events: [{ delta_content: 'A first piece that is long enough to be relayed at once.', phase: 'answer' },
        { delta_content: ' More.', phase: 'answer' }, { delta_content: ' Never.', phase: 'answer' }],
      finish: true,
      transport: { truncate_after_n_events: 1 },
    };

    test('raw: the text so far, then `event: error`, and no message_stop', async () => {
      await stack.ctl.script(cut);
      const r = await messages(stack.proxy, ask('Cut me', { stream: true }));
      assert.equal(r.status, 200);
      const s = checkMessageStream(r.text);
      assert.ok(s.error, `no error event in ${r.text}`);
      assert.equal(s.error.type, 'api_error');
      assert.equal(s.types.at(-1), 'error');
      assert.ok(!s.types.includes('message_stop'));
      assert.ok(r.text.includes('A first piece'), r.text);
    });

    test('the SDK stream throws an APIError after the first text', async () => {
      await stack.ctl.script(cut);
      const stream = anthropicClient(stack.proxy.url).messages.stream(ask('Cut me too'));
      let text = '';
      stream.on('text', (d) => { text += d; });
      await assert.rejects(stream.finalMessage(), (e) => e instanceof Anthropic.APIError);
      assert.ok(text.startsWith('A first piece'), text);
    });

    test('non-stream: a 502 api_error, never the partial answer', async () => {
      await stack.ctl.script(cut);
      const r = await messages(stack.proxy, ask('Cut whole'));
      assertAnthropicError(r, 502, 'api_error');
      assert.ok(!r.text.includes('A first piece'));
    });
  });

  test('a WAF block page: 503 overloaded_error with retry-after, no HTML', async () => {
    await stack.ctl.script({ http: 405 });
    const r = await messages(stack.proxy, ask('Blocked'));
    assertAnthropicError(r, 503, 'overloaded_error');
    assert.ok(Number(r.headers.get('retry-after')) >= 1, `retry-after ${r.headers.get('retry-after')}`);
    assert.doesNotMatch(r.text, /<html|aliyun/i);
  });
});

describe('upstream rate limits', () => {
  const stack = useStack({ env: { TOKEN_POOL_SIZE: '2' } });

  test('429 on every token: RateLimitError with retry-after, in the envelope', async () => {
    await stack.ctl.script({ http: { status: 429, retry_after: 7 }, times: 2 });
    const e = await sdkError(() => anthropicClient(stack.proxy.url).messages.create(ask('Busy?')), Anthropic.RateLimitError);
    assert.equal(e.status, 429);
    assert.equal(e.type, 'rate_limit_error');
    const wait = Number(e.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 7, `retry-after ${wait}`);
  });

  test('while every token rests: 503 overloaded_error with retry-after, upstream spared (stream too)', async () => {
    const since = await stack.ctl.mark();
    for (const stream of [false, true]) {
      const r = await messages(stack.proxy, ask('Still busy?', { stream }));
      assertAnthropicError(r, 503, 'overloaded_error');
      const wait = Number(r.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= 7, `retry-after ${wait}`);
    }
    const e = await sdkError(() => anthropicClient(stack.proxy.url).messages.create(ask('x')), Anthropic.ServiceUnavailableError);
    assert.equal(e.type, 'overloaded_error');
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });
});

describe('?beta=true, aliases and the model list', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });

  test('POST /v1/messages?beta=true (what Claude Code calls), stream and not', async () => {
    for (const stream of [false, true]) {
      const r = await messages(stack.proxy, ask('Beta', { stream }), { path: '/v1/messages?beta=true' });
      assert.equal(r.status, 200, r.text);
      const text = stream ? checkMessageStream(r.text).blocks[0].text : r.json.content[0].text;
      assert.equal(text, 'You said: Beta');
    }
    const m = await anthropicClient(stack.proxy.url).beta.messages.create({ ...ask('SDK beta'), betas: ['context-management-2025-06-27'] });
    assert.equal(m.content[0].text, 'You said: SDK beta');
  });

  for (const alias of ['claude-sonnet-4-5', 'claude-opus-4-6', 'claude-foo-9']) {
    test(`${alias} is served by glm-4.7 and answers under its own name`, async () => {
      const since = await stack.ctl.mark();
      const m = await anthropicClient(stack.proxy.url).messages.create({ ...ask('Alias'), model: alias });
      assert.equal(m.model, alias);
      assert.equal(m.content[0].text, 'You said: Alias');
      assert.equal((await onlyCompletion(stack, since)).json.model, 'glm-4.7');
    });
  }

  test('GET /v1/models lists the named claude aliases (not the catch-all pattern), with x-api-key too', async () => {
    const r = await get(stack.proxy, '/v1/models', { auth: false, headers: { 'x-api-key': API_KEY } });
    assert.equal(r.status, 200);
    const ids = r.json.data.map((m) => m.id);
    for (const id of ['glm-4.7', 'claude-sonnet-4-5', 'claude-opus-4-5', 'claude-haiku-4-5']) {
      assert.ok(ids.includes(id), `${id} missing from ${ids}`);
    }
    assert.ok(!ids.some((id) => id.includes('*')), `a pattern is listed: ${ids}`);
    assert.ok(ids.filter((id) => id.startsWith('claude-')).length >= 3);
    const one = await get(stack.proxy, '/v1/models/claude-foo-9');
    assert.equal(one.status, 200, one.text);
    assert.equal(one.json.id, 'claude-foo-9');
  });

  test('MODEL_ALIASES re-points an alias and removes another', async () => {
    const other = await startStack({ env: { MODEL_ALIASES: '{"claude-opus-*":"glm-5","claude-sonnet-4-5":null}' } });
    try {
      const ids = (await get(other.proxy, '/v1/models')).json.data.map((m) => m.id);
      assert.ok(!ids.includes('claude-sonnet-4-5'), ids.join(','));
      const since = await other.ctl.mark();
      // A guest may not use glm-5 on the fake (403), which shows where the alias pointed.
      const r = await messages(other.proxy, { ...ask('x'), model: 'claude-opus-9' });
      assert.equal(r.status, 403, r.text);
      assert.equal(r.json.error.type, 'permission_error');
      assert.equal((await other.ctl.requests({ since }))[0].json.model, 'glm-5');
    } finally {
      assert.equal(await other.stop(), 0);
    }
  });
});

// GLM's trained call syntax, which the proxy's parser always accepts (no nonce): what the fake
// answers with to make the model call a tool.
function glmCall(name, args) {
  const pairs = Object.entries(args).map(([k, v]) =>
    `<arg_key>${k}</arg_key>\n<arg_value>${typeof v === 'string' ? v : JSON.stringify(v)}</arg_value>\n`);
  return `<tool_call>${name}\n${pairs.join('')}</tool_call>`;
}

const READ = {
  name: 'Read', description: 'Reads a file from the local filesystem (READ-TOOL-DESCRIPTION).',
  input_schema: { type: 'object', properties: { file_path: { type: 'string' }, limit: { type: 'integer' } }, required: ['file_path'] },
};
const BASH = {
  name: 'Bash', description: 'Runs a shell command (BASH-TOOL-DESCRIPTION).',
  input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
};

describe('tool use', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });
  const client = () => anthropicClient(stack.proxy.url);
  const withTools = (content, extra = {}) => ask(content, { tools: [READ, BASH], ...extra });
  const answer = (text, extra = {}) => stack.ctl.script({ generate: { answer_text: text, ...extra } });

  test('non-stream: text, then a tool_use block with typed input; stop_reason tool_use', async () => {
    await answer(`I will read it.\n${glmCall('Read', { file_path: '/etc/hosts', limit: 5 })}`);
    const since = await stack.ctl.mark();
    const m = await client().messages.create(withTools('What is in /etc/hosts?'));
    assert.equal(m.stop_reason, 'tool_use');
    assert.deepEqual(m.content.map((b) => b.type), ['text', 'tool_use']);
    assert.equal(m.content[0].text.trim(), 'I will read it.');
    const call = m.content[1];
    assert.match(call.id, /^toolu_[A-Za-z0-9]+$/);
    assert.equal(call.name, 'Read');
    assert.deepEqual(call.input, { file_path: '/etc/hosts', limit: 5 }, 'limit is typed as the schema says');
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('READ-TOOL-DESCRIPTION') && prompt.includes('BASH-TOOL-DESCRIPTION'), 'the tools are described to the model');
  });

  test('while tools are offered, the upstream\'s own web search stays off (glm-4.7-search)', async () => {
    for (const [tools, search] of [[undefined, true], [[READ], false]]) {
      await answer('Searched or not.');
      const since = await stack.ctl.mark();
      await client().messages.create({ ...ask('Search?'), model: 'glm-4.7-search', ...(tools ? { tools } : {}) });
      const features = (await onlyCompletion(stack, since)).json.features;
      assert.equal(features.web_search, search, JSON.stringify(features));
    }
  });

  test('stream: the tool_use block\'s input_json_delta fragments make its input (raw and SDK)', async () => {
    await answer(glmCall('Bash', { command: 'ls -la /srv && echo "done"' }), { answer_pieces: 6 });
    const r = await messages(stack.proxy, withTools('List /srv', { stream: true }));
    const s = checkMessageStream(r.text);
    assert.equal(s.stopReason, 'tool_use');
    const tools = s.blocks.filter((b) => b.type === 'tool_use');
    assert.equal(tools.length, 1);
    assert.equal(tools[0].name, 'Bash');
    assert.deepEqual(tools[0].input, { command: 'ls -la /srv && echo "done"' });

    await answer(glmCall('Bash', { command: 'pwd' }));
    const m = await client().messages.stream(withTools('Where am I?')).finalMessage();
    assert.equal(m.stop_reason, 'tool_use');
    assert.deepEqual(m.content.filter((b) => b.type === 'tool_use').map((b) => [b.name, b.input]), [['Bash', { command: 'pwd' }]]);
  });

  test('thinking then a call: a signed thinking block, then tool_use', async () => {
    await stack.ctl.script({ generate: { thinking: true, answer_text: glmCall('Read', { file_path: '/a.txt' }) } });
    const r = await messages(stack.proxy, withTools('Read /a.txt', { stream: true, thinking: { type: 'adaptive' } }));
    const s = checkMessageStream(r.text);
    assert.deepEqual(s.blocks.map((b) => b.type), ['thinking', 'tool_use']);
    assert.deepEqual(s.blocks[1].input, { file_path: '/a.txt' });
    assert.equal(s.stopReason, 'tool_use');
  });

  for (const stream of [false, true]) {
    test(`round trip (${stream ? 'stream' : 'non-stream'}): the tool_result text reaches the upstream prompt`, async () => {
      const secret = `RESULT-${Math.random().toString(36).slice(2, 10)}`;
      await answer(glmCall('Read', { file_path: '/secret.txt' }));
      const first = await client().messages.create(withTools('What does /secret.txt say?'));
      const call = first.content.find((b) => b.type === 'tool_use');
      assert.ok(call, JSON.stringify(first.content));
      await answer(`The file says ${secret}.`);
      const since = await stack.ctl.mark();
      const body = withTools('What does /secret.txt say?', {
        messages: [
          { role: 'user', content: 'What does /secret.txt say?' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: `1\t${secret}\n` }] },
        ],
      });
      const m = stream ? await client().messages.stream(body).finalMessage() : await client().messages.create(body);
      assert.equal(m.stop_reason, 'end_turn');
      assert.deepEqual(m.content.map((b) => b.type), ['text']);
      assert.equal(m.content[0].text, `The file says ${secret}.`);
      const prompt = promptOf(await onlyCompletion(stack, since));
      assert.ok(prompt.includes(secret), 'the tool result reached the model');
      assert.ok(prompt.includes('/secret.txt') && prompt.includes(call.id), 'the call is re-rendered with its id');
    });
  }

  test('two calls in one answer: two tool_use blocks with their own ids', async () => {
    await answer(`${glmCall('Read', { file_path: '/one' })}\n${glmCall('Read', { file_path: '/two' })}`);
    const m = await client().messages.create(withTools('Read both'));
    const calls = m.content.filter((b) => b.type === 'tool_use');
    assert.deepEqual(calls.map((c) => c.input.file_path), ['/one', '/two']);
    assert.notEqual(calls[0].id, calls[1].id);
  });

  test('disable_parallel_tool_use: only the first call comes back', async () => {
    await answer(`${glmCall('Read', { file_path: '/one' })}\n${glmCall('Read', { file_path: '/two' })}`);
    const m = await client().messages.create(withTools('Read both', { tool_choice: { type: 'auto', disable_parallel_tool_use: true } }));
    assert.deepEqual(m.content.filter((b) => b.type === 'tool_use').map((c) => c.input.file_path), ['/one']);
    assert.equal(m.stop_reason, 'tool_use');
  });

  test('tool_choice none: no tools in the prompt, and stray call markup never becomes a call', async () => {
    await answer(`Plain answer. ${glmCall('Bash', { command: 'rm -rf /' })}`);
    const since = await stack.ctl.mark();
    const m = await client().messages.create(withTools('Just talk', { tool_choice: { type: 'none' } }));
    assert.equal(m.stop_reason, 'end_turn');
    assert.deepEqual(m.content.map((b) => b.type), ['text']);
    assert.ok(!m.content[0].text.includes('tool_call') && !m.content[0].text.includes('rm -rf'), m.content[0].text);
    assert.ok(!promptOf(await onlyCompletion(stack, since)).includes('BASH-TOOL-DESCRIPTION'));
  });

  for (const [choice, tool] of [[{ type: 'any' }, 'Read'], [{ type: 'tool', name: 'Bash' }, 'Bash']]) {
    test(`tool_choice ${choice.type}: an answer without a call is retried once, saying so`, async () => {
      await answer('I would rather chat about it first.');
      await answer(glmCall(tool, tool === 'Bash' ? { command: 'true' } : { file_path: '/x' }));
      const since = await stack.ctl.mark();
      const m = await client().messages.create(withTools('Do it', { tool_choice: choice }));
      assert.equal(m.stop_reason, 'tool_use');
      assert.deepEqual(m.content.filter((b) => b.type === 'tool_use').map((b) => b.name), [tool]);
      const records = await stack.ctl.requests({ since });
      assert.equal(records.length, 2, 'one retry');
      assert.ok(promptOf(records[1]).includes('I would rather chat about it first.'), 'the retry quotes the answer that made no call');
    });
  }

  test('a defer_loading tool is shown only once a tool_reference loaded it', async () => {
    const deferred = { ...BASH, name: 'Deferred', description: 'A deferred tool (DEFERRED-DESCRIPTION).', defer_loading: true };
    const search = { name: 'ToolSearch', description: 'Finds tools.', input_schema: { type: 'object', properties: { query: { type: 'string' } } } };
    await answer('Nothing to do.');
    let since = await stack.ctl.mark();
    await client().messages.create(ask('Hi', { tools: [search, deferred] }));
    assert.ok(!promptOf(await onlyCompletion(stack, since)).includes('DEFERRED-DESCRIPTION'));
    await answer('Now I can.');
    since = await stack.ctl.mark();
    await client().messages.create({ ...base, tools: [search, deferred], messages: [
      { role: 'user', content: 'Find the deferred tool' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_search1', name: 'ToolSearch', input: { query: 'deferred' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_search1', content: [{ type: 'tool_reference', tool_name: 'Deferred' }] }] },
    ] });
    assert.ok(promptOf(await onlyCompletion(stack, since)).includes('DEFERRED-DESCRIPTION'));
  });

  test('a call to a tool that was not offered stays text', async () => {
    await answer(glmCall('Write', { file_path: '/x', content: 'y' }));
    const m = await client().messages.create(withTools('Write it'));
    assert.equal(m.stop_reason, 'end_turn');
    assert.ok(!m.content.some((b) => b.type === 'tool_use'));
  });
});
