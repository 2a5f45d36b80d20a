import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateMission } from '../mission/index.js';
import { CommentaryChannel } from './commentary-channel.js';
import { EvidenceLedger } from './evidence-ledger.js';
import { createPathScope } from './path-scope.js';
import { ToolDispatcher, type DispatcherLimits } from './tool-dispatcher.js';

/**
 * The budgets a mission sets are the runtime's, not the model's: once one is spent, the next
 * call is refused before any tool runs, and the model is told which budget ran out. Driven
 * through the real dispatcher, the real read/list/search tools and a real project in a temp dir.
 */

let root: string;

beforeEach(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'dispatcher-budgets-')));
  mkdirSync(path.join(root, 'src'), { recursive: true });
  mkdirSync(path.join(root, 'private'), { recursive: true });
  writeFileSync(path.join(root, 'src', 'a.ts'), 'export const a = 1;\nexport const b = 2;\n');
  writeFileSync(path.join(root, 'src', 'b.ts'), 'export const c = 3;\n');
  writeFileSync(path.join(root, 'src', 'c.ts'), 'export const d = 4;\n');
  writeFileSync(path.join(root, 'private', 'notes.md'), 'not for the model\n');
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

interface Recorded {
  readonly type: string;
  readonly payload: Record<string, unknown>;
}

function dispatcher(limits: Partial<DispatcherLimits> = {}) {
  const events: Recorded[] = [];
  const mission = validateMission({
    schema_version: 'oss_agent_mission.v1',
    mission_id: 'budgets-1',
    tier: 'A3',
    objective: 'Where are the constants defined?',
    allowed_roots: ['src/'],
    allowed_tool_classes: ['read', 'list', 'search'],
    required_outputs: ['findings'],
  }).mission;
  const scope = createPathScope({
    projectRoot: root,
    allowedPaths: [],
    allowedRoots: ['src/'],
    forbiddenRoots: ['private'],
    criticalRoots: [],
    criticalReadAllowed: false,
    criticalReason: null,
  });
  const tools = new ToolDispatcher(
    mission,
    scope,
    new EvidenceLedger(),
    {
      toolBudget: 10,
      maxFiles: 10,
      maxObservationBytes: 1_000_000,
      maxDuplicates: 10,
      maxLowInformation: 10,
      ...limits,
    },
    (type, _source, payload) => {
      events.push({ type, payload });
      return Promise.resolve();
    },
    new CommentaryChannel({
      mode: 'off',
      maxEvents: 10,
      maxChars: 200,
      record: () => Promise.resolve(),
    }),
    new AbortController().signal,
  );
  const completedCalls = () =>
    events.filter((event) => event.type === 'tool.completed').map((event) => event.payload['call']);
  const denials = () =>
    events
      .filter((event) => event.type === 'tool.denied')
      .map((event) => [event.payload['call'], event.payload['reason_code']]);
  return { tools, events, completedCalls, denials };
}

describe('the tool budget', () => {
  it('counts executed calls, says when it is spent, and refuses the next call without running it', async () => {
    const { tools, completedCalls, denials } = dispatcher({ toolBudget: 2 });
    expect(tools.budgetRemaining).toBe(2);
    expect(tools.exhaustion()).toBeUndefined();

    const first = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(first.kind).toBe('executed');
    expect(first.exhausted).toBeUndefined();
    expect(tools.budgetRemaining).toBe(1);

    const second = await tools.run('read_file', { path: 'src/b.ts' }, 'model');
    expect(second.kind).toBe('executed');
    expect(second.exhausted).toBe('The tool budget (2 calls) is spent.');
    expect(tools.budgetRemaining).toBe(0);

    const third = await tools.run('read_file', { path: 'src/c.ts' }, 'model');
    expect(third.kind).toBe('denied');
    expect(third.critical).toBe(false);
    expect(third.refs).toEqual(['cmd:3']);
    expect(third.text).toBe(
      '[refs: cmd:3]\n[REFUSED: budget_exhausted] The tool budget (2 calls) is spent. Call submit_report now.',
    );
    expect(third.text).not.toContain('export const d');
    expect(third.exhausted).toBe('The tool budget (2 calls) is spent.');
    // The refused call ran nothing and spent nothing; the remaining budget never goes negative.
    expect(completedCalls()).toEqual([1, 2]);
    expect(denials()).toEqual([[3, 'budget_exhausted']]);
    expect(tools.budgetRemaining).toBe(0);
    expect(tools.callCount).toBe(3);
  });

  it('a refused call (unknown tool, path out of scope) spends no budget', async () => {
    const { tools, denials } = dispatcher({ toolBudget: 1 });
    const unknown = await tools.run('write_file', { path: 'src/a.ts', content: 'x' }, 'model');
    expect(unknown.kind).toBe('denied');
    expect(unknown.text).toContain('[REFUSED: tool_not_allowed]');
    const outside = await tools.run('read_file', { path: 'private/notes.md' }, 'model');
    expect(outside.kind).toBe('denied');
    expect(outside.text).not.toContain('not for the model');
    expect(tools.budgetRemaining).toBe(1);
    const read = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(read.kind).toBe('executed');
    expect(read.text).toContain('export const a = 1;');
    expect(denials().map(([call]) => call)).toEqual([1, 2]);
  });

  it('a tool that runs and fails still spends a call', async () => {
    const { tools } = dispatcher({ toolBudget: 1 });
    const missing = await tools.run('read_file', { path: 'src/missing.ts' }, 'model');
    expect(missing.kind).toBe('executed');
    expect(tools.budgetRemaining).toBe(0);
    expect(missing.exhausted).toBe('The tool budget (1 calls) is spent.');
  });
});

