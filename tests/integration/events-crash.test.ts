import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEventLog, readEventLog, runPaths } from '../../src/events/index.js';

const repo = resolve(import.meta.dirname, '../..');
// The child needs compiled JavaScript. It is built here, into a folder of this worker's own
// (under node_modules/.cache, so `zod` resolves), never into the shared dist/ that other test
// workers are running from. Only the events domain is compiled: it imports no other domain.
const outDir = join(repo, 'node_modules', '.cache', `events-crash-dist-${String(process.pid)}`);
const builtEvents = join(outDir, 'events', 'index.js');
let root: string;

beforeAll(async () => {
  await mkdir(outDir, { recursive: true });
  const tsconfig = join(outDir, 'tsconfig.json');
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: join(repo, 'tsconfig.build.json'),
      compilerOptions: { rootDir: join(repo, 'src'), outDir, sourceMap: false },
      include: [join(repo, 'src', 'events', '*.ts')],
      exclude: [join(repo, 'src', '**', '*.test.ts')],
    }),
  );
  execFileSync(
    process.execPath,
    [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig],
    {
      cwd: repo,
      stdio: 'pipe',
    },
  );
  if (!existsSync(builtEvents)) throw new Error(`build did not produce ${builtEvents}`);
  root = await mkdtemp(join(tmpdir(), 'events-crash-'));
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(outDir, { recursive: true, force: true });
});

// Appends forever; prints "<seq> <durable>" once each append has resolved.
const childSource = (moduleUrl: string) => `
import { openEventLog } from ${JSON.stringify(moduleUrl)};
const [projectRoot, runId] = process.argv.slice(2);
const writer = await openEventLog({ projectRoot, runId, groupCommit: { maxEvents: 16, maxDelayMs: 2 } });
await writer.append('run.admitted', 'runtime', {
  mission_id: 'crash', tier: 'A3', objective_style: 'deterministic_lookup',
  model_alias: 'mission-a3-kimi', model: 'kimi-k2.6', fallback_chain: [], fallbacks_refused: [],
  mission: {}, budget_reductions: [], deadline_at: '2026-01-01T00:00:00.000Z', request_id: null,
  source: 'handoff_block', warnings: [],
  budgets: { tool_budget: 1, time_budget_seconds: 1, max_model_calls: 1, max_cost_usd: null,
    max_output_tokens: null, max_files: 1, max_observation_bytes: 1 },
});
process.stdout.write('0 1\\n');
for (let i = 1; ; i++) {
  const durable = i % 7 === 0;
  const event = durable
    ? await writer.append('tool.completed', 'tool', {
        call: i, tool: 'read_file', args: { path: 'a.ts' }, digest: 'ab'.repeat(32),
        bytes: i % 300, refs: ['cmd:' + i], cache_hit: false, redactions: 0,
        summary: 'x'.repeat(i % 300), path: null,
      })
    : await writer.append('commentary.emitted', 'runtime', {
        index: i, kind: 'progress', phase: 'EXPLORE', message: 'x'.repeat(i % 300), severity: 'info',
      });
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
    // A torn tail, when the kill left one, is the line right after the last complete one.
    expect(read.tornTail?.lineNumber ?? read.events.length + 1).toBe(read.events.length + 1);
    expect(existsSync(lockPath)).toBe(true);

    // The dead writer's lock is stale: a new writer takes over and continues the chain.
    const resumed = await openEventLog({ projectRoot: root, runId: 'run-crash', resume: true });
    const next = await resumed.append('run.completed', 'runtime', {
      status: 'PARTIAL',
      reason: 'cancelled',
      reason_text: 'the writer was killed',
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
