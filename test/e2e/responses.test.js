// The OpenAI Responses surface end to end (issue 14), through the official `openai` SDK and raw
// HTTP where the wire matters: responses.create (string and item input, developer and system
// messages, instructions, reasoning effort on and off), responses.stream (the event order Codex
// and the SDK need, finalResponse(), output_text), store + previous_response_id + GET
// /v1/responses/{id} (responses.retrieve), eviction, the errors in the OpenAI shape (401, 400
// for input_image, 404 for an unknown previous id, a failure after the stream started as
// response.failed), and the tool types the proxy ignores. Both targets.
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import OpenAI from 'openai';
import {
  API_KEY, assertOpenAIError, assertRecovered, get, makeClient, post, useStack,
} from './harness.js';
import { checkResponseStream, onlyCompletion, promptOf, sdkError } from './surfaces.js';

const THINKING_TEXT = 'The user sent a message.\n\nI will echo it back.';
const PIECES = 'Piece one. Piece two. Piece three. Piece four.';
const LONG_PIECE = 'A first piece that is long enough to be relayed at once.';
const noThinking = { reasoning: { effort: 'minimal' } };
const ask = (input, extra = {}) => ({ model: 'glm-4.7', input, ...extra });

// Codex's request shape (agent-surfaces.md §7.2): no instructions, the system prompt as a
// developer message, every item with an id, tool types other than function, store false.
function codexLike(prompt) {
  return {
    model: 'glm-4.7', stream: true, store: false, tool_choice: 'auto', parallel_tool_calls: true,
    reasoning: { summary: 'auto' }, include: ['reasoning.encrypted_content'], prompt_cache_key: 'pck-1',
    client_metadata: { originator: 'codex_exec' },
    input: [
      { id: 'i1', type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'You are Codex, a coding agent.' }] },
      { id: 'i2', type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context><cwd>/tmp/w</cwd></environment_context>' }] },
      { id: 'i3', type: 'message', role: 'user', content: [{ type: 'input_text', text: prompt }] },
    ],
    tools: [
      { type: 'web_search', external_web_access: true },
      { type: 'namespace', name: 'multi_agent_v1', tools: [{ type: 'function', name: 'spawn', parameters: { type: 'object', properties: {} } }] },
      { type: 'tool_search' },
      { type: 'mcp', server_label: 'x', server_url: 'https://example.invalid' },
    ],
  };
}

