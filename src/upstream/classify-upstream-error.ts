import { BridgeError } from '../errors/index.js';
import { asNumber, asRecord, asString } from './json-fields.js';
import { subscriptionLimitError } from './plan-limit.js';

/** The parts of an upstream error body we act on, from either Zen's or OpenAI's shape. */
export interface UpstreamErrorDetail {
  /** Zen's error class (`RateLimitError`, `GoUsageLimitError`, …) or OpenAI's `error.type`. */
  readonly type: string | undefined;
  readonly code: string | undefined;
  readonly message: string | undefined;
  /** Zen's `metadata.limitName` on Go usage-limit errors (which window). */
  readonly limitName?: string | undefined;
}

/** OpenCode Go plan windows (delegation.md §5); older Zen builds call it GoUsageLimitError. */
const subscriptionTypes = new Set(['subscriptionusagelimiterror', 'gousagelimiterror']);
const quotaTypes = new Set([
  'creditserror',
  'monthlylimiterror',
  'userlimiterror',
  'insufficient_quota',
  'billing_error',
]);
const contextPattern =
  /context[ _-]?length|maximum context|context window|too many tokens|context_length_exceeded|prompt is too long|input is too long/i;
const maxMessageChars = 400;

/**
 * Reads `{"type":"error","error":{"type","message"}}` (Zen, wire-protocol.md §5; also Anthropic)
 * and `{"error":{"message","code","type"}}` (OpenAI). Anything else yields its text as message.
 */
export function parseUpstreamErrorBody(text: string): UpstreamErrorDetail {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const trimmed = text.trim();
    const message = trimmed.startsWith('<') ? 'a non-JSON (HTML) error page' : trimmed;
    return {
      type: undefined,
      code: undefined,
      message: message === '' ? undefined : truncate(message),
    };
  }
  return errorDetailFromPayload(parsed);
}

export function errorDetailFromPayload(payload: unknown): UpstreamErrorDetail {
  const root = asRecord(payload);
  const error = asRecord(root?.['error']);
  const source = error ?? root;
  const message =
    asString(source?.['message']) ?? asString(root?.['error']) ?? asString(root?.['detail']);
  const code = source?.['code'];
  const metadata = asRecord(source?.['metadata']) ?? asRecord(root?.['metadata']);
  return {
    type: asString(source?.['type']),
    code: typeof code === 'number' ? String(code) : asString(code),
    message: message === undefined ? undefined : truncate(message),
    limitName: asString(metadata?.['limitName']),
  };
}

/** `Retry-After` as seconds (delta-seconds or an HTTP date, RFC 9110 §10.2.3). */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  const seconds = asNumber(trimmed);
  if (seconds !== undefined) return Math.max(0, seconds);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

export interface HttpFailure {
  readonly status: number;
  readonly bodyText: string;
  readonly retryAfterHeader: string | undefined;
  readonly model: string;
  readonly now?: number;
}

/** Maps a non-2xx upstream answer onto the catalogue (docs/errors.md). */
export function classifyHttpError(failure: HttpFailure): BridgeError {
  const { status, model } = failure;
  const detail = parseUpstreamErrorBody(failure.bodyText);
  const retryAfterSeconds = parseRetryAfter(failure.retryAfterHeader, failure.now);
  return classifyDetail(detail, {
    status,
    model,
    retryAfterSeconds,
    ...(failure.now === undefined ? {} : { now: failure.now }),
  });
}

/** An error object that arrived inside a 200 stream (Anthropic `error` event, OpenAI `{error}` frame). */
export function classifyStreamErrorPayload(payload: unknown, model: string): BridgeError {
  return classifyDetail(errorDetailFromPayload(payload), {
    status: undefined,
    model,
    retryAfterSeconds: undefined,
  });
}

interface ClassifyContext {
  readonly status: number | undefined;
  readonly model: string;
  readonly retryAfterSeconds: number | undefined;
  readonly now?: number;
}

