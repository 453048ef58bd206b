// The Aliyun WAF in front of chat.z.ai (§5, §7.2 step 1): a 405 HTML block page, and a per-IP
// request window that trips a block lasting a cooldown (for the proxy's circuit-breaker tests).
import { traceId } from './transport.js';

export function wafPage() {
  const renderData = JSON.stringify({ traceid: traceId(), lang: 'en' });
  return `<!doctypehtml><html lang="zh-cn"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<title>405</title><link rel="stylesheet" href="https://errors.aliyun.com/error.css"></head><body>`
    + `<div class="wrapper"><div class="main"><div class="header"><img src="https://errors.aliyun.com/images/TB1TpamHpXXXXaJXXXXeB7nYVXX-104-162.png" alt="405"></div>`
    + `<div class="block_message" lang="en">Sorry, your request has been blocked as it may cause potential threats to the server's security.</div>`
    + `<div class="block_message" lang="zh-cn">很抱歉，由于您访问的URL有可能对网站造成安全威胁，您的访问被阻断。</div>`
    + `<div class="footer">Powered by Aliyun WAF — see https://errors.aliyun.com/</div></div></div>`
    + `<textarea id="renderData" style="display:none">${renderData}</textarea>`
    + `<script src="https://errors.aliyun.com/error.js"></script></body></html>`;
}

export const SIGNED_QUERY_PARAMS = ['timestamp', 'requestId', 'user_id', 'signature_timestamp'];

// Per client IP: completions counted in a sliding window; once more than n arrive inside it the
// IP is blocked until the cooldown passes (requests while blocked do not extend it).
export class WafMeter {
  constructor() { this.byIp_ = new Map(); }

  // Returns true when this request must be blocked.
  hit(ip, nowMs, { waf_after_n_requests: n, waf_window_ms: windowMs, waf_cooldown_ms: cooldownMs }) {
    if (!(n > 0)) return false;
    let entry = this.byIp_.get(ip);
    if (!entry) this.byIp_.set(ip, (entry = { times: [], blockedUntil: 0 }));
    if (nowMs < entry.blockedUntil) return true;
    if (entry.blockedUntil) { entry.blockedUntil = 0; entry.times = []; }
    entry.times = entry.times.filter((t) => nowMs - t < windowMs);
    entry.times.push(nowMs);
    if (entry.times.length > n) {
      entry.blockedUntil = nowMs + cooldownMs;
      return true;
    }
    return false;
  }

  blocked(ip, nowMs) {
    return nowMs < (this.byIp_.get(ip)?.blockedUntil ?? 0);
  }
}
