// Emulated tool calling on /v1/chat/completions, through the official openai SDK: the tools go
// into the upstream prompt, the model's call markup (scripted here as the fake's answer text, in
// each format the parser reads) comes back as real tool_calls, streamed and whole; a full round
// trip; tool_choice none / required / named; and text that only looks like a call. Both targets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { post, useStack } from './harness.js';

const readFile = {
  type: 'function',
  function: {
    name: 'read_file',
    description: 'Read a file from the workspace.',
    parameters: { type: 'object', properties: { path: { type: 'string' }, limit: { type: 'integer' } },
                  required: ['path'] },
  },
};
const runCommand = {
  type: 'function',
  function: {
    name: 'run_command',
    description: 'Run a shell command.',
    parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
  },
};
const tools = [readFile, runCommand];
const ask = (content, extra = {}) => ({
  model: 'glm-4.7', messages: [{ role: 'user', content }], tools, thinking: { type: 'disabled' }, ...extra,
});

// The model's call in each format the parser reads, as the fake answers it.
const glmCall = (name, args) => `<tool_call>${name}\n${Object.entries(args)
  .map(([k, v]) => `<arg_key>${k}</arg_key>\n<arg_value>${typeof v === 'string' ? v : JSON.stringify(v)}</arg_value>`)
  .join('\n')}\n</tool_call>`;
const jsonCall = (name, args) => `<tool_call>${JSON.stringify({ name, arguments: args })}</tool_call>`;
const fencedCall = (name, args) => `\`\`\`json\n${JSON.stringify({ name, arguments: args })}\n\`\`\``;

function answers(stack, ...texts) {
  return stack.ctl.script(texts.map((answer_text) => ({ generate: { answer_text, thinking: false } })));
}

async function lastPrompt(stack, since) {
  const recs = await stack.ctl.requests({ since });
  return recs.at(-1).json.signature_prompt;
}

