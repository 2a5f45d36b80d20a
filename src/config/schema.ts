import { z } from 'zod';

/** The key Codex role files and the CLI use unless told otherwise. Not a secret. */
export const DEFAULT_LOCAL_KEY = 'sk-local-codex-bridge';
export const DEFAULT_UPSTREAM_BASE = 'https://opencode.ai/zen/go/v1';

const bool = z.union([z.boolean(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'boolean') return value;
  const normalized = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(normalized)) return false;
  ctx.addIssue({ code: 'custom', message: `expected 1/0/true/false, got "${value}"` });
  return z.NEVER;
});

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const seconds = (max: number) => z.coerce.number().min(0).max(max);

/** A JSON object given as a string in the environment. */
function jsonRecord<T extends z.ZodType>(valueSchema: T) {
  return z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .transform((value, ctx) => {
      if (typeof value !== 'string') return value;
      if (value.trim() === '') return {};
      try {
        return JSON.parse(value) as unknown;
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `not valid JSON (${(error as Error).message})` });
        return z.NEVER;
      }
    })
    .pipe(z.record(z.string(), valueSchema));
}

const csv = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (Array.isArray(value) ? value : value.split(','))
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  );

const gptStrategy = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .transform((value, ctx) => {
    if (value === 'error') return 'error' as const;
    if (['openai', 'passthrough', 'pass_through'].includes(value)) return 'openai' as const;
    if (['oss', 'alias', 'alias_to_oss', 'opencode'].includes(value)) return 'oss' as const;
    ctx.addIssue({ code: 'custom', message: `expected error, openai or oss, got "${value}"` });
    return z.NEVER;
  });

