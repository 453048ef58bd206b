// The core's share of a Worker completion: core.wasm driven alone in Node (the same V8 as
// workerd), through the same ABI calls the Worker makes, over a recorded upstream stream fed in
// 512-byte pieces. Prints milliseconds of wasm time per completion (non-stream and stream).
//   node bench/worker_core.mjs [worker/dist/core.wasm] [test/fixtures/sse/S01.sse] [count]
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeRecord } from '../worker/src/record.js';

const [wasmPath = 'worker/dist/core.wasm', ssePath = 'test/fixtures/sse/S01.sse', count = '3000'] =
  process.argv.slice(2);
const module = new WebAssembly.Module(readFileSync(wasmPath));
let x;
const mem = () => new Uint8Array(x.memory.buffer);
x = new WebAssembly.Instance(module, {
  zai: {
    hmac_sha256(k, kl, m, ml, out) {
      const d = createHmac('sha256', mem().slice(k, k + kl)).update(mem().subarray(m, m + ml)).digest();
      mem().set(d, out);
    },
  },
  wasi_snapshot_preview1: {
    random_get(p, l) { crypto.getRandomValues(new Uint8Array(x.memory.buffer, p, l)); return 0; },
    fd_write: () => 52, fd_close: () => 52, fd_seek: () => 52,
  },
}).exports;
x._initialize();

const enc = new TextEncoder();
const record = encodeRecord;
function put(bytes) {
  const ptr = x.zai_input(bytes.length);
  mem().set(bytes, ptr);
  return bytes.length;
}

const now = Date.now();
if (x.zai_configure(put(record(['ZAI_BASE_URL', 'http://127.0.0.1:9', 'TOKEN_POOL_SIZE', '1', 'API_KEY', 'k']))) !== 0) {
  throw new Error('configure failed');
}
x.zai_housekeeping(now);
const jwt = 'eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpZCI6IjhmMzY4YzFiLWM2NDUtNDhjNy05NmIwLTI0NTZhY2M1MGI3OSIsImVtYWlsIjoiZ3Vlc3QtMTc4MjQxMzI0MTE0N0BndWVzdC5jb20ifQ.c2ln';
const auth = JSON.stringify({ id: '8f368c1b-c645-48c7-96b0-2456acc50b79', name: 'Guest-1', email: 'g@guest.com', token: jwt });
x.zai_mint_done(0, 200, put(enc.encode(auth)), now);

const sse = readFileSync(ssePath);
const READ = 4;
const STREAM_START = 2;
const WRITE = 3;
function completions(stream, n) {
  const body = enc.encode(JSON.stringify({ model: 'glm-4.7', stream, messages: [{ role: 'user', content: 'Hello' }] }));
  const endings = {};
  for (let i = 0; i < n; i++) {
    const h = x.zai_begin(put(record(['POST', '/v1/chat/completions', 'Bearer k', '', body])), 0, now);
    x.zai_next(h, now);  // the signed upstream request
    let a = x.zai_response(h, 200, put(record(['text/event-stream', '', ''])), now);
    let at = 0;
    while (a === READ || a === STREAM_START || a === WRITE) {
      if (a !== READ) a = x.zai_next(h, now);
      else if (at >= sse.length) a = x.zai_end(h, 0, now);
      else a = x.zai_bytes(h, put(sse.subarray(at, (at += 512))), now);
    }
    endings[a] = (endings[a] ?? 0) + 1;
    x.zai_drop(h, now);
  }
  return endings;
}

// Both modes once first, so V8 has tiered the module up before anything is timed.
completions(false, 500);
completions(true, 500);
for (const stream of [false, true]) {
  const n = Number(count);
  const start = performance.now();
  const endings = completions(stream, n);
  const ms = (performance.now() - start) / n;
  console.log(`${stream ? 'stream    ' : 'non-stream'}: ${ms.toFixed(3)} ms of core.wasm per completion (${n} completions, ending actions ${JSON.stringify(endings)})`);
}
