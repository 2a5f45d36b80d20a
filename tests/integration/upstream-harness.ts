import { loadConfig, type Config } from '../../src/config/index.js';
import { startMockUpstream, type MockUpstream } from '../../src/demo/index.js';
import { createLogger } from '../../src/log/index.js';
import { ModelRegistry, type ModelEntry } from '../../src/models/index.js';
import {
  createUpstreamClient,
  type AttemptEvent,
  type ModelCall,
  type StreamPart,
  type UpstreamClient,
} from '../../src/upstream/index.js';

export const registry = new ModelRegistry({
  modelMap: {},
  fallbackMap: {},
  gptStrategy: 'error',
  gptOssFallback: 'deepseek-v4-pro',
});

export function model(id: string): ModelEntry {
  return registry.entry(id);
}

/** Small deadlines and no backoff wait, so failure paths finish quickly. */
export function testConfig(baseUrl: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    env: {
      UPSTREAM_BASE: baseUrl,
      UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS: '5',
      UPSTREAM_IDLE_TIMEOUT_SECONDS: '5',
      UPSTREAM_TIMEOUT_SECONDS: '20',
      UPSTREAM_RETRIES: '2',
      UPSTREAM_RETRY_MAX_DELAY_SECONDS: '0',
      UPSTREAM_QUEUE_TIMEOUT_SECONDS: '10',
      LOG_LEVEL: 'silent',
      ...env,
    },
    cwd: process.cwd(),
  });
}

export interface Harness {
  readonly mock: MockUpstream;
  readonly client: UpstreamClient;
  readonly config: Config;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const mock = await startMockUpstream();
  const config = testConfig(mock.baseUrl, env);
  const client = createUpstreamClient({
    config,
    logger: createLogger('silent'),
    registry,
    random: () => 0,
  });
  return {
    mock,
    client,
    config,
    close: async () => {
      await client.close();
      await mock.close();
    },
  };
}

export function call(
  chain: readonly string[],
  overrides: Partial<ModelCall> = {},
): ModelCall & { readonly events: AttemptEvent[] } {
  const events: AttemptEvent[] = [];
  return {
    chain: chain.map(model),
    request: { messages: [{ role: 'user', content: 'hello' }] },
    signal: new AbortController().signal,
    onAttempt: (event) => events.push(event),
    ...overrides,
    events,
  };
}

export async function collect(parts: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const out: StreamPart[] = [];
  for await (const part of parts) out.push(part);
  return out;
}

/** Collects until the stream throws; returns what arrived and the error. */
export async function collectUntilError(
  parts: AsyncIterable<StreamPart>,
): Promise<{ parts: StreamPart[]; error: unknown }> {
  const out: StreamPart[] = [];
  try {
    for await (const part of parts) out.push(part);
  } catch (error) {
    return { parts: out, error };
  }
  throw new Error(`expected the stream to fail, got ${JSON.stringify(out)}`);
}

export function bodyOf(mock: MockUpstream, index: number): Record<string, unknown> {
  const request = mock.requests[index];
  if (request === undefined) throw new Error(`no request #${index}`);
  return request.body as Record<string, unknown>;
}

/** The stream's iterator; the client's streams are async generators, so return() exists. */
export function iterate(
  parts: AsyncIterable<StreamPart>,
): AsyncGenerator<StreamPart, void, undefined> {
  return parts[Symbol.asyncIterator]() as AsyncGenerator<StreamPart, void, undefined>;
}
