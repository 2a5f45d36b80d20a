// The measuring client of the streaming benchmark: one undici request per stream, a timestamp
// (performance.now()) on every body chunk, and every SSE frame in it parsed and checked.
//
// Two stream kinds: 'chat' (a Chat Completions stream, paths A and P) and 'responses' (the
// bridge's /v1/responses stream, path D). A stream's deltas are the content deltas
// (`choices[0].delta.content`, or `response.output_text.delta`); TTFT is the first one.

import { request } from 'undici';

const TERMINAL = new Set(['response.completed', 'response.failed', 'response.incomplete']);
const RESPONSES_ORDER_HEAD = [
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
];
const RESPONSES_ORDER_TAIL = [
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
  'response.completed',
];

/**
 * Runs one stream to its end. Resolves with the timings (ms, relative to the request start),
 * the concatenated text and a list of problems (empty when the stream was valid).
 */
export async function runStream({
  kind,
  url,
  body,
  headers,
  dispatcher,
  expectedText,
  keepTypes = false,
}) {
  const problems = [];
  const deltaTimes = [];
  let text = '';
  let buffer = '';
  let sequence = 0;
  let terminals = 0;
  let lastType;
  let done = false;
  let completedText;
  const types = keepTypes ? [] : undefined;

  const onFrame = (frame, now) => {
    const at = frame.lastIndexOf('data: ');
    if (at === -1) return;
    const data = frame.slice(at + 6);
    if (kind === 'chat') {
      if (data === '[DONE]') {
        done = true;
        return;
      }
      const content = JSON.parse(data).choices?.[0]?.delta?.content;
      if (typeof content === 'string' && content.length > 0) {
        deltaTimes.push(now);
        text += content;
      }
      return;
    }
    const event = JSON.parse(data);
    if (event.sequence_number !== sequence)
      problems.push(`sequence_number ${event.sequence_number} where ${sequence} was due`);
    sequence += 1;
    if (terminals > 0) problems.push(`event ${event.type} after the terminal event`);
    types?.push(event.type);
    lastType = event.type;
    if (event.type === 'response.output_text.delta') {
      deltaTimes.push(now);
      text += event.delta;
    } else if (TERMINAL.has(event.type)) {
      terminals += 1;
      completedText = event.response?.output?.[0]?.content?.[0]?.text;
    }
  };

  const started = performance.now();
  const response = await request(url, { method: 'POST', headers, body, dispatcher });
  const headersAt = performance.now();
  if (response.statusCode !== 200) {
    const errorBody = await response.body.text();
    throw new Error(`${url}: HTTP ${response.statusCode}: ${errorBody.slice(0, 300)}`);
  }
  await new Promise((resolve, reject) => {
    response.body.setEncoding('utf8');
    response.body.on('data', (chunk) => {
      const now = performance.now();
      buffer += chunk;
      let end = buffer.indexOf('\n\n');
      while (end !== -1) {
        onFrame(buffer.slice(0, end), now);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    });
    response.body.on('end', resolve);
    response.body.on('error', reject);
  });
  const ended = performance.now();

  if (buffer.trim() !== '') problems.push(`unterminated frame at the end: ${buffer.slice(0, 80)}`);
  if (expectedText !== undefined && text !== expectedText)
    problems.push(`text differs (${text.length} chars, ${expectedText.length} expected)`);
  if (kind === 'chat' && !done) problems.push('no [DONE]');
  if (kind === 'responses') {
    if (terminals !== 1) problems.push(`${terminals} terminal events`);
    if (lastType !== 'response.completed')
      problems.push(`last event ${lastType}, not response.completed`);
    if (expectedText !== undefined && completedText !== expectedText)
      problems.push('response.completed carries a different text');
  }
  const overheadHeader = Number(response.headers['x-bridge-overhead-ms']);
  const overheadTrailer = Number(response.trailers?.['x-bridge-overhead-ms']);
  return {
    started,
    ttft: deltaTimes.length > 0 ? deltaTimes[0] - started : Number.NaN,
    headersMs: headersAt - started,
    durationMs: ended - started,
    ended,
    deltaTimes,
    deltas: deltaTimes.length,
    text,
    types,
    problems,
    overheadHeader: Number.isFinite(overheadHeader) ? overheadHeader : undefined,
    overheadTrailer: Number.isFinite(overheadTrailer) ? overheadTrailer : undefined,
  };
}

/** The event types a valid single-message raw-lane stream must show, in order. */
export function checkResponsesOrder(types, deltas) {
  const expected = [
    ...RESPONSES_ORDER_HEAD,
    ...Array(deltas).fill('response.output_text.delta'),
    ...RESPONSES_ORDER_TAIL,
  ];
  const problems = [];
  if (types.length !== expected.length)
    problems.push(`${types.length} events, ${expected.length} expected`);
  for (let index = 0; index < Math.min(types.length, expected.length); index += 1) {
    if (types[index] !== expected[index]) {
      problems.push(`event ${index} is ${types[index]}, ${expected[index]} expected`);
      break;
    }
  }
  return problems;
}

/** The lightest possible reader (bytes drained, nothing parsed), for the upstream's own ceiling. */
export async function drainStream({ url, body, headers, dispatcher }) {
  const response = await request(url, { method: 'POST', headers, body, dispatcher });
  let bytes = 0;
  for await (const chunk of response.body) bytes += chunk.length;
  return bytes;
}