function classifyDetail(detail: UpstreamErrorDetail, context: ClassifyContext): BridgeError {
  const { status, model, retryAfterSeconds } = context;
  const kind = (detail.type ?? '').toLowerCase();
  const code = (detail.code ?? '').toLowerCase();
  const upstreamText = describe(detail, status);
  const options = {
    ...(status === undefined ? {} : { upstreamStatus: status }),
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  };

  if (subscriptionTypes.has(kind)) {
    return subscriptionLimitError({
      model,
      upstreamText,
      limitHint: `${detail.limitName ?? ''} ${detail.message ?? ''}`,
      retryAfterSeconds,
      upstreamStatus: status,
      ...(context.now === undefined ? {} : { now: context.now }),
    });
  }
  // Zen reports Go usage windows and credits as 429 or 401 (wire-protocol.md §5); neither clears
  // by retrying, so they must not look like a plain rate limit.
  if (quotaTypes.has(kind) || quotaTypes.has(code) || status === 402) {
    return new BridgeError(
      'insufficient_quota',
      `The upstream account is out of credit or over its usage limit while calling ${model} (${upstreamText}). ` +
        'Check the OpenCode Go console (usage windows, balance) or wait for the limit window to reset.',
      options,
    );
  }
  if (
    status === 429 ||
    kind === 'ratelimiterror' ||
    kind === 'rate_limit_error' ||
    code === 'rate_limit_exceeded'
  ) {
    return rateLimitError(model, upstreamText, retryAfterSeconds, status);
  }
  if (kind === 'modelerror' || /model format not supported/i.test(detail.message ?? '')) {
    return new BridgeError(
      'upstream_bad_request',
      `The upstream does not serve ${model} on this endpoint (${upstreamText}). ` +
        'Set its endpoint ("chat" or "messages") in MODEL_MAP_JSON, or pick another model.',
      options,
    );
  }
  if (
    status === 401 ||
    status === 403 ||
    kind === 'autherror' ||
    kind === 'authentication_error' ||
    kind === 'permission_error' ||
    kind === 'regionerror'
  ) {
    return new BridgeError(
      'upstream_auth_failed',
      `The upstream rejected the bridge's credentials for ${model} (${upstreamText}). ` +
        'Check OPENCODE_GO_API_KEY (or UPSTREAM_API_KEY) and the workspace settings in the OpenCode Go console.',
      options,
    );
  }
  if (
    contextPattern.test(detail.message ?? '') ||
    contextPattern.test(code) ||
    contextPattern.test(kind)
  ) {
    return new BridgeError(
      'context_length_exceeded',
      `The conversation is too long for ${model}'s context window (${upstreamText}). ` +
        'Compact the conversation (/compact in Codex) or start a new one.',
      options,
    );
  }
  if (status === 404) {
    return new BridgeError(
      'upstream_bad_request',
      `The upstream answered 404 for ${model} (${upstreamText}). ` +
        'Check that the model id exists (GET /v1/models) and that UPSTREAM_BASE ends in /v1 exactly once.',
      options,
    );
  }
  if (
    status !== undefined &&
    status >= 400 &&
    status < 500 &&
    status !== 408 &&
    status !== 409 &&
    status !== 425
  ) {
    return new BridgeError(
      'upstream_bad_request',
      `The upstream refused the request for ${model}: ${detail.message ?? `HTTP ${status}`}`,
      options,
    );
  }
  if (kind === 'invalid_request_error') {
    return new BridgeError(
      'upstream_bad_request',
      `The upstream refused the request for ${model}: ${upstreamText}`,
      options,
    );
  }
  return new BridgeError(
    'upstream_error',
    `The upstream failed while serving ${model} (${upstreamText}); the bridge retries transient failures and then falls back.`,
    options,
  );
}

/** The 429 message carries "try again in Ns": Codex parses it to pace its own retry (§3.5). */
export function rateLimitError(
  model: string,
  upstreamText: string,
  retryAfterSeconds: number | undefined,
  status: number | undefined = 429,
): BridgeError {
  const wait = Math.max(1, Math.ceil(retryAfterSeconds ?? 5));
  return new BridgeError(
    'rate_limit_exceeded',
    `The upstream is rate limiting ${model} (${upstreamText}); try again in ${wait}s.`,
    {
      ...(status === undefined ? {} : { upstreamStatus: status }),
      // Only what the upstream said: the retry policy honours it exactly (see retry-policy.ts).
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
    },
  );
}

const networkCodes = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A transport failure (refused, reset, DNS, TLS): always an upstream_error, retried. */
export function classifyNetworkError(
  error: unknown,
  model: string,
  afterOutput = false,
): BridgeError {
  if (error instanceof BridgeError) return error;
  const code = errorCode(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new BridgeError(
      'upstream_timeout',
      `The upstream stopped answering while serving ${model} (${code}).`,
      {
        cause: error,
      },
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  const label = code !== undefined && networkCodes.has(code) ? `${code}: ${reason}` : reason;
  const where = afterOutput ? 'the connection broke mid-stream' : 'the connection failed';
  return new BridgeError(
    'upstream_error',
    `Upstream request for ${model} failed: ${where} (${label}).`,
    {
      cause: error,
    },
  );
}

export type DeadlineKind = 'first-byte' | 'idle' | 'total';

const deadlineSettings: Readonly<Record<DeadlineKind, string>> = {
  'first-byte': 'UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS',
  idle: 'UPSTREAM_IDLE_TIMEOUT_SECONDS',
  total: 'UPSTREAM_TIMEOUT_SECONDS',
};

export function deadlineError(
  kind: DeadlineKind,
  seconds: number,
  model: string,
  setting: string = deadlineSettings[kind],
): BridgeError {
  const what =
    kind === 'first-byte'
      ? `sent nothing within ${formatSeconds(seconds)}`
      : kind === 'idle'
        ? `went silent for ${formatSeconds(seconds)} mid-stream`
        : `did not finish within ${formatSeconds(seconds)}`;
  return new BridgeError(
    'upstream_timeout',
    `The upstream ${what} while serving ${model}; raise ${setting} if the model needs longer.`,
  );
}

export function malformedChunkError(detail: string, model: string, cause?: unknown): BridgeError {
  return new BridgeError(
    'upstream_error',
    `malformed chunk from upstream: ${truncate(detail)} (model ${model})`,
    {
      ...(cause === undefined ? {} : { cause }),
    },
  );
}

/** Upstream failures that may clear on their own: worth a retry, then a fallback model. */
export function isTransientError(error: BridgeError): boolean {
  return (
    error.code === 'rate_limit_exceeded' ||
    error.code === 'upstream_error' ||
    error.code === 'upstream_timeout'
  );
}

function describe(detail: UpstreamErrorDetail, status: number | undefined): string {
  const parts: string[] = [];
  if (status !== undefined) parts.push(`HTTP ${status}`);
  if (detail.type !== undefined) parts.push(detail.type);
  const head = parts.join(' ');
  if (detail.message === undefined) return head === '' ? 'no details' : head;
  return head === '' ? detail.message : `${head}: ${detail.message}`;
}

function errorCode(error: unknown): string | undefined {
  const record = asRecord(error);
  return asString(record?.['code']);
}

function truncate(text: string): string {
  return text.length > maxMessageChars ? `${text.slice(0, maxMessageChars)}…` : text;
}

function formatSeconds(seconds: number): string {
  return Number.isInteger(seconds) ? `${seconds}s` : `${seconds.toFixed(1)}s`;
}