describe('responses.create', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });

  test('a string input: the response object with reasoning, the message, output_text and usage', async () => {
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(ask('Hello there'));
    assert.equal(r.object, 'response');
    assert.match(r.id, /^resp_[A-Za-z0-9]+$/);
    assert.equal(r.status, 'completed');
    assert.equal(r.error, null);
    assert.equal(r.model, 'glm-4.7');
    assert.equal(r.output_text, 'You said: Hello there');
    assert.deepEqual(r.output.map((o) => o.type), ['reasoning', 'message'], 'glm-4.7 thinks unless told not to');
    assert.deepEqual(r.output[0].summary, [{ type: 'summary_text', text: THINKING_TEXT }]);
    const msg = r.output[1];
    assert.equal(msg.role, 'assistant');
    assert.equal(msg.status, 'completed');
    assert.deepEqual(msg.content.map((c) => [c.type, c.text]), [['output_text', 'You said: Hello there']]);
    const u = r.usage;
    assert.ok(u.input_tokens > 0 && u.output_tokens > 0, JSON.stringify(u));
    assert.equal(u.total_tokens, u.input_tokens + u.output_tokens);
    assert.equal(typeof u.input_tokens_details.cached_tokens, 'number');
    assert.ok(u.output_tokens_details.reasoning_tokens > 0);
    const record = await onlyCompletion(stack, since);
    assert.equal(promptOf(record), 'Hello there');
    assert.equal(record.json.features.enable_thinking, true);
  });

  for (const [effort, thinks] of [['none', false], ['minimal', false], ['low', true], ['high', true]]) {
    test(`reasoning.effort ${effort}: thinking ${thinks ? 'on' : 'off'} upstream and in the output`, async () => {
      const since = await stack.ctl.mark();
      const r = await stack.client.responses.create(ask('Effort', { reasoning: { effort } }));
      assert.deepEqual(r.output.map((o) => o.type), thinks ? ['reasoning', 'message'] : ['message']);
      assert.equal(r.reasoning.effort, effort);
      assert.equal((await onlyCompletion(stack, since)).json.features.enable_thinking, thinks);
    });
  }

  test('items: developer and system messages lead the prompt; history and reasoning items are read', async () => {
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(ask([
      { type: 'message', role: 'developer', content: 'DEV-RULE: be brief.' },
      { role: 'system', content: [{ type: 'input_text', text: 'SYS-RULE: be kind.' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'First question' }] },
      { type: 'reasoning', id: 'rs_old', summary: [{ type: 'summary_text', text: 'OLD-REASONING-3141' }] },
      { type: 'web_search_call', id: 'ws_old', status: 'completed', action: { type: 'search', query: 'OLD-SEARCH-2718' } },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'First answer' }] },
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Second' }, { type: 'input_text', text: 'question' }] },
    ], noThinking));
    assert.equal(r.status, 'completed');
    const prompt = promptOf(await onlyCompletion(stack, since));
    const at = (s) => { const i = prompt.indexOf(s); assert.ok(i >= 0, `${s} missing from ${prompt}`); return i; };
    assert.ok(at('DEV-RULE') < at('First question') && at('SYS-RULE') < at('First question'), prompt);
    assert.ok(at('First question') < at('First answer') && at('First answer') < at('Second\nquestion'), prompt);
    assert.ok(!prompt.includes('OLD-REASONING-3141'), 'replayed reasoning is dropped');
    assert.ok(!prompt.includes('OLD-SEARCH-2718'), 'server-side tool history is dropped');
  });

  test('tool history: function and custom calls with their outputs reach the prompt in order', async () => {
    // What Codex resends every turn after it ran a tool. (A scripted answer: the fake's echo of a
    // prompt with tools would quote its example call.)
    await stack.ctl.script({ generate: { answer_text: 'Both done.' } });
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(ask([
      { type: 'message', role: 'user', content: 'Look at the file, then patch it' },
      { type: 'function_call', id: 'fc_1', call_id: 'call_read1', name: 'exec_command', arguments: '{"cmd":"cat notes.txt"}', status: 'completed' },
      { type: 'function_call_output', id: 'fco_1', call_id: 'call_read1', output: 'Process exited with code 0\nOutput:\nFILE-CONTENT-1618\n' },
      { type: 'custom_tool_call', id: 'ctc_1', call_id: 'call_patch1', name: 'apply_patch', input: '*** Begin Patch\n*** Update File: notes.txt\n-old\n+PATCHED-LINE-1414\n*** End Patch' },
      { type: 'custom_tool_call_output', call_id: 'call_patch1', output: 'PATCH-APPLIED-OK' },
    ], {
      tools: [
        { type: 'function', name: 'exec_command', description: 'Run a command', parameters: { type: 'object', properties: { cmd: { type: 'string' } }, required: ['cmd'] } },
        { type: 'custom', name: 'apply_patch', description: 'Apply a patch', format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' } },
      ],
      ...noThinking,
    }));
    assert.equal(r.output_text, 'Both done.');
    const prompt = promptOf(await onlyCompletion(stack, since));
    const at = (s) => { const i = prompt.indexOf(s); assert.ok(i >= 0, `${s} missing from ${prompt}`); return i; };
    assert.ok(at('Look at the file') < at('cat notes.txt'));
    assert.ok(at('cat notes.txt') < at('FILE-CONTENT-1618'));
    assert.ok(at('FILE-CONTENT-1618') < at('PATCHED-LINE-1414'));
    assert.ok(at('PATCHED-LINE-1414') < at('PATCH-APPLIED-OK'));
  });

  test('json_schema text format and allowed_tools: accepted, echoed, the schema put to the model', async () => {
    const format = { type: 'json_schema', name: 'answer', strict: true,
      schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } };
    await stack.ctl.script({ generate: { answer_text: '{"city":"Paris"}' } });
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(ask('Which city?', {
      text: { format }, ...noThinking,
      tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object', properties: {} } }],
      tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'lookup' }] },
    }));
    assert.equal(r.output_text, '{"city":"Paris"}');
    assert.deepEqual(r.text.format, format);
    assert.equal(r.tool_choice.type, 'allowed_tools');
    // The schema is put to the model as an instruction (nothing enforces it).
    assert.ok(promptOf(await onlyCompletion(stack, since)).includes('"required":["city"]'));
  });

  test('server-side state it does not keep is a 400: conversation, prompt, item_reference', async () => {
    for (const [body, param] of [
      [ask('x', { conversation: 'conv_1' }), 'conversation'],
      [ask('x', { prompt: { id: 'pmpt_1' } }), 'prompt'],
      [ask([{ type: 'item_reference', id: 'msg_1' }]), 'input[0]'],
    ]) {
      assert.equal(assertOpenAIError(await post(stack.proxy, '/v1/responses', body), 400).param, param);
    }
  });

  test('instructions lead the prompt and are echoed on the response', async () => {
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(ask('Hi', { instructions: 'INSTR: answer in French.', ...noThinking }));
    assert.equal(r.instructions, 'INSTR: answer in French.');
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.indexOf('INSTR: answer in French.') >= 0 && prompt.indexOf('INSTR') < prompt.indexOf('Hi'), prompt);
  });

  test('request fields the response repeats (metadata, temperature, max_output_tokens) and the upstream gets', async () => {
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(ask('Echo', {
      metadata: { run: '42' }, temperature: 0.3, max_output_tokens: 512, ...noThinking,
    }));
    assert.deepEqual(r.metadata, { run: '42' });
    assert.equal(r.temperature, 0.3);
    assert.equal(r.max_output_tokens, 512);
    assert.equal(r.store, true);
    assert.equal(r.previous_response_id, null);
    assert.deepEqual((await onlyCompletion(stack, since)).json.params, { temperature: 0.3, max_tokens: 512 });
  });

  test('Codex\'s request: server, namespace, search and MCP tools and unknown fields are ignored', async () => {
    await stack.ctl.script({ generate: { answer_text: 'Tools ignored.' } });
    const r = await post(stack.proxy, '/v1/responses', { ...codexLike('Ignore the tools'), stream: false,
      text: { verbosity: 'low' }, truncation: 'auto', service_tier: 'auto', future_field_2027: [1] });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.output_text, 'Tools ignored.');
  });

  test('x-api-key authenticates here too (the key check is the same for every surface)', async () => {
    const r = await post(stack.proxy, '/v1/responses', ask('Key', noThinking), { authorization: '', 'x-api-key': API_KEY });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.output_text, 'You said: Key');
  });

  test('a filtered answer is incomplete (content_filter) without the withdrawn text', async () => {
    const r = await stack.client.responses.create(ask('Tell me about FORBIDDEN_TOPIC', noThinking));
    assert.equal(r.status, 'incomplete');
    assert.deepEqual(r.incomplete_details, { reason: 'content_filter' });
    assert.ok(!JSON.stringify(r.output).includes('FORBIDDEN_TOPIC'));
  });
});

