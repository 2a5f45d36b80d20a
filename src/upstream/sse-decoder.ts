import { createParser, type EventSourceParser } from 'eventsource-parser';

/**
 * Server-sent events from raw bytes, parsed by `eventsource-parser` (WHATWG event stream
 * interpretation: CR, LF or CRLF line ends, `data:` lines joined until a blank line, `event:`
 * names the event, comments and unknown fields ignored). This wrapper adds what the upstream
 * client needs on top: UTF-8 decoding across network chunks, events returned per chunk, a final
 * event dispatched at end of input even without its blank line, the body kept when it turns out
 * not to be SSE at all, and whether a chunk carried anything but comments.
 */
export interface SseEvent {
  /** The `event:` name, or undefined for the default `message` type. */
  readonly event: string | undefined;
  readonly data: string;
}

/** How much of a body without any event we keep, to parse it as plain JSON at the end. */
const maxRawBytes = 16 * 1024 * 1024;
const sseField = /^(?:data|event|id|retry)(?::|$)/m;

export class SseDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  private pending: SseEvent[] = [];
  private eventsSeen = 0;
  private raw = '';
  private lineStart = true;
  private inComment = false;
  private content = false;

  constructor() {
    this.parser = createParser({
      onEvent: (message) => {
        this.pending.push({ event: message.event, data: message.data });
        this.eventsSeen += 1;
        this.raw = '';
      },
    });
  }

  /** Feeds one network chunk; returns the events it completed. */
  push(chunk: Uint8Array): SseEvent[] {
    return this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  /** Flushes at end of input; an event without its closing blank line is still dispatched. */
  end(): SseEvent[] {
    const events = this.feed(this.decoder.decode());
    // Blank lines end a partial last line and dispatch the event it belongs to.
    this.parser.feed('\n\n\n');
    events.push(...this.take());
    return events;
  }

  /**
   * Whether the last chunk held anything but comments and blank lines: an upstream that sends
   * only `: ping` is silent as far as the idle deadline goes.
   */
  lastChunkHadContent(): boolean {
    return this.content;
  }

  /**
   * The whole body when it never contained an SSE field: a server that ignored `stream: true`
   * answers with one JSON object (original-bridge.md §2.11 accepted that too).
   */
  rawBodyIfNotSse(): string | undefined {
    return this.eventsSeen === 0 && !sseField.test(this.raw) ? this.raw : undefined;
  }

  private feed(text: string): SseEvent[] {
    if (text.length === 0) {
      this.content = false;
      return [];
    }
    if (this.eventsSeen === 0 && this.raw.length < maxRawBytes) this.raw += text;
    this.parser.feed(text);
    const events = this.take();
    this.content = this.track(text, events.length > 0);
    return events;
  }

  private take(): SseEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  /**
   * Follows line starts across chunks to tell comment lines from the rest. A chunk that
   * completed an event had content; only the line state at its end is then worked out.
   */
  private track(text: string, completedEvent: boolean): boolean {
    if (!completedEvent) {
      let content = false;
      for (let index = 0; index < text.length; index++) {
        const code = text.charCodeAt(index);
        if (code === 10 || code === 13) {
          this.lineStart = true;
          continue;
        }
        if (this.lineStart) {
          this.lineStart = false;
          this.inComment = code === 58;
        }
        if (!this.inComment) content = true;
      }
      return content;
    }
    const lastBreak = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    if (lastBreak === text.length - 1) this.lineStart = true;
    else if (lastBreak !== -1) {
      this.lineStart = false;
      this.inComment = text.charCodeAt(lastBreak + 1) === 58;
    } else if (this.lineStart) {
      this.lineStart = false;
      this.inComment = text.charCodeAt(0) === 58;
    }
    return true;
  }
}
