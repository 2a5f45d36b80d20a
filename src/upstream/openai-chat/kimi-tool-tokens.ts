/**
 * Kimi K2 sometimes writes its tool calls into `content` as special tokens instead of
 * `tool_calls` (wire-protocol.md §5, "Kimi quirks"):
 *
 *   <|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path":"a"}<|tool_call_end|><|tool_calls_section_end|>
 *
 * Left alone, a client sees that markup as the answer and no call is ever made. This filter sits
 * on the streamed content: text outside a section passes through (a tail that could be the start
 * of a marker is held until the next chunk tells), and each complete section becomes real calls.
 */
export interface KimiToolCall {
  /** Kimi's own id, `functions.read_file:0`, kept verbatim like Kimi's tool_calls ids. */
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

const SECTION_BEGIN = '<|tool_calls_section_begin|>';
const SECTION_END = '<|tool_calls_section_end|>';
const CALL =
  /<\|tool_call_begin\|>\s*([^<]*?)\s*<\|tool_call_argument_begin\|>([\s\S]*?)<\|tool_call_end\|>/g;

export class KimiToolTokenFilter {
  private pending = '';
  private inSection = false;
  private seen = 0;

  /** True once any section was seen (the turn then ends as a tool-call turn). */
  get sawCalls(): boolean {
    return this.seen > 0;
  }

  push(chunk: string): { text: string; calls: KimiToolCall[] } {
    this.pending += chunk;
    let text = '';
    const calls: KimiToolCall[] = [];
    for (;;) {
      if (!this.inSection) {
        const begin = this.pending.indexOf(SECTION_BEGIN);
        if (begin === -1) {
          const hold = partialMarkerLength(this.pending, SECTION_BEGIN);
          text += this.pending.slice(0, this.pending.length - hold);
          this.pending = this.pending.slice(this.pending.length - hold);
          break;
        }
        text += this.pending.slice(0, begin);
        this.pending = this.pending.slice(begin + SECTION_BEGIN.length);
        this.inSection = true;
        continue;
      }
      const end = this.pending.indexOf(SECTION_END);
      if (end === -1) break;
      calls.push(...this.parse(this.pending.slice(0, end)));
      this.pending = this.pending.slice(end + SECTION_END.length);
      this.inSection = false;
    }
    return { text, calls };
  }

  /** At the end of the stream: held text is text after all; an unclosed section still counts. */
  end(): { text: string; calls: KimiToolCall[] } {
    const rest = this.pending;
    this.pending = '';
    if (!this.inSection) return { text: rest, calls: [] };
    this.inSection = false;
    return { text: '', calls: this.parse(rest) };
  }

  private parse(section: string): KimiToolCall[] {
    const calls: KimiToolCall[] = [];
    for (const match of section.matchAll(CALL)) {
      const id = (match[1] ?? '').trim();
      const name = id.replace(/^functions\./, '').replace(/:\d+$/, '');
      if (name === '') continue;
      this.seen += 1;
      calls.push({ id, name, arguments: (match[2] ?? '').trim() });
    }
    return calls;
  }
}

/** How many trailing characters of `text` are a proper prefix of `marker`. */
function partialMarkerLength(text: string, marker: string): number {
  const max = Math.min(text.length, marker.length - 1);
  for (let length = max; length > 0; length -= 1) {
    if (marker.startsWith(text.slice(text.length - length))) return length;
  }
  return 0;
}
