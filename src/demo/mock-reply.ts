import type { RecordedRequest } from './mock-types.js';

export type MockFinishReason = 'stop' | 'tool_calls' | 'length' | 'content_filter';

export interface UsageSpec {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly cached_tokens?: number;
  /** Tokens the provider wrote to its prompt cache (Messages: cache_creation_input_tokens). */
  readonly cache_write_tokens?: number;
  readonly reasoning_tokens?: number;
}

export interface ToolCallOptions {
  readonly id?: string;
  /** Only rendered by the Responses dialect (`function_call.namespace`); Chat has no namespaces. */
  readonly namespace?: string;
}

export interface StatusOptions {
  readonly body?: unknown;
  /** Seconds, sent as the Retry-After header. */
  readonly retryAfter?: number;
}

export interface ScriptedToolCall {
  readonly name: string;
  /** Kept verbatim when given as a string so tests can script invalid JSON arguments. */
  readonly arguments: string;
  readonly id: string | undefined;
  readonly namespace: string | undefined;
}

/** How a reply breaks instead of (or part-way through) answering; at most one applies. */
export type ReplyFailure =
  | {
      readonly kind: 'status';
      readonly code: number;
      readonly body: unknown;
      readonly retryAfter: number | undefined;
    }
  | { readonly kind: 'hang' }
  | { readonly kind: 'hang-after'; readonly chunks: number }
  | { readonly kind: 'reset-after'; readonly chunks: number };

export type RequestPredicate = (request: RecordedRequest) => boolean;

/** The frozen description of a reply that the dialect renderers consume. */
export interface ReplySpec {
  readonly reasoning: string;
  readonly text: string;
  readonly toolCalls: readonly ScriptedToolCall[];
  readonly usage: UsageSpec | undefined;
  readonly costUsd: number | undefined;
  readonly finishReason: MockFinishReason | undefined;
  readonly chunkSize: number;
  readonly paceMs: number;
  /** Milliseconds between reading the request and sending the status line. */
  readonly firstByteDelayMs: number;
  readonly kimiIds: boolean;
  readonly usageInChoice: boolean;
  readonly jsonBody: boolean;
  readonly when: RequestPredicate | undefined;
  readonly failure: ReplyFailure | undefined;
  readonly malformedAfter: number | undefined;
  readonly noFinish: boolean;
  readonly times: number;
  /** Recorded SSE frames sent byte for byte instead of a rendered reply (see `replay`). */
  readonly recordedFrames: readonly string[] | undefined;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function nonNegativeInteger(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Fluent description of one upstream answer. The same builder renders in whichever dialect
 * (Chat Completions, Anthropic Messages, Responses) consumes it, so a test scripts intent
 * ("reason, then call two tools") rather than wire bytes.
 */
export class ReplyBuilder {
  private readonly state: Mutable<ReplySpec> = {
    reasoning: '',
    text: '',
    toolCalls: [],
    usage: undefined,
    costUsd: undefined,
    finishReason: undefined,
    chunkSize: 8,
    paceMs: 0,
    firstByteDelayMs: 0,
    kimiIds: false,
    usageInChoice: false,
    jsonBody: false,
    when: undefined,
    failure: undefined,
    malformedAfter: undefined,
    noFinish: false,
    times: 1,
    recordedFrames: undefined,
  };

  reasoning(text: string): this {
    this.state.reasoning += text;
    return this;
  }

  text(text: string): this {
    this.state.text += text;
    return this;
  }

  toolCall(name: string, args: object | string, opts: ToolCallOptions = {}): this {
    this.state.toolCalls = [
      ...this.state.toolCalls,
      {
        name,
        arguments: typeof args === 'string' ? args : JSON.stringify(args),
        id: opts.id,
        namespace: opts.namespace,
      },
    ];
    return this;
  }

  usage(usage: UsageSpec): this {
    this.state.usage = { ...usage };
    return this;
  }

  cost(usd: number): this {
    this.state.costUsd = usd;
    return this;
  }

  finish(reason: MockFinishReason): this {
    this.state.finishReason = reason;
    return this;
  }

  chunkSize(chars: number): this {
    if (nonNegativeInteger(chars, 'chunkSize') === 0)
      throw new RangeError('chunkSize must be at least 1');
    this.state.chunkSize = chars;
    return this;
  }

  paceMs(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`paceMs must be >= 0, got ${String(ms)}`);
    this.state.paceMs = ms;
    return this;
  }

  /** Waits this long before answering at all (a model thinking before its first byte). */
  firstByteDelayMs(ms: number): this {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`firstByteDelayMs must be >= 0, got ${String(ms)}`);
    this.state.firstByteDelayMs = ms;
    return this;
  }

