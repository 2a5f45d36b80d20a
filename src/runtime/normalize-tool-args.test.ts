import { describe, expect, it } from 'vitest';
import { normalizeToolArgs } from './normalize-tool-args.js';

describe('normalizeToolArgs', () => {
  it('passes contract arguments through', () => {
    expect(normalizeToolArgs('read_file', { path: 'a.ts', start_line: 2, end_line: 4 })).toEqual({
      args: { path: 'a.ts', start_line: 2, end_line: 4 },
      unsupported: [],
    });
  });

  it('maps path aliases and path lists', () => {
    for (const key of ['file_path', 'file', 'filename', 'root', 'dir', 'directory', 'folder']) {
      expect(normalizeToolArgs('list_dir', { [key]: 'src' }).args).toEqual({ path: 'src' });
    }
    expect(normalizeToolArgs('read_file', { paths: ['a.ts'] })).toEqual({
      args: { path: 'a.ts' },
      unsupported: [],
    });
    expect(normalizeToolArgs('read_file', { files: ['a.ts', 'b.ts'] }).unsupported).toHaveLength(1);
  });

  it('maps offset/limit and start/end to a line range', () => {
    expect(normalizeToolArgs('read_file', { path: 'a', offset: 10, limit: 5 }).args).toEqual({
      path: 'a',
      start_line: 10,
      end_line: 14,
    });
    expect(normalizeToolArgs('read_file', { path: 'a', offset: 0 }).args).toEqual({
      path: 'a',
      start_line: 1,
    });
    expect(normalizeToolArgs('read_file', { path: 'a', start: '3', end: '9' }).args).toEqual({
      path: 'a',
      start_line: 3,
      end_line: 9,
    });
  });

  it('maps search aliases, grep options and context variants', () => {
    const result = normalizeToolArgs('search_text', {
      query: 'foo',
      include: '*.ts',
      options: ['-i', '-n', '-r'],
      context: 2,
      recursive: true,
      dir: 'src',
    });
    expect(result).toEqual({
      args: { pattern: 'foo', glob: '*.ts', case_sensitive: false, context_lines: 2, path: 'src' },
      unsupported: [],
    });
    expect(
      normalizeToolArgs('search_text', { regex: 'a+', glob: '*.md', output_context_lines: 1 }).args,
    ).toEqual({
      pattern: 'a+',
      glob: '*.md',
      context_lines: 1,
    });
    expect(
      normalizeToolArgs('search_text', { pattern: 'x', context_line_count: '3' }).args,
    ).toEqual({ pattern: 'x', context_lines: 3 });
    expect(
      normalizeToolArgs('search_text', { pattern: 'x', options: '-i --line-number' }).args,
    ).toEqual({ pattern: 'x', case_sensitive: false });
  });

  it('reports unsupported keys and unabsorbable grep flags', () => {
    expect(normalizeToolArgs('search_text', { pattern: 'x', options: ['-v'] }).unsupported).toEqual(
      ['options:-v'],
    );
    expect(normalizeToolArgs('read_file', { path: 'a', encoding: 'utf8' })).toEqual({
      args: { path: 'a' },
      unsupported: ['encoding'],
    });
    expect(normalizeToolArgs('git_status', { verbose: true }).unsupported).toEqual(['verbose']);
  });

  it('reports conflicting spellings instead of guessing', () => {
    const result = normalizeToolArgs('read_file', { path: 'a.ts', file: 'b.ts' });
    expect(result.args).toEqual({ path: 'a.ts' });
    expect(result.unsupported[0]).toContain('conflicts');
  });

  it('accepts JSON strings and drops nulls', () => {
    expect(normalizeToolArgs('git_log', '{"n": 3}').args).toEqual({ limit: 3 });
    expect(normalizeToolArgs('git_show_stat', { commit: 'HEAD~1', rev: null }).args).toEqual({
      rev: 'HEAD~1',
    });
    expect(normalizeToolArgs('git_status', '').args).toEqual({});
    expect(normalizeToolArgs('git_status', '[1]').unsupported).toHaveLength(1);
  });
});