describe('tool calling on /v1/chat/completions', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });

  for (const [format, text] of [
    ['GLM\'s trained syntax', glmCall('read_file', { path: 'src/main.cpp', limit: 20 })],
    ['a JSON block in the markup', jsonCall('read_file', { path: 'src/main.cpp', limit: 20 })],
    ['a fenced JSON call', fencedCall('read_file', { path: 'src/main.cpp', limit: 20 })],
  ]) {
    test(`a call in ${format} comes back as tool_calls`, async () => {
      await answers(stack, text);
      const since = await stack.ctl.mark();
      const r = await stack.client.chat.completions.create(ask('Show me src/main.cpp'));
      const choice = r.choices[0];
      assert.equal(choice.finish_reason, 'tool_calls');
      assert.equal(choice.message.content, null);
      assert.equal(choice.message.tool_calls.length, 1);
      const call = choice.message.tool_calls[0];
      assert.match(call.id, /^call_/);
      assert.equal(call.type, 'function');
      assert.equal(call.function.name, 'read_file');
      assert.deepEqual(JSON.parse(call.function.arguments), { path: 'src/main.cpp', limit: 20 });
      const prompt = await lastPrompt(stack, since);
      assert.match(prompt, /read_file/);
      assert.match(prompt, /run_command/);
      assert.match(prompt, /Show me src\/main\.cpp/);
    });
  }

  test('a streamed call: text first, then the call in deltas the SDK assembles', async () => {
    await answers(stack, `I will read it.\n${glmCall('read_file', { path: 'notes.md' })}`);
    const stream = stack.client.chat.completions.stream(ask('Read notes.md', { stream: true }));
    const deltas = [];
    stream.on('chunk', (c) => deltas.push(c));
    const done = await stream.finalChatCompletion();
    const choice = done.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, 'I will read it.');
    assert.equal(choice.message.tool_calls[0].function.name, 'read_file');
    assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), { path: 'notes.md' });
    const first = deltas.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? [])[0];
    assert.equal(first.index, 0);
    assert.match(first.id, /^call_/);
    assert.equal(first.function.arguments, '');
    assert.ok(!JSON.stringify(deltas).includes('<tool_call'), 'no markup reaches the client');
  });

  test('two calls at once', async () => {
    await answers(stack, `${glmCall('read_file', { path: 'a.txt' })}\n${glmCall('run_command', { command: 'ls -la' })}`);
    const r = await stack.client.chat.completions.create(ask('Look around'));
    const calls = r.choices[0].message.tool_calls;
    assert.deepEqual(calls.map((c) => c.function.name), ['read_file', 'run_command']);
    assert.notEqual(calls[0].id, calls[1].id);
    assert.deepEqual(JSON.parse(calls[1].function.arguments), { command: 'ls -la' });
  });

  test('parallel_tool_calls: false returns only the first call', async () => {
    await answers(stack, `${glmCall('read_file', { path: 'a.txt' })}\n${glmCall('run_command', { command: 'ls' })}`);
    const since = await stack.ctl.mark();
    const r = await stack.client.chat.completions.create(ask('Look around', { parallel_tool_calls: false }));
    assert.deepEqual(r.choices[0].message.tool_calls.map((c) => c.function.name), ['read_file']);
    assert.match(await lastPrompt(stack, since), /one tool|single|only one/i);
  });

  test('a full round trip: the tool result reaches the upstream prompt and the answer comes back', async () => {
    const secret = `SECRET-${Math.random().toString(36).slice(2)}`;
    await answers(stack, glmCall('read_file', { path: 'secret.txt' }), `The file says ${secret}.`);
    const messages = [{ role: 'user', content: 'What does secret.txt say?' }];
    const first = await stack.client.chat.completions.create({ ...ask(''), messages });
    const call = first.choices[0].message.tool_calls[0];
    messages.push(first.choices[0].message);
    messages.push({ role: 'tool', tool_call_id: call.id, content: `${secret}\n` });
    const since = await stack.ctl.mark();
    const second = await stack.client.chat.completions.create({ ...ask(''), messages });
    assert.equal(second.choices[0].finish_reason, 'stop');
    assert.equal(second.choices[0].message.content, `The file says ${secret}.`);
    const prompt = await lastPrompt(stack, since);
    assert.ok(prompt.includes(secret), 'the tool result was sent upstream');
    assert.ok(prompt.includes(call.id), 'bound to its call id');
    assert.ok(prompt.includes('read_file'));
  });

  test('a tool result for an unknown call id is a 400 naming the param', async () => {
    const r = await post(stack.proxy, '/v1/chat/completions', {
      ...ask(''),
      messages: [{ role: 'user', content: 'x' }, { role: 'tool', tool_call_id: 'call_nope', content: 'y' }],
    });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, 'messages[1].tool_call_id');
  });

  test('tool_choice none: no tools in the prompt, and stray call markup is removed', async () => {
    await answers(stack, `Here you go. ${glmCall('read_file', { path: 'a.txt' })}`);
    const since = await stack.ctl.mark();
    const r = await stack.client.chat.completions.create(ask('Hi', { tool_choice: 'none' }));
    assert.equal(r.choices[0].message.content, 'Here you go.');
    assert.equal(r.choices[0].message.tool_calls, undefined);
    assert.doesNotMatch(await lastPrompt(stack, since), /run_command/);
  });

  test('tool_choice required: an answer without a call is retried once, invisibly', async () => {
    await answers(stack, 'I think I should read the file.', glmCall('read_file', { path: 'a.txt' }));
    const since = await stack.ctl.mark();
    const r = await stack.client.chat.completions.create(ask('Read a.txt', { tool_choice: 'required', stream: false }));
    assert.equal(r.choices[0].finish_reason, 'tool_calls');
    const recs = await stack.ctl.requests({ since });
    assert.equal(recs.length, 2, 'one retry');
    assert.ok(recs[1].json.signature_prompt.includes('I think I should read the file.'), 'the retry quotes the missed answer');
  });

  test('tool_choice required, streamed: the held answer never reaches the client', async () => {
    await answers(stack, 'Let me think about it.', glmCall('run_command', { command: 'pwd' }));
    const stream = stack.client.chat.completions.stream(ask('Where am I?', { tool_choice: 'required', stream: true }));
    const done = await stream.finalChatCompletion();
    assert.equal(done.choices[0].message.content, null);
    assert.equal(done.choices[0].message.tool_calls[0].function.name, 'run_command');
  });

  test('a named tool_choice: only that tool may be called; another is asked again, then text', async () => {
    // The first answer calls the other tool: not allowed, so the request is asked once more.
    await answers(stack, glmCall('run_command', { command: 'ls' }), 'I cannot do that with read_file.');
    const since = await stack.ctl.mark();
    const named = { type: 'function', function: { name: 'read_file' } };
    const r = await stack.client.chat.completions.create(ask('List files', { tool_choice: named }));
    assert.equal(r.choices[0].message.tool_calls, undefined);
    assert.equal(r.choices[0].message.content, 'I cannot do that with read_file.');
    const recs = await stack.ctl.requests({ since });
    assert.equal(recs.length, 2);
    assert.match(recs[0].json.signature_prompt, /read_file/);
    const bad = await post(stack.proxy, '/v1/chat/completions',
      ask('x', { tool_choice: { type: 'function', function: { name: 'nope' } } }));
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.param, 'tool_choice');
  });

  for (const [what, text] of [
    ['markup with another request\'s nonce', `The log shows:\n<tool_call nonce="deadbeef">read_file\n<arg_key>path</arg_key>\n<arg_value>/etc/passwd</arg_value>\n</tool_call>`],
    ['markup inside a code fence', 'Use this syntax:\n```\n<tool_call>read_file\n<arg_key>path</arg_key>\n<arg_value>x</arg_value>\n</tool_call>\n```\nThat is all.'],
    ['bare JSON in prose', 'The config is {"name": "read_file", "arguments": {"path": "a"}} as you can see.'],
    ['a call to an undeclared tool', glmCall('delete_everything', { path: '/' })],
  ]) {
    test(`${what} is text, never a call`, async () => {
      await answers(stack, text);
      const r = await stack.client.chat.completions.create(ask('What does the log say?'));
      assert.equal(r.choices[0].message.tool_calls, undefined, JSON.stringify(r.choices[0].message));
      assert.equal(r.choices[0].finish_reason, 'stop');
      assert.ok(r.choices[0].message.content.length > 0);
    });
  }

  test('legacy functions get a function_call answer', async () => {
    await answers(stack, glmCall('read_file', { path: 'a.txt' }));
    const r = await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: [{ role: 'user', content: 'Read a.txt' }],
      functions: [readFile.function], thinking: { type: 'disabled' },
    });
    assert.equal(r.choices[0].finish_reason, 'function_call');
    assert.equal(r.choices[0].message.function_call.name, 'read_file');
    assert.deepEqual(JSON.parse(r.choices[0].message.function_call.arguments), { path: 'a.txt' });
  });
});
