import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, EvidenceLedger } from './evidence-ledger.js';
import { createPathScope } from './path-scope.js';
import { executeReadFile } from './tools/read-file.js';
import type { ToolContext, ToolObservation } from './tools/types.js';

let root: string;
let ctx: ToolContext;
// A file whose name is a token (assembled at run time, so no scanner flags this file).
const secretName = `${['gh', 'p_'].join('')}${'aB3xK9mQ7zR2tW5yP8nL4vC6'.repeat(2).slice(0, 36)}.txt`;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'ledger-'));
  writeFileSync(
    path.join(root, 'a.ts'),
    Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n') + '\n',
  );
  writeFileSync(path.join(root, 'empty.ts'), '');
  writeFileSync(path.join(root, secretName), 'one\ntwo\n');
  const scope = createPathScope({
    projectRoot: root,
    allowedPaths: [],
    allowedRoots: ['.'],
    forbiddenRoots: [],
    criticalRoots: [],
    criticalReadAllowed: false,
    criticalReason: null,
  });
  ctx = { scope, projectRoot: root, signal: new AbortController().signal };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const searchResult: ToolObservation = {
  ok: true,
  text: '0 matches for "x"',
  bytes: 17,
  redactions: 0,
  matches: 0,
};
const denied: ToolObservation = {
  ok: false,
  text: 'denied',
  bytes: 6,
  redactions: 0,
  code: 'path_denied',
};