describe('the file and observation budgets', () => {
  it('counts distinct files read, not listings or failed reads', async () => {
    const { tools } = dispatcher({ maxFiles: 2 });
    await tools.run('list_dir', { path: 'src' }, 'model');
    await tools.run('read_file', { path: 'src/missing.ts' }, 'model');
    expect(tools.exhaustion()).toBeUndefined();
    const a = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(a.exhausted).toBeUndefined();
    // A second range of the same file is the same file.
    await tools.run('read_file', { path: 'src/a.ts', start_line: 2, end_line: 2 }, 'model');
    expect(tools.exhaustion()).toBeUndefined();
    const b = await tools.run('read_file', { path: 'src/b.ts' }, 'model');
    expect(b.kind).toBe('executed');
    expect(b.exhausted).toBe('The file budget (2 files) is spent.');
    const c = await tools.run('read_file', { path: 'src/c.ts' }, 'model');
    expect(c.kind).toBe('denied');
    expect(c.text).toContain(
      '[REFUSED: budget_exhausted] The file budget (2 files) is spent. Call submit_report now.',
    );
  });

  it('counts the bytes each observation showed the model, and is spent when they reach it', async () => {
    // How many bytes each read shows, measured by a run with room to spare.
    const probe = dispatcher();
    await probe.tools.run('read_file', { path: 'src/a.ts' }, 'model');
    await probe.tools.run('read_file', { path: 'src/b.ts' }, 'model');
    const [aBytes = 0, bBytes = 0] = probe.events
      .filter((event) => event.type === 'tool.completed')
      .map((event) => Number(event.payload['bytes']));
    expect(aBytes).toBeGreaterThan(0);
    expect(bBytes).toBeGreaterThan(0);

    const budget = aBytes + bBytes;
    const { tools } = dispatcher({ maxObservationBytes: budget });
    const a = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(a.exhausted).toBeUndefined();
    const b = await tools.run('read_file', { path: 'src/b.ts' }, 'model');
    expect(b.exhausted).toBe(`The observation budget (${budget} bytes) is spent.`);
    const c = await tools.run('search_text', { pattern: 'const' }, 'model');
    expect(c.kind).toBe('denied');
    expect(c.text).toContain(
      `The observation budget (${budget} bytes) is spent. Call submit_report now.`,
    );
  });
});

