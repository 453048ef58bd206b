// What the fake says inside an SSE response: the envelope, the per-message text buffer of §4.3,
// the default generator of §7.2 step 9, the error frames of §5 and the recorded samples S1–S15.
// Everything here produces a list of complete SSE events (strings ending in "\n\n"); how they are
// cut into writes is transport.js's business.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const SAMPLE_DIR = fileURLToPath(new URL('../fixtures/sse/', import.meta.url));

// Edit indexes count UTF-16 code units, as JavaScript's String does (an emoji counts 2). The
// function exists to name that fact at every place an index is computed.
export function utf16Length(text) {
  return text.length;
}

// The frontend's one string per assistant message, mutated by every event exactly like
// `text.substring(0, edit_index) + edit_content` (substring clamps an index past the end).
export class MessageText {
  constructor() { this.text = ''; }

  // Returns an error string for an event that the real frontend could not have produced
  // consistently (used to prove the generator's own output), else null.
  apply(data) {
    if (!data || typeof data !== 'object') return null;
    if (typeof data.edit_content === 'string') {
      const index = data.edit_index ?? 0;
      if (!Number.isInteger(index) || index < 0) return `bad edit_index ${index}`;
      const problem = index > utf16Length(this.text) ? `edit_index ${index} > length ${utf16Length(this.text)}` : null;
      this.text = this.text.substring(0, index) + data.edit_content;
      return problem;
    }
    if (typeof data.delta_content === 'string') this.text += data.delta_content;
    else if (typeof data.content === 'string') this.text = data.content;
    return null;
  }
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys(value[key]);
  return out;
}

// Compact JSON, non-ASCII written as UTF-8 (JSON.stringify does not escape it).
export function encodeEvent(data, { sorted_keys = false } = {}) {
  const envelope = { type: 'chat:completion', data };
  return `data: ${JSON.stringify(sorted_keys ? sortKeys(envelope) : envelope)}\n\n`;
}

export const DONE_SENTINEL = 'data: [DONE]\n\n';

// §5: errors are carried twice, in data.error and data.data.error, each with done:true.
export function errorPayload(error) {
  return { data: { error, done: true }, error, done: true };
}

export const CONTENT_FILTER_DETAIL = 'Content Security Warning: The content may contain inappropriate content.';

export function contentFilterPayload() {
  return {
    error: { detail: CONTENT_FILTER_DETAIL, content: CONTENT_FILTER_DETAIL },
    message_id: randomUUID(),
    done: true,
    edit_index: 0,
    edit_content: ' ',
    phase: 'other',
  };
}

// Splits text into `count` pieces on code-point boundaries (never inside a surrogate pair).
function splitText(text, count) {
  const points = Array.from(text);
  const n = Math.max(1, Math.min(count, points.length));
  const pieces = [];
  for (let i = 0; i < n; i++) {
    pieces.push(points.slice(Math.floor((i * points.length) / n), Math.floor(((i + 1) * points.length) / n)).join(''));
  }
  return pieces;
}

const tokensOf = (text) => Math.ceil(utf16Length(text) / 4);

// The reasoning block in the markup of the chosen era (§4.4): the deltas that open and fill it,
// and the edit_content that rewrites it as done from just after `done="`.
function reasoningBlock(thinking, era) {
  const lines = thinking.split('\n');
  const quoted = lines.map((line) => `> ${line}`).join('\n');
  if (era === '2025') {
    const attrs = 'view="" last_tool_call_name=""';
    return {
      opener: `<details type="reasoning" done="false" ${attrs}>\n<summary>Thinking…</summary>\n> `,
      lines,
      closer: `true" duration="1" ${attrs}>\n<summary>Thought for 1 seconds</summary>\n${quoted}\n</details>`,
      answerLead: '\n', // 2025: the answer follows as "\n…" deltas
    };
  }
  return { opener: '<details type="reasoning" done="false">\n> ', lines, closer: `true">\n${quoted}\n</details>\n`, answerLead: null };
}

