// The Worker target of the end-to-end suite (ZAI_TARGET=worker): the bundled Worker
// (worker/dist/, from `npm run build` in worker/) in workerd on 127.0.0.1, with the proxy's
// environment as Worker vars. workerd reports the port it bound through --control-fd, and
// reaches the fake on loopback through a network service that allows local addresses.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const workerDir = path.join(root, 'worker');
export const workerdBin = path.join(workerDir, 'node_modules', '@cloudflare', 'workerd-linux-64',
                                    'bin', 'workerd');

// A Cap'n Proto text literal.
function capnpText(value) {
  let out = '"';
  for (const ch of String(value)) {
    const code = ch.codePointAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

// worker/workerd.capnp as the tests run it: the bundle beside it, any free loopback port, and
// `vars` as the Worker's text bindings.
export function workerdConfig(vars) {
  const bindings = Object.entries(vars)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `    (name = ${capnpText(k)}, text = ${capnpText(v)}),`)
    .join('\n');
  const template = readFileSync(path.join(workerDir, 'workerd.capnp'), 'utf8');
  const config = template
    .replaceAll('embed "dist/', 'embed "')
    .replace(/address = "[^"]*"/, 'address = "127.0.0.1:0"')
    .replace(/bindings = \[[^\]]*\]/, `bindings = [\n${bindings}\n  ]`);
  assert.ok(config.includes('127.0.0.1:0') && config.includes(bindings), 'worker/workerd.capnp changed shape');
  return config;
}

// Starts workerd with `vars`; resolves once it reports its port. stop() sends `signal` and
// resolves with 0 when workerd ended because of it (its own exit code otherwise), once its
// output is drained into `logs`.
export async function startWorker(vars) {
  const dir = mkdtempSync(path.join(tmpdir(), 'zai-worker-'));
  copyFileSync(path.join(workerDir, 'dist', 'worker.js'), path.join(dir, 'worker.js'));
  copyFileSync(path.join(workerDir, 'dist', 'core.wasm'), path.join(dir, 'core.wasm'));
  writeFileSync(path.join(dir, 'config.capnp'), workerdConfig({ ZAI_TEST_HOOKS: '1', ...vars }));

  const child = spawn(workerdBin, ['serve', 'config.capnp', '--verbose', '--control-fd=3'], {
    cwd: dir, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const logs = [];
  const exited = once(child, 'exit');
  const drained = [];
  for (const stream of [child.stdout, child.stderr]) {
    const lines = createInterface({ input: stream });
    lines.on('line', (line) => logs.push(line));
    drained.push(once(lines, 'close'));
  }
  const port = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdio[3] }).on('line', (line) => {
      const m = JSON.parse(line);
      if (m.event === 'listen' && m.socket === 'http') resolve(m.port);
    });
    child.on('exit', (code) => reject(new Error(`workerd exited with ${code}:\n${logs.join('\n')}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    logs,
    child,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, by] = await exited;
      await Promise.all(drained);
      rmSync(dir, { recursive: true, force: true });
      return by === signal ? 0 : code;
    },
  };
}
