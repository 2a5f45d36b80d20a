import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  conversation,
  reply,
  startMockUpstream,
  toolNames,
  toolResults,
  type MockUpstream,
  type RecordedRequest,
  type ReplyBuilder,
} from '../../src/demo/index.js';
import { readEventLog, type MissionEvent } from '../../src/events/index.js';
import { editDiscount, readDiscount, submit } from './implementation-lane.js';

/** The real `bin/codex-oss mcp`, spawned over stdio and driven by the SDK's own Client. */

export const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'codex-oss');

export interface McpHarness {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  readonly stderr: () => string;
  close(): Promise<void>;
}

export function serverEnv(
  mock: MockUpstream,
  env: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? '/tmp',
    UPSTREAM_BASE: mock.baseUrl,
    OPENCODE_GO_API_KEY: 'sk-upstream-test-key',
    UPSTREAM_RETRIES: '0',
    LOG_LEVEL: 'info',
    ...env,
  };
}

export async function startMcp(
  project: string,
  mock: MockUpstream,
  env: Readonly<Record<string, string>> = {},
): Promise<McpHarness> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', '--project', project],
    env: serverEnv(mock, env),
    cwd: project,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'opencode-bridge-tests', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    transport,
    stderr: () => stderr,
    close: async () => {
      await client.close();
    },
  };
}

export { startMockUpstream };

/** The text of a tool result (every content part joined). */
export function textOf(result: unknown): string {
  const content = (result as CallToolResult).content;
  return content.map((part) => (part.type === 'text' ? part.text : `[${part.type}]`)).join('\n');
}

export function structured(result: unknown): Record<string, unknown> {
  return (result as CallToolResult).structuredContent ?? {};
}

/** The value of one `<tag>…</tag>` of the `<response>` answer. */
export function tag(text: string, name: string): string | undefined {
  return new RegExp(`<${name}>\\n?([\\s\\S]*?)\\n?</${name}>`).exec(text)?.[1];
}

function allText(request: RecordedRequest): string {
  return conversation(request)
    .map((turn) => turn.text)
    .join('\n');
}

/**
 * The scripted worker: markers in the prompt steer it. `[read PATH]` reads PATH then reports
 * what it saw with the ref the runtime issued; `[hang]` never answers (until aborted);
 * `[slow MS]` delays every answer's first byte. Offered submit_patch, it plays the discount fix.
 */
export function scriptedWorker(request: RecordedRequest): ReplyBuilder {
  const text = allText(request);
  if (text.includes('[hang]')) return reply().hang();
  const slow = Number(/\[slow (\d+)\]/.exec(text)?.[1] ?? 0);
  const pace = (builder: ReplyBuilder) => (slow > 0 ? builder.firstByteDelayMs(slow) : builder);
  const results = toolResults(request);
  const tools = toolNames(request);
  if (tools.includes('submit_patch')) {
    const step = results.length;
    return pace(step === 0 ? readDiscount() : step === 1 ? editDiscount() : submit());
  }
  const target = /\[read ([^\]\s]+)\]/.exec(text)?.[1] ?? 'src/discount.mjs';
  // A continuation's brief carries the earlier evidence, re-read by the runtime: its refs are
  // as good as a read's, so the worker reports from them instead of reading again.
  const carriedAt = text.indexOf('Carried from the earlier run');
  const carried = carriedAt === -1 ? [] : (text.slice(carriedAt).match(/file:[^\s,\]]+/g) ?? []);
  const refs = [
    ...results.flatMap((result) => result.output.match(/file:[^\s,\]]+/g) ?? []),
    ...carried,
  ];
  if (refs.length === 0 && tools.includes('read_file'))
    return pace(reply().toolCall('read_file', { path: target }));
  return pace(
    reply().toolCall('submit_report', {
      status: 'COMPLETE',
      summary: `${target} defines applyDiscount.`,
      findings: [
        { claim: `applyDiscount is defined in ${target}.`, evidence_refs: refs.slice(0, 1) },
      ],
      files_inspected: [target],
      uncertainties: ['Only the scoped files were read.'],
      confidence: 'HIGH',
      caveats: [],
      escalation_recommendation: 'None.',
    }),
  );
}

export function missionDir(project: string, missionId: string): string {
  return path.join(project, '.codex-oss', 'missions', missionId);
}

/** The event log of a mission's run, found through its run_record projection. */
export async function missionEvents(project: string, missionId: string): Promise<MissionEvent[]> {
  const recordFile = path.join(missionDir(project, missionId), 'run_record.json');
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { run_id: string };
  const read = await readEventLog(
    path.join(project, '.codex-oss', 'runs', record.run_id, 'events.jsonl'),
  );
  if (read.chainErrors.length > 0 || read.tornTail !== null)
    throw new Error(`event log of ${missionId} does not verify`);
  return read.events;
}

/** Polls until `check` holds (real processes on a loaded machine: generous, never a timing claim). */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function projectionExists(project: string, missionId: string): true | undefined {
  return existsSync(path.join(missionDir(project, missionId), 'run_record.json')) || undefined;
}
