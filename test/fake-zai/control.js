// The test-control API under /__fake/ (never called by the proxy): reset, config, scripts,
// recorded requests, captcha minting, token revocation, stats and a long-poll to wait on stats.
import { sendJson } from './transport.js';
import { sessionBody } from './guests.js';

function statAt(stats, path) {
  return path.split('.').reduce((v, k) => (v === null || typeof v !== 'object' ? undefined : v[k]), stats);
}

const COMPARATORS = {
  _gte: (a, b) => a >= b,
  _lte: (a, b) => a <= b,
  _gt: (a, b) => a > b,
  _lt: (a, b) => a < b,
};

// `?open_streams=0&streams.aborted_gte=1` → a predicate over the stats (missing stats count as 0).
export function parseConditions(params) {
  const tests = [];
  for (const [name, raw] of params) {
    if (name === 'timeout_ms') continue;
    const value = Number(raw);
    if (!Number.isFinite(value)) return `condition ${name} needs a number`;
    const suffix = Object.keys(COMPARATORS).find((s) => name.endsWith(s));
    const path = suffix ? name.slice(0, -suffix.length) : name;
    const compare = suffix ? COMPARATORS[suffix] : (a, b) => a === b;
    tests.push((stats) => compare(Number(statAt(stats, path) ?? 0), value));
  }
  if (!tests.length) return 'give at least one condition, e.g. ?open_streams=0';
  return (stats) => tests.every((t) => t(stats));
}

function queryObject(params) {
  const out = {};
  for (const [k, v] of params) {
    if (!(k in out)) out[k] = v;
    else out[k] = [].concat(out[k], v);
  }
  return out;
}

export function describeRecord(r) {
  return {
    seq: r.seq, time_ms: r.time_ms, method: r.method, path: r.path,
    query: queryObject(new URLSearchParams(r.raw_query)), raw_query: r.raw_query,
    headers: r.headers, raw_headers: r.raw_headers, body: r.body, json: r.json, ip: r.ip,
    status: r.status, outcome: r.outcome,
  };
}

export async function handleControl(fake, ctx, route) {
  const { state } = fake;
  const { res, record, url, req } = ctx;
  const body = record.json ?? {};
  const key = `${req.method} ${route}`;
  switch (key) {
    case 'POST reset':
      state.reset({ users: body.users === true });
      return sendJson(res, 200, { ok: true });
    case 'GET config':
      return sendJson(res, 200, state.config);
    case 'POST config': {
      const problem = state.setConfig(body);
      return problem ? sendJson(res, 400, { error: problem }) : sendJson(res, 200, state.config);
    }
    case 'POST script': {
      const queued = state.enqueue(record.json);
      return queued.error ? sendJson(res, 400, { error: queued.error }) : sendJson(res, 200, { queued: queued.ids.length, ids: queued.ids });
    }
    case 'GET script':
      return sendJson(res, 200, { scripts: state.scripts });
    case 'DELETE script':
      state.scripts = [];
      state.changed();
      return sendJson(res, 200, { ok: true });
    case 'GET requests': {
      const limit = Math.max(0, Number(url.searchParams.get('limit') ?? 50) || 0);
      const path = url.searchParams.get('path');
      const since = Number(url.searchParams.get('since') ?? 0);
      const picked = state.records.filter((r) => (!path || r.path === path) && r.seq > since);
      return sendJson(res, 200, { requests: picked.slice(Math.max(0, picked.length - limit)).map(describeRecord) });
    }
    case 'POST captcha': {
      const count = Math.min(100, Math.max(1, Number(body.count ?? 1) || 1));
      const ttlMs = Number.isFinite(body.ttl_ms) ? body.ttl_ms : state.config.captcha_ttl_ms;
      const ip = typeof body.ip === 'string' ? body.ip : ctx.ip;
      const tokens = Array.from({ length: count }, () => state.captchas.mint({ ip, ttlMs, sceneId: state.config.captcha_scene_id }));
      state.changed();
      return sendJson(res, 200, { token: tokens[0], tokens, ip, ttl_ms: ttlMs });
    }
    case 'POST revoke': {
      const user = typeof body.token === 'string' ? state.users.revoke(body.token) : null;
      state.changed();
      return user ? sendJson(res, 200, { revoked: true, user_id: user.id }) : sendJson(res, 404, { error: 'unknown token' });
    }
    case 'POST user': {
      const role = typeof body.role === 'string' ? body.role : 'user';
      const user = state.users.mint({ role, email: typeof body.email === 'string' ? body.email : undefined });
      state.changed();
      return sendJson(res, 200, sessionBody(user));
    }
    case 'GET stats':
      return sendJson(res, 200, state.stats());
    case 'GET chats':
      return sendJson(res, 200, { chats: [...state.chats.values()] });
    case 'GET wait': {
      const predicate = parseConditions(url.searchParams);
      if (typeof predicate === 'string') return sendJson(res, 400, { error: predicate });
      const timeoutMs = Math.min(60000, Number(url.searchParams.get('timeout_ms') ?? 5000) || 5000);
      // Give up early when the fake closes or the waiting client goes away.
      const gone = new AbortController();
      const stop = () => gone.abort();
      res.once('close', stop);
      fake.signal.addEventListener('abort', stop, { once: true });
      try {
        const stats = await state.waitFor(predicate, timeoutMs, gone.signal);
        return sendJson(res, 200, { ok: true, stats });
      } catch (err) {
        if (!res.destroyed) sendJson(res, 408, { ok: false, error: err.message, stats: err.stats ?? state.stats() });
        return undefined;
      } finally {
        fake.signal.removeEventListener('abort', stop);
      }
    }
    default:
      return sendJson(res, 404, { error: `no control endpoint ${key}` });
  }
}
