// A bounded soak: the release proxy against the fake Z.AI, thousands of completions (streaming
// and not) with a seeded random upstream fault on most of them. Every request's outcome is
// checked against what that fault allows; at the end the proxy must still answer, the fake must
// hold no upstream request or stream open, and the proxy's memory and descriptors must be where
// they were after the warm-up. Exits non-zero on any failure. The fake runs as a child process,
// the proxy is started (and its log checked for secrets) by the end-to-end harness.
//
//   node test/soak/soak.mjs      (make soak / make soak-smoke; settings below, from the environment)
//   SOAK_REQUESTS=5000 SOAK_CONCURRENCY=16 SOAK_SEED=<n> SOAK_WARMUP=<n> ZAI_PROXY_BIN=build/release/zai-proxy
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { API_KEY, fakeControl, sseEvents, startProxy, summarize, waitReady } from '../e2e/harness.js';
import { FAULTS, pickFault, prng, requestRng } from './faults.mjs';

const int = (name, fallback) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v)) throw new Error(`${name} must be a non-negative integer, not ${v}`);
  return Number(v);
};
const REQUESTS = int('SOAK_REQUESTS', 5000);
const CONCURRENCY = Math.max(1, int('SOAK_CONCURRENCY', 16));
const SEED = int('SOAK_SEED', Math.floor(Math.random() * 2 ** 31));
const WARMUP = int('SOAK_WARMUP', Math.max(200, Math.round(REQUESTS / 10)));
const POOL = Math.max(8, 2 * CONCURRENCY);
// Short proxy timeouts, so stalls and silent upstreams cost the soak little; generous enough that
// a clean answer on two busy cores never trips them (the fake spends a few hundred ms of its one
// thread on each 8 MiB oversize event).
const TIMEOUTS = { first_byte_ms: 5000, idle_ms: 2000 };
// End RSS may exceed the after-warm-up RSS by this much. After the warm-up every allocation the
// mix makes (8 MiB oversize events included) has been made at least once, so the allocator holds
// its working set; what remains is which free chunks happen to sit at the heap's top when the
// sample is taken — a few MiB either way, never growth proportional to the requests served.
const RSS_TOLERANCE = Number(process.env.SOAK_RSS_TOLERANCE ?? 0.10);

const proc = (pid) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM'), fds: readdirSync(`/proc/${pid}/fd`).length };
};

