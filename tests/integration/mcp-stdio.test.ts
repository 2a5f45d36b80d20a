import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MockUpstream } from '../../src/demo/index.js';
import { makeDiscountRepo } from '../support/implementation-lane.js';
import { BIN, scriptedWorker, serverEnv, startMockUpstream } from '../support/mcp-harness.js';

/**
 * stdout is the protocol channel: the server is spawned by hand (no SDK in between), driven
 * with raw JSON-RPC lines through a real mission, at the most talkative log level, and every
 * byte it writes to stdout must parse as a JSON-RPC 2.0 frame.
 */

let mock: MockUpstream;
let project: string;

beforeAll(async () => {
  project = makeDiscountRepo();
  mock = await startMockUpstream({ responder: scriptedWorker });
});
afterAll(async () => {
  await mock.close();
  rmSync(project, { recursive: true, force: true });
});

describe('codex-oss mcp on stdio', () => {
  it('writes nothing but JSON-RPC frames to stdout, logs to stderr, and exits when stdin ends', async () => {
    const child = spawn(process.execPath, [BIN, 'mcp', '--project', project], {
      cwd: project,
      env: serverEnv(mock, { LOG_LEVEL: 'trace' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const answered = new Map<number, Record<string, unknown>>();
    const waiters = new Map<number, () => void>();
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      for (const line of stdout.split('\n').slice(0, -1)) {
        try {
          const frame = JSON.parse(line) as Record<string, unknown>;
          if (typeof frame['id'] === 'number' && !answered.has(frame['id'])) {
            answered.set(frame['id'], frame);
            waiters.get(frame['id'])?.();
          }
        } catch {
          // Asserted below, over the whole output.
        }
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const send = (frame: Record<string, unknown>) =>
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...frame })}\n`);
    const request = (id: number, method: string, params: Record<string, unknown>) => {
      const done = new Promise<void>((resolve) => waiters.set(id, resolve));
      send({ id, method, params });
      return done;
    };

    await request(1, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw-test', version: '1' },
    });
    send({ method: 'notifications/initialized' });
    await request(2, 'tools/list', {});
    await request(3, 'tools/call', {
      name: 'opencode',
      arguments: { prompt: 'Find applyDiscount [read src/discount.mjs]', context_paths: ['src'] },
      _meta: { progressToken: 'p-1' },
    });
    await request(4, 'tools/call', { name: 'opencode', arguments: { prompt: 7 } });
    child.stdin.end();
    expect(await exited).toBe(0);

    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      const frame = JSON.parse(line) as Record<string, unknown>;
      expect(frame['jsonrpc'], line).toBe('2.0');
      expect('id' in frame || 'method' in frame, line).toBe(true);
    }
    expect(stdout.endsWith('\n')).toBe(true);
    const progress = lines.filter((line) => line.includes('"notifications/progress"'));
    expect(progress.length).toBeGreaterThan(1);
    const result = answered.get(3)?.['result'] as { content: { text: string }[] };
    expect(result.content[0]?.text).toContain('Status: COMPLETE');
    expect((answered.get(4)?.['result'] as { isError?: boolean }).isError).toBe(true);
    // The logs went somewhere: stderr, as pino JSON lines.
    expect(stderr).toContain('"msg":"MCP server ready on stdio"');
  });
});
