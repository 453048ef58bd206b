// The error vocabulary of the fake: the `detail` texts of §5 and §7.2 and the bodies of the §7.4
// HTTP-level fixtures. Texts the reference marks unverified (401, 426, 429, missing X-FE-Version)
// are its best guesses, verbatim.
import { wafPage } from './waf.js';

export const DETAILS = {
  signature: '403: Signature validation failed: 签名验证失败',
  expired: 'Your session has expired or the token is invalid. Please sign in again.',
  unauthenticated: 'Not authenticated',
  fe_missing: 'Missing X-FE-Version',
  fe_stale: '您的客户端版本过旧，请刷新页面 (New version detected)',
  rate: 'Too many requests, please try again later.',
  internal: 'Internal Server Error',
  not_found: "We could not find what you're looking for :/",
};

// Bodies of the §7.4 HTTP-level fixtures, by status.
export function fixtureBody(status) {
  switch (status) {
    case 400: return { detail: DETAILS.signature };
    case 401: return { detail: DETAILS.expired };
    case 403: return { detail: DETAILS.unauthenticated };
    case 405: return wafPage();
    case 426: return { detail: DETAILS.fe_stale };
    case 429: return { detail: DETAILS.rate };
    case 500: return { detail: DETAILS.internal };
    default: return { detail: `HTTP ${status}` };
  }
}