// What the client saw, as one short string (faults.mjs lists the forms), plus the answer text.
async function viaStream(stack, body) {
  const res = await fetch(`${stack.proxy.url}/v1/chat/completions`, {
    method: 'POST', signal: AbortSignal.timeout(30_000),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) return { outcome: `${res.status} ${JSON.parse(text).error?.code}` };
  const events = sseEvents(text);
  const s = summarize(events);
  if (s.errors.length) {
    const last = events.at(-1);
    const ends = s.errors.length === 1 && last.error !== undefined && !s.done;
    return { outcome: `stream error ${s.errors[0].code}${ends ? '' : ' not-last'}`, text: s.content };
  }
  if (s.done && s.finish.length === 1) return { outcome: `stream ${s.finish[0]} [DONE]`, text: s.content };
  return { outcome: `stream ended finish=${s.finish.join(',')} done=${s.done}`, text: s.content };
}

async function viaSdk(stack, body) {
  try {
    const r = await stack.client.chat.completions.create(body);
    return { outcome: `200 ${r.choices[0].finish_reason}`, text: r.choices[0].message.content ?? '' };
  } catch (e) {
    return { outcome: e.status ? `${e.status} ${e.code}` : `client ${e.constructor.name}` };
  }
}

function judge(expect, stream, seen) {
  const allowed = stream ? expect.stream : expect.plain;
  if (!allowed.includes(seen.outcome)) return false;
  if (seen.text === undefined || expect.text === undefined) return true;
  return expect.prefixOnly ? seen.text.length > 0 && expect.text.startsWith(seen.text) : seen.text === expect.text;
}

// The fake Z.AI in a process of its own (its CLI), so that its one thread is not also the one
// that drives thousands of clients and reads the proxy's log.
async function startFakeProcess() {
  const server = fileURLToPath(new URL('../fake-zai/server.js', import.meta.url));
  const child = spawn(process.execPath, [server, '--port', '0', '--no-captcha', '--max-inflight-per-user', '0',
                                         '--no-model-check'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = await once(createInterface({ input: child.stdout }), 'line');
  const url = /^FAKE_ZAI_LISTENING (\S+)$/.exec(line)?.[1];
  if (!url) throw new Error(`the fake said: ${line}`);
  return { url, close: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
}

async function main() {
  // Each lane has a model of its own, so a script queued for its request cannot answer another
  // lane's; each shared fault has one too.
  const shared = Object.keys(FAULTS).filter((n) => FAULTS[n].shared);
  const models = Object.fromEntries([
    ...Array.from({ length: CONCURRENCY }, (_, k) => [`soak-${k}`, `soak-up-${k}`]),
    ...shared.map((n) => [`soak-shared-${n}`, `soak-up-shared-${n}`]),
  ]);
  const fake = await startFakeProcess();
  const proxy = await startProxy({
    ZAI_BASE_URL: fake.url, TOKEN_POOL_SIZE: String(POOL), ZAI_MODELS: JSON.stringify(models),
    UPSTREAM_FIRST_BYTE_TIMEOUT_MS: String(TIMEOUTS.first_byte_ms), UPSTREAM_IDLE_TIMEOUT_MS: String(TIMEOUTS.idle_ms),
  }).catch(async (e) => { await fake.close(); throw e; });
  const stack = { proxy, client: proxy.client, ctl: fakeControl(fake) };
  await waitReady(proxy, POOL);
  for (const n of shared) {
    await stack.ctl.script({ ...FAULTS[n].script(`soak-up-shared-${n}`, prng(SEED), TIMEOUTS), times: -1 });
  }
  const pid = proxy.child.pid;
  console.log(`soak: ${REQUESTS} requests after ${WARMUP} warm-up, concurrency ${CONCURRENCY}, seed ${SEED} ` +
              `(SOAK_SEED=${SEED} replays it), pool ${POOL}, first-byte/idle timeouts ${TIMEOUTS.first_byte_ms}/${TIMEOUTS.idle_ms} ms`);

  const table = new Map();  // fault → outcome → { count, ok }
  const failures = [];
  let next = 0;
  const samples = [];
  const sample = (label) => {
    const p = proc(pid);
    samples.push({ label, ...p });
    console.log(`  ${label.padEnd(22)} VmRSS ${p.rss} kB  VmHWM ${p.hwm} kB  fds ${p.fds}`);
    return p;
  };

  async function one(i, lane) {
    const rng = requestRng(SEED, i);
    const fault = pickFault(rng);
    const stream = rng() < 0.6;
    const model = FAULTS[fault].shared ? `soak-shared-${fault}` : `soak-${lane}`;
    const upstreamModel = models[model];
    const script = FAULTS[fault].shared ? null : FAULTS[fault].script(upstreamModel, rng, TIMEOUTS);
    if (script) await stack.ctl.script(script);
    const prompt = `soak ${SEED}/${i} (${fault})`;
    const body = { model, messages: [{ role: 'user', content: prompt }],
                   thinking: { type: 'disabled' }, stream };
    let seen;
    const started = performance.now();
    try {
      seen = stream ? await viaStream(stack, body) : await viaSdk(stack, body);
    } catch (e) {
      seen = { outcome: `client ${e.name}: ${e.message}` };
    }
    seen.ms = Math.round(performance.now() - started);
    const expect = FAULTS[fault].expect(prompt);
    let good = judge(expect, stream, seen);
    if (!good && seen.text !== undefined && (stream ? expect.stream : expect.plain).includes(seen.outcome)) {
      seen.outcome += ' wrong-text';
    }
    // A script meant for several attempts must be spent exactly: a leftover would mean the proxy
    // made fewer attempts than its budget, and would answer this lane's next request.
    let laneDead = false;
    if (script?.times > 1) {
      const left = (await stack.ctl.pendingScripts()).filter((s) => s.match?.model === upstreamModel);
      if (left.length) {
        seen.outcome += ` (${left.length} script(s) left unspent)`;
        good = false;
        laneDead = true;
      }
    }
    const row = table.get(fault) ?? new Map();
    table.set(fault, row);
    const cell = row.get(seen.outcome) ?? { count: 0, ok: good };
    cell.count++;
    row.set(seen.outcome, cell);
    if (!good) failures.push({ i, fault, stream, seen, expected: stream ? expect.stream : expect.plain, text: expect.text });
    return laneDead;
  }

  async function phase(count, checkpoints = []) {
    const end = next + count;
    let done = 0;
    const lanes = Array.from({ length: CONCURRENCY }, async (_, lane) => {
      while (next < end) {
        const i = next++;
        if (await one(i, lane)) return;
        done++;
        if (checkpoints.includes(done)) sample(`after ${done}`);
      }
    });
    await Promise.all(lanes);
  }

  let exitCode = 0;
  try {
    const start = sample('start');
    await phase(WARMUP);
    // The fake must be idle before the baseline: hung and stalled requests end at the timeouts.
    await stack.ctl.waitFor({ open_streams: 0, open_requests: 0 }, 15_000);
    const warm = sample('after warm-up');
    const t0 = performance.now();
    const step = Math.max(1, Math.floor(REQUESTS / 5));
    await phase(REQUESTS, [1, 2, 3, 4].map((k) => k * step));
    const seconds = (performance.now() - t0) / 1000;
    const fake = await stack.ctl.waitFor({ open_streams: 0, open_requests: 0 }, 15_000);
    const end = sample('end (upstream idle)');

    // The proxy still answers a clean request, both ways, through the SDK.
    const check = { model: 'soak-0', messages: [{ role: 'user', content: 'still there?' }], thinking: { type: 'disabled' } };
    const plain = await stack.client.chat.completions.create(check);
    let streamed = '';
    for await (const c of await stack.client.chat.completions.create({ ...check, stream: true })) {
      streamed += c.choices[0]?.delta?.content ?? '';
    }
    const answers = plain.choices[0].message.content === 'You said: still there?' && streamed === 'You said: still there?';

    printTable(table);
    const peak = Math.max(...samples.map((s) => s.rss));
    const limit = Math.round(warm.rss * (1 + RSS_TOLERANCE));
    console.log(`\n${REQUESTS + WARMUP} requests (${REQUESTS} measured in ${seconds.toFixed(1)} s, ${(REQUESTS / seconds).toFixed(0)} req/s), seed ${SEED}`);
    console.log(`RSS after warm-up ${warm.rss} kB, end ${end.rss} kB (limit ${limit} kB), peak sampled ${peak} kB, VmHWM ${end.hwm} kB`);
    console.log(`fds at start ${start.fds}, after warm-up ${warm.fds}, end ${end.fds}; fake: open_connections ${fake.open_connections}, ` +
                `open_requests ${fake.open_requests}, open_streams ${fake.open_streams}, streams ${JSON.stringify(fake.streams)}`);

    const problems = [];
    if (failures.length) problems.push(`${failures.length} unexpected outcome(s)`);
    if (!answers) problems.push(`the clean check answered ${JSON.stringify([plain.choices[0].message.content, streamed])}`);
    // Idle keep-alive connections may stay: each lane uses one upstream connection at a time,
    // and the one before may still have been reading its answer's tail when the next was opened.
    if (fake.open_connections > 2 * CONCURRENCY) problems.push(`${fake.open_connections} upstream connections open`);
    if (end.rss > limit) problems.push(`RSS grew: ${warm.rss} → ${end.rss} kB`);
    // Open descriptors at the end: those at start, plus the soak's keep-alive connections to the
    // proxy (its fetch and SDK pools, at most one each per lane) and idle upstream connections
    // (at most two per lane, as above). A leak grows with the requests served and passes this.
    const fdLimit = start.fds + 4 * CONCURRENCY;
    if (end.fds > fdLimit) problems.push(`descriptors grew: ${start.fds} at start → ${end.fds} (limit ${fdLimit})`);
    for (const f of failures.slice(0, 10)) {
      console.log(`  unexpected: #${f.i} ${f.fault} ${f.stream ? 'stream' : 'non-stream'} (${f.seen.ms} ms): ${f.seen.outcome}` +
                  ` (allowed ${f.expected.join(' | ')}; text ${JSON.stringify(f.seen.text)} vs ${JSON.stringify(f.text)})`);
    }
    console.log(problems.length ? `SOAK FAILED: ${problems.join('; ')}` : 'SOAK PASSED');
    if (problems.length) exitCode = 1;
  } finally {
    const code = await proxy.stop();
    await fake.close();
    if (code !== 0) {
      console.log(`SOAK FAILED: the proxy exited with ${code} on SIGTERM`);
      exitCode = 1;
    }
  }
  process.exit(exitCode);
}

function printTable(table) {
  console.log('\n| fault | outcome | count |\n|---|---|---|');
  for (const name of Object.keys(FAULTS)) {
    for (const [outcome, { count, ok }] of table.get(name) ?? []) {
      console.log(`| ${name} | ${outcome}${ok ? '' : ' **UNEXPECTED**'} | ${count} |`);
    }
  }
}

await main();
