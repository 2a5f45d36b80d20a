import { errorCatalogue, type ErrorCode } from './catalogue.js';

export interface BridgeErrorOptions {
  readonly param?: string | null;
  readonly cause?: unknown;
  /** Seconds the caller should wait before retrying (from an upstream Retry-After). */
  readonly retryAfterSeconds?: number;
  /** HTTP status the upstream answered with, when the error came from upstream. */
  readonly upstreamStatus?: number;
}

/** The single error type the bridge throws on purpose. Anything else is an internal_error. */
export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;
  readonly retryAfterSeconds: number | undefined;
  readonly upstreamStatus: number | undefined;

  constructor(code: ErrorCode, message: string, options: BridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BridgeError';
    this.code = code;
    this.param = options.param ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.upstreamStatus = options.upstreamStatus;
  }

  get httpStatus(): number {
    return errorCatalogue[this.code].status;
  }

  get type(): string {
    return errorCatalogue[this.code].type;
  }

  get retryable(): boolean {
    return errorCatalogue[this.code].retryable;
  }

  /** The `response.error.code` Codex understands, for errors that end a stream. */
  get failedCode(): string {
    return errorCatalogue[this.code].failedCode;
  }
}

export function isBridgeError(value: unknown): value is BridgeError {
  return value instanceof BridgeError;
}

/** Wraps anything thrown into a BridgeError, keeping the original as `cause`. */
export function toBridgeError(value: unknown): BridgeError {
  if (value instanceof BridgeError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new BridgeError('internal_error', `Internal bridge error: ${message}`, { cause: value });
}

export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string; param: string | null };
}

/** The OpenAI error shape every HTTP error response uses. */
export function toOpenAIErrorBody(error: BridgeError): OpenAIErrorBody {
  return {
    error: { message: error.message, type: error.type, code: error.code, param: error.param },
  };
}