describe('responses.stream', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });

  test('the SDK helper: text deltas, then finalResponse() with output_text', async () => {
    // Pieces apart in time, so that they reach the proxy in separate reads.
    await stack.ctl.script({ generate: { answer_text: PIECES, answer_pieces: 4, final_tail_edit: false },
      transport: { inter_event_delay_ms: 15 } });
    const stream = stack.client.responses.stream(ask('Stream me', noThinking));
    const types = [];
    let text = '';
    stream.on('event', (e) => types.push(e.type));
    stream.on('response.output_text.delta', (e) => { text += e.delta; });
    const r = await stream.finalResponse();
    assert.equal(text, PIECES);
    assert.equal(r.output_text, PIECES);
    assert.equal(r.status, 'completed');
    assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    assert.ok(types.filter((t) => t === 'response.output_text.delta').length >= 3, 'the text arrives in pieces');
  });

  test('create({stream: true}) with reasoning: the summary events carry summary_index', async () => {
    const events = [];
    for await (const e of await stack.client.responses.create({ ...ask('Think aloud'), stream: true })) events.push(e);
    const summary = events.filter((e) => e.type === 'response.reasoning_summary_text.delta');
    assert.ok(summary.length > 0);
    assert.ok(summary.every((e) => e.summary_index === 0));
    assert.equal(summary.map((e) => e.delta).join(''), THINKING_TEXT);
    const done = events.at(-1);
    assert.equal(done.type, 'response.completed');
    assert.deepEqual(done.response.output.map((o) => o.type), ['reasoning', 'message']);
    assert.equal(done.response.output_text, 'You said: Think aloud');
    assert.ok(done.response.usage.total_tokens > 0);
  });

  test('raw: the whole grammar (sequence numbers, added before deltas, done items, completed)', async () => {
    const r = await post(stack.proxy, '/v1/responses', { ...ask('Grammar'), stream: true });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/event-stream/);
    const s = checkResponseStream(r.text);
    assert.equal(s.response.status, 'completed');
    assert.deepEqual(s.items.map((i) => i.type), ['reasoning', 'message']);
    assert.equal(s.items[1].content[0].text, 'You said: Grammar');
    assert.equal(s.response.output_text, 'You said: Grammar');
    assert.deepEqual(s.types.slice(2, 4), ['response.output_item.added', 'response.reasoning_summary_part.added']);
  });

  test('Codex\'s request streams what Codex reads: the message in output_item.done, then completed', async () => {
    await stack.ctl.script({ generate: { answer_text: 'Hi from the fake, Codex.', answer_pieces: 5 },
      transport: { chunk_mode: 'random_bytes', chunk_max_bytes: 5, chunk_seed: 3 } });
    const r = await post(stack.proxy, '/v1/responses', codexLike('Codex says hi'), { accept: 'text/event-stream' });
    const s = checkResponseStream(r.text);
    const message = s.items.find((i) => i.type === 'message');
    assert.equal(message.content[0].text, 'Hi from the fake, Codex.');
    assert.equal(s.types.at(-1), 'response.completed');
    const u = s.response.usage;
    for (const k of ['input_tokens', 'output_tokens', 'total_tokens']) assert.ok(Number.isInteger(u[k]), `usage.${k}`);
    assert.equal(s.response.store, false);
  });

  test('a filtered stream ends with response.incomplete', async () => {
    const r = await post(stack.proxy, '/v1/responses', { ...ask('FORBIDDEN_TOPIC again', noThinking), stream: true });
    const s = checkResponseStream(r.text);
    assert.equal(s.types.at(-1), 'response.incomplete');
    assert.equal(s.response.incomplete_details.reason, 'content_filter');
  });
});

