// Opens N streaming completions at once against the proxy, samples the proxy's RSS while they
// are in flight, and prints "<completed> <peak RSS KB>". Bounded: every stream either completes
// or fails; the sampler stops when they are all settled.
import http from 'node:http';
import { readFileSync } from 'node:fs';

const [base, countText, pidText] = process.argv.slice(2);
const count = Number(countText);
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pidText}/status`, 'utf8'))[1]);
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
const body = JSON.stringify({ model: 'glm-4.7', stream: true, messages: [{ role: 'user', content: 'Hi' }] });

let peak = rss();
const sampler = setInterval(() => { peak = Math.max(peak, rss()); }, 50);
const one = () => new Promise((resolve) => {
  const req = http.request(`${base}/v1/chat/completions`, {
    method: 'POST', agent,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-z2api-key-2024' },
  }, (res) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { text += d; });
    res.on('end', () => resolve(res.statusCode === 200 && text.includes('[DONE]')));
    res.on('error', () => resolve(false));
  });
  req.on('error', () => resolve(false));
  req.end(body);
});
const results = await Promise.all(Array.from({ length: count }, one));
clearInterval(sampler);
peak = Math.max(peak, rss());
console.log(`${results.filter(Boolean).length} ${peak}`);
