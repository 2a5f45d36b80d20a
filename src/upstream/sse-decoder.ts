/**
 * Server-sent events from raw bytes (WHATWG HTML "event stream interpretation"): lines end in
 * CR, LF or CRLF, a multi-byte UTF-8 character may be split across network chunks, `data:` lines
 * accumulate until a blank line, and `event:` names the event (Anthropic Messages sends one on
 * every frame, wire-protocol.md §6.6). Comments (`:`) and unknown fields are ignored.
 */
export interface SseEvent {
  /** The `event:` name, or undefined for the default `message` type. */
  readonly event: string | undefined;
  readonly data: string;
}

/** How much of a body without any event we keep, to parse it as plain JSON at the end. */
const maxRawBytes = 16 * 1024 * 1024;

export class SseDecoder {
  private readonly decoder = new TextDecoder('utf-8');
  private buffer = '';
  /** The previous chunk ended in CR, so an LF at the start of this one belongs to it. */
  private pendingCR = false;
  private eventName: string | undefined;
  private dataLines: string[] = [];
  private sawField = false;
  private eventsSeen = 0;
  private raw = '';

  /** Feeds one network chunk; returns the events it completed. */
  push(chunk: Uint8Array): SseEvent[] {
    const text = this.decoder.decode(chunk, { stream: true });
    return this.consume(text);
  }

  /** Flushes at end of input; an event without its closing blank line is still dispatched. */
  end(): SseEvent[] {
    const events = this.consume(this.decoder.decode());
    if (this.buffer.length > 0) {
      this.processLine(this.buffer, events);
      this.buffer = '';
    }
    this.dispatch(events);
    return events;
  }

  /**
   * The whole body when it never contained an SSE field: a server that ignored `stream: true`
   * answers with one JSON object (original-bridge.md §2.11 accepted that too).
   */
  rawBodyIfNotSse(): string | undefined {
    return this.eventsSeen === 0 && !this.sawField ? this.raw : undefined;
  }

  private consume(text: string): SseEvent[] {
    const events: SseEvent[] = [];
    if (text.length === 0) return events;
    if (this.eventsSeen === 0 && this.raw.length < maxRawBytes) this.raw += text;
    let data = text;
    if (this.pendingCR) {
      this.pendingCR = false;
      if (data.startsWith('\n')) data = data.slice(1);
    }
    this.buffer += data;
    let start = 0;
    for (let index = 0; index < this.buffer.length; index += 1) {
      const code = this.buffer.charCodeAt(index);
      if (code !== 10 && code !== 13) continue;
      this.processLine(this.buffer.slice(start, index), events);
      if (code === 13) {
        if (index + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(index + 1) === 10) index += 1;
        } else {
          this.pendingCR = true;
        }
      }
      start = index + 1;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  private processLine(line: string, events: SseEvent[]): void {
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.sawField = true;
        this.dataLines.push(value);
        break;
      case 'event':
        this.sawField = true;
        this.eventName = value;
        break;
      case 'id':
      case 'retry':
        this.sawField = true;
        break;
      default:
        break;
    }
  }

  private dispatch(events: SseEvent[]): void {
    if (this.dataLines.length > 0) {
      events.push({ event: this.eventName, data: this.dataLines.join('\n') });
      this.eventsSeen += 1;
      this.raw = '';
    }
    this.dataLines = [];
    this.eventName = undefined;
  }
}
