// The soak's fault table: what each injected upstream fault is (a fake Z.AI script, bound to one
// lane's model so concurrent lanes never take each other's scripts) and which outcomes a client
// may honestly see for it. An outcome is one short string: `200 stop`, `502 upstream_error`,
// `stream stop [DONE]`, `stream error upstream_timeout`; a wrong answer text adds ` wrong-text`.
import { oversizeSseEvent, SSE_GARBAGE } from '../e2e/harness.js';
import { prng } from '../fake-zai/transport.js';

// The fake's seeded PRNG (mulberry32): the same seed replays the same faults in the same order.
export { prng };

// One generator per request, derived from the run's seed and the request's index, so a request's
// fault does not depend on which lane happened to take it.
export const requestRng = (seed, index) => prng((seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0);

const answer = (text) => ({ delta_content: text, phase: 'answer' });
const FIRST = 'A first piece that is long enough to be relayed at once.';
const GARBAGE = SSE_GARBAGE;

// The default generator's answer for a prompt (answer_prefix + the last user message).
const echo = (prompt) => `You said: ${prompt}`;

// Outcomes for a request that must end as a normal answer with text `text`.
const ok = (text, finish = 'stop') => ({
  stream: [`stream ${finish} [DONE]`], plain: [`200 ${finish}`], text,
});
// Outcomes for a request that fails before anything was sent: the same error either way.
const fails = (status, code) => ({ stream: [`${status} ${code}`], plain: [`${status} ${code}`] });
// A failure after the answer began: an error chunk for a stream, an error status otherwise;
// `text` is what the stream must have relayed first (a prefix of it for a truncation).
const failsMidStream = (code, status, text, prefixOnly = false) => ({
  stream: [`stream error ${code}`], plain: [`${status} ${code}`], text, prefixOnly,
});

// name → { weight, script(upstream model, rng, timeouts) → a fake script or null, expect(prompt),
// shared }. Weights are relative; faults that cost the token pool (500s, 429s) are kept rare
// enough that the pool never runs dry, which would turn every later request into a 503.
// A `shared` fault answers every attempt the same way and the proxy never retries it, so one
// script (times -1, on a model of its own) serves all its requests: the 8 MiB oversize event,
// for one, then crosses the control API once rather than per request.
export const FAULTS = {
  clean: { weight: 24, script: () => null, expect: (p) => ok(echo(p)) },
  'random-split': {
    weight: 10,
    script: (model, rng) => ({
      match: { model }, generate: { answer_pieces: 1 + Math.floor(rng() * 6) },
      transport: { chunk_mode: 'random_bytes', chunk_seed: Math.floor(rng() * 2 ** 31),
                   chunk_max_bytes: 1 + Math.floor(rng() * 24) },
    }),
    expect: (p) => ok(echo(p)),
  },
  'garbage-lines': {
    weight: 6,
    script: (model, rng) => ({
      match: { model }, finish: true,
      events: [GARBAGE[Math.floor(rng() * GARBAGE.length)], answer('Garbage '),
        ...GARBAGE, answer('does not '), GARBAGE[Math.floor(rng() * GARBAGE.length)], answer('stop me.')],
      transport: rng() < 0.5 ? {} : { chunk_mode: 'random_bytes', chunk_seed: Math.floor(rng() * 2 ** 31) },
    }),
    expect: () => ok('Garbage does not stop me.'),
  },
  'oversize-event': {
    weight: 1, shared: true,
    script: (model) => ({ match: { model }, finish: true, events: [answer(FIRST), oversizeSseEvent(), answer(' Never.')] }),
    expect: () => failsMidStream('upstream_error', 502, FIRST),
  },
  'http-401-once': { weight: 3, script: (model) => ({ match: { model }, http: 401 }), expect: (p) => ok(echo(p)) },
  'http-429-once': {
    weight: 3, script: (model) => ({ match: { model }, http: { status: 429, retry_after: 1 } }), expect: (p) => ok(echo(p)),
  },
  // Every attempt the proxy makes (3) is limited: the client gets the 429.
  'http-429-always': {
    weight: 1, script: (model) => ({ match: { model }, http: { status: 429, retry_after: 1 }, times: 3 }),
    expect: () => fails(429, 'rate_limit_exceeded'),
  },
  'http-500-once': { weight: 3, script: (model) => ({ match: { model }, http: 500 }), expect: (p) => ok(echo(p)) },
  'http-500-always': {
    weight: 1, script: (model) => ({ match: { model }, http: 500, times: 3 }), expect: () => fails(502, 'upstream_error'),
  },
  // No WAF block (405 HTML) here: it opens the proxy-wide circuit breaker, which refuses every
  // lane's requests for a while — by design, and tested on its own in test/e2e/breaker.test.js.
  'http-426-once': { weight: 2, script: (model) => ({ match: { model }, http: 426 }), expect: (p) => ok(echo(p)) },
  S7: { weight: 2, shared: true, script: (model) => ({ match: { model }, sample: 'S7' }), expect: () => fails(503, 'captcha_required') },
  S8: { weight: 2, shared: true, script: (model) => ({ match: { model }, sample: 'S8' }), expect: () => fails(503, 'captcha_failed') },
  S9: { weight: 2, shared: true, script: (model) => ({ match: { model }, sample: 'S9' }), expect: () => fails(403, 'model_requires_login') },
  S10: { weight: 3, shared: true, script: (model) => ({ match: { model }, sample: 'S10' }), expect: () => failsMidStream('upstream_error', 502, 'Partial answ') },
  // S11 is the inline "client outdated" frame: the proxy refreshes its version and retries once.
  S11: { weight: 2, script: (model) => ({ match: { model }, sample: 'S11' }), expect: (p) => ok(echo(p)) },
  S15: { weight: 3, shared: true, script: (model) => ({ match: { model }, sample: 'S15' }), expect: () => ok('', 'content_filter') },
  'truncated-mid-stream': {
    weight: 4, shared: true,
    script: (model) => ({
      match: { model }, finish: true, transport: { truncate_after_n_events: 2 },
      events: [answer(FIRST), answer(' And a bit more'), answer(' that never'), answer(' arrives.')],
    }),
    expect: () => failsMidStream('upstream_error', 502, `${FIRST} And a bit more`, true),
  },
  // A reset before any answer is a 502 — unless it hit a reused keep-alive connection, which
  // looks exactly like the upstream having closed an idle connection: the proxy then sends the
  // request once more on a fresh connection, which (the script being spent) answers normally.
  'connection-reset': {
    weight: 3, script: (model) => ({ match: { model }, fault: 'reset' }),
    expect: (p) => ({ ...ok(echo(p)), stream: ['502 upstream_error', 'stream stop [DONE]'], plain: ['502 upstream_error', '200 stop'] }),
  },
  'stall-past-idle-timeout': {
    weight: 2, shared: true,
    script: (model, rng, timeouts) => ({
      match: { model }, finish: true, events: [answer(FIRST), answer(' Never sent.')],
      transport: { stall_after_events: 1, stall_ms: timeouts.idle_ms * 3 },
    }),
    expect: () => failsMidStream('upstream_timeout', 504, FIRST),
  },
  'no-answer-past-first-byte-timeout': {
    weight: 1, shared: true, script: (model) => ({ match: { model }, fault: 'hang' }), expect: () => fails(504, 'upstream_timeout'),
  },
};

// Picks a fault by weight.
export function pickFault(rng) {
  const names = Object.keys(FAULTS);
  const total = names.reduce((sum, n) => sum + FAULTS[n].weight, 0);
  let x = rng() * total;
  for (const n of names) {
    x -= FAULTS[n].weight;
    if (x < 0) return n;
  }
  return names.at(-1);
}
