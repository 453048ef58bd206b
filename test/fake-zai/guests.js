// Guest (and test-made registered) users and their JWTs (§1). Tokens look like the real ones:
// ES256 header, payload exactly {id, email}, no exp, a 64-byte random "signature". The fake never
// verifies them cryptographically; it knows every token it issued.
import { randomBytes, randomUUID } from 'node:crypto';

const JWT_HEADER = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT' })).toString('base64url');

export function decodeJwtPayload(token) {
  const parts = String(token).split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) return null;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
    return isObject(header) && isObject(payload) ? payload : null;
  } catch {
    return null;
  }
}

// Bearer from `Authorization: Bearer …`, else the `token` cookie (the browser sends both).
export function credentialsOf(req) {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(.*)$/i.exec(auth.trim());
    return { token: m ? m[1].trim() : '', via: 'header' };
  }
  const cookie = req.headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [name, ...rest] = part.trim().split('=');
      if (name === 'token' && rest.length) return { token: rest.join('='), via: 'cookie' };
    }
  }
  return null;
}

export class UserBook {
  constructor(clock) {
    this.clock_ = clock;
    this.byToken_ = new Map();
    this.lastMs_ = 0;
    this.minted = 0;
  }

  // Guest emails carry a millisecond stamp; keep it unique when several are minted in one ms.
  nextStamp_() {
    this.lastMs_ = Math.max(this.clock_(), this.lastMs_ + 1);
    return this.lastMs_;
  }

  mint({ role = 'guest', email } = {}) {
    const ms = this.nextStamp_();
    const id = randomUUID();
    const user = {
      id,
      email: email ?? (role === 'guest' ? `guest-${ms}@guest.com` : `user-${ms}@example.com`),
      name: role === 'guest' ? `Guest-${ms}` : `User-${ms}`,
      role,
      revoked: false,
      created_ms: ms,
    };
    const payload = Buffer.from(JSON.stringify({ id: user.id, email: user.email })).toString('base64url');
    user.token = `${JWT_HEADER}.${payload}.${randomBytes(64).toString('base64url')}`;
    this.byToken_.set(user.token, user);
    if (role === 'guest') this.minted++;
    return user;
  }

  find(token) {
    return this.byToken_.get(token) ?? null;
  }

  revoke(token) {
    const user = this.byToken_.get(token);
    if (user) user.revoked = true;
    return user ?? null;
  }

  get size() { return this.byToken_.size; }
}

// The §1.2 response shape.
export function sessionBody(user) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    profile_image_url: '/user.png',
    idp: 'z.ai',
    phone_num: null,
    token: user.token,
    token_type: 'Bearer',
    expires_at: null,
    permissions: {
      workspace: { models: false, knowledge: false, prompts: false, tools: false },
      sharing: { public_models: false, public_knowledge: false, public_prompts: false, public_tools: false },
      chat: { temporary: true, temporary_enforced: user.role === 'guest' },
      features: { direct_tool_servers: false, web_search: true, image_generation: true, code_interpreter: true },
    },
  };
}

export function sessionCookie(user) {
  return `token=${user.token}; Path=/; HttpOnly; SameSite=Lax`;
}
