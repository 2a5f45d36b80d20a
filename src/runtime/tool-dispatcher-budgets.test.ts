import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateMission } from '../mission/index.js';
import { CommentaryChannel, type CommentaryLine } from './commentary-channel.js';
import { EvidenceLedger } from './evidence-ledger.js';
import type { EditResultPort, StagedWorkspacePort } from './implementation-ports.js';
import { createPathScope } from './path-scope.js';
import { editToolSpecs } from './tools/edit-tools.js';
import type { ToolSpec } from './tools/types.js';
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
  readonly source: string;
  readonly payload: Record<string, unknown>;
}

interface Setup {
  /** Roots whose reading needs the critical permission (none by default). */
  readonly criticalRoots?: readonly string[];
  /** Commentary on (detailed) and captured, instead of off. */
  readonly commentary?: boolean;
  readonly extraSpecs?: readonly ToolSpec[];
}

function dispatcher(limits: Partial<DispatcherLimits> = {}, setup: Setup = {}) {
  const events: Recorded[] = [];
  const lines: CommentaryLine[] = [];
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
    criticalRoots: [...(setup.criticalRoots ?? [])],
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
    (type, source, payload) => {
      events.push({ type, source, payload });
      return Promise.resolve();
    },
    new CommentaryChannel({
      mode: setup.commentary === true ? 'detailed' : 'off',
      maxEvents: 100,
      maxChars: 200,
      record: (line) => {
        lines.push(line);
        return Promise.resolve();
      },
    }),
    new AbortController().signal,
    setup.extraSpecs ?? [],
  );
  const completedCalls = () =>
    events.filter((event) => event.type === 'tool.completed').map((event) => event.payload['call']);
  const denials = () =>
    events
      .filter((event) => event.type === 'tool.denied')
      .map((event) => [event.payload['call'], event.payload['reason_code']]);
  const payloadOf = (type: string, call: number) =>
    events.find((event) => event.type === type && event.payload['call'] === call)?.payload;
  return { tools, events, lines, completedCalls, denials, payloadOf };
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

/** `{ a: { a: … } }` with `levels` objects inside `value`: depthOf counts one per object. */
function nested(levels: number, value: unknown = 'x'): unknown {
  let out: unknown = value;
  for (let i = 0; i < levels; i += 1) out = { a: out };
  return out;
}

