// Captcha tokens (§3.6): Base64 of compact JSON {certifyId, sceneId, isSign, securityToken}.
// The real ones come from Aliyun's browser widget; here tests mint them through the control API.
// Properties kept from the reference: single use, short-lived, bound to the solving IP.
import { randomBytes } from 'node:crypto';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomId(n) {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

export class CaptchaDesk {
  constructor(clock) {
    this.clock_ = clock;
    this.issued_ = new Map(); // certifyId → { securityToken, ip, issued_ms, ttl_ms, used }
    this.minted = 0;
    this.consumed = 0;
  }

  mint({ ip, ttlMs, sceneId }) {
    const certifyId = randomId(10);
    const securityToken = randomBytes(96).toString('base64');
    this.issued_.set(certifyId, { securityToken, ip, issued_ms: this.clock_(), ttl_ms: ttlMs, used: false });
    this.minted++;
    const json = JSON.stringify({ certifyId, sceneId, isSign: true, securityToken });
    return Buffer.from(json, 'utf8').toString('base64');
  }

  // 'missing' → sample S7; any other non-null string → S8 with that reason; null → valid.
  // A token that matched an issued one is spent whatever the outcome, as a replay would be.
  check(value, { ip, bindIp }) {
    if (value === undefined || value === null || value === '') return 'missing';
    if (typeof value !== 'string') return 'not_a_string';
    let parsed;
    try {
      parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
    } catch {
      return 'not_base64_json';
    }
    if (!parsed || typeof parsed.certifyId !== 'string' || typeof parsed.sceneId !== 'string'
        || typeof parsed.securityToken !== 'string') return 'bad_shape';
    const entry = this.issued_.get(parsed.certifyId);
    if (!entry || entry.securityToken !== parsed.securityToken) return 'unknown';
    if (entry.used) return 'reused';
    entry.used = true;
    this.consumed++;
    if (this.clock_() - entry.issued_ms >= entry.ttl_ms) return 'expired';
    if (bindIp && entry.ip !== ip) return 'wrong_ip';
    return null;
  }
}
