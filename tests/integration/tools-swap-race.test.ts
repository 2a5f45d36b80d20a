import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  linkSync,
  renameSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPathScope } from '../../src/runtime/path-scope.js';
import { runTool } from '../../src/runtime/tools/registry.js';
import { type ToolContext } from '../../src/runtime/tools/types.js';

/**
 * Issue 9, Medium #3: the scope check resolved the real path, then the tool opened the file
 * again by path; a process swapping a directory under an allowed root for a symlink to an
 * outside directory got outside content back in about 11% of reads and 24% of searches. Tools
 * now open once and check what they opened. Hard-linked files are refused by default.
 */

let base: string;
let root: string;
let outside: string;

function context(): ToolContext {
  const scope = createPathScope({
    projectRoot: root,
    allowedPaths: [],
    allowedRoots: ['src/'],
    forbiddenRoots: [],
    criticalRoots: [],
    criticalReadAllowed: false,
    criticalReason: null,
  });
  return { scope, projectRoot: root, signal: new AbortController().signal };
}

/** A child process that swaps src/swap between the real directory and a link outside. */
function startSwapper(): ChildProcess {
  const script = `
    const fs = require('node:fs');
    const [dir, parked, target] = process.argv.slice(1);
    for (;;) {
      try {
        fs.renameSync(dir, parked);
        fs.symlinkSync(target, dir);
        fs.unlinkSync(dir);
        fs.renameSync(parked, dir);
      } catch {}
    }`;
  return spawn(
    process.execPath,
    ['-e', script, path.join(root, 'src', 'swap'), path.join(root, 'src', 'parked'), outside],
    { stdio: 'ignore' },
  );
}

beforeAll(() => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'swap-race-')));
  root = path.join(base, 'project');
  outside = path.join(base, 'outside');
  mkdirSync(path.join(root, 'src', 'swap'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, 'src', 'swap', 'data.txt'), 'marker INSIDE-CONTENT\n');
  writeFileSync(path.join(outside, 'data.txt'), 'marker OUTSIDE-CONTENT\n');
  writeFileSync(path.join(outside, 'linked.txt'), 'marker HARDLINKED-OUTSIDE\n');
  linkSync(path.join(outside, 'linked.txt'), path.join(root, 'src', 'linked.txt'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('a directory swapped for a symlink leaks nothing (issue 9 Medium #3)', () => {
  it('reads, searches and listings under a swapping directory never show outside content', async () => {
    const swapper = startSwapper();
    const ctx = context();
    let inside = 0;
    const leaks: string[] = [];
    try {
      // Let the swapper get going before the first read.
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (let round = 0; round < 400; round++) {
        const read = await runTool('read_file', { path: 'src/swap/data.txt' }, ctx);
        if (read.text.includes('OUTSIDE')) leaks.push(`read: ${read.text}`);
        if (read.text.includes('INSIDE-CONTENT')) inside++;
        if (round % 10 === 0) {
          const search = await runTool('search_text', { pattern: 'marker', path: 'src/swap' }, ctx);
          if (search.text.includes('OUTSIDE')) leaks.push(`search: ${search.text}`);
          // The outside directory also holds linked.txt; a listing that names it leaked.
          const listing = await runTool('list_dir', { path: 'src/swap' }, ctx);
          if (listing.text.includes('linked.txt')) leaks.push(`list: ${listing.text}`);
          const whole = await runTool('search_text', { pattern: 'marker', path: 'src' }, ctx);
          if (whole.text.includes('OUTSIDE')) leaks.push(`search src: ${whole.text}`);
        }
      }
    } finally {
      swapper.kill();
    }
    expect(leaks).toEqual([]);
    // Under load every racing read may be refused; once the swapping stops, the file reads.
    expect(inside).toBeGreaterThanOrEqual(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The killed swapper may have left the directory parked; put it back.
    const parked = path.join(root, 'src', 'parked');
    if (existsSync(parked)) {
      rmSync(path.join(root, 'src', 'swap'), { force: true });
      renameSync(parked, path.join(root, 'src', 'swap'));
    }
    const settled = await runTool('read_file', { path: 'src/swap/data.txt' }, ctx);
    expect(settled.text).toContain('INSIDE-CONTENT');
  }, 120_000);
});

describe('hard-linked files are refused by default (issue 9 Medium #3)', () => {
  it('read_file says why, and search_text skips the file', async () => {
    const read = await runTool('read_file', { path: 'src/linked.txt' }, context());
    expect(read.code).toBe('hard_link_refused');
    expect(read.text).toContain('has 2 hard links');
    expect(read.text).not.toContain('HARDLINKED-OUTSIDE');
    const search = await runTool('search_text', { pattern: 'HARDLINKED' }, context());
    expect(search.matches).toBe(0);
  });

  it('reads a hard-linked file when the limit allows it', async () => {
    const ctx = { ...context(), limits: { allowHardLinks: true } };
    const read = await runTool('read_file', { path: 'src/linked.txt' }, ctx);
    expect(read.text).toContain('HARDLINKED-OUTSIDE');
  });
});
