// A minimal Chat Completions SSE upstream for the streaming benchmarks (plain node:http).
//
// Every frame is rendered once at start-up, so the server's own cost per stream is a handful of
// socket writes: its ceiling sits well above the project mock's (dist/demo), which renders,
// awaits and listens for aborts per frame. The pace is switched between phases with setPace().

import { createServer } from 'node:http';

/** 64 deltas of 16 ASCII bytes; each has a quote and a backslash so JSON escaping is exercised. */
export function benchPieces(count = 64, size = 16) {
  const pieces = [];
  for (let index = 0; index < count; index += 1) {
    const head = `d${String(index).padStart(2, '0')} "q\\ `;
    pieces.push((head + 'abcdefghijklmnopqrstuvwxyz').slice(0, size));
  }
  return pieces;
}

function chunkFrame(choices, extra = {}) {
  const body = {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created: 1_767_225_600,
    model: 'kimi-k2.6',
    choices,
    ...extra,
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** The frames of one stream: [role frame, ...content frames] and the tail (finish, usage, [DONE]). */
export function renderChatFrames(pieces) {
  const open = chunkFrame([
    { index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null },
  ]);
  const content = pieces.map((piece) =>
    chunkFrame([{ index: 0, delta: { content: piece }, finish_reason: null }]),
  );
  const tail =
    chunkFrame([{ index: 0, delta: {}, finish_reason: 'stop' }]) +
    chunkFrame([], {
      usage: {
        prompt_tokens: 12,
        completion_tokens: pieces.length,
        total_tokens: 12 + pieces.length,
      },
    }) +
    'data: [DONE]\n\n';
  return { open, content, tail };
}

/**
 * Starts the upstream on 127.0.0.1. POST /v1/chat/completions streams the frames: the role frame
 * and the first delta at once, then one delta every `paceMs` (all at once when 0), then the tail.
 */
export async function startSseUpstream({ pieces = benchPieces(), paceMs = 0, port = 0 } = {}) {
  const frames = renderChatFrames(pieces);
  let pace = paceMs;
  let streams = 0;
  const models = JSON.stringify({
    object: 'list',
    data: [{ id: 'kimi-k2.6', object: 'model', owned_by: 'bench' }],
  });

  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(models);
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"no route"}}');
      return;
    }
    // The body is drained, never parsed: every request gets the same stream.
    req.resume();
    req.on('end', () => {
      streams += 1;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
      });
      const streamPace = pace;
      if (streamPace <= 0) {
        res.write(frames.open);
        for (const frame of frames.content) res.write(frame);
        res.end(frames.tail);
        return;
      }
      res.write(frames.open);
      res.write(frames.content[0]);
      let next = 1;
      let timer;
      const tick = () => {
        if (res.destroyed) return;
        res.write(frames.content[next]);
        next += 1;
        if (next < frames.content.length) timer = setTimeout(tick, streamPace);
        else res.end(frames.tail);
      };
      if (next < frames.content.length) timer = setTimeout(tick, streamPace);
      else res.end(frames.tail);
      res.on('close', () => clearTimeout(timer));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}`,
    setPace(ms) {
      pace = ms;
    },
    get streams() {
      return streams;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