/** `{"five_hour":12,"week":30,"month":60}`; a window left out is not tracked. */
const planLimits = z
  .union([z.string(), z.record(z.string(), z.unknown())])
  .transform((value, ctx) => {
    if (typeof value !== 'string') return value;
    if (value.trim() === '') return {};
    try {
      return JSON.parse(value) as unknown;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not valid JSON (${(error as Error).message})` });
      return z.NEVER;
    }
  })
  .pipe(
    z.strictObject({
      five_hour: z.number().nonnegative().optional(),
      week: z.number().nonnegative().optional(),
      month: z.number().nonnegative().optional(),
    }),
  );

/**
 * Every setting, keyed by the environment variable that sets it. CLI flags are mapped onto the
 * same keys before parsing, so a flag and its variable can never disagree about meaning.
 */
export const configSchema = z.object({
  // HTTP surface
  PROXY_HOST: z.string().min(1).default('127.0.0.1'),
  PROXY_PORT: int(0, 65535).default(4000),
  PROXY_API_KEY: z.string().min(1).default(DEFAULT_LOCAL_KEY),
  BODY_LIMIT_BYTES: int(1024, 1024 * 1024 * 1024).default(16 * 1024 * 1024),
  SSE_KEEPALIVE_SECONDS: seconds(3600).default(10),
  /** Time to receive a request's headers, and its whole body (a slow client is cut, 408). */
  HTTP_HEADERS_TIMEOUT_SECONDS: seconds(600).default(10),
  HTTP_REQUEST_TIMEOUT_SECONDS: seconds(3600).default(60),
  /** Open connections at once; more are refused at accept. */
  HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(512),
  BRIDGE_SHUTDOWN_DRAIN_SECONDS: seconds(3600).default(180),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CODEX_OSS_PROJECT: z.string().min(1),

  // Upstream
  UPSTREAM_BASE: z.url().default(DEFAULT_UPSTREAM_BASE),
  OPENCODE_GO_API_KEY: z.string().optional(),
  ALLOW_MISSING_OPENCODE_KEY: bool.default(false),
  UPSTREAM_TIMEOUT_SECONDS: seconds(7200).default(900),
  /**
   * One deadline for a non-streaming raw-lane request, across every retry and fallback: its
   * client sees no keepalives, so it must get an answer in bounded time (issue 9, Low #9).
   */
  UPSTREAM_NONSTREAM_TIMEOUT_SECONDS: seconds(7200).default(300),
  UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: seconds(3600).default(60),
  UPSTREAM_IDLE_TIMEOUT_SECONDS: seconds(3600).default(60),
  UPSTREAM_RETRIES: int(0, 10).default(2),
  UPSTREAM_RETRY_MAX_DELAY_SECONDS: seconds(600).default(30),
  MAX_GLOBAL_UPSTREAM_CONCURRENCY: int(1, 1024).default(4),
  MODEL_CONCURRENCY_JSON: jsonRecord(int(1, 1024)).default({}),
  UPSTREAM_QUEUE_MAX: int(0, 100_000).default(64),
  UPSTREAM_QUEUE_TIMEOUT_SECONDS: seconds(3600).default(30),
  CIRCUIT_BREAKER_ERRORS: int(1, 1000).default(3),
  CIRCUIT_BREAKER_COOLDOWN: seconds(86_400).default(60),
  MODEL_MAP_JSON: jsonRecord(z.unknown()).default({}),
  FALLBACK_MODEL_MAP_JSON: jsonRecord(z.array(z.string())).default({}),

  // GPT handling
  GPT_MODEL_STRATEGY: gptStrategy.default('error'),
  GPT_MODEL_OSS_FALLBACK: z.string().min(1).default('deepseek-v4-pro'),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.url().default('https://api.openai.com/v1'),

  // Missions
  REQUEST_DEADLINE_SECONDS: seconds(3600).default(90),
  RUNTIME_MISSION_MAX_DEADLINE_SECONDS: seconds(7200).default(180),
  DETERMINISTIC_PARTIAL_RESERVE_SECONDS: seconds(600).default(5),
  RUNTIME_FINAL_REPORT_MODEL_TIMEOUT_SECONDS: seconds(600).default(20),
  PROJECT_CRITICAL_ROOTS: csv.default([]),
  PROJECT_CRITICAL_TERMS: csv.default([]),
  OSS_VISIBLE_TRACE: z.enum(['off', 'summary', 'detailed']).default('summary'),
  OSS_VISIBLE_TRACE_MAX_EVENTS: int(0, 10_000).default(40),
  OSS_VISIBLE_TRACE_MAX_EVENT_CHARS: int(40, 500).default(500),
  MISSION_READ_POOL_CAPACITY: int(1, 256).default(3),
  MISSION_READ_POOL_QUEUE: int(0, 1024).default(4),
  MISSION_QUEUE_TIMEOUT_SECONDS: seconds(3600).default(15),
  /**
   * How long a blocking MCP tool (`opencode`, `oss_mission`) waits before answering "still
   * running, call oss_wait": below every client's tool timeout (Codex 60 s, reference §3).
   */
  MCP_SYNC_SECONDS: seconds(3600).default(45),

  // Conversation state (PRODUCT.md §2.0): responses kept for previous_response_id / item_reference
  RESPONSE_STORE_TTL_SECONDS: int(1, 365 * 86_400).default(30 * 86_400),
  /** 0 keeps nothing (every response then says `store: false`). */
  RESPONSE_STORE_MAX_RESPONSES: int(0, 1_000_000).default(2000),

  // OpenCode Go plan windows, in dollars (delegation.md §5); tracked by the bridge itself
  PLAN_LIMITS_JSON: planLimits.default({ five_hour: 12, week: 30, month: 60 }),
});

export type ConfigInput = z.input<typeof configSchema>;
type ParsedConfig = z.output<typeof configSchema>;

/** The parsed, frozen configuration every domain receives. Nothing else reads process.env. */
export type Config = Readonly<ParsedConfig> & {
  /** True when UPSTREAM_BASE is OpenCode Go itself (the key is then mandatory). */
  readonly upstreamIsOpenCodeGo: boolean;
};
