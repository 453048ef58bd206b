// The real Claude Code CLI (2.1.328, pinned in package.json) in print mode, offline, against
// zai-proxy and the fake Z.AI (issue 13): the environment a user sets (agent-surfaces.md §7.1),
// HTTPS_PROXY pointing at a loopback proxy that refuses every CONNECT (so any attempt to reach
// the internet is seen and fails), and the answer read from `--output-format json`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_KEY, useStack } from '../e2e/harness.js';
import {
  CLAUDE_BIN, assertInstalled, assertTraffic, markTraffic, offlineEnv, run, startRefusingProxy,
  tempDir,
} from './cli.js';

const TIMEOUT_MS = 120_000;

describe('Claude Code (print mode)', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });
  let refusing;
  let home;
  before(async () => {
    assertInstalled(CLAUDE_BIN);
    refusing = await startRefusingProxy();
    home = tempDir('zai-claude-');
    mkdirSync(path.join(home.dir, 'work'));
  });
  after(async () => {
    await refusing.close();
    home.remove();
  });

  // What the README tells a user to set, plus the quiet settings of §7.1. `auth` picks
  // ANTHROPIC_API_KEY (x-api-key) or ANTHROPIC_AUTH_TOKEN (Authorization: Bearer).
  function claudeEnv({ auth = 'api-key', model = 'glm-4.7' } = {}) {
    return {
      ...offlineEnv(home.dir, refusing),
      CLAUDE_CONFIG_DIR: path.join(home.dir, '.claude'),
      ANTHROPIC_BASE_URL: stack.proxy.url,
      ...(auth === 'api-key' ? { ANTHROPIC_API_KEY: API_KEY } : { ANTHROPIC_AUTH_TOKEN: API_KEY }),
      ANTHROPIC_MODEL: model,
      ANTHROPIC_DEFAULT_OPUS_MODEL: model, ANTHROPIC_DEFAULT_SONNET_MODEL: model,
      ANTHROPIC_DEFAULT_HAIKU_MODEL: model, ANTHROPIC_SMALL_FAST_MODEL: model,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1', DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1',
      CLAUDE_CODE_MAX_RETRIES: '1', API_TIMEOUT_MS: '40000',
    };
  }

  // Runs `claude -p prompt --output-format json …` and returns the parsed result object.
  async function claude(prompt, { args = [], ...options } = {}) {
    const r = await run(CLAUDE_BIN, ['-p', prompt, '--output-format', 'json', '--max-turns', '4', ...args],
      { env: claudeEnv(options), cwd: path.join(home.dir, 'work'), timeoutMs: TIMEOUT_MS });
    assert.equal(r.code, 0, `claude exited with ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const result = JSON.parse(r.stdout);
    assert.equal(result.type, 'result');
    return { ...r, result };
  }

  for (const [auth, model] of [['api-key', 'glm-4.7'], ['auth-token', 'claude-sonnet-4-5']]) {
    test(`a plain answer (ANTHROPIC_${auth === 'api-key' ? 'API_KEY' : 'AUTH_TOKEN'}, model ${model})`, async () => {
      const answer = `Plain answer ${auth} ${Date.now()}.`;
      await stack.ctl.script({ generate: { answer_text: answer } });
      const mark = await markTraffic(stack);
      const { result } = await claude('Reply with the plain answer, please.', { auth, model, args: ['--model', model] });
      assert.equal(result.is_error, false, JSON.stringify(result));
      assert.equal(result.subtype, 'success');
      assert.equal(result.result, answer);
      assert.equal(result.num_turns, 1);
      assert.equal(result.stop_reason, 'end_turn');

      // The fake saw exactly one completion: this prompt, on glm-4.7, thinking on (Claude Code
      // asks for adaptive thinking).
      await assertTraffic(stack, mark, refusing, '/v1/messages', [(prompt, record) => {
        assert.ok(prompt.includes('Reply with the plain answer, please.'));
        assert.equal(record.json.model, 'glm-4.7');
        assert.equal(record.json.features.enable_thinking, true);
      }]);
    });
  }

  test('a file round trip: the model asks Read, Claude Code reads the file and sends it back', async () => {
    const secret = `SECRET-${randomBytes(8).toString('hex')}`;
    const file = path.join(home.dir, 'work', 'secret.txt');
    writeFileSync(file, `${secret}\n`);
    await stack.ctl.script({ generate: { answer_text:
      `I will read the file.\n<tool_call>Read\n<arg_key>file_path</arg_key>\n<arg_value>${file}</arg_value>\n</tool_call>` } });
    await stack.ctl.script({ generate: { answer_text: `The file holds ${secret}.` } });
    const mark = await markTraffic(stack);
    const { result } = await claude(`What does ${file} hold? Use the Read tool.`, { args: ['--allowedTools', 'Read'] });
    assert.equal(result.is_error, false, JSON.stringify(result));
    assert.equal(result.num_turns, 2, 'one turn with the call, one with the answer');
    assert.ok(result.result.includes(secret), `the final answer quotes the file: ${result.result}`);
    assert.deepEqual(result.permission_denials, []);

    await assertTraffic(stack, mark, refusing, '/v1/messages', [
      (prompt) => assert.ok(!prompt.includes(secret), 'the secret is not in the first prompt'),
      (prompt) => assert.ok(prompt.includes(secret),
        'the second prompt holds the file\'s content: Claude Code ran Read and sent the result back'),
    ]);
  });
});
