import { describe, expect, it } from 'vitest';
import { compileGlob, createPathGlob, GlobError, maxGlobWildcards } from './glob.js';
import { parseGitignore } from './gitignore.js';
import { requiredLiterals } from './search-pattern.js';

describe('glob matching', () => {
  it('supports *, **, ?, {a,b} and classes', () => {
    expect(compileGlob('*.ts').test('a.ts')).toBe(true);
    expect(compileGlob('*.ts').test('src/a.ts')).toBe(false);
    expect(compileGlob('src/**/*.ts').test('src/a.ts')).toBe(true);
    expect(compileGlob('src/**/*.ts').test('src/x/y/a.ts')).toBe(true);
    expect(compileGlob('src/**').test('src/x/y')).toBe(true);
    expect(compileGlob('?.md').test('a.md')).toBe(true);
    expect(compileGlob('?.md').test('ab.md')).toBe(false);
    expect(compileGlob('*.{js,mjs,c{c,pp}}').test('a.cpp')).toBe(true);
    expect(compileGlob('*.{js,mjs}').test('a.ts')).toBe(false);
    expect(compileGlob('[ab].txt').test('b.txt')).toBe(true);
    expect(compileGlob('[!ab].txt').test('b.txt')).toBe(false);
    expect(compileGlob('a.b').test('axb')).toBe(false);
  });

  it('matches base names without a slash and whole paths with one', () => {
    expect(createPathGlob('*.ts').matches('deep/dir/file.ts')).toBe(true);
    expect(createPathGlob('src/*.ts').matches('deep/src/file.ts')).toBe(false);
    expect(createPathGlob('./src/*.ts').matches('src/file.ts')).toBe(true);
  });
});

describe('glob complexity', () => {
  it('collapses runs of ** segments and of stars to one copy, with the same meaning', () => {
    expect(compileGlob('**/**/**/a.ts').source).toBe(compileGlob('**/a.ts').source);
    expect(compileGlob('src/**/**/**').source).toBe(compileGlob('src/**').source);
    expect(compileGlob('**/**').source).toBe(compileGlob('**').source);
    expect(compileGlob('a***b').source).toBe(compileGlob('a*b').source);
    expect(compileGlob('a**b').source).toBe(compileGlob('a*b').source);
    const stacked = compileGlob('src/**/**/*.ts');
    expect(stacked.test('src/a.ts')).toBe(true);
    expect(stacked.test('src/x/y/a.ts')).toBe(true);
    expect(stacked.test('lib/a.ts')).toBe(false);
    // `***/` is three stars, which git reads as `*`: one segment, not any number.
    expect(compileGlob('***/a.ts').test('x/a.ts')).toBe(true);
    expect(compileGlob('***/a.ts').test('x/y/a.ts')).toBe(false);
  });

  it('matches twelve stacked **/ against a deep path without backtracking', () => {
    // Uncollapsed, this backtracked for about half a minute (a blocked event loop).
    const glob = compileGlob(`${'**/'.repeat(12)}zz`);
    expect(glob.test(`${'d/'.repeat(30)}leaf.txt`)).toBe(false);
    expect(glob.test(`${'d/'.repeat(30)}zz`)).toBe(true);
  });

  it('refuses globs with more wildcards than the cap, counting braces and escapes right', () => {
    expect(() => compileGlob('*a'.repeat(maxGlobWildcards))).not.toThrow();
    expect(() => compileGlob('*a'.repeat(maxGlobWildcards + 1))).toThrow(GlobError);
    expect(() => compileGlob('*a'.repeat(maxGlobWildcards + 1))).toThrow(/more than 20 wildcards/);
    expect(() => compileGlob(`{${'?'.repeat(maxGlobWildcards + 1)},x}`)).toThrow(GlobError);
    // A run of stars counts once; escaped stars are literals.
    expect(() => compileGlob(`a${'*'.repeat(50)}b`)).not.toThrow();
    expect(() => compileGlob('\\*'.repeat(maxGlobWildcards + 1))).not.toThrow();
    expect(() => createPathGlob('?'.repeat(maxGlobWildcards + 1))).toThrow(GlobError);
  });
});

describe('gitignore subset', () => {
  const ignore = parseGitignore(
    ['# comment', '', 'dist/', '*.log', '!keep.log', '/build', 'docs/*.tmp'].join('\n'),
  );
  it('applies basic rules with negation, anchoring and directory-only patterns', () => {
    expect(ignore.ignores('dist', true)).toBe(true);
    expect(ignore.ignores('dist', false)).toBe(false);
    expect(ignore.ignores('a/b/c.log', false)).toBe(true);
    expect(ignore.ignores('a/keep.log', false)).toBe(false);
    expect(ignore.ignores('build', true)).toBe(true);
    expect(ignore.ignores('src/build', true)).toBe(false);
    expect(ignore.ignores('docs/x.tmp', false)).toBe(true);
    expect(ignore.ignores('other/docs/x.tmp', false)).toBe(false);
  });

  it('skips a rule too complex to match instead of failing the whole file', () => {
    const complex = parseGitignore(`${'*a'.repeat(maxGlobWildcards + 1)}\n*.log\n`);
    expect(complex.ignores('x.log', false)).toBe(true);
    expect(complex.ignores('a.ts', false)).toBe(false);
  });
});

describe('requiredLiterals', () => {
  it('finds the literal every match must contain', () => {
    expect(requiredLiterals('createServer')).toEqual(['createServer']);
    expect(requiredLiterals('function\\s+\\w+Async\\b')).toEqual(['function']);
    expect(requiredLiterals('TODO|FIXME')).toEqual(['TODO', 'FIXME']);
    expect(requiredLiterals('colou?r')).toEqual(['colo']);
    expect(requiredLiterals('ab+c')).toEqual(['ab']);
    expect(requiredLiterals('import\\(["\']node:')).toEqual(['import(']);
    expect(requiredLiterals('\\x41BCDEF')).toEqual(['BCDEF']);
  });

  it('gives up when a branch has no usable literal', () => {
    expect(requiredLiterals('\\w+')).toBeNull();
    expect(requiredLiterals('foo|\\d+')).toBeNull();
    expect(requiredLiterals('(foo)?bar|x')).toBeNull();
  });
});
