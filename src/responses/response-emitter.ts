import { randomUUID } from 'node:crypto';
import type { BridgeError } from '../errors/index.js';
import type { TokenUsage } from '../usage/index.js';
import { encodeReasoning } from './reasoning-carrier.js';

/** A Responses stream event before the SSE writer stamps its `sequence_number`. */
export interface ResponseEvent {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface ResponseEventSink {
  write(event: ResponseEvent): void;
}

export type OutputItem = Record<string, unknown> & { type: string; id: string };

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens?: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface EmitterOptions {
  readonly model: string;
  readonly sink: ResponseEventSink;
  /**
   * Hold every item's closing events (`output_text.done`, `content_part.done`,
   * `output_item.done`) until `complete()`. Codex keeps items that reached `output_item.done`
   * across its retries, so a stream that later fails would duplicate them (wire-protocol.md
   * finding 4). The raw lane holds; the managed lane, whose items are final when written, does not.
   */
  readonly holdItemDone: boolean;
  /** Put the exact reasoning text in `encrypted_content` (requested via `include`). */
  readonly includeEncryptedReasoning: boolean;
  /** Request fields echoed in the response object. */
  readonly echo?: Readonly<Record<string, unknown>>;
  /**
   * Called with the final object of a completed or incomplete response just before its terminal
   * event is sent (the response store keeps it here, so a client that reacts to the event can
   * chain from it at once). Fields it returns replace the echoed ones (a failed save says
   * `store: false`).
   */
  readonly onSettled?: (
    response: Record<string, unknown>,
  ) => Readonly<Record<string, unknown>> | undefined;
}

type Status = 'in_progress' | 'completed' | 'failed' | 'incomplete';

/**
 * 24 hex characters, as before. randomUUID draws from a buffered pool of random bytes, where a
 * randomBytes call per id cost a measurable share of a small streamed response.
 */
export function newId(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

export function toResponseUsage(usage: TokenUsage | undefined): ResponseUsage {
  const input = usage?.input_tokens ?? 0;
  const output = usage?.output_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: {
      cached_tokens: usage?.cached_input_tokens ?? 0,
      ...(usage?.cache_write_tokens ? { cache_write_tokens: usage.cache_write_tokens } : {}),
    },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: usage?.reasoning_tokens ?? 0 },
    total_tokens: usage?.total_tokens || input + output,
  };
}

/**
 * Turns lane actions into the canonical Responses event order (wire-protocol.md §3.3) and the
 * final response object. It knows nothing about HTTP: its sink is the SSE writer for a stream,
 * or nothing at all for `stream: false` (the caller then reads `response()`).
 */
export class ResponseEmitter {
  readonly id = newId('resp');
  readonly createdAt = Math.floor(Date.now() / 1000);
  private readonly output: (OutputItem | undefined)[] = [];
  private readonly held: { readonly item: OutputItem; readonly flush: () => void }[] = [];
  private overrides: Readonly<Record<string, unknown>> = {};
  private status: Status = 'in_progress';
  private usage: ResponseUsage | null = null;
  private error: { code: string; message: string } | null = null;
  private incompleteReason: string | null = null;
  private started = false;

  constructor(private readonly options: EmitterOptions) {}

  get finished(): boolean {
    return this.status !== 'in_progress';
  }

  /** Output items that reached `done` (and, for a completed response, all of them). */
  get items(): readonly OutputItem[] {
    return this.output.filter((item): item is OutputItem => item !== undefined);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.emit({ type: 'response.created', response: this.response() });
    this.emit({ type: 'response.in_progress', response: this.response() });
  }

