// POST /api/v2/chat/completions (and the legacy /api/chat/completions): the §7.2 validation
// pipeline, in the reference's order, each step switchable; then a scripted answer or the default
// generator (§7.3). Every request's outcome is written into its record for /__fake/requests.
import { randomUUID } from 'node:crypto';
import { credentialsOf, decodeJwtPayload } from './guests.js';
import { verifySignedRequest } from './signature.js';
import { findModel } from './models.js';
import { SIGNED_QUERY_PARAMS } from './waf.js';
import { DETAILS, fixtureBody } from './errors.js';
import { sendJson, sendHtml, sendStream, traceId } from './transport.js';
import { generateAnswer, generateContentFilter, generateError, loadSample, scriptedEvents, finalTextOf, encodeEvent, DONE_SENTINEL } from './stream.js';

function sendHttp(res, { status, body, headers = {}, retry_after: retryAfter }) {
  const text = body ?? fixtureBody(status);
  const extra = { ...(retryAfter !== undefined && retryAfter !== null ? { 'retry-after': String(retryAfter) } : {}), ...headers };
  if (typeof text === 'string' && (status === 405 || /^\s*</.test(text))) sendHtml(res, status, text, extra);
  else sendJson(res, status, text, extra);
}

// The prompt the generator echoes: signature_prompt, else the last user message's text parts.
function promptOf(body) {
  if (typeof body.signature_prompt === 'string') return body.signature_prompt;
  const last = [...(Array.isArray(body.messages) ? body.messages : [])].reverse().find((m) => m?.role === 'user');
  if (typeof last?.content === 'string') return last.content;
  if (Array.isArray(last?.content)) return last.content.filter((p) => p?.type === 'text').map((p) => p.text).join('\n');
  return '';
}

function allText(body) {
  const parts = [typeof body.signature_prompt === 'string' ? body.signature_prompt : ''];
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    if (typeof m?.content === 'string') parts.push(m.content);
    else if (Array.isArray(m?.content)) for (const p of m.content) if (typeof p?.text === 'string') parts.push(p.text);
  }
  return parts.join('\n');
}

export async function handleCompletion(fake, ctx, { legacy = false } = {}) {
  const { req, res, record, url } = ctx;
  const state = fake.state;
  const cfg = state.config;
  const query = url.searchParams;
  const body = record.json && typeof record.json === 'object' && !Array.isArray(record.json) ? record.json : null;
  const outcome = (record.outcome = { result: null });
  state.counters.completions.total++;
  const done = (result, detail) => {
    outcome.result = result;
    if (detail !== undefined) outcome.detail = detail;
    state.countOutcome(result);
  };
  const refuse = (result, detail, status, payload, headers) => {
    done(result, detail);
    sendHttp(res, { status, body: payload, headers });
  };
  const creds = credentialsOf(req);
  const claims = creds ? decodeJwtPayload(creds.token) : null;
  const facts = { user_id: claims?.id, chat_id: body?.chat_id, model: body?.model, path: url.pathname };
  const knobs = { ...cfg };
  const inStream = (result, detail, events, extra = {}) => {
    done(result, detail);
    return stream(fake, ctx, { events, knobs, chatId: facts.chat_id, ...extra });
  };

  const early = state.takeScript(facts, 'pre');
  if (early) return runScript(fake, ctx, early, { body, knobs, facts, done });

  // 1. WAF: forced, stale FE build, unsigned query, or this IP over its request budget.
  if (!legacy && cfg.waf_check) {
    const overBudget = state.waf.hit(ctx.ip, state.clock(), cfg);
    const fe = req.headers['x-fe-version'];
    const reason = cfg.force_waf ? 'forced'
      : cfg.strict_fe_version && fe !== undefined && fe !== cfg.fe_version ? 'stale_fe_version'
        : cfg.require_signed_query && SIGNED_QUERY_PARAMS.some((p) => !query.has(p)) ? 'missing_signed_query'
          : overBudget ? 'rate' : null;
    if (reason) {
      state.counters.waf_blocks++;
      return refuse('waf', reason, 405);
    }
  }

  // 2. Auth: nothing → 403; a token the fake did not issue, or revoked → 401.
  let user = creds ? state.users.find(creds.token) : null;
  if (cfg.auth_check) {
    if (!creds) return refuse('auth_missing', 'no bearer or token cookie', 403);
    if (!user || user.revoked) return refuse('auth_invalid', user ? 'revoked' : 'unknown token', 401);
  }

  // 3. FE version: missing → 400; stale → 426 when stale_fe_mode is '426'.
  if (cfg.fe_version_check) {
    const fe = req.headers['x-fe-version'];
    if (fe === undefined) return refuse('fe_missing', undefined, 400, { detail: DETAILS.fe_missing });
    if (fe !== cfg.fe_version && cfg.stale_fe_mode === '426') return refuse('fe_stale', fe, 426);
  }

  if (!body) return refuse('bad_body', 'body is not a JSON object', 422, { detail: 'Invalid JSON body' });

  // 4. Signature over signature_prompt (§2.2).
  if (!legacy && cfg.signature_check) {
    const reason = verifySignedRequest({
      query, header: req.headers['x-signature'], prompt: body.signature_prompt,
      bearer: creds?.token, user, nowMs: state.clock(), options: cfg,
    });
    if (reason) {
      if (cfg.legacy_426_inline) return inStream('signature', reason, loadSample('S11'));
      return refuse('signature', reason, 400);
    }
  }

  // 5. Captcha: single use, TTL, bound to the caller's IP.
  if (!legacy && cfg.captcha_required) {
    const reason = state.captchas.check(body.captcha_verify_param, { ip: ctx.ip, bindIp: cfg.captcha_bind_ip });
    if (reason === 'missing') return inStream('captcha_missing', reason, loadSample('S07'));
    if (reason) return inStream('captcha_invalid', reason, loadSample('S08'));
  }

  // 6. Model: unknown → in-stream 404; a guest asking for a non-guest model → S9.
  if (cfg.model_check) {
    const model = findModel(body.model);
    if (!model) return inStream('model_unknown', String(body.model), generateError({ detail: 'Model not found', code: 404 }, knobs));
    const guestOk = cfg.guest_models.some((m) => m.toLowerCase() === model.id.toLowerCase());
    if (user?.role === 'guest' && !guestOk) return inStream('model_forbidden', model.id, loadSample('S09'));
  }

  // 7. Concurrency and rate per user.
  const key = user?.id ?? claims?.id ?? 'anonymous';
  if (cfg.rate_check) {
    const headers = cfg.retry_after_s === null ? {} : { 'retry-after': String(cfg.retry_after_s) };
    if (cfg.max_inflight_per_user > 0 && (state.inflight.get(key) ?? 0) >= cfg.max_inflight_per_user) {
      return refuse('rate_limited', 'concurrency', 429, undefined, headers);
    }
    if (cfg.rpm_per_user > 0) {
      const now = state.clock();
      const recent = (state.rpm.get(key) ?? []).filter((t) => now - t < 60000);
      state.rpm.set(key, recent);
      if (recent.length >= cfg.rpm_per_user) return refuse('rate_limited', 'rpm', 429, undefined, headers);
      recent.push(now);
    }
  }
  const release = state.acquireSlot(key);
  res.once('close', release);

  // The chat materialises when a completion first references it (§3.1).
  if (typeof body.chat_id === 'string' && body.chat_id && !state.chats.has(body.chat_id)) {
    state.chats.set(body.chat_id, { id: body.chat_id, user_id: key, model: body.model, created_ms: state.clock() });
    state.counters.chats_created++;
  }

  // 8. Content filter on a trigger word anywhere in the prompt.
  const text = allText(body);
  const trigger = cfg.content_filter_words.find((w) => w && text.includes(w));
  if (trigger) return inStream('content_filter', trigger, generateContentFilter(knobs));

  // 9. A script, or the default generator.
  const script = state.takeScript(facts, 'validated');
  if (script) return runScript(fake, ctx, script, { body, knobs, facts, done });
  done('ok');
  return generated(fake, ctx, { body, knobs, chatId: facts.chat_id });
}

