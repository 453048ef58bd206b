// Helpers for the agent-facing surfaces (anthropic.test.js, responses.test.js): an official
// Anthropic client pointed at a proxy, and wire-level checkers for the two event grammars. Each
// checker asserts the grammar as it goes and returns what the stream said, so a test can both
// prove the shape and read the content.
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { API_KEY } from './harness.js';

// The official Anthropic SDK: its base URL has no /v1 (it adds /v1/messages itself).
export function anthropicClient(url, apiKey = API_KEY, options = {}) {
  return new Anthropic({ apiKey, baseURL: url, maxRetries: 0, timeout: 30_000, ...options });
}

// The prompt the upstream received, from one recorded completion request.
export const promptOf = (record) => record.json.signature_prompt;

// The one upstream completion the code under test caused (recorded after mark `since`).
export async function onlyCompletion(stack, since) {
  const records = await stack.ctl.requests({ since });
  assert.equal(records.length, 1, `expected one upstream completion, got ${records.length}`);
  return records[0];
}

// Runs `fn`, which must throw an SDK error of class `Class` (either SDK's); returns it.
export async function sdkError(fn, Class) {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e?.constructor?.name}: ${e?.message}`);
    return e;
  }
  assert.fail(`expected ${Class.name}, but the call succeeded`);
}

// Splits an SSE body into {event, data} records, one per event; `comments` counts `:` lines.
// Every event must carry both lines, `event:` and `data:` (Anthropic's SDKs and Codex dispatch on
// the first and parse the second), and name the same type in both.
export function namedEvents(text) {
  const out = [];
  let comments = 0;
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    let event;
    let data;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments++;
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
      else assert.fail(`unexpected SSE line ${JSON.stringify(line)}`);
    }
    if (event === undefined && data === undefined) continue;  // a comment-only block
    assert.ok(event !== undefined && data !== undefined, `an event without both lines: ${JSON.stringify(block)}`);
    assert.notEqual(data, '[DONE]', 'these APIs send no [DONE]');
    const json = JSON.parse(data);
    assert.equal(json.type, event, `event: ${event} carries data of type ${json.type}`);
    out.push({ event, data: json });
  }
  return { events: out, comments };
}

const DELTA_OF = { text: ['text_delta'], thinking: ['thinking_delta', 'signature_delta'], tool_use: ['input_json_delta'] };
const STOP_REASONS = ['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'refusal', 'pause_turn'];

// Checks a raw Anthropic Messages stream against the grammar Claude Code and the SDK depend on
// (agent-surfaces.md §2.3): message_start first with usage.input_tokens; pings anywhere after it;
// blocks opened at indexes 0, 1, 2… one at a time, never a delta before its start or after its
// stop, each delta of its block's kind; exactly one signature_delta as a thinking block's last
// delta; one message_delta after the last block; message_stop last. An `event: error` ends the
// stream instead (no message_delta or message_stop after it). Returns {message, blocks,
// stopReason, usage, pings, comments, error, types}.
export function checkMessageStream(text) {
  const { events, comments } = namedEvents(text);
  assert.ok(events.length > 0, 'an empty stream');
  const out = { message: undefined, blocks: [], stopReason: undefined, usage: undefined, pings: 0,
                comments, error: undefined, types: events.map((e) => e.event) };
  let open;  // the open block
  let messageDelta = false;
  let stopped = false;
  events.forEach(({ event, data }, i) => {
    assert.ok(!stopped, `${event} after message_stop`);
    assert.equal(out.error, undefined, `${event} after an error event`);
    if (i === 0) assert.equal(event, 'message_start', `the first event is ${event}`);
    switch (event) {
      case 'message_start': {
        assert.equal(i, 0, 'message_start only once, first');
        const m = data.message;
        assert.match(m.id, /^msg_/);
        assert.equal(m.type, 'message');
        assert.equal(m.role, 'assistant');
        assert.deepEqual(m.content, []);
        assert.equal(m.stop_reason, null);
        assert.ok(Number.isInteger(m.usage.input_tokens) && m.usage.input_tokens > 0,
          `message_start usage.input_tokens ${m.usage.input_tokens}`);
        assert.ok(Number.isInteger(m.usage.output_tokens));
        out.message = m;
        break;
      }
      case 'ping':
        out.pings++;
        break;
      case 'content_block_start': {
        assert.equal(open, undefined, `block ${data.index} starts while block ${open?.index} is open`);
        assert.ok(!messageDelta, 'a block after message_delta');
        assert.equal(data.index, out.blocks.length, 'block indexes are 0, 1, 2…');
        const b = data.content_block;
        assert.ok(DELTA_OF[b.type], `unknown block type ${b.type}`);
        if (b.type === 'text') assert.equal(b.text, '');
        if (b.type === 'thinking') assert.equal(b.thinking, '');
        if (b.type === 'tool_use') {
          assert.match(b.id, /^toolu_/);
          assert.equal(typeof b.name, 'string');
          assert.deepEqual(b.input, {});
        }
        open = { index: data.index, type: b.type, id: b.id, name: b.name, text: '', json: '',
                 signatures: 0, deltas: 0 };
        break;
      }
      case 'content_block_delta': {
        assert.ok(open, `a delta for block ${data.index} with no block open`);
        assert.equal(data.index, open.index, 'a delta for a block that is not the open one');
        const d = data.delta;
        assert.ok(DELTA_OF[open.type].includes(d.type), `${d.type} in a ${open.type} block`);
        assert.equal(open.signatures, 0, `${d.type} after the thinking block's signature`);
        open.deltas++;
        if (d.type === 'text_delta') open.text += d.text;
        else if (d.type === 'thinking_delta') open.text += d.thinking;
        else if (d.type === 'input_json_delta') open.json += d.partial_json;
        else if (d.type === 'signature_delta') {
          assert.ok(typeof d.signature === 'string' && d.signature.length > 0, 'an empty signature');
          open.signatures++;
          open.signature = d.signature;
        }
        break;
      }
      case 'content_block_stop': {
        assert.ok(open, `content_block_stop for ${data.index} with no block open`);
        assert.equal(data.index, open.index);
        if (open.type === 'thinking') assert.equal(open.signatures, 1, 'one signature_delta before a thinking block stops');
        if (open.type === 'tool_use') {
          const input = JSON.parse(open.json === '' ? '{}' : open.json);
          assert.ok(input && typeof input === 'object' && !Array.isArray(input),
            `input_json_delta fragments make ${open.json}, not an object`);
          open.input = input;
        } else {
          assert.ok(open.text.length > 0, `an empty ${open.type} block`);
        }
        out.blocks.push(open);
        open = undefined;
        break;
      }
      case 'message_delta':
        assert.equal(open, undefined, 'message_delta while a block is open');
        assert.ok(!messageDelta, 'one message_delta');
        messageDelta = true;
        assert.ok(STOP_REASONS.includes(data.delta.stop_reason), `stop_reason ${data.delta.stop_reason}`);
        assert.ok(Number.isInteger(data.usage.output_tokens), 'message_delta usage.output_tokens');
        out.stopReason = data.delta.stop_reason;
        out.usage = data.usage;
        break;
      case 'message_stop':
        assert.ok(messageDelta, 'message_stop before message_delta');
        stopped = true;
        break;
      case 'error':
        assert.equal(data.error.type.length > 0, true);
        assert.equal(typeof data.error.message, 'string');
        out.error = data.error;
        break;
      default:
        assert.fail(`unknown event ${event}`);
    }
  });
  if (out.error === undefined) assert.ok(stopped, 'a successful stream ends with message_stop');
  else assert.ok(!messageDelta, 'no message_delta before an error');
  return out;
}

