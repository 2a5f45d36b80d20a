import type { ReplyBuilder } from './mock-reply.js';

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, the raw string when the body is not JSON, or undefined when there was no body. */
  body: unknown;
  receivedAt: number;
}

/** Consulted when no scripted reply matches a request. Returning undefined means "use the default". */
export type Responder = (request: RecordedRequest) => ReplyBuilder | undefined;

export interface MockUpstreamOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Ids listed by GET /v1/models. */
  models?: string[];
  responder?: Responder;
}

export interface MockUpstream {
  /** `http://<host>:<port>/v1` */
  readonly baseUrl: string;
  /** Every request, in arrival order (including 404s and malformed ones). */
  readonly requests: RecordedRequest[];
  /** FIFO queue consumed by POST /v1/chat/completions, /v1/messages and /v1/responses. */
  script(...replies: ReplyBuilder[]): void;
  /** Resolves once `requests.length >= count`; rejects on timeout (default 5000 ms) or close(). */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  setResponder(responder: Responder | undefined): void;
  /** Clears the script queue and the recorded requests. */
  reset(): void;
  /** Stops listening and destroys every open socket, hanging replies included. */
  close(): Promise<void>;
}

export type Dialect = 'chat' | 'messages' | 'responses';