// The default generator. Returns { events, finalText } with every event checked against the
// message buffer; an inconsistency is a bug in the fake and throws.
export function generateAnswer({ prompt, thinking, knobs }) {
  const buffer = new MessageText();
  const events = [];
  const emit = (data) => {
    const problem = buffer.apply(data);
    if (problem) throw new Error(`fake generator produced an inconsistent event: ${problem}`);
    events.push(encodeEvent(data, knobs));
  };
  const answer = knobs.answer_text ?? `${knobs.answer_prefix}${prompt}`;

  if (knobs.answer_deltas > 0) {
    // Fast mode for benchmarks: many small deltas, nothing else to compute.
    const pieces = knobs.answer_text === null
      ? Array.from({ length: knobs.answer_deltas }, (_, i) => `w${i} `)
      : splitText(knobs.answer_text, knobs.answer_deltas);
    for (const piece of pieces) emit({ delta_content: piece, phase: 'answer' });
  } else {
    let pieces = splitText(answer, knobs.answer_pieces);
    if (thinking) {
      const block = reasoningBlock(knobs.thinking_text, knobs.markup_era);
      emit({ delta_content: block.opener, phase: 'thinking' });
      block.lines.forEach((line, i) => emit({ delta_content: i === 0 ? line : `\n> ${line}`, phase: 'thinking' }));
      const editIndex = buffer.text.lastIndexOf('done="') + utf16Length('done="');
      if (block.answerLead === null) {
        emit({ edit_index: editIndex, edit_content: block.closer + pieces[0], phase: 'answer' });
        pieces = pieces.slice(1);
      } else {
        emit({ edit_index: editIndex, edit_content: block.closer, phase: 'answer' });
        pieces[0] = block.answerLead + pieces[0];
      }
    }
    pieces.forEach((piece, i) => {
      const last = i === pieces.length - 1 && i > 0;
      if (last && knobs.final_tail_edit) emit({ edit_index: utf16Length(buffer.text), edit_content: piece, phase: 'answer' });
      else emit({ delta_content: piece, phase: 'answer' });
    });
  }

  const completionTokens = tokensOf(buffer.text);
  const promptTokens = tokensOf(prompt);
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, prompt_tokens_details: {} };
  if (knobs.usage_on_done) {
    emit({ phase: 'done', done: true, usage });
  } else {
    emit({ phase: 'other', usage });
    emit({ phase: 'done', done: true });
  }
  if (knobs.emit_done_sentinel) events.push(DONE_SENTINEL);
  return { events, finalText: buffer.text };
}

// §5 content filter: a few answer deltas, then the frame that wipes the text.
export function generateContentFilter(knobs) {
  const events = [];
  for (let i = 0; i < knobs.content_filter_deltas; i++) {
    events.push(encodeEvent({ delta_content: i === 0 ? 'Sure, here is' : ' more', phase: 'answer' }, knobs));
  }
  events.push(encodeEvent(contentFilterPayload(), knobs));
  if (knobs.error_done_sentinel) events.push(DONE_SENTINEL);
  return events;
}

export function generateError(error, knobs) {
  const events = [encodeEvent(errorPayload(error), knobs)];
  if (knobs.error_done_sentinel) events.push(DONE_SENTINEL);
  return events;
}

// Objects are payloads wrapped in the envelope; strings are written as they are.
export function scriptedEvents(list, knobs) {
  return list.map((item) => (typeof item === 'string' ? item : encodeEvent(item, knobs)));
}

const sampleCache = new Map();

export function sampleName(name) {
  const m = /^S0?([1-9]|1[0-5])$/i.exec(String(name));
  return m ? `S${m[1].padStart(2, '0')}` : null;
}

// A sample's events, byte for byte as in the fixture file (each "data: …\n\n").
export function loadSample(name) {
  const canonical = sampleName(name);
  if (!canonical) throw new Error(`unknown sample ${name}`);
  if (!sampleCache.has(canonical)) {
    const text = readFileSync(join(SAMPLE_DIR, `${canonical}.sse`), 'utf8');
    const events = [];
    let start = 0;
    for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n', start)) {
      events.push(text.slice(start, end + 2));
      start = end + 2;
    }
    if (start < text.length) events.push(text.slice(start));
    sampleCache.set(canonical, Object.freeze(events));
  }
  return sampleCache.get(canonical);
}

// The buffer a list of SSE events leaves behind (for the request record), tolerant of any input.
export function finalTextOf(events) {
  const buffer = new MessageText();
  for (const event of events) {
    for (const line of event.split('\n')) {
      if (!line.startsWith('data:')) continue;
      try {
        buffer.apply(JSON.parse(line.slice(5))?.data);
      } catch { /* not JSON: [DONE] or raw text */ }
    }
  }
  return buffer.text;
}