describe('refusals before any tool runs', () => {
  it('arguments nested more than 16 levels are refused, and recorded only as a marker', async () => {
    const { tools, payloadOf, completedCalls } = dispatcher();
    // 17 levels below the arguments object: one too deep.
    const deep = await tools.run('read_file', { path: 'src/a.ts', extra: nested(16) }, 'model');
    expect(deep.kind).toBe('denied');
    expect(deep.critical).toBe(false);
    expect(deep.text).toBe(
      '[refs: cmd:1]\n[REFUSED: invalid_args] read_file: the arguments are nested more than 16 levels deep. Nothing was run.',
    );
    expect(payloadOf('tool.requested', 1)).toEqual({
      call: 1,
      tool: 'read_file',
      args: { nested_too_deep: true },
    });
    expect(payloadOf('tool.denied', 1)).toMatchObject({ args: {}, reason_code: 'invalid_args' });
    // Exactly 16 levels is not "too deep": the arguments go on to their schema (which refuses
    // the unknown key with its own reason).
    const limit = await tools.run('read_file', { path: 'src/a.ts', extra: nested(15) }, 'model');
    expect(limit.kind).toBe('denied');
    expect(limit.text).not.toContain('nested more than');
    expect(payloadOf('tool.requested', 2)?.['args']).toEqual({
      path: 'src/a.ts',
      extra: nested(15),
    });
    expect(completedCalls()).toEqual([]);
    expect(tools.budgetRemaining).toBe(10);
  });

  it('an unknown tool is told which tools exist, and its arguments are recorded redacted', async () => {
    const { tools, payloadOf } = dispatcher();
    const secret = 'ghp_' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
    const unknown = await tools.run(
      'fetch_url',
      { url: `https://x.test/?token=${secret}` },
      'model',
    );
    expect(unknown.text).toBe(
      '[refs: cmd:1]\n[REFUSED: tool_not_allowed] fetch_url is not an allowed tool for this mission; allowed: read_file, search_text, list_dir, submit_report.',
    );
    const denied = payloadOf('tool.denied', 1);
    expect(denied).toMatchObject({ call: 1, tool: 'fetch_url', reason_code: 'tool_not_allowed' });
    expect(JSON.stringify(denied?.['args'])).toContain('https://x.test/');
    expect(JSON.stringify(denied?.['args'])).not.toContain(secret);
    expect(JSON.stringify(payloadOf('tool.requested', 1))).not.toContain(secret);
  });

  it('a write-like tool is told it does not exist, in words that fit the mission', async () => {
    const readOnly = dispatcher();
    const bash = await readOnly.tools.run('bash', { command: 'ls' }, 'model');
    expect(bash.text).toBe(
      '[refs: cmd:1]\n[REFUSED: tool_not_allowed] bash does not exist here: this mission is read-only and the runtime owns every change.',
    );
    expect(readOnly.payloadOf('tool.denied', 1)?.['args']).toEqual({ command: 'ls' });

    // A mission that may edit (its copy's edit tools are offered) is pointed at them instead.
    const refused: EditResultPort = { ok: false, code: 'not_run', message: 'no edit runs here' };
    const staged: StagedWorkspacePort = {
      edit: () => Promise.resolve(refused),
      write: () => Promise.resolve(refused),
      delete: () => Promise.resolve(refused),
      changes: () => [],
    };
    const editing = dispatcher({}, { extraSpecs: editToolSpecs(staged, true) });
    const patch = await editing.tools.run('apply_patch', { patch: '' }, 'model');
    expect(patch.text).toBe(
      '[refs: cmd:1]\n[REFUSED: tool_not_allowed] apply_patch does not exist here: edits go through edit_file, write_file and delete_file in the isolated copy, and the runtime runs every command.',
    );
  });

  it('arguments the schema refuses are denied with its reason and recorded as sent', async () => {
    const { tools, payloadOf } = dispatcher();
    const bad = await tools.run('read_file', { path: 3 }, 'model');
    expect(bad.kind).toBe('denied');
    expect(bad.text).toMatch(/^\[refs: cmd:1\]\n\[REFUSED: invalid_args\] /);
    expect(payloadOf('tool.denied', 1)).toMatchObject({
      args: { path: 3 },
      reason_code: 'invalid_args',
    });
  });
});