describe('keep-alive during an upstream silence', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { SSE_KEEPALIVE_MS: '100' } });

  test('the stream opens at once with comment lines, then the grammar as usual', async () => {
    await stack.ctl.script({ generate: {}, transport: { first_event_delay_ms: 450 } });
    const r = await post(stack.proxy, '/v1/responses', { ...ask('Slow', noThinking), stream: true });
    const s = checkResponseStream(r.text);
    assert.ok(s.comments >= 3, `${s.comments} keep-alive comments in a 450 ms silence`);
    assert.equal(s.response.output_text, 'You said: Slow');
  });
});

describe('store, previous_response_id and GET /v1/responses/{id}', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });

  test('a stored response is retrieved as it was returned', async () => {
    const r = await stack.client.responses.create(ask('Keep me', noThinking));
    assert.equal(r.store, true);
    const again = await stack.client.responses.retrieve(r.id);
    assert.equal(again.id, r.id);
    assert.equal(again.status, 'completed');
    assert.equal(again.output_text, 'You said: Keep me');
    assert.deepEqual(again.output, r.output);
    assert.deepEqual(again.usage, r.usage);
  });

  test('the second turn\'s upstream prompt carries the first turn, not its instructions', async () => {
    await stack.ctl.script({ generate: { answer_text: 'ANSWER-ONE: hello, Ada-7.' } });
    const first = await stack.client.responses.create(ask('My name is Ada-7.', { instructions: 'TURN1-INSTRUCTIONS', ...noThinking }));
    assert.equal(first.output_text, 'ANSWER-ONE: hello, Ada-7.');
    const since = await stack.ctl.mark();
    const second = await stack.client.responses.create(ask('What is my name?', { previous_response_id: first.id, ...noThinking }));
    assert.equal(second.previous_response_id, first.id);
    const prompt = promptOf(await onlyCompletion(stack, since));
    const at = (s) => { const i = prompt.indexOf(s); assert.ok(i >= 0, `${s} missing from ${prompt}`); return i; };
    assert.ok(at('My name is Ada-7.') < at('ANSWER-ONE: hello, Ada-7.'));
    assert.ok(at('ANSWER-ONE: hello, Ada-7.') < at('What is my name?'));
    assert.ok(!prompt.includes('TURN1-INSTRUCTIONS'), 'instructions are not inherited');
    // A chain: the third turn sees both earlier ones.
    const since3 = await stack.ctl.mark();
    await stack.client.responses.create(ask('Third', { previous_response_id: second.id, ...noThinking }));
    const p3 = promptOf(await onlyCompletion(stack, since3));
    for (const part of ['My name is Ada-7.', 'ANSWER-ONE', 'What is my name?', 'Third']) assert.ok(p3.includes(part), `${part} missing from ${p3}`);
    assert.ok(!p3.includes('TURN1-INSTRUCTIONS'), p3);
  });

  test('a streamed response is stored too, and chains', async () => {
    const final = await stack.client.responses.stream(ask('Streamed turn', noThinking)).finalResponse();
    assert.equal((await stack.client.responses.retrieve(final.id)).output_text, 'You said: Streamed turn');
    const since = await stack.ctl.mark();
    const next = await stack.client.responses.stream(ask('Next', { previous_response_id: final.id, ...noThinking })).finalResponse();
    assert.equal(next.status, 'completed');
    assert.ok(promptOf(await onlyCompletion(stack, since)).includes('You said: Streamed turn'));
  });

  test('store: false keeps nothing: GET is a 404 and chaining on it is a 404', async () => {
    const r = await stack.client.responses.create(ask('Forget me', { store: false, ...noThinking }));
    assert.equal(r.store, false);
    const e = await sdkError(() => stack.client.responses.retrieve(r.id), OpenAI.NotFoundError);
    assert.equal(e.code, 'response_not_found');
    const raw = await get(stack.proxy, `/v1/responses/${r.id}`);
    assertOpenAIError(raw, 404, 'response_not_found');
    const chained = await post(stack.proxy, '/v1/responses', ask('x', { previous_response_id: r.id }));
    assert.equal(assertOpenAIError(chained, 404, 'previous_response_not_found').param, 'previous_response_id');
  });

  test('an unknown previous_response_id: 404 in the OpenAI shape, and the upstream is spared', async () => {
    const since = await stack.ctl.mark();
    const e = await sdkError(() => stack.client.responses.create(ask('x', { previous_response_id: 'resp_doesnotexist' })),
      OpenAI.NotFoundError);
    assert.equal(e.code, 'previous_response_not_found');
    assert.equal(e.param, 'previous_response_id');
    assert.match(e.message, /resp_doesnotexist/);
    const raw = await post(stack.proxy, '/v1/responses', { ...ask('x', { previous_response_id: 'resp_doesnotexist' }), stream: true });
    assertOpenAIError(raw, 404, 'previous_response_not_found');
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });

  test('GET needs the key', async () => {
    const r = await stack.client.responses.create(ask('Private', noThinking));
    const raw = await get(stack.proxy, `/v1/responses/${r.id}`, { auth: false });
    assertOpenAIError(raw, 401, 'invalid_api_key');
  });
});

