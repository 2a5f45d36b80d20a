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
await writer.append('run.admitted', 'runtime', { mission_id: 'crash', tier: 'A3' });
process.stdout.write('0 1\\n');
for (let i = 1; ; i++) {
  const durable = i % 7 === 0;
  const type = durable ? 'tool.completed' : 'commentary.emitted';
  const event = await writer.append(type, 'runtime', {
    index: i,
    message: 'x'.repeat(i % 300),
    refs: ['cmd:' + i],
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
    } as never);
    await resumed.close();
    expect(next.seq).toBe(read.events.length);
    const after = await readEventLog(logPath);
    expect(after.chainErrors).toEqual([]);
    expect(after.tornTail).toBeNull();
    expect(existsSync(lockPath)).toBe(false);
  });
});