describe('repeats and refusals (the loop detector)', () => {
  it('an identical call is answered with its earlier ref, runs nothing and spends no budget', async () => {
    const { tools, completedCalls, events } = dispatcher({ toolBudget: 2 });
    await tools.run('search_text', { pattern: 'const' }, 'model');
    const again = await tools.run('search_text', { pattern: 'const' }, 'model');
    expect(again.kind).toBe('duplicate');
    expect(again.refs).toEqual(['cmd:2']);
    expect(again.text).toBe(
      '[refs: cmd:2]\n[DUPLICATE] This is identical to cmd:1; use that result. Nothing was run.',
    );
    expect(completedCalls()).toEqual([1]);
    expect(events.find((event) => event.type === 'tool.denied')?.payload).toMatchObject({
      call: 2,
      reason_code: 'duplicate_action',
      message: 'identical to cmd:1',
    });
    expect(tools.budgetRemaining).toBe(1);
  });

  it('stops exploration after maxDuplicates repeats', async () => {
    const { tools } = dispatcher({ maxDuplicates: 2 });
    await tools.run('list_dir', { path: 'src' }, 'model');
    const once = await tools.run('list_dir', { path: 'src' }, 'model');
    expect(once.exhausted).toBeUndefined();
    const twice = await tools.run('list_dir', { path: 'src' }, 'model');
    expect(twice.exhausted).toBe('You repeated actions 2 times; exploration has stopped.');
    const next = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(next.kind).toBe('denied');
    expect(next.text).toContain('[REFUSED: budget_exhausted] You repeated actions 2 times');
  });

  it('a re-read is served from the cache for free, but the very same read again is a repeat', async () => {
    const { tools, events } = dispatcher({ toolBudget: 5, maxDuplicates: 2 });
    await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    // A part of what was shown: from the cache, free, and not a repeat of the earlier call.
    const part = await tools.run(
      'read_file',
      { path: 'src/a.ts', start_line: 1, end_line: 1 },
      'model',
    );
    expect(part.kind).toBe('cache_hit');
    expect(part.text).toContain('export const a = 1;');
    expect(tools.budgetRemaining).toBe(4);
    expect(tools.exhaustion()).toBeUndefined();
    const same = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(same.kind).toBe('cache_hit');
    expect(same.exhausted).toBeUndefined();
    const sameAgain = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(sameAgain.exhausted).toBe('You repeated actions 2 times; exploration has stopped.');
    expect(tools.budgetRemaining).toBe(4);
    const hits = events.filter(
      (event) => event.type === 'tool.completed' && event.payload['cache_hit'] === true,
    );
    expect(hits.map((event) => event.payload['call'])).toEqual([2, 3, 4]);
  });

  it('stops exploration after maxLowInformation refused or failed calls', async () => {
    const { tools } = dispatcher({ maxLowInformation: 3 });
    await tools.run('bash', { command: 'ls' }, 'model');
    const failed = await tools.run('read_file', { path: 'src/missing.ts' }, 'model');
    expect(failed.exhausted).toBeUndefined();
    const outside = await tools.run('read_file', { path: 'private/notes.md' }, 'model');
    expect(outside.exhausted).toBe('3 actions were refused or repeated; exploration has stopped.');
    const next = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(next.kind).toBe('denied');
    expect(next.text).toContain(
      '[REFUSED: budget_exhausted] 3 actions were refused or repeated; exploration has stopped. Call submit_report now.',
    );
  });

  it('a useful call does not count as low information', async () => {
    const { tools } = dispatcher({ maxLowInformation: 1 });
    await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    await tools.run('list_dir', { path: 'src' }, 'model');
    await tools.run('read_file', { path: 'src/a.ts', start_line: 2, end_line: 2 }, 'model');
    expect(tools.exhaustion()).toBeUndefined();
  });
});

describe('a file whose name is a secret', () => {
  it('never shows the name: not in the result, its refs, the events or a cached read', async () => {
    // Assembled at run time, so no scanner flags this file.
    const token = `${['gh', 'p_'].join('')}${'aB3xK9mQ7zR2tW5yP8nL4vC6'.repeat(2).slice(0, 36)}`;
    writeFileSync(path.join(root, 'src', `${token}.txt`), 'one\n');
    const { tools, events } = dispatcher();
    const first = await tools.run('read_file', { path: `src/${token}.txt` }, 'model');
    const again = await tools.run('read_file', { path: `src/${token}.txt` }, 'model');
    expect(first.kind).toBe('executed');
    expect(first.refs).toEqual(['cmd:1', 'file:src/[REDACTED].txt#L1-L1']);
    expect(again.text).toContain('[already read; served from cache]');
    for (const shown of [first.text, again.text, ...first.refs, JSON.stringify(events)])
      expect(shown).not.toContain(token);
    expect(events.filter((event) => event.type === 'tool.completed')[0]?.payload['path']).toBe(
      'src/[REDACTED].txt',
    );
  });
});