const TERMINAL = ['response.completed', 'response.incomplete', 'response.failed'];

// Checks a raw Responses stream (agent-surfaces.md §3.3): every event has `event:` and `data:`
// with the same type and a sequence_number 0, 1, 2…; response.created then response.in_progress
// first; every item announced by output_item.added (a skeleton) before its parts or deltas, and
// finished by output_item.done; text parts added before their deltas; the deltas of an item add
// up to its .done text; it ends with exactly one of completed / incomplete / failed, whose
// `output` holds every finished item. Returns {response, items (as output_item.done carried
// them), deltas (per item id), types, comments}.
export function checkResponseStream(text) {
  const { events, comments } = namedEvents(text);
  const out = { response: undefined, items: [], deltas: {}, args: {}, types: events.map((e) => e.event), comments };
  const added = new Map();  // item id → item at added
  const parts = new Set();  // item ids whose part was added
  let ended = false;
  events.forEach(({ event, data }, i) => {
    assert.ok(!ended, `${event} after the terminal event`);
    assert.equal(data.sequence_number, i, `sequence_number of event ${i} (${event})`);
    if (i === 0) assert.equal(event, 'response.created');
    if (i === 1) assert.equal(event, 'response.in_progress');
    if (event === 'response.created' || event === 'response.in_progress') {
      assert.ok(i <= 1, `${event} at ${i}`);
      assert.equal(data.response.status, 'in_progress');
      assert.match(data.response.id, /^resp_/);
      assert.deepEqual(data.response.output, []);
      out.id = data.response.id;
      return;
    }
    if (TERMINAL.includes(event)) {
      ended = true;
      out.response = data.response;
      assert.equal(data.response.id, out.id, 'the terminal event names the same response');
      return;
    }
    if (event === 'response.output_item.added') {
      const item = data.item;
      assert.ok(!added.has(item.id), `item ${item.id} added twice`);
      assert.equal(data.output_index, added.size, 'output indexes are 0, 1, 2…');
      if (item.type === 'message') assert.deepEqual(item.content, []);
      if (item.type === 'reasoning') assert.deepEqual(item.summary, []);
      if (item.type === 'function_call') assert.equal(item.arguments, '');
      added.set(item.id, { ...item, output_index: data.output_index, done: false });
      out.deltas[item.id] = '';
      return;
    }
    const id = data.item_id ?? data.item?.id;
    assert.ok(added.has(id), `${event} for item ${id} before its output_item.added`);
    const item = added.get(id);
    assert.ok(!item.done, `${event} after the item's output_item.done`);
    assert.equal(data.output_index, item.output_index);
    switch (event) {
      case 'response.content_part.added':
      case 'response.reasoning_summary_part.added':
        parts.add(id);
        break;
      case 'response.output_text.delta':
      case 'response.reasoning_summary_text.delta':
        assert.ok(parts.has(id), `${event} before its part was added`);
        if (event.startsWith('response.reasoning')) assert.equal(data.summary_index, 0);
        else assert.equal(data.content_index, 0);
        out.deltas[id] += data.delta;
        break;
      case 'response.output_text.done':
      case 'response.reasoning_summary_text.done':
        assert.equal(data.text, out.deltas[id], 'the .done text is the deltas joined');
        break;
      case 'response.function_call_arguments.delta':
      case 'response.custom_tool_call_input.delta':
        out.deltas[id] += data.delta;
        break;
      case 'response.function_call_arguments.done':
        assert.equal(data.arguments, out.deltas[id]);
        break;
      case 'response.custom_tool_call_input.done':
        assert.equal(data.input, out.deltas[id]);
        break;
      case 'response.content_part.done':
      case 'response.reasoning_summary_part.done':
        break;
      case 'response.output_item.done':
        item.done = true;
        assert.notEqual(data.item.status, 'in_progress');
        out.items.push(data.item);
        break;
      default:
        assert.fail(`unexpected event ${event}`);
    }
  });
  assert.ok(ended, 'the stream ends with response.completed, .incomplete or .failed');
  if (out.response.status === 'completed') {
    for (const item of added.values()) assert.ok(item.done, `item ${item.id} never done`);
    assert.deepEqual(out.response.output, out.items, 'the final output is the items as done carried them');
  }
  return out;
}