describe('EvidenceLedger', () => {
  it('gives out a secret file name redacted, as the model saw it, and still backs its refs', async () => {
    const ledger = new EvidenceLedger();
    const read = await executeReadFile({ path: secretName }, ctx);
    const { refs } = ledger.record(1, 'read_file', { path: secretName }, read);
    const token = secretName.replace(/\.txt$/, '');
    expect(refs).toEqual(['cmd:1', 'file:[REDACTED].txt#L1-L2']);
    expect(ledger.refs().join(' ')).not.toContain(token);
    expect(ledger.filesInspected().map((file) => file.path)).toEqual(['[REDACTED].txt']);
    // The model cites what it was shown; the ledger knows which file that was.
    expect(ledger.hasRef('file:[REDACTED].txt#L2')).toBe(true);
    expect(ledger.hasRef('file:[REDACTED].txt#L3')).toBe(false);
    const cached = ledger.lookupRead(secretName);
    expect(cached?.text).toMatch(/^\[REDACTED\]\.txt: lines 1-2 of 2/);
    expect(cached?.text).not.toContain(token);
  });

  it('issues cmd refs for calls and file refs for reads', async () => {
    const ledger = new EvidenceLedger();
    const read = await executeReadFile({ path: 'a.ts', start_line: 10, end_line: 20 }, ctx);
    expect(
      ledger.record(1, 'read_file', { path: 'a.ts', start_line: 10, end_line: 20 }, read).refs,
    ).toEqual(['cmd:1', 'file:a.ts#L10-L20']);
    expect(ledger.record(2, 'read_file', { path: '.env' }, denied).refs).toEqual([]);
    expect(ledger.record(3, 'search_text', { pattern: 'x' }, searchResult).refs).toEqual(['cmd:3']);
    expect(ledger.refs()).toEqual(['cmd:1', 'file:a.ts#L10-L20', 'cmd:3']);
    expect(ledger.stats()).toMatchObject({ toolCalls: 3, files: 1, bytes: read.bytes + 6 + 17 });
  });

  it('accepts exact refs and sub-ranges of what was shown, nothing else', async () => {
    const ledger = new EvidenceLedger();
    ledger.record(
      1,
      'read_file',
      { path: 'a.ts' },
      await executeReadFile({ path: 'a.ts', start_line: 10, end_line: 20 }, ctx),
    );
    ledger.record(
      2,
      'read_file',
      { path: 'a.ts' },
      await executeReadFile({ path: 'a.ts', start_line: 21, end_line: 25 }, ctx),
    );
    expect(ledger.hasRef('cmd:1')).toBe(true);
    expect(ledger.hasRef('cmd:3')).toBe(false);
    expect(ledger.hasRef('file:a.ts#L10-L20')).toBe(true);
    expect(ledger.hasRef('file:a.ts#L12-L14')).toBe(true);
    expect(ledger.hasRef('file:a.ts#L15')).toBe(true);
    // Two adjacent reads merge into one covered range.
    expect(ledger.hasRef('file:a.ts#L18-L24')).toBe(true);
    expect(ledger.hasRef('file:a.ts#L5-L12')).toBe(false);
    expect(ledger.hasRef('file:a.ts#L20-L10')).toBe(false);
    expect(ledger.hasRef('file:b.ts#L1-L2')).toBe(false);
    expect(ledger.hasRef('file:a.ts')).toBe(false);
    expect(ledger.filesInspected()).toEqual([
      { path: 'a.ts', complete: false, totalLines: 50, ranges: [[10, 25]] },
    ]);
  });

  it('serves covered re-reads from cache without spending bytes', async () => {
    const ledger = new EvidenceLedger();
    expect(ledger.lookupRead('a.ts')).toBeNull();
    ledger.record(1, 'read_file', { path: 'a.ts' }, await executeReadFile({ path: 'a.ts' }, ctx));
    const whole = ledger.lookupRead('a.ts');
    expect(whole).toMatchObject({
      ok: true,
      code: 'cache_hit',
      bytes: 0,
      lineRange: [1, 50],
      complete: true,
    });
    const part = ledger.lookupRead('a.ts', { start_line: 3, end_line: 4 });
    expect(part?.text.split('\n').slice(1)).toEqual(['   3| line 3', '   4| line 4']);
    expect(ledger.hasRef('file:a.ts')).toBe(true);
    expect(ledger.filesInspected()[0]?.complete).toBe(true);
    expect(ledger.stats().cacheHits).toBe(2);
  });

  it('does not serve lines that were never shown', async () => {
    const ledger = new EvidenceLedger();
    ledger.record(
      1,
      'read_file',
      { path: 'a.ts' },
      await executeReadFile({ path: 'a.ts', start_line: 1, end_line: 10 }, ctx),
    );
    expect(ledger.lookupRead('a.ts', { start_line: 5, end_line: 10 })).not.toBeNull();
    expect(ledger.lookupRead('a.ts', { start_line: 5, end_line: 11 })).toBeNull();
    expect(ledger.lookupRead('a.ts')).toBeNull();
  });

  it('handles truncated reads: only the lines shown count', async () => {
    const ledger = new EvidenceLedger();
    const cut = await executeReadFile({ path: 'a.ts' }, { ...ctx, limits: { readChars: 60 } });
    expect(cut.complete).toBe(false);
    const refs = ledger.record(1, 'read_file', { path: 'a.ts' }, cut).refs;
    const end = cut.lineRange?.[1] ?? 0;
    expect(refs).toContain(`file:a.ts#L1-L${end}`);
    expect(ledger.lookupRead('a.ts', { start_line: 1, end_line: end })).not.toBeNull();
    expect(ledger.lookupRead('a.ts', { start_line: 1, end_line: end + 1 })).toBeNull();
  });

  it('records empty files', async () => {
    const ledger = new EvidenceLedger();
    const empty = await executeReadFile({ path: 'empty.ts' }, ctx);
    expect(ledger.record(1, 'read_file', { path: 'empty.ts' }, empty).refs).toEqual([
      'cmd:1',
      'file:empty.ts#L0-L0',
    ]);
    expect(ledger.lookupRead('empty.ts')?.code).toBe('cache_hit');
  });

  it('detects repeated non-read actions by canonical arguments', () => {
    const ledger = new EvidenceLedger();
    ledger.record(1, 'search_text', { pattern: 'x', glob: '*.ts' }, searchResult);
    expect(ledger.isRepeat('search_text', { glob: '*.ts', pattern: 'x' })).toBe(true);
    expect(ledger.isRepeat('search_text', { pattern: 'x' })).toBe(false);
    expect(ledger.isRepeat('read_file', { path: 'a.ts' })).toBe(false);
    expect(canonicalJson({ b: [1, { d: 1, c: 2 }], a: undefined })).toBe('{"b":[1,{"c":2,"d":1}]}');
  });
});
