// The non-completion endpoints of §7.1: the front page carrying the FE build id, /api/config,
// guest minting (§1), the model list (§3.5) and chat create/delete (§3.7).
import { randomUUID } from 'node:crypto';
import { credentialsOf, decodeJwtPayload, sessionBody, sessionCookie } from './guests.js';
import { MODELS } from './models.js';
import { sendJson, sendHtml } from './transport.js';
import { DETAILS } from './errors.js';

export function frontPage(fake, ctx) {
  const v = fake.state.config.fe_version;
  sendHtml(ctx.res, 200, '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    + '<title>Z.ai - Free AI Chatbot &amp; Agent powered by GLM</title>'
    + `<link rel="stylesheet" href="/frontend/${v}/assets/index-def456.css">`
    + `<script type="module" crossorigin src="/frontend/${v}/assets/index-abc123.js"></script>`
    + '</head><body><div id="app"></div></body></html>\n');
}

export function apiConfig(fake, ctx) {
  const cfg = fake.state.config;
  sendJson(ctx.res, 200, {
    name: 'Z.ai',
    version: cfg.fe_version,
    features: { enable_captcha: cfg.captcha_required, enable_signup: true },
  });
}

// GET /api/v1/auths/: no credentials → a new guest; a known token → that user; an unknown (or
// revoked) well-formed token → a new guest (the silent-downgrade quirk); a malformed one → 401.
export function auths(fake, ctx) {
  const { state } = fake;
  const creds = credentialsOf(ctx.req);
  let user = null;
  if (creds) {
    if (!decodeJwtPayload(creds.token)) return sendJson(ctx.res, 401, { detail: DETAILS.expired });
    const known = state.users.find(creds.token);
    if (known && !known.revoked) user = known;
  }
  ctx.record.outcome = { result: user ? 'existing' : 'minted' };
  user ??= state.users.mint();
  state.changed();
  sendJson(ctx.res, 200, sessionBody(user), { 'set-cookie': sessionCookie(user) });
}

// POST /api/v1/auths/guest: like the credential-less GET.
export function guest(fake, ctx) {
  const user = fake.state.users.mint();
  ctx.record.outcome = { result: 'minted' };
  fake.state.changed();
  sendJson(ctx.res, 200, sessionBody(user), { 'set-cookie': sessionCookie(user) });
}

// Open WebUI-style auth for the JSON endpoints: 403 without credentials, 401 for bad ones.
function authenticate(fake, ctx) {
  const creds = credentialsOf(ctx.req);
  if (!creds) { sendJson(ctx.res, 403, { detail: DETAILS.unauthenticated }); return null; }
  const user = fake.state.users.find(creds.token);
  if (!user || user.revoked) { sendJson(ctx.res, 401, { detail: DETAILS.expired }); return null; }
  return user;
}

export function models(fake, ctx) {
  if (!authenticate(fake, ctx)) return;
  sendJson(ctx.res, 200, { data: MODELS });
}

export function newChat(fake, ctx) {
  const user = authenticate(fake, ctx);
  if (!user) return;
  const { state } = fake;
  const chat = ctx.record.json?.chat && typeof ctx.record.json.chat === 'object' ? ctx.record.json.chat : {};
  const id = randomUUID();
  const nowS = Math.floor(state.clock() / 1000);
  const models = Array.isArray(chat.models) ? chat.models : [];
  state.chats.set(id, { id, user_id: user.id, model: models[0] ?? null, created_ms: state.clock() });
  state.counters.chats_created++;
  state.changed();
  sendJson(ctx.res, 200, {
    id,
    user_id: user.id,
    title: typeof chat.title === 'string' ? chat.title : 'New Chat',
    chat: { ...chat, id },
    updated_at: nowS,
    created_at: nowS,
    share_id: null,
    archived: false,
    pinned: false,
    meta: {},
    folder_id: null,
    message_version: 1,
    type: chat.type === 'general_agent' ? 'general_agent' : 'default',
  });
}

// DELETE /api/v1/chats/{id} → true; unknown (or someone else's) → 404. DELETE /api/v1/chats/
// deletes all of the caller's chats.
export function deleteChat(fake, ctx, id) {
  const user = authenticate(fake, ctx);
  if (!user) return;
  const { state } = fake;
  if (id) {
    const chat = state.chats.get(id);
    if (!chat || chat.user_id !== user.id) return sendJson(ctx.res, 404, { detail: DETAILS.not_found });
    state.chats.delete(id);
    state.counters.chats_deleted++;
  } else {
    for (const [chatId, chat] of state.chats) {
      if (chat.user_id !== user.id) continue;
      state.chats.delete(chatId);
      state.counters.chats_deleted++;
    }
  }
  state.changed();
  sendJson(ctx.res, 200, true);
}
