import { mkdtempSync, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config/index.js';
import {
  startMockUpstream,
  type MockUpstream,
  type MockUpstreamOptions,
} from '../../src/demo/index.js';
import { startDaemon, type RunningDaemon } from '../../src/http/index.js';
import { createLogger } from '../../src/log/index.js';

export const BRIDGE_KEY = 'sk-local-codex-bridge';

export interface BridgeHarness {
  readonly mock: MockUpstream;
  readonly daemon: RunningDaemon;
  readonly config: Config;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** http://127.0.0.1:<port>/v1, for the openai SDK and Codex. */
  readonly baseURL: string;
  readonly project: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly mock?: MockUpstreamOptions;
  /** A project directory to serve; a fresh temp dir otherwise (removed on close). */
  readonly project?: string;
  /** Collects every log line the daemon writes (at the configured LOG_LEVEL). */
  readonly logLines?: string[];
  /** How the daemon opens run logs (a failing disk for write-failure tests). */
  readonly openLogFile?: (path: string, flags: 'a' | 'ax') => Promise<FileHandle>;
}

/** A real daemon on an ephemeral loopback port, in front of a real mock upstream. */
export async function startBridge(options: HarnessOptions = {}): Promise<BridgeHarness> {
  const mock = await startMockUpstream(options.mock);
  const ownProject = options.project === undefined;
  const project = options.project ?? mkdtempSync(path.join(tmpdir(), 'ocb-project-'));
  const config = loadConfig({
    cwd: project,
    env: {
      UPSTREAM_BASE: mock.baseUrl,
      OPENCODE_GO_API_KEY: 'sk-upstream-test-key',
      PROXY_PORT: '0',
      CODEX_OSS_PROJECT: project,
      LOG_LEVEL: process.env['BRIDGE_TEST_LOG_LEVEL'] ?? 'silent',
      UPSTREAM_RETRY_MAX_DELAY_SECONDS: '2',
      BRIDGE_SHUTDOWN_DRAIN_SECONDS: '2',
      ...options.env,
    },
  });
  const sink = options.logLines;
  const logger = sink
    ? createLogger(config.LOG_LEVEL, { write: (line: string) => void sink.push(line) })
    : createLogger(config.LOG_LEVEL);
  const daemon = await startDaemon({
    config,
    logger,
    ...(options.openLogFile ? { openLogFile: options.openLogFile } : {}),
  });
  return {
    mock,
    daemon,
    config,
    url: daemon.url,
    baseURL: `${daemon.url}/v1`,
    project,
    close: async () => {
      await daemon.close();
      await mock.close();
      if (ownProject) rmSync(project, { recursive: true, force: true });
    },
  };
}

/** Parses an SSE body into its JSON data payloads (skipping [DONE] and comments). */
export function parseSse(body: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const frame of body.split(/\r?\n\r?\n/)) {
    const data = frame
      .split(/\r?\n/)
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (data === '' || data === '[DONE]') continue;
    events.push(JSON.parse(data) as Record<string, unknown>);
  }
  return events;
}
