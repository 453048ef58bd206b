// The C++ core as one WebAssembly instance, called with records (record.js). The host side
// supplies only HMAC-SHA256 (node:crypto), random bytes and stderr; a trap marks the instance
// broken so the Worker replaces it.
import { createHmac } from 'node:crypto';
import wasmModule from './core.wasm';
import { decodeRecord, encodeRecord } from './record.js';

export const ACTION = {
  respond: 1, streamStart: 2, write: 3, read: 4, endStream: 5, waitToken: 6, captcha: 7, fetch: 8,
  refreshVersion: 9, none: 10,
};

const decoder = new TextDecoder();
const ENOSYS = 52;

// The instance died (a trap: abort, unreachable, out of bounds). Nothing in it can be trusted.
export class Trap extends Error {}

export const text = (bytes) => decoder.decode(bytes);

// Just enough WASI for a reactor that never opens a file: random bytes, stderr, and ENOSYS for
// whatever else the module imports.
function wasiImports(memory) {
  const own = {
    random_get(ptr, len) {
      crypto.getRandomValues(new Uint8Array(memory().buffer, ptr, len));
      return 0;
    },
    fd_write(fd, iovs, count, written) {
      const view = new DataView(memory().buffer);
      let n = 0;
      let message = '';
      for (let i = 0; i < count; i++) {
        const ptr = view.getUint32(iovs + 8 * i, true);
        const len = view.getUint32(iovs + 8 * i + 4, true);
        message += decoder.decode(new Uint8Array(memory().buffer, ptr, len));
        n += len;
      }
      view.setUint32(written, n, true);
      console.error(message);
      return 0;
    },
    proc_exit(code) {
      throw new WebAssembly.RuntimeError(`core exited with ${code}`);
    },
  };
  const imports = {};
  for (const i of WebAssembly.Module.imports(wasmModule)) {
    if (i.module === 'wasi_snapshot_preview1') imports[i.name] = own[i.name] ?? (() => ENOSYS);
  }
  return imports;
}

export class Core {
  // `vars`: [name, value] pairs, the Worker's text vars and secrets.
  constructor(vars) {
    let exports;
    const memory = () => exports.memory;
    const instance = new WebAssembly.Instance(wasmModule, {
      zai: {
        hmac_sha256(key, keyLen, message, messageLen, out) {
          const mem = new Uint8Array(memory().buffer);
          const digest = createHmac('sha256', mem.slice(key, key + keyLen))
            .update(mem.subarray(message, message + messageLen))
            .digest();
          new Uint8Array(memory().buffer).set(digest, out);
        },
      },
      wasi_snapshot_preview1: wasiImports(memory),
    });
    exports = instance.exports;
    this.x = exports;
    this.broken = false;
    this.call('_initialize');
    this.configError = undefined;
    if (this.call('zai_configure', this.put(encodeRecord(vars.flat()))) !== 0) {
      this.configError = text(this.fields()[0]);
      return;
    }
    this.call('zai_settings');
    const [firstByte, idle, maxBody, keepAlive] = this.fields().map((f) => Number(text(f)));
    this.settings = { firstByteMs: firstByte, idleMs: idle, maxBodyBytes: maxBody,
                      keepAliveMs: keepAlive };
  }

  call(name, ...args) {
    if (this.broken) throw new Trap('the core instance already trapped');
    try {
      return this.x[name](...args);
    } catch (err) {
      if (err instanceof WebAssembly.RuntimeError) {
        this.broken = true;
        throw new Trap(err.message);
      }
      throw err;
    }
  }

  // Copies `bytes` (or a record of fields) into the input buffer; returns the length to pass.
  put(bytes) {
    if (Array.isArray(bytes)) bytes = encodeRecord(bytes);
    const ptr = this.call('zai_input', bytes.length);
    new Uint8Array(this.x.memory.buffer, ptr, bytes.length).set(bytes);
    return bytes.length;
  }

  // The output record of the last call, copied out of wasm memory.
  fields() {
    const ptr = this.x.zai_output_ptr();
    const len = this.x.zai_output_len();
    return decodeRecord(new Uint8Array(this.x.memory.buffer, ptr, len).slice());
  }

  // Upstream requests due now: [{kind, slot, method, url, body, headers}].
  housekeeping(now) {
    const count = this.call('zai_housekeeping', now);
    if (count === 0) return [];
    const f = this.fields();
    const jobs = [];
    let i = 0;
    for (let j = 0; j < count; j++) {
      const job = {
        kind: text(f[i++]), slot: Number(text(f[i++])), method: text(f[i++]), url: text(f[i++]),
        body: f[i++], headers: [],
      };
      const n = Number(text(f[i++]));
      for (let k = 0; k < n; k++) job.headers.push([text(f[i++]), text(f[i++])]);
      jobs.push(job);
    }
    return jobs;
  }

  mintDone(slot, status, body, now) {
    this.call('zai_mint_done', slot, status, this.put(body), now);
  }

  scrapeDone(status, body, now) {
    this.call('zai_scrape_done', status, this.put(body), now);
  }

  begin(method, target, authorization, origin, apiKey, body, tooLarge, now) {
    return this.call('zai_begin', this.put([method, target, authorization, origin, apiKey, body]),
                     tooLarge ? 1 : 0, now);
  }

  next(h, now) { return this.call('zai_next', h, now); }
  captcha(h, status, body, now) { return this.call('zai_captcha', h, status, this.put(body), now); }
  response(h, status, contentType, retryAfter, body, now) {
    return this.call('zai_response', h, status, this.put([contentType, retryAfter, body]), now);
  }
  failure(h, timedOut, now) { return this.call('zai_failure', h, timedOut ? 1 : 0, now); }
  bytes(h, chunk, now) { return this.call('zai_bytes', h, this.put(chunk), now); }
  end(h, wentSilent, now) { return this.call('zai_end', h, wentSilent ? 1 : 0, now); }
  frontPage(h, status, body, now) {
    return this.call('zai_front_page', h, status, this.put(body), now);
  }
  quiet(h, now) { return this.call('zai_quiet', h, now); }
  drop(h, now) { if (!this.broken) this.call('zai_drop', h, now); }

  // [status, body, headers] of the 500 for a request that met a trap or a bad configuration.
  internalError(origin, message) {
    this.call('zai_internal_error', this.put([origin, message]));
    return this.fields();
  }

  trap() { this.call('zai_trap'); }
}
