// Opens N streaming completions against the proxy, samples the proxy's RSS while they are in
// flight, and prints "<completed> <peak RSS KB> <most streams open at once>". Streams open in
// waves (a burst of thousands of SYNs overflows accept queues and only measures retries); the
// last column says how many were really held at the same time. Bounded: every stream either
// completes or fails; the sampler stops when they are all settled. Why streams failed (HTTP
// status, the error's code, or a body without [DONE]) goes to stderr, counted.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [base, countText, pidText] = process.argv.slice(2);
const count = Number(countText);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pidText}/status`, 'utf8'))[1]);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const body = JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'Hi' }] });

let peak = rss();
const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 50);
const wave = 250;
const wavePauseMs = 50;
let open = 0;
let peakOpen = 0;
const failures = new Map();
const fail = (why) => { failures.set(why, (failures.get(why) ?? 0) + 1); return false; };
const one = () => new Promise((resolve) => {
  const req = http.request(`${base}/v1/chat/completions`, {
    method: 'POST', agent,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-z2api-key-2024' },
  }, (res) => {
    peakOpen = Math.max(peakOpen, ++open);
    res.once('close', () => { open--; });
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { text += d; });
    res.on('end', () => {
      if (res.statusCode !== 200) resolve(fail(`status ${res.statusCode}: ${text.slice(0, 120)}`));
      else if (!text.includes('[DONE]')) resolve(fail('no [DONE]'));
      else if (text.includes('data: {"error"')) resolve(fail(`error event: ${/"message":"([^"]*)"/.exec(text)?.[1]}`));
      else resolve(true);
    });
    res.on('error', (e) => resolve(fail(`response ${e.code ?? e.message}`)));
  });
  req.on('error', (e) => resolve(fail(`request ${e.code ?? e.message}`)));
  req.end(body);
});
const pending = [];
for (let started = 0; started < count; started += wave) {
  for (let i = started; i < Math.min(count, started + wave); i++) pending.push(one());
  await new Promise((resolve) => { setTimeout(resolve, wavePauseMs); });
}
const results = await Promise.all(pending);
clearInterval(sampler);
peak = Math.max(peak, rss());
for (const [why, n] of failures) process.stderr.write(`hold_streams: ${n} failed: ${why}\n`);
console.log(`${results.filter(Boolean).length} ${peak} ${peakOpen}`);
