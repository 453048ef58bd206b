// Every toggle of the fake in one table: name, default, and the reference rule it serves. The
// table is the single source for POST /__fake/config validation, the CLI flags and the README.

export const DEFAULTS = Object.freeze({
  // Front page and FE version (§6, §7.2 steps 1 and 3).
  fe_version: 'prod-fe-1.1.98',
  strict_fe_version: true, // a present X-FE-Version other than fe_version → 405 WAF
  stale_fe_mode: 'accept', // 'accept' | '426': what step 3 does with a stale version
  fe_version_check: true, // missing X-FE-Version → 400

  // WAF (§7.2 step 1).
  waf_check: true,
  force_waf: false,
  require_signed_query: true, // missing timestamp/requestId/user_id/signature_timestamp → 405
  waf_after_n_requests: 0, // 0 = off; else the (n+1)-th completion per IP within the window → 405
  waf_window_ms: 60000,
  waf_cooldown_ms: 30000,

  // Auth (§7.2 step 2).
  auth_check: true,

  // Signature (§2, §7.2 step 4).
  signature_check: true,
  signature_mode: 'strict', // 'strict' | 'lenient' (also accepts the trimmed prompt)
  signature_tolerance_ms: 300000,
  check_query_token: true, // query `token` must equal the bearer
  legacy_426_inline: false, // signature failure → 200 SSE S11 instead of HTTP 400
  clock_offset_ms: 0, // the fake's clock = real time + offset ...
  clock_ms: null, // ... or frozen at this epoch-ms value

  // Captcha (§3.6, §7.2 step 5).
  captcha_required: true,
  captcha_ttl_ms: 75000,
  captcha_bind_ip: true,
  captcha_scene_id: '36qgs6xb',

  // Models (§3.5, §7.2 step 6).
  model_check: true,
  guest_models: ['glm-4.7'],

  // Concurrency and rate (§7.2 step 7).
  rate_check: true,
  max_inflight_per_user: 1,
  rpm_per_user: 0, // 0 = unlimited
  retry_after_s: null, // when set, 429 carries Retry-After

  // Content filter (§5, §7.2 step 8). An empty list turns the step off.
  content_filter_words: ['FORBIDDEN_TOPIC'],
  content_filter_deltas: 1, // answer deltas before the filter frame

  // Default generator (§4.3–§4.5, §7.2 step 9).
  markup_era: '2026', // '2026' | '2025' reasoning markup
  thinking_text: 'The user sent a message.\n\nI will echo it back.',
  answer_prefix: 'You said: ',
  answer_text: null, // when set, replaces prefix + echo
  answer_pieces: 3, // how many events carry the answer
  final_tail_edit: true, // last answer piece sent as an edit at edit_index == length (live 2026 trace)
  answer_deltas: 0, // fast mode when > 0: this many small answer deltas, no thinking, no edits
  usage_on_done: false,
  emit_done_sentinel: true,
  error_done_sentinel: false, // `data: [DONE]` after generated error frames
  sorted_keys: false,

  // Transport (§7.3).
  chunk_mode: 'event', // 'event' | 'random_bytes' | 'coalesce'
  chunk_seed: null, // null = fresh seed per request (recorded); a number = same seed every time
  chunk_max_bytes: 16, // random_bytes: piece sizes are uniform in [1, chunk_max_bytes]
  coalesce_events: 8, // coalesce: events per write
  inter_event_delay_ms: 0, // pause between writes
  first_event_delay_ms: 0, // pause after the headers, before the first write
  stall_ms: 0, // one pause of this length ...
  stall_after_events: 1, // ... after the write that completes this many events
  truncate_after_n_events: null, // destroy the socket after n events (no done)
  gzip: true, // gzip the stream when the request's Accept-Encoding allows it

  // Bookkeeping.
  max_recorded_requests: 500,
});

const ENUMS = {
  stale_fe_mode: ['accept', '426'],
  signature_mode: ['strict', 'lenient'],
  markup_era: ['2026', '2025'],
  chunk_mode: ['event', 'random_bytes', 'coalesce'],
};
const NULLABLE_NUMBERS = new Set(['clock_ms', 'retry_after_s', 'chunk_seed', 'truncate_after_n_events']);
const NULLABLE_STRINGS = new Set(['answer_text']);
const SIGNED_NUMBERS = new Set(['clock_offset_ms']); // the fake's clock may run behind, too