// §4.4: thinking when the client asked for it; GLM-5.2-class reasoning_effort forces it.
function wantsThinking(body) {
  const features = body?.features ?? {};
  return features.enable_thinking === true || features.enable_thinking === 'true' || Boolean(features.reasoning_effort);
}

function generated(fake, ctx, { body, knobs, chatId, thinking = wantsThinking(body) }) {
  const { events, finalText } = generateAnswer({ prompt: body ? promptOf(body) : '', thinking, knobs });
  return stream(fake, ctx, { events, knobs, chatId, finalText });
}

async function runScript(fake, ctx, script, { body, knobs, facts, done }) {
  const { req, res, record } = ctx;
  record.outcome.script = script.id;
  const merged = { ...knobs, ...script.transport };
  switch (script.kind) {
    case 'http':
      done('scripted_http', script.http.status);
      return sendHttp(res, script.http);
    case 'fault':
      done(`scripted_${script.fault}`);
      if (script.fault === 'reset') req.socket.resetAndDestroy();
      else if (script.fault === 'close') req.socket.destroy();
      else await hang(fake, res);
      return;
    case 'sample':
      done('scripted_sample', script.sample);
      return stream(fake, ctx, { events: loadSample(script.sample), knobs: merged, chatId: facts.chat_id });
    case 'events': {
      const events = scriptedEvents(script.events, merged);
      if (script.finish) {
        events.push(encodeEvent({ phase: 'done', done: true }, merged));
        if (merged.emit_done_sentinel) events.push(DONE_SENTINEL);
      }
      done('scripted_events');
      return stream(fake, ctx, { events, knobs: merged, chatId: facts.chat_id });
    }
    case 'generate':
      done('scripted_generate');
      return generated(fake, ctx, { body, knobs: { ...merged, ...script.generate.knobs }, chatId: facts.chat_id, thinking: script.generate.thinking });
  }
}

// Holds the request open without a byte of answer until the client leaves or the fake closes.
async function hang(fake, res) {
  if (res.destroyed) return;
  await new Promise((resolve) => {
    const stop = () => {
      fake.signal.removeEventListener('abort', stop);
      resolve();
    };
    res.once('close', stop);
    fake.signal.addEventListener('abort', stop, { once: true });
  });
}

async function stream(fake, ctx, { events, knobs, chatId, finalText }) {
  const { state } = fake;
  const progress = { events_total: events.length, events_written: 0, bytes_written: 0, end: 'open' };
  ctx.record.outcome.stream = progress;
  progress.final_text = finalText ?? finalTextOf(events);
  state.open.streams++;
  state.counters.streams.started++;
  state.changed();
  try {
    progress.end = await sendStream({
      req: ctx.req, res: ctx.res, events, knobs, signal: fake.signal, progress,
      headers: { 'x-chat-id': chatId || randomUUID(), 'x-trace-id': traceId() },
    });
  } finally {
    state.open.streams--;
    if (progress.end !== 'open') state.counters.streams[progress.end]++;
    else progress.end = 'error';
    state.changed();
  }
}
