// Records, the bytes that cross the core's boundary (src/wasm/record.hpp): fields of a
// little-endian u32 length and that many bytes. Strings are encoded as UTF-8.
const encoder = new TextEncoder();

export function encodeRecord(fields) {
  const parts = fields.map((f) => (typeof f === 'string' ? encoder.encode(f) : f));
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of parts) {
    view.setUint32(at, p.length, true);
    out.set(p, at + 4);
    at += 4 + p.length;
  }
  return out;
}

// The fields of `bytes`, as views into it.
export function decodeRecord(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = [];
  for (let at = 0; at + 4 <= bytes.length;) {
    const n = view.getUint32(at, true);
    out.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}
