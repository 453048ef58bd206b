// The real Codex CLI (0.169.0, pinned in package.json) in `codex exec`, offline, against
// zai-proxy and the fake Z.AI (issue 14): a custom provider with wire_api = "responses" in a
// private CODEX_HOME (agent-surfaces.md §7.1), HTTPS_PROXY pointing at a loopback proxy that
// refuses every CONNECT, stdin closed, and the final message read from `-o <file>`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_KEY, useStack } from '../e2e/harness.js';
import {
  CODEX_BIN, assertInstalled, assertTraffic, markTraffic, offlineEnv, run, startRefusingProxy,
  tempDir,
} from './cli.js';

const TIMEOUT_MS = 120_000;

// The provider block the README documents, plus the settings that keep Codex quiet offline
// (update check, analytics, OTLP metrics, plugins and apps each try to reach the internet).
export function codexConfig(baseUrl) {
  return `model = "glm-4.7"
model_provider = "zai"
approval_policy = "never"
sandbox_mode = "danger-full-access"
check_for_update_on_startup = false

[analytics]
enabled = false

[otel]
exporter = "none"
metrics_exporter = "none"

[features]
plugins = false
apps = false

[model_providers.zai]
name = "zai-proxy"
base_url = "${baseUrl}/v1"
wire_api = "responses"
env_key = "ZAI_PROXY_API_KEY"
request_max_retries = 1
stream_max_retries = 1
stream_idle_timeout_ms = 40000
`;
}

describe('Codex (codex exec)', () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 } });
  let refusing;
  let home;
  let codexHome;
  let work;
  before(async () => {
    assertInstalled(CODEX_BIN);
    refusing = await startRefusingProxy();
    home = tempDir('zai-codex-');
    codexHome = path.join(home.dir, 'codex-home');
    work = path.join(home.dir, 'work');
    mkdirSync(codexHome);
    mkdirSync(work);
  });
  after(async () => {
    await refusing.close();
    home.remove();
  });

  // Runs `codex exec … prompt`; returns the run, its JSONL events and the last-message file's text.
  async function codex(prompt) {
    writeFileSync(path.join(codexHome, 'config.toml'), codexConfig(stack.proxy.url));
    const last = path.join(home.dir, 'last-message.txt');
    rmSync(last, { force: true });
    const r = await run(CODEX_BIN, ['exec', '--skip-git-repo-check', '--ephemeral', '--color', 'never',
      '--json', '-o', last, '-C', work, prompt], {
      env: { ...offlineEnv(home.dir, refusing), CODEX_HOME: codexHome, ZAI_PROXY_API_KEY: API_KEY },
      cwd: work, timeoutMs: TIMEOUT_MS,
    });
    assert.equal(r.code, 0, `codex exited with ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const events = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    return { ...r, events, lastMessage: readFileSync(last, 'utf8') };
  }

  test('a plain answer', async () => {
    const answer = `Plain answer from the fake ${Date.now()}.`;
    await stack.ctl.script({ generate: { answer_text: answer } });
    const mark = await markTraffic(stack);
    const { events, lastMessage } = await codex('Reply with the plain answer, please.');
    assert.equal(lastMessage, answer);
    const messages = events.filter((e) => e.type === 'item.completed' && e.item.type === 'agent_message');
    assert.deepEqual(messages.map((e) => e.item.text), [answer]);
    assert.ok(events.some((e) => e.type === 'turn.completed'), 'the turn completed (response.completed was read)');
    assert.ok(!events.some((e) => e.type === 'turn.failed' || e.type === 'error'), JSON.stringify(events));
    // The reasoning the fake streamed reached Codex as a reasoning item.
    assert.ok(events.some((e) => e.type === 'item.completed' && e.item.type === 'reasoning'));

    await assertTraffic(stack, mark, refusing, '/v1/responses', [(prompt, record) => {
      assert.equal(record.json.model, 'glm-4.7');
      assert.ok(prompt.includes('Reply with the plain answer, please.'), prompt.slice(-500));
      assert.ok(prompt.includes('<environment_context>'), 'Codex\'s developer and context messages reach the model');
    }]);
  });

  test('a shell round trip: the model asks exec_command, Codex runs cat and sends the output back', async () => {
    const secret = `SECRET-${randomBytes(8).toString('hex')}`;
    const file = path.join(work, 'secret.txt');
    writeFileSync(file, `${secret}\n`);
    await stack.ctl.script({ generate: { answer_text:
      `<tool_call>exec_command\n<arg_key>cmd</arg_key>\n<arg_value>cat ${file}</arg_value>\n</tool_call>` } });
    await stack.ctl.script({ generate: { answer_text: `The file holds ${secret}.` } });
    const mark = await markTraffic(stack);
    const { events, lastMessage } = await codex(`What does ${file} hold? Read it with the shell.`);
    assert.ok(lastMessage.includes(secret), `the final message quotes the file: ${lastMessage}`);
    const ran = events.filter((e) => e.type === 'item.completed' && e.item.type === 'command_execution');
    assert.equal(ran.length, 1, JSON.stringify(events));
    assert.match(ran[0].item.command, /cat .*secret\.txt/);
    assert.ok(ran[0].item.aggregated_output.includes(secret));

    await assertTraffic(stack, mark, refusing, '/v1/responses', [
      (prompt) => assert.ok(!prompt.includes(secret), 'the secret is not in the first prompt'),
      (prompt) => assert.ok(prompt.includes(secret),
        'the second prompt holds the command\'s output: Codex ran it and sent the result back'),
    ]);
  });
});
