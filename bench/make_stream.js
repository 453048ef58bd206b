// Prints an upstream SSE body with N answer deltas, a usage event and the done event, as the
// upstream sends it; the load benchmark replays it from nginx.
const n = Number(process.argv[2] ?? 64);
const ev = (data) => `data: ${JSON.stringify({ type: 'chat:completion', data })}\n\n`;
let out = '';
for (let i = 0; i < n; i++) out += ev({ delta_content: `w${i} `, phase: 'answer' });
out += ev({ phase: 'other', usage: { prompt_tokens: 5, completion_tokens: n, total_tokens: n + 5 } });
out += ev({ phase: 'done', done: true });
out += 'data: [DONE]\n\n';
process.stdout.write(out);
