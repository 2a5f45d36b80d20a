import type { FinishReason, StreamPart } from '../upstream/index.js';
import type { TokenUsage } from '../usage/index.js';
import type {
  ArgumentsWriter,
  MessageWriter,
  ReasoningWriter,
  ResponseEmitter,
} from './response-emitter.js';
import type { ToolNameMap } from './tool-name-map.js';

export interface StreamOutcome {
  readonly model: string | undefined;
  readonly fallbackFrom: string | undefined;
  readonly usage: TokenUsage | undefined;
  readonly upstreamCostUsd: number | undefined;
  readonly finishReason: FinishReason | undefined;
  /** Milliseconds spent waiting on the upstream iterator (excluded from bridge overhead). */
  readonly upstreamWaitMs: number;
}

interface OpenCall {
  readonly kind: 'function' | 'custom';
  readonly callId: string;
  readonly name: string;
  readonly namespace: string | undefined;
  readonly writer: ArgumentsWriter | undefined;
  args: string;
}

/**
 * Replays an upstream StreamPart stream onto a ResponseEmitter: reasoning becomes a reasoning
 * item, text a message, tool calls function_call items (namespaced names restored, freeform
 * tools answered as custom_tool_call). Returns once the upstream finished cleanly; a thrown
 * error propagates so the caller can fail the response (held items are then never done).
 */
export interface StreamToEmitterOptions {
  /**
   * `parallel_tool_calls: false`: keep the first tool call of the turn and drop the rest, since
   * upstreams do not all honour the flag and a client that asked for one call runs only one.
   */
  readonly singleToolCall?: boolean;
  /** Told about each call dropped by `singleToolCall` (the lane logs it). */
  readonly onDroppedCall?: (call: { name: string; id: string }) => void;
  /** Called once, when the first part has arrived and before it reaches the emitter. */
  readonly onFirstPart?: () => void;
}

export async function streamToEmitter(
  parts: AsyncIterable<StreamPart>,
  emitter: ResponseEmitter,
  toolNames: ToolNameMap,
  afterPart?: () => Promise<void> | void,
  options: StreamToEmitterOptions = {},
): Promise<StreamOutcome> {
  let reasoning: ReasoningWriter | undefined;
  let message: MessageWriter | undefined;
  const calls = new Map<number, OpenCall>();
  let model: string | undefined;
  let fallbackFrom: string | undefined;
  let usage: TokenUsage | undefined;
  let cost: number | undefined;
  let finishReason: FinishReason | undefined;
  let upstreamWaitMs = 0;
  /** Set whenever a non-reasoning item opens, so late reasoning starts a new item (keeps order). */
  let reasoningClosed = false;

  const iterator = parts[Symbol.asyncIterator]();
  let onFirstPart = options.onFirstPart;
  for (;;) {
    const waitStart = performance.now();
    const next = await iterator.next();
    upstreamWaitMs += performance.now() - waitStart;
    if (next.done) break;
    if (onFirstPart) {
      onFirstPart();
      onFirstPart = undefined;
    }
    const part = next.value;
    switch (part.type) {
      case 'response-metadata':
        model = part.model;
        fallbackFrom = part.fallbackFrom;
        break;
      case 'reasoning-delta':
        if (!reasoning || reasoningClosed) {
          reasoning?.finish();
          reasoning = emitter.addReasoning();
          reasoningClosed = false;
        }
        reasoning.delta(part.text);
        break;
      case 'reasoning-signature':
        reasoning?.sign(part.signature);
        break;
      case 'text-delta':
        if (part.text.length === 0) break;
        reasoningClosed = true;
        message ??= emitter.addMessage();
        message.delta(part.text);
        break;
      case 'tool-call-start': {
        if (options.singleToolCall && calls.size > 0 && !calls.has(part.index)) {
          options.onDroppedCall?.({ name: part.name, id: part.id });
          break;
        }
        reasoningClosed = true;
        const identity = toolNames.fromUpstream(part.name);
        const kind = identity?.kind ?? 'function';
        const name = identity?.name ?? part.name;
        const namespace = identity?.namespace;
        calls.set(part.index, {
          kind,
          callId: part.id,
          name,
          namespace,
          writer:
            kind === 'function'
              ? emitter.addFunctionCall({
                  callId: part.id,
                  name,
                  ...(namespace ? { namespace } : {}),
                })
              : undefined,
          args: '',
        });
        break;
      }
      case 'tool-call-delta': {
        const call = calls.get(part.index);
        if (!call) break;
        call.args += part.argumentsDelta;
        call.writer?.delta(part.argumentsDelta);
        break;
      }
      case 'usage':
        usage = part.usage;
        break;
      case 'cost':
        cost = part.usd;
        break;
      case 'finish':
        finishReason = part.reason;
        break;
    }
    // Only a pending drain is awaited: awaiting undefined would still cost a microtask per part.
    const pending = afterPart?.();
    if (pending) await pending;
  }

  reasoning?.finish();
  message?.finish();
  for (const call of [...calls.entries()].sort(([a], [b]) => a - b).map(([, value]) => value)) {
    if (call.kind === 'function') call.writer?.finish();
    else {
      emitter.customToolCall({
        callId: call.callId,
        name: call.name,
        ...(call.namespace ? { namespace: call.namespace } : {}),
        input: customInput(call.args),
      });
    }
  }
  return { model, fallbackFrom, usage, upstreamCostUsd: cost, finishReason, upstreamWaitMs };
}

/** The model answers a freeform tool with `{"input": "..."}`; tolerate a bare string too. */
function customInput(args: string): string {
  try {
    const parsed = JSON.parse(args) as unknown;
    if (
      parsed !== null &&
      typeof parsed === 'object' &&
      typeof (parsed as { input?: unknown }).input === 'string'
    ) {
      return (parsed as { input: string }).input;
    }
    if (typeof parsed === 'string') return parsed;
  } catch {
    // Not JSON: the model wrote the raw input directly, which is what the tool wants anyway.
  }
  return args;
}
