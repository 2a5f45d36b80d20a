import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventLog, readEventLog, runPaths } from '../../src/events/index.js';

const repo = resolve(import.meta.dirname, '../..');
const builtEvents = join(repo, 'dist', 'events', 'index.js');
let root: string;

beforeAll(async () => {
  // The child runs the built module. tsc emits even when other domains have type errors, so a
  // failing exit status is tolerated as long as our module was produced.
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'pipe' });
  } catch {
    // Checked below.
  }
  if (!existsSync(builtEvents)) throw new Error(`build did not produce ${builtEvents}`);
  root = await mkdtemp(join(tmpdir(), 'events-crash-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

// Appends forever; prints "<seq> <durable>" once each append has resolved.
const childSource = (moduleUrl: string) => `
import { openEventLog } from ${JSON.stringify(moduleUrl)};
const [projectRoot, runId] = process.argv.slice(2);
const writer = await openEventLog({ projectRoot, runId, groupCommit: { maxEvents: 16, maxDelayMs: 2 } });
await writer.append('run.admitted', 'runtime', {
  mission_id: 'crash', tier: 'A3', objective_style: 'deterministic_lookup', model_alias: 'm', model: 'm',
  fallback_chain: [], fallbacks_refused: [], mission: {},
  budgets: { tool_budget: 1, time_budget_seconds: 1, max_model_calls: 1, max_cost_usd: null,
    max_output_tokens: null, max_files: 1, max_observation_bytes: 1 },
  budget_reductions: [], deadline_at: 'x', request_id: null, source: 'test', warnings: [],
});
process.stdout.write('0 1\\n');
for (let i = 1; ; i++) {
  const durable = i % 7 === 0;
  const type = durable ? 'tool.completed' : 'commentary.emitted';
  const event = await writer.append(type, 'runtime', durable
    ? { call: i, tool: 'read_file', args: {}, digest: 'x', bytes: 1, refs: ['cmd:' + i],
        cache_hit: false, redactions: 0, summary: 'x'.repeat(i % 300), path: null }
    : { index: i, kind: 'k', phase: 'EXPLORE', message: 'x'.repeat(i % 300), severity: 'info' });
  process.stdout.write(event.seq + ' ' + (durable ? 1 : 0) + '\\n');
}
`;

describe('a writer killed with SIGKILL', () => {
  it('leaves a chain that verifies up to the last complete line, with every acknowledged durable event', async () => {
    const script = join(root, 'append-forever.mjs');
    await writeFile(script, childSource(pathToFileURL(builtEvents).href));
    const child = spawn(process.execPath, [script, root, 'run-crash'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<NodeJS.Signals | null>((resolveExit) =>
      child.on('exit', (_code, signal) => resolveExit(signal)),
    );

    // Wait on the child's own acknowledgements, then kill it mid-stream.
    let lastDurable = -1;
    let acknowledged = 0;
    const lines = createInterface({ input: child.stdout });
    for await (const line of lines) {
      const [seq, durable] = line.split(' ').map(Number);
      acknowledged++;
      if (durable === 1) lastDurable = seq!;
      if (acknowledged >= 2000) {
        child.kill('SIGKILL');
        break;
      }
    }
    expect(await exited, stderr).toBe('SIGKILL');

    const { logPath, lockPath } = runPaths(root, 'run-crash');
    const read = await readEventLog(logPath);
    expect(read.chainErrors).toEqual([]);
    // A durable append resolved only after fdatasync, so it must be in the log.
    expect(read.events.length).toBeGreaterThan(lastDurable);
    read.events.forEach((event, i) => expect(event.seq).toBe(i));
    if (read.tornTail !== null) expect(read.tornTail.lineNumber).toBe(read.events.length + 1);
    expect(existsSync(lockPath)).toBe(true);

    // The dead writer's lock is stale: a new writer takes over and continues the chain.
    const resumed = await openEventLog({ projectRoot: root, runId: 'run-crash', resume: true });
    const next = await resumed.append('run.completed', 'runtime', {
      status: 'PARTIAL',
      reason: 'cancelled',
      reason_text: 'killed',
      totals: {
        model_calls: 0,
        tool_calls: 0,
        input_tokens: 0,
        cached_input_tokens: 0,
        output_tokens: 0,
        reasoning_tokens: 0,
        total_tokens: 0,
        cost_usd: 0,
      },
    });
    await resumed.close();
    expect(next.seq).toBe(read.events.length);
    const after = await readEventLog(logPath);
    expect(after.chainErrors).toEqual([]);
    expect(after.tornTail).toBeNull();
    expect(existsSync(lockPath)).toBe(false);
  });
});
