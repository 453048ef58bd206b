// SHOW_THINK_TAGS=true: reasoning travels inside `content` as <think>…</think> and no
// `reasoning_content` appears anywhere, in non-stream and stream answers alike.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { drain, post, sseEvents, startStack, summarize } from './harness.js';

let stack;
before(async () => {
  stack = await startStack({ env: { SHOW_THINK_TAGS: 'true' } });
});
after(async () => {
  assert.equal(await stack.stop(), 0);
});

const user = (content) => [{ role: 'user', content }];
const tagged = (reasoning, content) => `<think>\n${reasoning}\n</think>\n\n${content}`;

const samples = [
  { sample: 'S2', content: tagged('The user says hi.\n\nI should greet back.', 'Hi there! How can I help?') },
  { sample: 'S3', content: tagged('用户在打招呼。', '你好！有什么可以帮你？') },
  { sample: 'S12', content: 'The answer is 42 because 6×7=42.' },
  { sample: 'S14', content: 'Ok 👍 one.' },
];

describe('SHOW_THINK_TAGS=true', () => {
  for (const s of samples) {
    test(`${s.sample} non-stream: reasoning inside <think> in content`, async () => {
      await stack.ctl.script({ sample: s.sample });
      const r = await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user(s.sample) });
      const m = r.choices[0].message;
      assert.equal(m.content, s.content);
      assert.ok(!('reasoning_content' in m), 'no reasoning_content with think tags');
      assert.equal(r.choices[0].finish_reason, 'stop');
    });

    test(`${s.sample} stream: the same text as content deltas`, async () => {
      await stack.ctl.script({ sample: s.sample, transport: { chunk_mode: 'random_bytes', chunk_seed: 99, chunk_max_bytes: 5 } });
      const r = await post(stack.proxy, '/v1/chat/completions', { model: 'glm-4.7', messages: user(s.sample), stream: true });
      assert.equal(r.status, 200);
      assert.doesNotMatch(r.text, /reasoning_content/);
      const sum = summarize(sseEvents(r.text));
      assert.equal(sum.role, 'assistant');
      assert.equal(sum.content, s.content);
      assert.equal(sum.reasoning, '');
      assert.deepEqual(sum.finish, ['stop']);
      assert.ok(sum.done);
    });
  }

  test('S4: both reasoning blocks are tagged, the tool block is not shown', async () => {
    await stack.ctl.script({ sample: 'S4' });
    const r = await stack.client.chat.completions.create({ model: 'glm-4.7', messages: user('S4') });
    const { content } = r.choices[0].message;
    assert.ok(!('reasoning_content' in r.choices[0].message));
    assert.match(content, /^<think>\n/);
    assert.ok(content.includes('Need to search.') && content.includes('Result says sunny.'));
    const answer = content.replace(/<think>[\s\S]*?<\/think>/g, '').trim();
    assert.match(answer, /^Let me look that up\.\s+It is sunny in Paris \(24°C\)\.$/);
    assert.doesNotMatch(content, /glm_block|<details|<summary/);
  });

  test('the SDK stream helper sees the tags in content', async () => {
    const { chunks } = await drain(await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: user('Think aloud'), stream: true, thinking: { type: 'enabled' },
    }));
    const s = summarize(chunks);
    assert.equal(s.content, tagged('The user sent a message.\n\nI will echo it back.', 'You said: Think aloud'));
    assert.equal(s.reasoning, '');
  });

  test('with thinking off there are no tags at all', async () => {
    const r = await stack.client.chat.completions.create({
      model: 'glm-4.7', messages: user('No thoughts'), thinking: { type: 'disabled' },
    });
    assert.equal(r.choices[0].message.content, 'You said: No thoughts');
  });
});
