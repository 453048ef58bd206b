// WORKERS: the native server runs that many event loops sharing one gateway (token pool, breaker,
// front-end version). How many it picks by default, that completions on every loop share the
// pool and its re-mints (run on the first loop), and that a shutdown cuts every loop's streams.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import {
  API_KEY, bearerOf, nativeOnly, openStalledStream, post, proxyBin, sseEvents, startStack,
  summarize, useStack,
} from './harness.js';

const user = (content) => [{ role: 'user', content }];
const hello = { model: 'glm-4.7', messages: user('Hello') };

// The number of loops a proxy started with `command` reports in its `listening` line.
async function workersOf(command, args, env = {}) {
  const child = spawn(command, [...args, '--port', '0', '--host', '127.0.0.1'], {
    env: { PATH: process.env.PATH, API_KEY, ZAI_FE_VERSION: 'prod-fe-1.1.98', TOKEN_POOL_SIZE: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise((resolve) => { child.on('exit', resolve); });
  const lines = createInterface({ input: child.stderr });
  try {
    for await (const line of lines) {
      const m = /"event":"listening".*"workers":"(\d+)"/.exec(line);
      if (m) return Number(m[1]);
    }
    throw new Error('the proxy never logged that it listens');
  } finally {
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  }
}

describe('how many loops', nativeOnly('event loops belong to the native server'), () => {
  test('WORKERS sets them; by default one per CPU the affinity mask allows', async () => {
    assert.equal(await workersOf(proxyBin, [], { WORKERS: '3' }), 3);
    assert.equal(await workersOf(proxyBin, ['--workers', '2']), 2);
    assert.equal(await workersOf('taskset', ['-c', '0', proxyBin]), 1);
  });
});

describe('one token pool for every loop', nativeOnly('event loops belong to the native server'), () => {
  const stack = useStack({ fake: { max_inflight_per_user: 0 }, env: { WORKERS: '4' } });

  // The re-mint runs on the first loop; completions waiting for it on the other loops must be
  // woken by it. A lost wake-up would still succeed, but only after the 10 s mint wait: the
  // timeout is that, not a speed requirement.
  test('completions on every loop wait for the one re-mint of a revoked token', { timeout: 9_000 }, async () => {
    const since = await stack.ctl.mark();
    assert.equal((await post(stack.proxy, '/v1/chat/completions', hello)).status, 200);
    const [first] = await stack.ctl.requests({ since });
    await stack.ctl.revoke(bearerOf(first));
    const minted = (await stack.ctl.stats()).guests_minted;
    const n = 16;  // at once: separate connections, spread over the loops
    const results = await Promise.all(Array.from({ length: n }, (_, i) =>
      post(stack.proxy, '/v1/chat/completions', { ...hello, messages: user(`loop ${i}`) })));
    for (const [i, r] of results.entries()) {
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.choices[0].message.content, `You said: loop ${i}`);
    }
    assert.equal((await stack.ctl.stats()).guests_minted, minted + 1);
  });
});

describe('SIGTERM with WORKERS=4', nativeOnly('signals and exit codes belong to the native process'), () => {
  test('streams stalled on every loop are all cut with server_shutting_down, exit 0', async () => {
    const stack = await startStack({
      env: { WORKERS: '4', SHUTDOWN_GRACE_MS: '200' }, fake: { max_inflight_per_user: 0 },
    });
    try {
      const n = 8;
      await stack.ctl.script({
        events: [{ delta_content: 'A first piece that is long enough to be relayed at once.', phase: 'answer' },
          { delta_content: ' The end.', phase: 'answer' }],
        finish: true, times: n, transport: { stall_after_events: 1, stall_ms: 30_000 },
      });
      const streams = await Promise.all(Array.from({ length: n }, () =>
        openStalledStream(stack.proxy, { model: 'glm-4.7', messages: user('cut me') })));
      await stack.ctl.waitFor({ open_streams: n });
      stack.proxy.signal('SIGTERM');
      for (const stream of streams) {
        const text = await stream.whole();
        const s = summarize(sseEvents(text));
        assert.equal(s.errors.length, 1, text);
        assert.equal(s.errors[0].code, 'server_shutting_down');
      }
      await stack.ctl.waitFor({ open_streams: 0 });
    } finally {
      assert.equal(await stack.stop(), 0);
    }
  });
});
