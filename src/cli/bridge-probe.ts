import { z } from 'zod';

/**
 * What /health returns. Lenient: only `service` and `pid` are required to call something a bridge,
 * so a newer or older daemon still shows up in `status` and can still be stopped.
 */
const healthSchema = z.looseObject({
  ok: z.boolean().optional(),
  service: z.literal('opencode-bridge'),
  version: z.string().optional(),
  pid: z.number().int().positive(),
  uptime_seconds: z.number().optional(),
  started_at: z.string().optional(),
  source_hash: z.union([z.string(), z.looseObject({ hash: z.string() })]).optional(),
  project_root: z.string().optional(),
  upstream_base: z.string().optional(),
  upstream_key_present: z.boolean().optional(),
  gpt_model_strategy: z.string().optional(),
  model_health: z.unknown().optional(),
  concurrency: z.unknown().optional(),
});

export type BridgeHealth = z.infer<typeof healthSchema>;

export type ProbeResult =
  /** Nothing accepts connections on the port. */
  | { readonly kind: 'down' }
  /** An opencode-bridge answered /health with our key. */
  | { readonly kind: 'bridge'; readonly health: BridgeHealth }
  /** A bridge answered but rejected our key (another checkout with another PROXY_API_KEY). */
  | { readonly kind: 'bridge-locked'; readonly status: number }
  /** Something else holds the port. */
  | { readonly kind: 'foreign'; readonly detail: string };

/** Asks host:port who it is. Never throws. */
export async function probeBridge(
  baseUrl: string,
  apiKey: string,
  timeoutMs = 2000,
): Promise<ProbeResult> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/health`, {
      headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (errorCode(error) === 'ECONNREFUSED') return { kind: 'down' };
    // Something accepted the connection but did not speak HTTP to us in time.
    return { kind: 'foreign', detail: describeFetchError(error) };
  }
  const body = await response.text().catch(() => '');
  // Every bridge response carries this header, including the 401 for a wrong key.
  const fromBridge = response.headers.has('x-bridge-overhead-ms');
  if (response.status === 401 || response.status === 403) {
    if (fromBridge) return { kind: 'bridge-locked', status: response.status };
    return {
      kind: 'foreign',
      detail: `HTTP ${response.status} on /health (if this is a bridge started with another key, set PROXY_API_KEY to that key)`,
    };
  }
  if (!response.ok) {
    return { kind: 'foreign', detail: `HTTP ${response.status} on /health` };
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'foreign', detail: '/health did not answer JSON' };
  }
  const parsed = healthSchema.safeParse(json);
  if (!parsed.success)
    return { kind: 'foreign', detail: '/health is not an opencode-bridge health document' };
  return { kind: 'bridge', health: parsed.data };
}

/** The running code's hash as /health reports it (a string, or an object with `hash`). */
export function reportedSourceHash(health: BridgeHealth): string | undefined {
  const value = health.source_hash;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.hash;
}

/** Polls until /health answers as a bridge that satisfies `accept`, or the deadline passes. */
export async function waitForBridge(
  baseUrl: string,
  apiKey: string,
  options: {
    readonly timeoutMs: number;
    readonly intervalMs?: number;
    readonly accept?: (health: BridgeHealth) => boolean;
    /** Called after each unsuccessful poll; returning true stops waiting early. */
    readonly onPoll?: () => boolean;
  },
): Promise<BridgeHealth | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const probe = await probeBridge(baseUrl, apiKey, 1000);
    if (probe.kind === 'bridge' && (options.accept?.(probe.health) ?? true)) return probe.health;
    if (options.onPoll?.() === true) return undefined;
    if (Date.now() >= deadline) return undefined;
    await sleep(options.intervalMs ?? 200);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function errorCode(error: unknown): string | undefined {
  // fetch wraps the socket error: TypeError('fetch failed', { cause: { code } }).
  for (let current: unknown = error, depth = 0; current && depth < 4; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describeFetchError(error: unknown): string {
  const code = errorCode(error);
  if (code !== undefined) return code;
  return error instanceof Error ? error.message : String(error);
}