describe('cache hits and repeats', () => {
  it('a cache hit is not critical, spends nothing, and names the digest of what it showed', async () => {
    const { tools, payloadOf } = dispatcher({ toolBudget: 3, maxLowInformation: 1 });
    await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    const part = await tools.run(
      'read_file',
      { path: 'src/a.ts', start_line: 2, end_line: 2 },
      'model',
    );
    expect(part.kind).toBe('cache_hit');
    expect(part.critical).toBe(false);
    expect(part.refs.length).toBeGreaterThan(0);
    expect(part.text.startsWith(`[refs: ${part.refs.join(', ')}]\n`)).toBe(true);
    expect(part.text).toContain('export const b = 2;');
    expect(part.text).not.toContain('export const a = 1;');
    const completed = payloadOf('tool.completed', 2);
    expect(completed).toMatchObject({ cache_hit: true, tool: 'read_file' });
    expect(part.digest).toBe(completed?.['digest']);
    expect(part.digest).toMatch(/^[0-9a-f]{64}$/);
    // A first cache hit is neither a repeat nor low information.
    expect(tools.exhaustion()).toBeUndefined();
    expect(tools.budgetRemaining).toBe(2);
  });

  it('the same read again, served from the cache, counts as a repeat and as low information', async () => {
    const lowInformation = dispatcher({ maxLowInformation: 1 });
    await lowInformation.tools.run('read_file', { path: 'src/a.ts' }, 'model');
    const again = await lowInformation.tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(again.kind).toBe('cache_hit');
    expect(again.exhausted).toBe('1 actions were refused or repeated; exploration has stopped.');

    const duplicates = dispatcher({ maxDuplicates: 1 });
    await duplicates.tools.run('read_file', { path: 'src/a.ts' }, 'model');
    const repeat = await duplicates.tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(repeat.exhausted).toBe('You repeated actions 1 times; exploration has stopped.');
  });

  it('a repeat of another tool is not critical, counts as low information, and is recorded with its arguments', async () => {
    const { tools, payloadOf } = dispatcher({ maxLowInformation: 1 });
    await tools.run('list_dir', { path: 'src' }, 'model');
    const again = await tools.run('list_dir', { path: 'src' }, 'model');
    expect(again.kind).toBe('duplicate');
    expect(again.critical).toBe(false);
    expect(again.exhausted).toBe('1 actions were refused or repeated; exploration has stopped.');
    expect(payloadOf('tool.denied', 2)).toEqual({
      call: 2,
      tool: 'list_dir',
      args: { path: 'src' },
      reason_code: 'duplicate_action',
      message: 'identical to cmd:1',
    });
  });

  it('only a read_file is looked up in the read cache', async () => {
    const { tools, completedCalls } = dispatcher();
    await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    // A listing of the path just read is its own call: it runs (and fails: a file is no
    // directory), it is not answered with the file's text.
    const listing = await tools.run('list_dir', { path: 'src/a.ts' }, 'model');
    expect(listing.kind).toBe('executed');
    expect(listing.text).not.toContain('export const a = 1;');
    expect(completedCalls()).toEqual([1, 2]);
  });

  it('a read that failed is tried again when asked again (nothing was cached)', async () => {
    const { tools, completedCalls } = dispatcher({ maxDuplicates: 1 });
    await tools.run('read_file', { path: 'src/missing.ts' }, 'model');
    writeFileSync(path.join(root, 'src', 'missing.ts'), 'export const late = 5;\n');
    const again = await tools.run('read_file', { path: 'src/missing.ts' }, 'model');
    expect(again.kind).toBe('executed');
    expect(again.text).toContain('export const late = 5;');
    expect(completedCalls()).toEqual([1, 2]);
    expect(tools.exhaustion()).toBeUndefined();
  });
});

describe('path refusals from the tool itself', () => {
  it('a denied path is refused as not critical, with the tool code and the arguments recorded', async () => {
    const { tools, payloadOf, completedCalls } = dispatcher({ maxLowInformation: 1 });
    const outside = await tools.run('read_file', { path: 'private/notes.md' }, 'model');
    expect(outside.kind).toBe('denied');
    expect(outside.critical).toBe(false);
    expect(outside.text).toMatch(/^\[refs: cmd:1\]\n\[REFUSED: path_denied\] 'private\/notes.md'/);
    expect(outside.exhausted).toBe('1 actions were refused or repeated; exploration has stopped.');
    expect(payloadOf('tool.denied', 1)).toMatchObject({
      tool: 'read_file',
      args: { path: 'private/notes.md' },
      reason_code: 'path_denied',
    });
    expect(completedCalls()).toEqual([]);
    expect(tools.budgetRemaining).toBe(10);
  });

  it('a critical path read without permission ends the mission (critical outcome)', async () => {
    mkdirSync(path.join(root, 'src', 'auth'), { recursive: true });
    writeFileSync(path.join(root, 'src', 'auth', 'keys.ts'), 'export const rotation = 30;\n');
    const { tools, payloadOf } = dispatcher({}, { criticalRoots: ['src/auth/'] });
    const plain = await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(plain.critical).toBe(false);
    const critical = await tools.run('read_file', { path: 'src/auth/keys.ts' }, 'model');
    expect(critical.kind).toBe('denied');
    expect(critical.critical).toBe(true);
    expect(critical.text).toContain('[REFUSED: critical_path_denied]');
    expect(critical.text).not.toContain('rotation');
    expect(payloadOf('tool.denied', 2)).toMatchObject({
      args: { path: 'src/auth/keys.ts' },
      reason_code: 'critical_path_denied',
    });
  });
});

