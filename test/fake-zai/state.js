// Everything the fake remembers between requests: config and clock, users, captchas, chats,
// queued scripts, recorded requests and counters. Tests reach it through the control API or,
// in-process, through startFake().state. Every change emits 'change' so waiters re-check
// instead of sleeping.
import { EventEmitter } from 'node:events';
import { makeConfig, checkPatch } from './config.js';
import { UserBook } from './guests.js';
import { CaptchaDesk } from './captcha.js';
import { WafMeter } from './waf.js';
import { checkScript } from './scripts.js';

function freshCounters() {
  return {
    requests_total: 0,
    chats_created: 0,
    chats_deleted: 0,
    waf_blocks: 0,
    scripts_used: 0,
    completions: { total: 0, by_outcome: {} },
    streams: { started: 0, completed: 0, aborted: 0, truncated: 0 },
  };
}

export class FakeState extends EventEmitter {
  constructor(configPatch = {}) {
    super();
    this.setMaxListeners(0);
    this.startConfig_ = makeConfig(configPatch);
    this.clock = () => (this.config.clock_ms ?? Date.now() + this.config.clock_offset_ms);
    this.users = new UserBook(this.clock);
    // Live gauges survive reset: they describe sockets and responses that still exist.
    this.open = { connections: 0, controlConnections: 0, requests: 0, streams: 0 };
    this.connectionsTotal = 0;
    this.reset({ users: true });
  }

  reset({ users = false } = {}) {
    this.config = structuredClone(this.startConfig_);
    if (users) this.users = new UserBook(this.clock);
    else this.users.minted = 0;
    this.captchas = new CaptchaDesk(this.clock);
    this.chats = new Map();
    this.scripts = [];
    this.nextScriptId_ = 1;
    this.records = [];
    this.nextSeq_ = 1;
    this.waf = new WafMeter();
    this.inflight = new Map();
    this.rpm = new Map();
    this.counters = freshCounters();
    this.changed();
  }

  changed() { this.emit('change'); }

  setConfig(patch) {
    const problem = checkPatch(patch);
    if (problem) return problem;
    Object.assign(this.config, structuredClone(patch));
    this.changed();
    return null;
  }

  record(entry) {
    entry.seq = this.nextSeq_++;
    this.records.push(entry);
    const excess = this.records.length - this.config.max_recorded_requests;
    if (excess > 0) this.records.splice(0, excess);
    this.counters.requests_total++;
    return entry;
  }

  countOutcome(result) {
    const by = this.counters.completions.by_outcome;
    by[result] = (by[result] ?? 0) + 1;
    this.changed();
  }

  // Scripts: FIFO; the first whose `match` and `stage` fit is applied and its `times` spent.
  enqueue(input) {
    const list = Array.isArray(input) ? input : Array.isArray(input?.scripts) ? input.scripts : [input];
    const ready = [];
    for (const raw of list) {
      const checked = checkScript(raw);
      if (typeof checked === 'string') return { error: checked };
      ready.push({ id: this.nextScriptId_++, ...checked });
    }
    this.scripts.push(...ready);
    this.changed();
    return { ids: ready.map((s) => s.id) };
  }

  takeScript(facts, stage) {
    const index = this.scripts.findIndex((s) => s.stage === stage
      && Object.entries(s.match).every(([key, want]) => facts[key] === want));
    if (index < 0) return null;
    const script = this.scripts[index];
    if (script.times > 0 && --script.times === 0) this.scripts.splice(index, 1);
    this.counters.scripts_used++;
    this.changed();
    return script;
  }

  // Per-user concurrency: a slot is held from step 7 until the response is over.
  acquireSlot(key) {
    this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = this.inflight.get(key) - 1;
      if (n > 0) this.inflight.set(key, n);
      else this.inflight.delete(key);
      this.changed();
    };
  }

  stats() {
    return {
      ...structuredClone(this.counters),
      guests_minted: this.users.minted,
      users: this.users.size,
      captchas_minted: this.captchas.minted,
      captchas_consumed: this.captchas.consumed,
      chats_open: this.chats.size,
      connections_total: this.connectionsTotal,
      open_connections: this.open.connections,
      open_control_connections: this.open.controlConnections,
      open_requests: this.open.requests,
      open_streams: this.open.streams,
      inflight: Object.fromEntries(this.inflight),
      scripts_pending: this.scripts.length,
      now_ms: this.clock(),
    };
  }

  // Resolves with the stats once `predicate(stats)` holds; rejects after timeoutMs or on close.
  waitFor(predicate, timeoutMs = 5000, signal) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const stats = this.stats();
        if (!predicate(stats)) return false;
        done();
        resolve(stats);
        return true;
      };
      const timer = setTimeout(() => { done(); reject(Object.assign(new Error('timed out'), { stats: this.stats() })); }, timeoutMs);
      const onAbort = () => { done(); reject(new Error('fake closed')); };
      const done = () => {
        clearTimeout(timer);
        this.off('change', check);
        signal?.removeEventListener('abort', onAbort);
      };
      if (check()) return;
      this.on('change', check);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