  addMessage(options: { phase?: string; metadata?: Record<string, unknown> } = {}): MessageWriter {
    const extra = {
      ...(options.phase ? { phase: options.phase } : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    };
    const { id, index } = this.openItem('msg', (itemId) => ({
      id: itemId,
      type: 'message',
      role: 'assistant',
      status: 'in_progress',
      content: [],
      ...extra,
    }));
    this.emit({
      type: 'response.content_part.added',
      item_id: id,
      output_index: index,
      content_index: 0,
      part: { type: 'output_text', text: '', annotations: [] },
    });
    return accumulate(
      (chunk) =>
        this.emit({
          type: 'response.output_text.delta',
          item_id: id,
          output_index: index,
          content_index: 0,
          delta: chunk,
          logprobs: [],
        }),
      (text) => {
        const part = { type: 'output_text', text, annotations: [] };
        const item: OutputItem = {
          id,
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [part],
          ...extra,
        };
        this.close(index, item, () => {
          this.emit({
            type: 'response.output_text.done',
            item_id: id,
            output_index: index,
            content_index: 0,
            text,
            logprobs: [],
          });
          this.emit({
            type: 'response.content_part.done',
            item_id: id,
            output_index: index,
            content_index: 0,
            part,
          });
        });
      },
    );
  }

  /** A whole message at once (managed lane commentary and reports). */
  message(
    text: string,
    options: { phase?: string; metadata?: Record<string, unknown> } = {},
  ): void {
    const writer = this.addMessage(options);
    writer.delta(text);
    writer.finish();
  }

  /**
   * A reasoning item. Upstream thinking also carries its exact text in `content` (and, when asked,
   * `encrypted_content`) so it comes back on the next turn; a summary-only item is commentary.
   */
  addReasoning(options: { summaryOnly?: boolean } = {}): ReasoningWriter {
    let signature: string | undefined;
    const { id, index } = this.openItem('rs', (itemId) => ({
      id: itemId,
      type: 'reasoning',
      summary: [],
    }));
    this.emit({
      type: 'response.reasoning_summary_part.added',
      item_id: id,
      output_index: index,
      summary_index: 0,
      part: { type: 'summary_text', text: '' },
    });
    const writer = accumulate(
      (chunk) =>
        this.emit({
          type: 'response.reasoning_summary_text.delta',
          item_id: id,
          output_index: index,
          summary_index: 0,
          delta: chunk,
        }),
      (text) => {
        // The summary is what Codex shows; `content` and `encrypted_content` carry the exact
        // text back to us on the next turn (wire-protocol.md §6.3, finding 8).
        const summary = [{ type: 'summary_text', text }];
        const item: OutputItem = options.summaryOnly
          ? { id, type: 'reasoning', summary }
          : {
              id,
              type: 'reasoning',
              summary,
              content: [{ type: 'reasoning_text', text }],
              // A signed thinking block is useless without its signature, so it always travels.
              ...(this.options.includeEncryptedReasoning || signature !== undefined
                ? { encrypted_content: encodeReasoning(text, signature) }
                : {}),
            };
        this.close(index, item, () => {
          this.emit({
            type: 'response.reasoning_summary_text.done',
            item_id: id,
            output_index: index,
            summary_index: 0,
            text,
          });
          this.emit({
            type: 'response.reasoning_summary_part.done',
            item_id: id,
            output_index: index,
            summary_index: 0,
            part: { type: 'summary_text', text },
          });
        });
      },
    );
    return {
      delta: (chunk) => writer.delta(chunk),
      finish: () => writer.finish(),
      sign: (part) => {
        signature = (signature ?? '') + part;
      },
    };
  }

  /**
   * One progress line as its own reasoning item with a summary only: Codex shows it as a
   * `reasoning` item before the answer, and it never counts as the answer (docs/decisions/0001).
   */
  commentary(text: string): void {
    const writer = this.addReasoning({ summaryOnly: true });
    writer.delta(text);
    writer.finish();
  }

  addFunctionCall(call: { callId: string; name: string; namespace?: string }): ArgumentsWriter {
    const { id, index } = this.openItem('fc', (itemId) => ({
      ...toolCallBase(itemId, 'function_call', call),
      status: 'in_progress',
      arguments: '',
    }));
    const base = toolCallBase(id, 'function_call', call);
    return accumulate(
      (chunk) =>
        this.emit({
          type: 'response.function_call_arguments.delta',
          item_id: id,
          output_index: index,
          delta: chunk,
        }),
      (args) => {
        const item: OutputItem = { ...base, status: 'completed', arguments: args };
        this.close(index, item, () => {
          this.emit({
            type: 'response.function_call_arguments.done',
            item_id: id,
            output_index: index,
            name: call.name,
            arguments: args,
          });
        });
      },
    );
  }

  /** A freeform tool call; its input is known only once the upstream's JSON arguments are whole. */
  customToolCall(call: { callId: string; name: string; namespace?: string; input: string }): void {
    const { id, index } = this.openItem('ctc', (itemId) => ({
      ...toolCallBase(itemId, 'custom_tool_call', call),
      status: 'in_progress',
      input: '',
    }));
    const base = toolCallBase(id, 'custom_tool_call', call);
    this.emit({
      type: 'response.custom_tool_call_input.delta',
      item_id: id,
      output_index: index,
      delta: call.input,
    });
    const item: OutputItem = { ...base, status: 'completed', input: call.input };
    this.close(index, item, () => {
      this.emit({
        type: 'response.custom_tool_call_input.done',
        item_id: id,
        output_index: index,
        input: call.input,
      });
    });
  }

  complete(usage?: TokenUsage): void {
    this.settle('completed', usage);
  }

  incomplete(reason: 'max_output_tokens' | 'content_filter', usage?: TokenUsage): void {
    this.settle('incomplete', usage, reason);
  }

  /** A clean end: held items are released (done) before the one terminal event. */
  private settle(
    status: 'completed' | 'incomplete',
    usage: TokenUsage | undefined,
    reason?: string,
  ): void {
    if (this.finished) return;
    this.start();
    // The item being written when the output was cut is truncated, whatever its writer said.
    const last = this.held.at(-1)?.item;
    if (status === 'incomplete' && last !== undefined) last['status'] = 'incomplete';
    for (const { flush } of this.held.splice(0)) flush();
    this.usage = toResponseUsage(usage);
    this.status = status;
    if (reason !== undefined) this.incompleteReason = reason;
    this.overrides = this.options.onSettled?.(this.response()) ?? {};
    this.emit({ type: `response.${status}`, response: this.response() });
  }

  /** Ends the response as failed; held items are dropped, never marked done. */
  fail(error: BridgeError, usage?: TokenUsage): void {
    if (this.finished) return;
    this.start();
    this.held.length = 0;
    this.usage = usage ? toResponseUsage(usage) : null;
    this.status = 'failed';
    this.error = { code: error.failedCode, message: error.message };
    this.emit({ type: 'response.failed', response: this.response() });
  }

  /** The response object as it stands (the terminal event's payload, or the JSON body). */
  response(): Record<string, unknown> {
    return {
      id: this.id,
      object: 'response',
      created_at: this.createdAt,
      status: this.status,
      model: this.options.model,
      output: this.items,
      error: this.error,
      incomplete_details: this.incompleteReason ? { reason: this.incompleteReason } : null,
      instructions: null,
      tools: [],
      tool_choice: 'auto',
      parallel_tool_calls: true,
      temperature: null,
      top_p: null,
      max_output_tokens: null,
      previous_response_id: null,
      reasoning: null,
      text: { format: { type: 'text' } },
      truncation: 'disabled',
      metadata: {},
      store: false,
      usage: this.usage,
      ...this.options.echo,
      ...this.overrides,
    };
  }

  /** Reserves the next output index and announces the item with `output_item.added`. */
  private openItem(
    prefix: string,
    added: (id: string) => Record<string, unknown>,
  ): { id: string; index: number } {
    this.start();
    const index = this.output.length;
    this.output.push(undefined);
    const id = newId(prefix);
    this.emit({ type: 'response.output_item.added', output_index: index, item: added(id) });
    return { id, index };
  }

  private close(index: number, item: OutputItem, closingEvents: () => void): void {
    const flush = () => {
      closingEvents();
      this.output[index] = item;
      this.emit({ type: 'response.output_item.done', output_index: index, item });
    };
    if (this.options.holdItemDone) this.held.push({ item, flush });
    else flush();
  }

  private emit(event: ResponseEvent): void {
    this.options.sink.write(event);
  }
}

/** Text that grows by deltas and is finished once: the shape every streamed item shares. */
function accumulate(
  onDelta: (chunk: string) => void,
  onFinish: (text: string) => void,
): MessageWriter {
  let text = '';
  let closed = false;
  return {
    delta: (chunk: string) => {
      if (closed || chunk.length === 0) return;
      text += chunk;
      onDelta(chunk);
    },
    finish: () => {
      if (closed) return;
      closed = true;
      onFinish(text);
    },
    get text() {
      return text;
    },
  };
}

function toolCallBase(
  id: string,
  type: 'function_call' | 'custom_tool_call',
  call: { callId: string; name: string; namespace?: string },
): { id: string; type: string; call_id: string; name: string; namespace?: string } {
  return {
    id,
    type,
    call_id: call.callId,
    name: call.name,
    ...(call.namespace ? { namespace: call.namespace } : {}),
  };
}

export interface MessageWriter {
  delta(chunk: string): void;
  finish(): void;
  readonly text: string;
}

export interface ReasoningWriter {
  delta(chunk: string): void;
  finish(): void;
  /** The upstream's signature for this thinking (Anthropic), carried in encrypted_content. */
  sign(signature: string): void;
}

export interface ArgumentsWriter {
  delta(chunk: string): void;
  finish(): void;
}