describe('carried evidence (a continuation)', () => {
  it('is recorded like any call but spends neither calls, files nor bytes', async () => {
    const { tools, completedCalls } = dispatcher({ toolBudget: 1, maxFiles: 1 });
    const carried = await tools.run('read_file', { path: 'src/a.ts' }, 'runtime', {
      carried: true,
    });
    expect(carried.kind).toBe('executed');
    expect(carried.exhausted).toBeUndefined();
    expect(tools.budgetRemaining).toBe(1);
    // The model's own read of another file still has the whole budget.
    const own = await tools.run('read_file', { path: 'src/b.ts' }, 'model');
    expect(own.kind).toBe('executed');
    expect(own.exhausted).toBe('The tool budget (1 calls) is spent.');
    expect(completedCalls()).toEqual([1, 2]);
  });

  it('is admitted even when the budgets are spent', async () => {
    const { tools } = dispatcher({ toolBudget: 1 });
    await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    expect(tools.exhaustion()).toBe('The tool budget (1 calls) is spent.');
    const carried = await tools.run('read_file', { path: 'src/b.ts' }, 'runtime', {
      carried: true,
    });
    expect(carried.kind).toBe('denied');
  });
});

describe('a batch of parallel calls holds its share of the budgets', () => {
  it('refuses the calls the tool budget has no room for, before any of them runs', async () => {
    const { tools, denials, completedCalls } = dispatcher({ toolBudget: 2 });
    const outcomes = await tools.runBatch([
      { name: 'read_file', args: { path: 'src/a.ts' } },
      { name: 'read_file', args: { path: 'src/b.ts' } },
      { name: 'read_file', args: { path: 'src/c.ts' } },
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['executed', 'executed', 'denied']);
    expect(outcomes[2]?.text).toContain('The tool budget (2 calls) is spent.');
    expect(completedCalls()).toEqual([1, 2]);
    expect(denials()).toEqual([[3, 'budget_exhausted']]);
    expect(tools.budgetRemaining).toBe(0);
  });

  it('holds a file slot for each new file read, once per file', async () => {
    const { tools } = dispatcher({ maxFiles: 2 });
    const outcomes = await tools.runBatch([
      { name: 'read_file', args: { path: 'src/a.ts' } },
      { name: 'read_file', args: { path: 'src/a.ts', start_line: 1, end_line: 1 } },
      { name: 'list_dir', args: { path: 'src' } },
      { name: 'read_file', args: { path: 'src/b.ts' } },
      { name: 'read_file', args: { path: 'src/c.ts' } },
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual([
      'executed',
      'executed',
      'executed',
      'executed',
      'denied',
    ]);
    expect(outcomes[4]?.text).toContain('The file budget (2 files) is spent.');
    expect(tools.exhaustion()).toBe('The file budget (2 files) is spent.');
  });

  it('a file read before takes no new slot when a batch reads it again', async () => {
    const { tools } = dispatcher({ maxFiles: 2 });
    // One line of a.ts: the whole file is not in the cache, so the batch's read of it runs.
    await tools.run('read_file', { path: 'src/a.ts', start_line: 1, end_line: 1 }, 'model');
    const outcomes = await tools.runBatch([
      { name: 'read_file', args: { path: 'src/a.ts' } },
      { name: 'read_file', args: { path: 'src/b.ts' } },
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['executed', 'executed']);
    expect(outcomes[1]?.text).toContain('export const c = 3;');
    expect(tools.exhaustion()).toBe('The file budget (2 files) is spent.');
  });

  it('refuses, once it ran, a call whose earlier calls of the batch spent the observation budget', async () => {
    const probe = dispatcher();
    await probe.tools.run('read_file', { path: 'src/a.ts' }, 'model');
    const aBytes = Number(probe.payloadOf('tool.completed', 1)?.['bytes']);
    const { tools, completedCalls, payloadOf } = dispatcher({ maxObservationBytes: aBytes });
    const outcomes = await tools.runBatch([
      { name: 'read_file', args: { path: 'src/a.ts' } },
      { name: 'read_file', args: { path: 'src/b.ts' } },
    ]);
    expect(outcomes.map((outcome) => outcome.kind)).toEqual(['executed', 'denied']);
    expect(outcomes[1]?.text).toBe(
      `[refs: cmd:2]\n[REFUSED: budget_exhausted] The observation budget (${aBytes} bytes) is spent. Call submit_report now.`,
    );
    expect(outcomes[1]?.text).not.toContain('export const c');
    expect(payloadOf('tool.denied', 2)).toMatchObject({ args: { path: 'src/b.ts' } });
    expect(completedCalls()).toEqual([1]);
    // The refused call gave its reservation back and spent no call.
    expect(tools.budgetRemaining).toBe(9);
  });

  it('a critical refusal ends the batch: the calls after it are recorded, never shown', async () => {
    mkdirSync(path.join(root, 'src', 'auth'), { recursive: true });
    writeFileSync(path.join(root, 'src', 'auth', 'keys.ts'), 'export const rotation = 30;\n');
    const { tools, denials } = dispatcher({}, { criticalRoots: ['src/auth/'] });
    const outcomes = await tools.runBatch([
      { name: 'read_file', args: { path: 'src/auth/keys.ts' } },
      { name: 'read_file', args: { path: 'src/b.ts' } },
    ]);
    expect(outcomes.map((outcome) => [outcome.kind, outcome.critical])).toEqual([
      ['denied', true],
      ['denied', false],
    ]);
    expect(outcomes[1]?.text).not.toContain('export const c');
    expect(denials()).toEqual([
      [1, 'critical_path_denied'],
      [2, 'mission_ended'],
    ]);
    expect(tools.budgetRemaining).toBe(10);
  });
});

describe('who each event is recorded as', () => {
  it('requests as the caller, results as the tool, refusals and repeats as the runtime', async () => {
    const { tools, events } = dispatcher();
    await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    await tools.run('list_dir', { path: 'src' }, 'runtime');
    await tools.run('list_dir', { path: 'src' }, 'model');
    await tools.run('bash', { command: 'ls' }, 'model');
    expect(events.map((event) => [event.payload['call'], event.type, event.source])).toEqual([
      [1, 'tool.requested', 'model'],
      [1, 'tool.completed', 'tool'],
      [2, 'tool.requested', 'runtime'],
      [2, 'tool.completed', 'tool'],
      [3, 'tool.requested', 'model'],
      [3, 'tool.denied', 'runtime'],
      [4, 'tool.requested', 'model'],
      [4, 'tool.denied', 'runtime'],
    ]);
  });
});

describe('commentary', () => {
  it('says what each call does, what it found, and why one was refused or redirected', async () => {
    const { tools, lines } = dispatcher({}, { commentary: true });
    await tools.run('read_file', { path: 'src/a.ts' }, 'model');
    await tools.run('list_dir', { path: 'src' }, 'model');
    await tools.run('list_dir', { path: 'src' }, 'model');
    await tools.run('bash', { command: 'ls' }, 'model');
    expect(lines.map((line) => [line.kind, line.phase, line.message, line.severity])).toEqual([
      ['tool_action_started', 'EXPLORE', "I'm reading src/a.ts.", 'info'],
      ['tool_result_summary', 'EXPLORE', 'Read src/a.ts lines 1-2.', 'info'],
      ['tool_action_started', 'EXPLORE', "I'm listing src.", 'info'],
      ['tool_result_summary', 'EXPLORE', 'Listed src.', 'info'],
      [
        'runtime_redirect',
        'EXPLORE',
        'The model repeated list_dir; the runtime pointed it at cmd:2 instead.',
        'warning',
      ],
      ['tool_denied', 'EXPLORE', 'The runtime refused bash (tool_not_allowed).', 'warning'],
    ]);
  });
});