describe('a store of one response', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { RESPONSES_STORE_MAX: '1' } });

  test('the older response is evicted: GET and previous_response_id are then 404s', async () => {
    const a = await stack.client.responses.create(ask('A', noThinking));
    const b = await stack.client.responses.create(ask('B', noThinking));
    assertOpenAIError(await get(stack.proxy, `/v1/responses/${a.id}`), 404, 'response_not_found');
    assertOpenAIError(await post(stack.proxy, '/v1/responses', ask('x', { previous_response_id: a.id })), 404, 'previous_response_not_found');
    assert.equal((await stack.client.responses.retrieve(b.id)).output_text, 'You said: B');
  });
});

describe('no store (RESPONSES_STORE_MAX=0)', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { RESPONSES_STORE_MAX: '0' } });

  test('store: true is answered store: false and nothing can be retrieved', async () => {
    const r = await stack.client.responses.create(ask('Nowhere to keep', { store: true, ...noThinking }));
    assert.equal(r.store, false);
    assertOpenAIError(await get(stack.proxy, `/v1/responses/${r.id}`), 404, 'response_not_found');
  });
});

describe('errors', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { TOKEN_POOL_SIZE: '2' } });

  test('401: a wrong key through the SDK, a missing one on the wire', async () => {
    const e = await sdkError(() => makeClient(stack.proxy.url, 'sk-wrong').responses.create(ask('x')), OpenAI.AuthenticationError);
    assert.equal(e.status, 401);
    assertOpenAIError(await post(stack.proxy, '/v1/responses', ask('x'), { authorization: '' }), 401, 'invalid_api_key');
  });

  test('an input_image part: 400 naming the part, nothing sent upstream', async () => {
    const since = await stack.ctl.mark();
    const body = ask([{ role: 'user', content: [
      { type: 'input_text', text: 'What is this?' },
      { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
    ] }]);
    const e = await sdkError(() => stack.client.responses.create(body), OpenAI.BadRequestError);
    assert.equal(e.param, 'input[0].content[1]');
    assert.match(e.message, /input_image/);
    assertOpenAIError(await post(stack.proxy, '/v1/responses', { ...body, stream: true }), 400);
    assertOpenAIError(await post(stack.proxy, '/v1/responses', ask([{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }])), 400);
    assert.deepEqual(await stack.ctl.requests({ since }), []);
  });

  test('a function_call_output with no call before it: 400 naming its call_id', async () => {
    const r = await post(stack.proxy, '/v1/responses', ask([
      { role: 'user', content: 'x' }, { type: 'function_call_output', call_id: 'call_nowhere', output: 'y' },
    ]));
    assert.equal(assertOpenAIError(r, 400).param, 'input[1].call_id');
  });

  test('the Responses API\'s other endpoints: 404 or 405, in the OpenAI shape', async () => {
    const r = await stack.client.responses.create(ask('Keep', noThinking));
    assertOpenAIError(await get(stack.proxy, `/v1/responses/${r.id}/input_items`), 404);
    const del = await post(stack.proxy, `/v1/responses/${r.id}/cancel`, {});
    assertOpenAIError(del, 405);
    assert.match(del.headers.get('allow'), /GET/);
  });

  test('an unknown model: 404 model_not_found', async () => {
    const e = await sdkError(() => stack.client.responses.create({ ...ask('x'), model: 'gpt-nonexistent-1' }), OpenAI.NotFoundError);
    assert.equal(e.code, 'model_not_found');
  });

  describe('after the stream started', () => {
    afterEach(() => assertRecovered(stack));

    test('an upstream error: the text so far, then response.failed with server_error', async () => {
      await stack.ctl.script({ events: [{ delta_content: LONG_PIECE, phase: 'answer' },
        { error: { detail: 'Internal Server Error', code: 500 }, done: true }] });
      const r = await post(stack.proxy, '/v1/responses', { ...ask('Fail me', noThinking), stream: true });
      assert.equal(r.status, 200);
      const s = checkResponseStream(r.text);
      assert.equal(s.types.at(-1), 'response.failed');
      assert.equal(s.response.status, 'failed');
      assert.equal(s.response.error.code, 'server_error');
      assert.ok(Object.values(s.deltas).join('').startsWith(LONG_PIECE.slice(0, 20)));
    });

    test('an upstream rate limit: response.failed with rate_limit_exceeded and "try again in N s"', async () => {
      await stack.ctl.script({ events: [{ delta_content: LONG_PIECE, phase: 'answer' },
        { error: { detail: 'Too many requests', code: 429 }, done: true }] });
      const r = await post(stack.proxy, '/v1/responses', { ...ask('Limit me', noThinking), stream: true });
      const s = checkResponseStream(r.text);
      assert.equal(s.response.error.code, 'rate_limit_exceeded');
      assert.match(s.response.error.message, /try again in \d+(\.\d+)?\s*s/i, 'Codex reads the wait from the message');
    });

    test('a dropped connection: response.failed; the SDK\'s final response is the failed one', async () => {
      await stack.ctl.script({ events: [{ delta_content: LONG_PIECE, phase: 'answer' }, { delta_content: ' more', phase: 'answer' }],
        finish: true, transport: { truncate_after_n_events: 1 } });
      const stream = stack.client.responses.stream(ask('Drop me', noThinking));
      const types = [];
      stream.on('event', (e) => types.push(e.type));
      const final = await stream.finalResponse();
      assert.equal(types.at(-1), 'response.failed');
      assert.ok(!types.includes('response.completed'));
      assert.equal(final.status, 'failed');
      assert.equal(final.error.code, 'server_error');
      assert.ok(types.includes('response.output_text.delta'), 'the text before the cut was streamed');
    });

    test('non-stream: a 502, never the partial answer', async () => {
      await stack.ctl.script({ sample: 'S10' });
      const r = await post(stack.proxy, '/v1/responses', ask('Whole', noThinking));
      assertOpenAIError(r, 502, 'upstream_error');
      assert.ok(!r.text.includes('Partial answ'));
    });
  });

  test('before the stream started: an upstream 429 on every token is a 429 with Retry-After', async () => {
    await stack.ctl.script({ http: { status: 429, retry_after: 7 }, times: 2 });
    const r = await post(stack.proxy, '/v1/responses', { ...ask('Busy'), stream: true });
    assertOpenAIError(r, 429, 'rate_limit_exceeded');
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  });
});