// Knobs that a script may override for its own response only.
export const TRANSPORT_KNOBS = [
  'chunk_mode', 'chunk_seed', 'chunk_max_bytes', 'coalesce_events', 'inter_event_delay_ms',
  'first_event_delay_ms', 'stall_ms', 'stall_after_events', 'truncate_after_n_events', 'gzip',
];
export const GENERATOR_KNOBS = [
  'markup_era', 'thinking_text', 'answer_prefix', 'answer_text', 'answer_pieces', 'final_tail_edit',
  'answer_deltas', 'usage_on_done', 'emit_done_sentinel', 'sorted_keys',
];

function checkValue(key, value) {
  const def = DEFAULTS[key];
  if (value === null && (NULLABLE_NUMBERS.has(key) || NULLABLE_STRINGS.has(key))) return null;
  if (ENUMS[key]) return ENUMS[key].includes(value) ? null : `${key} must be one of ${ENUMS[key].join(', ')}`;
  if (Array.isArray(def)) return Array.isArray(value) && value.every((v) => typeof v === 'string') ? null : `${key} must be an array of strings`;
  if (NULLABLE_NUMBERS.has(key) || typeof def === 'number') {
    if (SIGNED_NUMBERS.has(key)) return Number.isSafeInteger(value) ? null : `${key} must be an integer`;
    return Number.isSafeInteger(value) && value >= 0 ? null : `${key} must be a non-negative integer`;
  }
  if (NULLABLE_STRINGS.has(key)) return typeof value === 'string' ? null : `${key} must be a string or null`;
  return typeof value === typeof def ? null : `${key} must be a ${typeof def}`;
}

// Validates a partial config. `allowed` restricts the keys (used for per-script overrides).
export function checkPatch(patch, allowed = Object.keys(DEFAULTS)) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return 'config must be a JSON object';
  for (const [key, value] of Object.entries(patch)) {
    if (!allowed.includes(key)) return `unknown knob: ${key}`;
    const problem = checkValue(key, value);
    if (problem) return problem;
  }
  return null;
}

export function makeConfig(patch = {}) {
  const problem = checkPatch(patch);
  if (problem) throw new Error(problem);
  return { ...structuredClone(DEFAULTS), ...structuredClone(patch) };
}

// CLI: `--port N`, `--host H`, and every knob as `--knob-name value` (underscores may be dashes),
// `--no-knob` for false, a bare `--knob` for true; values are parsed as JSON when they can be.
export function parseCli(argv) {
  const out = { port: 0, host: '127.0.0.1', config: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument: ${arg}`);
    let name = arg.slice(2).replaceAll('-', '_');
    let value;
    const eq = name.indexOf('=');
    if (eq >= 0) { value = name.slice(eq + 1); name = name.slice(0, eq); }
    if (name === 'no_captcha') { out.config.captcha_required = false; continue; }
    if (name.startsWith('no_') && name.slice(3) in DEFAULTS) { out.config[name.slice(3)] = false; continue; }
    const isBool = typeof DEFAULTS[name] === 'boolean';
    if (value === undefined) {
      const next = argv[i + 1];
      if (isBool && (next === undefined || next.startsWith('--'))) value = 'true';
      else { value = next; i++; }
    }
    if (value === undefined) throw new Error(`missing value for --${name}`);
    if (name === 'port') out.port = Number(value);
    else if (name === 'host') out.host = value;
    else if (name in DEFAULTS) out.config[name] = parseValue(name, value);
    else throw new Error(`unknown option: ${arg}`);
  }
  const problem = checkPatch(out.config);
  if (problem) throw new Error(problem);
  return out;
}

function parseValue(name, text) {
  if (typeof DEFAULTS[name] === 'string' || NULLABLE_STRINGS.has(name) || ENUMS[name]) return text;
  if (Array.isArray(DEFAULTS[name]) && !text.startsWith('[')) return text.split(',').filter(Boolean);
  try { return JSON.parse(text); } catch { return text; }
}
