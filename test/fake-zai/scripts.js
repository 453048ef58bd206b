// Scripted responses (POST /__fake/script). A script replaces the default answer of the next
// completion request(s) it matches, with exactly one of:
//   sample:   "S02"                      replay test/fixtures/sse/S02.sse byte for byte
//   events:   [ {…payload…} | "raw" ]    objects wrapped in the envelope, strings written as-is
//   generate: { thinking?, …knobs }      the default generator with overrides
//   http:     401 | { status, body?, headers?, retry_after? }   a plain HTTP answer, no SSE
//   fault:    "reset" | "close" | "hang" a connection-level failure
// plus optional match {user_id, chat_id, model, path}, times (default 1, -1 = until reset),
// stage ("validated": after the §7.2 checks pass, the default; "pre": before any check),
// transport {…transport knobs…} for this response only, and for `events` finish:true to append
// the done event (and [DONE] per emit_done_sentinel).
import { checkPatch, TRANSPORT_KNOBS, GENERATOR_KNOBS } from './config.js';
import { sampleName } from './stream.js';

const KINDS = ['sample', 'events', 'generate', 'http', 'fault'];
const MATCH_KEYS = ['user_id', 'chat_id', 'model', 'path'];
const FAULTS = ['reset', 'close', 'hang'];
const OTHER_KEYS = ['match', 'times', 'stage', 'transport', 'finish', 'note'];

function checkHttp(http) {
  const spec = typeof http === 'number' ? { status: http } : http;
  if (!spec || typeof spec !== 'object') return 'http must be a status or {status, body?, headers?, retry_after?}';
  if (!Number.isInteger(spec.status) || spec.status < 200 || spec.status > 599) return 'http.status must be 200…599';
  if (spec.headers !== undefined && (typeof spec.headers !== 'object' || spec.headers === null)) return 'http.headers must be an object';
  if (spec.retry_after !== undefined && !(Number.isFinite(spec.retry_after) || typeof spec.retry_after === 'string')) return 'http.retry_after must be a number or string';
  return { status: spec.status, body: spec.body, headers: spec.headers ?? {}, retry_after: spec.retry_after };
}

// Returns the normalised script or an error message.
export function checkScript(raw) {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return 'a script must be a JSON object';
  const kinds = KINDS.filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) return `a script needs exactly one of ${KINDS.join(', ')}`;
  const unknown = Object.keys(raw).find((k) => !KINDS.includes(k) && !OTHER_KEYS.includes(k));
  if (unknown) return `unknown script field: ${unknown}`;
  const script = { kind: kinds[0], match: {}, times: 1, stage: 'validated', transport: {}, finish: false };

  const match = raw.match ?? {};
  if (typeof match !== 'object' || Array.isArray(match)) return 'match must be an object';
  for (const [key, value] of Object.entries(match)) {
    if (!MATCH_KEYS.includes(key)) return `unknown match key: ${key}`;
    if (typeof value !== 'string') return `match.${key} must be a string`;
    script.match[key] = value;
  }
  if (raw.times !== undefined) {
    if (!Number.isInteger(raw.times) || (raw.times < 1 && raw.times !== -1)) return 'times must be a positive integer or -1';
    script.times = raw.times;
  }
  if (raw.stage !== undefined) {
    if (!['validated', 'pre'].includes(raw.stage)) return 'stage must be "validated" or "pre"';
    script.stage = raw.stage;
  }
  if (raw.transport !== undefined) {
    const problem = checkPatch(raw.transport, TRANSPORT_KNOBS);
    if (problem) return `transport: ${problem}`;
    script.transport = { ...raw.transport };
  }
  if (raw.finish !== undefined) {
    if (typeof raw.finish !== 'boolean' || script.kind !== 'events') return 'finish is a boolean for events scripts';
    script.finish = raw.finish;
  }
  if (raw.note !== undefined) script.note = String(raw.note);

  switch (script.kind) {
    case 'sample':
      if (!sampleName(raw.sample)) return 'sample must be one of S01…S15';
      script.sample = sampleName(raw.sample);
      break;
    case 'events':
      if (!Array.isArray(raw.events) || !raw.events.every((e) => typeof e === 'string' || (e && typeof e === 'object'))) {
        return 'events must be an array of objects (payloads) and strings (raw bytes)';
      }
      script.events = raw.events;
      break;
    case 'generate': {
      const { thinking, ...knobs } = raw.generate ?? {};
      if (thinking !== undefined && typeof thinking !== 'boolean') return 'generate.thinking must be a boolean';
      const problem = checkPatch(knobs, GENERATOR_KNOBS);
      if (problem) return `generate: ${problem}`;
      script.generate = { thinking, knobs };
      break;
    }
    case 'http': {
      const http = checkHttp(raw.http);
      if (typeof http === 'string') return http;
      script.http = http;
      break;
    }
    case 'fault':
      if (!FAULTS.includes(raw.fault)) return `fault must be one of ${FAULTS.join(', ')}`;
      script.fault = raw.fault;
      break;
  }
  return script;
}