// GLM's trained call syntax, which the proxy's parser always accepts (no nonce); a custom tool
// takes one pair, `input`, holding its raw text.
function glmCall(name, args) {
  const pairs = Object.entries(args).map(([k, v]) =>
    `<arg_key>${k}</arg_key>\n<arg_value>${typeof v === 'string' ? v : JSON.stringify(v)}</arg_value>\n`);
  return `<tool_call>${name}\n${pairs.join('')}</tool_call>`;
}

const EXEC = {
  type: 'function', name: 'exec_command', description: 'Runs a shell command (EXEC-TOOL-DESCRIPTION).',
  parameters: { type: 'object', properties: { cmd: { type: 'string' }, yield_time_ms: { type: 'number' } }, required: ['cmd'] },
  strict: false,
};
const APPLY_PATCH = {
  type: 'custom', name: 'apply_patch', description: 'Edits files with a patch (PATCH-TOOL-DESCRIPTION).',
  format: { type: 'grammar', syntax: 'lark', definition: 'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF' },
};
const PATCH = '*** Begin Patch\n*** Update File: src/app.py\n@@ def main():\n-    print("hi")\n+    print("hello, {name}")\n*** End Patch';

describe('tool calls', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });
  const withTools = (input, extra = {}) => ask(input, { tools: [EXEC, APPLY_PATCH], ...noThinking, ...extra });
  const answer = (text, extra = {}) => stack.ctl.script({ generate: { answer_text: text, ...extra } });

  test('non-stream: a function_call item with call_id and JSON arguments', async () => {
    await answer(glmCall('exec_command', { cmd: 'ls -la', yield_time_ms: 1000 }));
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(withTools('List the files'));
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.output.map((o) => o.type), ['function_call']);
    const call = r.output[0];
    assert.match(call.call_id, /^call_[A-Za-z0-9]+$/);
    assert.equal(call.name, 'exec_command');
    assert.deepEqual(JSON.parse(call.arguments), { cmd: 'ls -la', yield_time_ms: 1000 });
    assert.equal(r.output_text, '');
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('EXEC-TOOL-DESCRIPTION') && prompt.includes('PATCH-TOOL-DESCRIPTION'));
  });

  test('stream: added with empty arguments, deltas, .done, then output_item.done with the whole arguments', async () => {
    await answer(`Let me look.\n${glmCall('exec_command', { cmd: 'cat "notes.txt"' })}`, { answer_pieces: 6 });
    const r = await post(stack.proxy, '/v1/responses', { ...withTools('Read notes'), stream: true });
    const s = checkResponseStream(r.text);
    assert.deepEqual(s.items.map((i) => i.type), ['message', 'function_call']);
    const call = s.items[1];
    assert.deepEqual(JSON.parse(call.arguments), { cmd: 'cat "notes.txt"' }, 'Codex reads the call from output_item.done');
    assert.equal(call.status, 'completed');
    assert.ok(s.types.includes('response.function_call_arguments.delta'));
    assert.ok(s.types.indexOf('response.function_call_arguments.done') < s.types.lastIndexOf('response.output_item.done'));
    assert.equal(s.response.status, 'completed');

    await answer(glmCall('exec_command', { cmd: 'pwd' }));
    const final = await stack.client.responses.stream(withTools('Where?')).finalResponse();
    assert.deepEqual(final.output.filter((o) => o.type === 'function_call').map((o) => JSON.parse(o.arguments)), [{ cmd: 'pwd' }]);
  });

  test('round trip: the function_call_output reaches the upstream prompt', async () => {
    const secret = `OUT-${Math.random().toString(36).slice(2, 10)}`;
    await answer(glmCall('exec_command', { cmd: 'cat secret.txt' }));
    const first = await stack.client.responses.create(withTools('What is in secret.txt?', { store: false }));
    const call = first.output.find((o) => o.type === 'function_call');
    await answer(`It says ${secret}.`);
    const since = await stack.ctl.mark();
    const second = await stack.client.responses.create(withTools([
      { role: 'user', content: 'What is in secret.txt?' },
      call,
      { type: 'function_call_output', call_id: call.call_id, output: `Process exited with code 0\nOutput:\n${secret}\n` },
    ]));
    assert.equal(second.output_text, `It says ${secret}.`);
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes(secret) && prompt.includes('cat secret.txt') && prompt.includes(call.call_id), prompt.slice(-1500));
  });

  test('round trip through previous_response_id: only the output is sent the second time', async () => {
    const secret = `PREV-${Math.random().toString(36).slice(2, 10)}`;
    await answer(glmCall('exec_command', { cmd: 'cat prev.txt' }));
    const first = await stack.client.responses.create(withTools('Read prev.txt'));
    const call = first.output.find((o) => o.type === 'function_call');
    await answer('Done.');
    const since = await stack.ctl.mark();
    await stack.client.responses.create(withTools([{ type: 'function_call_output', call_id: call.call_id, output: secret }],
      { previous_response_id: first.id }));
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('Read prev.txt') && prompt.includes('cat prev.txt') && prompt.includes(secret), prompt.slice(-1500));
  });

  test('a custom tool: custom_tool_call with the free-form input intact (stream and not)', async () => {
    await answer(glmCall('apply_patch', { input: PATCH }));
    const r = await stack.client.responses.create(withTools('Say hello by name'));
    assert.deepEqual(r.output.map((o) => o.type), ['custom_tool_call']);
    assert.equal(r.output[0].name, 'apply_patch');
    assert.equal(r.output[0].input, PATCH);
    assert.match(r.output[0].call_id, /^call_/);

    await answer(glmCall('apply_patch', { input: PATCH }), { answer_pieces: 7 });
    const raw = await post(stack.proxy, '/v1/responses', { ...withTools('Again'), stream: true });
    const s = checkResponseStream(raw.text);
    const item = s.items.find((i) => i.type === 'custom_tool_call');
    assert.equal(item.input, PATCH);
    assert.ok(s.types.includes('response.custom_tool_call_input.done'));

    await answer('Patched.');
    const since = await stack.ctl.mark();
    await stack.client.responses.create(withTools([
      { role: 'user', content: 'Say hello by name' }, r.output[0],
      { type: 'custom_tool_call_output', call_id: r.output[0].call_id, output: 'PATCH-RESULT-OK' },
    ]));
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('hello, {name}') && prompt.includes('PATCH-RESULT-OK'));
  });

  test('parallel_tool_calls false: only the first of two calls', async () => {
    await answer(`${glmCall('exec_command', { cmd: 'one' })}\n${glmCall('exec_command', { cmd: 'two' })}`);
    const r = await stack.client.responses.create(withTools('Run both', { parallel_tool_calls: false }));
    assert.deepEqual(r.output.filter((o) => o.type === 'function_call').map((o) => JSON.parse(o.arguments).cmd), ['one']);
    await answer(`${glmCall('exec_command', { cmd: 'one' })}\n${glmCall('exec_command', { cmd: 'two' })}`);
    const both = await stack.client.responses.create(withTools('Run both'));
    assert.deepEqual(both.output.filter((o) => o.type === 'function_call').map((o) => JSON.parse(o.arguments).cmd), ['one', 'two']);
  });

  test('tool_choice required: an answer without a call is retried once', async () => {
    await answer('No tools for me.');
    await answer(glmCall('exec_command', { cmd: 'true' }));
    const since = await stack.ctl.mark();
    const r = await stack.client.responses.create(withTools('Run something', { tool_choice: 'required' }));
    assert.deepEqual(r.output.map((o) => o.type), ['function_call']);
    assert.equal((await stack.ctl.requests({ since })).length, 2);
  });

  test('tool_choice none, named and allowed_tools: what the model is shown and may call', async () => {
    await answer(`Just text. ${glmCall('exec_command', { cmd: 'rm -rf /' })}`);
    let since = await stack.ctl.mark();
    const none = await stack.client.responses.create(withTools('Talk only', { tool_choice: 'none' }));
    assert.deepEqual(none.output.map((o) => o.type), ['message']);
    assert.ok(!none.output_text.includes('rm -rf') && !none.output_text.includes('tool_call'), none.output_text);
    assert.ok(!promptOf(await onlyCompletion(stack, since)).includes('EXEC-TOOL-DESCRIPTION'));

    await answer(glmCall('apply_patch', { input: PATCH }));
    const named = await stack.client.responses.create(withTools('Patch it', { tool_choice: { type: 'custom', name: 'apply_patch' } }));
    assert.deepEqual(named.output.map((o) => [o.type, o.name]), [['custom_tool_call', 'apply_patch']]);

    await answer('Fine.');
    since = await stack.ctl.mark();
    await stack.client.responses.create(withTools('Only exec', {
      tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'exec_command' }] },
    }));
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('EXEC-TOOL-DESCRIPTION') && !prompt.includes('PATCH-TOOL-DESCRIPTION'), 'only the allowed tool is shown');
  });

  test('the ignored tool types are not described to the model', async () => {
    await answer('Fine.');
    const since = await stack.ctl.mark();
    await stack.client.responses.create(withTools('Hi', {
      tools: [EXEC, { type: 'web_search' }, { type: 'namespace', name: 'multi_agent_v1', description: 'NAMESPACE-DESCRIPTION', tools: [] }],
    }));
    const prompt = promptOf(await onlyCompletion(stack, since));
    assert.ok(prompt.includes('EXEC-TOOL-DESCRIPTION') && !prompt.includes('NAMESPACE-DESCRIPTION') && !prompt.includes('web_search'));
  });
});
