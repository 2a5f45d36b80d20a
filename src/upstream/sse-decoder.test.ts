import { describe, expect, it } from 'vitest';
import { SseDecoder, type SseEvent } from './sse-decoder.js';

const encoder = new TextEncoder();

function decodeInChunks(bytes: Uint8Array, size: number): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) {
    events.push(...decoder.push(bytes.subarray(offset, offset + size)));
  }
  events.push(...decoder.end());
  return events;
}

describe('SseDecoder', () => {
  const stream =
    'data: {"a":1}\n\n' +
    ': keep-alive comment\n\n' +
    'event: content_block_delta\ndata: {"type":"content_block_delta"}\n\n' +
    'data: line one\ndata: line two\n\n' +
    'data: [DONE]\n\n';
  const expected: SseEvent[] = [
    { event: undefined, data: '{"a":1}' },
    { event: 'content_block_delta', data: '{"type":"content_block_delta"}' },
    { event: undefined, data: 'line one\nline two' },
    { event: undefined, data: '[DONE]' },
  ];

  it('decodes a whole stream in one chunk', () => {
    expect(decodeInChunks(encoder.encode(stream), 1 << 20)).toEqual(expected);
  });

  it('decodes the same stream fed one byte at a time', () => {
    expect(decodeInChunks(encoder.encode(stream), 1)).toEqual(expected);
  });

  it('accepts CRLF and bare CR line endings, including a CRLF split across chunks', () => {
    const crlf = stream.replaceAll('\n', '\r\n');
    const cr = stream.replaceAll('\n', '\r');
    expect(decodeInChunks(encoder.encode(crlf), 1)).toEqual(expected);
    expect(decodeInChunks(encoder.encode(crlf), 3)).toEqual(expected);
    expect(decodeInChunks(encoder.encode(cr), 1)).toEqual(expected);
    expect(decodeInChunks(encoder.encode(cr), 1 << 20)).toEqual(expected);
  });

  it('reassembles multi-byte UTF-8 characters split across chunks', () => {
    const text = 'data: {"t":"héllo – 世界 🚀"}\n\n';
    const bytes = encoder.encode(text);
    for (const size of [1, 2, 3, 5]) {
      expect(decodeInChunks(bytes, size)).toEqual([
        { event: undefined, data: '{"t":"héllo – 世界 🚀"}' },
      ]);
    }
  });

  it('dispatches a final event that lacks its blank line at end of input', () => {
    expect(decodeInChunks(encoder.encode('data: {"cost":"0.1"}'), 4)).toEqual([
      { event: undefined, data: '{"cost":"0.1"}' },
    ]);
  });

  it('handles a field without a space after the colon and ignores id/retry', () => {
    expect(decodeInChunks(encoder.encode('id: 7\nretry: 100\ndata:{"x":true}\n\n'), 2)).toEqual([
      { event: undefined, data: '{"x":true}' },
    ]);
  });

  it('keeps a body that never contained an SSE field, for servers that ignore stream:true', () => {
    const decoder = new SseDecoder();
    const body = '{"id":"chatcmpl-1","choices":[{"message":{"content":"hi"}}]}';
    expect(decoder.push(encoder.encode(body.slice(0, 10)))).toEqual([]);
    expect(decoder.push(encoder.encode(body.slice(10)))).toEqual([]);
    expect(decoder.end()).toEqual([]);
    expect(decoder.rawBodyIfNotSse()).toBe(body);
  });

  it('reports no raw body once events were seen', () => {
    const decoder = new SseDecoder();
    decoder.push(encoder.encode('data: 1\n\n'));
    decoder.end();
    expect(decoder.rawBodyIfNotSse()).toBeUndefined();
  });
});

describe('SseDecoder.lastChunkHadContent (issue 9 Low #9: comments do not count as activity)', () => {
  it('is false for chunks of comments and blank lines, true once data arrives', () => {
    const decoder = new SseDecoder();
    const seen = [': ping\n\n', ': pi', 'ng again\n', '\n', 'data: {"a"', ':1}\n\n', ': bye\n'].map(
      (chunk) => {
        decoder.push(encoder.encode(chunk));
        return decoder.lastChunkHadContent();
      },
    );
    expect(seen).toEqual([false, false, false, false, true, true, false]);
  });
});