  kimiIds(): this {
    this.state.kimiIds = true;
    return this;
  }

  /** Moonshot style: usage (with top-level `cached_tokens`) on the finish choice, no `choices: []` chunk. */
  usageInChoice(): this {
    this.state.usageInChoice = true;
    return this;
  }

  /** Answers one JSON body even when the request asked for `stream: true`. */
  jsonBody(): this {
    this.state.jsonBody = true;
    return this;
  }

  when(predicate: RequestPredicate): this {
    this.state.when = predicate;
    return this;
  }

  status(code: number, opts: StatusOptions = {}): this {
    if (!Number.isInteger(code) || code < 100 || code > 599) {
      throw new RangeError(`status must be an HTTP status code, got ${String(code)}`);
    }
    this.state.failure = { kind: 'status', code, body: opts.body, retryAfter: opts.retryAfter };
    return this;
  }

  /** Reads the request, records it, and never sends headers. */
  hang(): this {
    this.state.failure = { kind: 'hang' };
    return this;
  }

  /**
   * "Chunks" are content frames (reasoning, text or argument deltas); opening frames such as the
   * role chunk, message_start or response.created always go out first. With a JSON body: headers only.
   */
  hangAfterChunks(n: number): this {
    this.state.failure = { kind: 'hang-after', chunks: nonNegativeInteger(n, 'hangAfterChunks') };
    return this;
  }

  /** Like hangAfterChunks, but destroys the socket instead of going silent. */
  resetAfterChunks(n: number): this {
    this.state.failure = { kind: 'reset-after', chunks: nonNegativeInteger(n, 'resetAfterChunks') };
    return this;
  }

  /** Injects one `data: {not json` frame after n content frames; with a JSON body, the body is invalid JSON. */
  malformedChunkAfter(n: number): this {
    this.state.malformedAfter = nonNegativeInteger(n, 'malformedChunkAfter');
    return this;
  }

  /** Ends the stream cleanly but without its terminal frames (finish_reason, usage, [DONE], message_stop, response.completed). */
  noFinish(): this {
    this.state.noFinish = true;
    return this;
  }

  /**
   * Answers with a recorded upstream stream, verbatim: `text` is the SSE body as it came off the
   * wire (frames separated by a blank line, `event:` lines and trailing frames after `[DONE]`
   * included). Each frame is written as it stands; `paceMs` spaces them. Whatever the request
   * asked for (stream or not, any dialect), the recording is what goes back.
   */
  replay(text: string): this {
    const frames = text.match(/[^]*?(?:\r?\n\r?\n|$)/g)?.filter((frame) => frame !== '') ?? [];
    if (frames.length === 0) throw new RangeError('replay needs at least one SSE frame');
    this.state.recordedFrames = frames;
    return this;
  }

  times(n: number): this {
    if (nonNegativeInteger(n, 'times') === 0) throw new RangeError('times must be at least 1');
    this.state.times = n;
    return this;
  }

  /** A snapshot: later builder calls do not change replies already scripted. */
  toSpec(): ReplySpec {
    return Object.freeze({
      ...this.state,
      toolCalls: Object.freeze([...this.state.toolCalls]),
      recordedFrames:
        this.state.recordedFrames === undefined
          ? undefined
          : Object.freeze([...this.state.recordedFrames]),
    });
  }
}

export function reply(): ReplyBuilder {
  return new ReplyBuilder();
}
