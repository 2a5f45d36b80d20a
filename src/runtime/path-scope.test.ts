import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPathScope, type PathScopeOptions } from './path-scope.js';

let root: string;
let outside: string;

function write(relative: string, content = 'x\n'): void {
  const file = path.join(root, relative);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

function scope(overrides: Partial<PathScopeOptions> = {}) {
  return createPathScope({
    projectRoot: root,
    allowedPaths: ['README.md'],
    allowedRoots: ['src', 'docs/'],
    forbiddenRoots: ['src/generated/', '*.secret'],
    criticalRoots: ['src/auth/'],
    criticalReadAllowed: false,
    criticalReason: null,
    ...overrides,
  });
}

beforeAll(() => {
  root = realpathSync(mkdtempSync(path.join(tmpdir(), 'scope-root-')));
  outside = realpathSync(mkdtempSync(path.join(tmpdir(), 'scope-outside-')));
  writeFileSync(path.join(outside, 'stolen.txt'), 'outside\n');
  for (const file of [
    'README.md',
    'src/a.ts',
    'src/auth/login.ts',
    'src/generated/out.ts',
    'src/config.secret',
    'src/.env.production',
    'src/app.env',
    'src/tls/server.pem',
    'src/id_rsa',
    'src/secrets/token.txt',
    'src/node_modules/pkg/index.js',
    'src/.codex-oss/state/run.json',
    'srcfoo/x.ts',
    'docs/guide.md',
    '.env',
    '.git/config',
  ]) {
    write(file);
  }
  symlinkSync(path.join(outside, 'stolen.txt'), path.join(root, 'src/link-out.txt'));
  symlinkSync(outside, path.join(root, 'src/link-dir'));
  symlinkSync(path.join(root, '.env'), path.join(root, 'src/link-env'));
  symlinkSync(path.join(root, 'srcfoo/x.ts'), path.join(root, 'src/link-srcfoo.ts'));
  symlinkSync(path.join(root, 'docs/guide.md'), path.join(root, 'src/link-docs.md'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

function codeOf(requested: string, overrides: Partial<PathScopeOptions> = {}): string {
  const result = scope(overrides).resolve(requested);
  return result.ok ? 'ok' : result.code;
}

describe('createPathScope().resolve', () => {
  it('accepts allowed files and directories, relative to the project root', () => {
    const result = scope().resolve('src/a.ts');
    expect(result).toEqual({
      ok: true,
      relative: 'src/a.ts',
      absolute: path.join(root, 'src/a.ts'),
      critical: false,
    });
    expect(codeOf('./src//a.ts')).toBe('ok');
    expect(codeOf('src')).toBe('ok');
    expect(codeOf('docs/guide.md')).toBe('ok');
    expect(codeOf('README.md')).toBe('ok');
  });

  it('refuses empty paths', () => {
    expect(codeOf('')).toBe('path_empty');
    expect(codeOf('   ')).toBe('path_empty');
  });

  it('refuses any .. segment, even one that would land inside the project', () => {
    expect(codeOf('src/../.env')).toBe('path_traversal');
    expect(codeOf('src/../src/a.ts')).toBe('path_traversal');
    expect(codeOf('..')).toBe('path_traversal');
    expect(codeOf('src\\..\\.env')).toBe('path_traversal');
    expect(codeOf('src/..%2f.env')).toBe('path_traversal');
  });

  it('treats a literal ..%2f segment name as a plain (missing) name, never a traversal out', () => {
    // `..%2f` is not `..`: it can only name a file literally called that, which does not exist.
    expect(codeOf('src/..%2f')).not.toBe('ok');
    expect(['path_traversal', 'path_not_found']).toContain(codeOf('src/..%2f'));
  });

  it('accepts absolute paths inside the project and makes them relative', () => {
    const result = scope().resolve(path.join(root, 'src/a.ts'));
    expect(result.ok && result.relative).toBe('src/a.ts');
  });

  it('refuses absolute paths outside the project without echoing them', () => {
    const result = scope().resolve('/etc/passwd');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('path_outside_project');
      expect(result.message).not.toContain('/etc');
      expect(result.message).toContain('Allowed:');
    }
    expect(codeOf(path.join(outside, 'stolen.txt'))).toBe('path_outside_project');
  });

  it('applies the deny list to requested paths', () => {
    for (const denied of [
      '.env',
      '.git/config',
      '.git',
      'src/.env.production',
      'src/app.env',
      'src/tls/server.pem',
      'src/id_rsa',
      'src/secrets/token.txt',
      'src/node_modules/pkg/index.js',
      'src/.codex-oss/state/run.json',
      'src/generated/out.ts',
      'src/config.secret',
    ]) {
      expect(codeOf(denied), denied).toBe('path_denied');
    }
  });

  it('refuses paths outside the allowed roots, and a root prefix is not a string prefix', () => {
    expect(codeOf('srcfoo/x.ts')).toBe('path_not_allowed');
    expect(codeOf('package.json')).toBe('path_not_allowed');
    expect(scope().resolve('srcfoo/x.ts')).toMatchObject({
      ok: false,
      message: expect.stringContaining('src/') as unknown,
    });
  });

  it('refuses symlinks that point outside the project', () => {
    expect(codeOf('src/link-out.txt')).toBe('symlink_escape');
    expect(codeOf('src/link-dir/stolen.txt')).toBe('symlink_escape');
    const result = scope().resolve('src/link-out.txt');
    expect(result).toMatchObject({ ok: false, message: expect.any(String) as unknown });
    expect(JSON.stringify(result)).not.toContain(outside);
  });

  it('refuses symlinks inside the project that resolve to denied or unallowed paths', () => {
    expect(codeOf('src/link-env')).toBe('path_denied');
    expect(codeOf('src/link-srcfoo.ts')).toBe('path_not_allowed');
    // docs/ is allowed, so a link into it is fine.
    expect(codeOf('src/link-docs.md')).toBe('ok');
  });

  it('reports missing files', () => {
    expect(codeOf('src/missing.ts')).toBe('path_not_found');
  });

  it('needs permission, a reason and a narrow grant for critical roots', () => {
    expect(codeOf('src/auth/login.ts')).toBe('critical_path_denied');
    expect(codeOf('src/auth/login.ts', { criticalReadAllowed: true })).toBe('critical_path_denied');
    expect(codeOf('src/auth/login.ts', { criticalReadAllowed: true, criticalReason: '  ' })).toBe(
      'critical_path_denied',
    );
    const allowed = scope({
      criticalReadAllowed: true,
      criticalReason: 'audit the login flow',
    }).resolve('src/auth/login.ts');
    expect(allowed.ok && allowed.critical).toBe(true);
    // Only the broad root `.` covers it: not enough for a critical read.
    expect(
      codeOf('src/auth/login.ts', {
        allowedRoots: ['.'],
        criticalReadAllowed: true,
        criticalReason: 'reason',
      }),
    ).toBe('critical_path_denied');
  });

  it('a symlink into or out of a critical root is critical on either end, and needs the grant on both', () => {
    symlinkSync(path.join(root, 'src/auth/login.ts'), path.join(root, 'src/link-auth.ts'));
    symlinkSync(path.join(root, 'src/a.ts'), path.join(root, 'src/auth/link-plain.ts'));
    symlinkSync(path.join(root, 'src/auth/login.ts'), path.join(root, 'top-auth.ts'));
    const permitted = { criticalReadAllowed: true, criticalReason: 'audit the login flow' };
    // A plain name that lands in the critical root is critical: refused without permission,
    // and marked critical when permitted.
    expect(codeOf('src/link-auth.ts')).toBe('critical_path_denied');
    expect(scope(permitted).resolve('src/link-auth.ts')).toMatchObject({
      ok: true,
      relative: 'src/link-auth.ts',
      critical: true,
    });
    // A critical name that lands on a plain file is critical too.
    expect(codeOf('src/auth/link-plain.ts')).toBe('critical_path_denied');
    expect(scope(permitted).resolve('src/auth/link-plain.ts')).toMatchObject({
      ok: true,
      critical: true,
    });
    // The link's own name is granted only through `.`: a broad grant on one end is not enough,
    // even though its target has a narrow one.
    const oneEndBroad = { ...permitted, allowedRoots: ['.', 'src/auth/'] };
    expect(codeOf('top-auth.ts', oneEndBroad)).toBe('critical_path_denied');
    expect(codeOf('src/auth/login.ts', oneEndBroad)).toBe('ok');
    expect(codeOf('top-auth.ts', { ...oneEndBroad, allowedPaths: ['top-auth.ts'] })).toBe('ok');
    // The other way round: a narrowly granted link whose target is granted only through `.`.
    write('config/login.ts');
    symlinkSync(path.join(root, 'config/login.ts'), path.join(root, 'src/link-config.ts'));
    const targetBroad = { ...permitted, allowedRoots: ['.', 'src/'], criticalRoots: ['config/'] };
    expect(codeOf('src/link-config.ts', targetBroad)).toBe('critical_path_denied');
    expect(
      codeOf('src/link-config.ts', { ...targetBroad, allowedPaths: ['config/login.ts'] }),
    ).toBe('ok');
  });

  it('treats `.` as the whole project only when given explicitly', () => {
    expect(codeOf('.')).toBe('path_not_allowed');
    expect(codeOf('srcfoo/x.ts', { allowedRoots: ['.'] })).toBe('ok');
    expect(codeOf('.', { allowedRoots: ['.'] })).toBe('ok');
    expect(codeOf('.env', { allowedRoots: ['.'] })).toBe('path_denied');
  });
});

describe('createPathScope helpers', () => {
  it('checks descendants lexically against the deny list and critical roots', () => {
    const s = scope();
    expect(s.checkDescendant('src/a.ts')).toEqual({ ok: true, critical: false });
    expect(s.checkDescendant('src/.env')).toEqual({ ok: false, code: 'path_denied' });
    expect(s.checkDescendant('src/auth/login.ts')).toEqual({
      ok: false,
      code: 'critical_path_denied',
    });
  });

  it('lists default search targets from the allowed roots and paths', () => {
    expect(scope().defaultTargets()).toEqual(['src', 'docs', 'README.md']);
    expect(scope({ allowedRoots: ['.'] }).defaultTargets()).toEqual(['']);
  });
});

describe('createPathScope options', () => {
  it('exposes its options as frozen plain data, so a worker can rebuild the same scope', () => {
    const s = scope();
    expect(s.options).toEqual({
      projectRoot: root,
      allowedPaths: ['README.md'],
      allowedRoots: ['src', 'docs/'],
      forbiddenRoots: ['src/generated/', '*.secret'],
      criticalRoots: ['src/auth/'],
      criticalReadAllowed: false,
      criticalReason: null,
    });
    expect(Object.isFrozen(s.options)).toBe(true);
    expect(Object.isFrozen(s.options.forbiddenRoots)).toBe(true);
    const rebuilt = createPathScope(structuredClone(s.options));
    for (const relative of ['src/a.ts', 'src/generated/out.ts', 'src/x.secret', 'src/auth/a.ts'])
      expect(rebuilt.checkDescendant(relative)).toEqual(s.checkDescendant(relative));
  });

  it('fails closed on a forbidden-root glob too complex to match safely', () => {
    const s = scope({ forbiddenRoots: ['*a'.repeat(21)] });
    expect(s.isDenied('src/a.ts')).toBe(true);
    expect(s.resolve('src/a.ts')).toMatchObject({ ok: false, code: 'path_denied' });
  });
});

// Cases found by mutation testing (docs/mutation-survivors.md lists what is left on purpose).
describe('createPathScope: edges the deny list, messages and roots must keep', () => {
  it('denies every secret name pattern, at any depth, in any case', () => {
    const s = scope({ allowedRoots: ['.'] });
    for (const name of [
      '.env',
      '.ENV',
      '.env.local',
      'app.env',
      'app.env.local',
      '.envrc',
      'tls/server.key',
      'a.p12',
      'b.PFX',
      'c.keystore',
      'd.jks',
      'e.pem',
      'id_rsa.pub',
      'id_ed25519',
      'id_ecdsa',
      'id_dsa',
      'opencode-go.env.example',
      'deep/.git/HEAD',
      'a/SECRETS/b',
    ]) {
      expect(s.isDenied(`src/${name}`), name).toBe(true);
    }
  });

  it('does not deny names that only resemble secrets', () => {
    const s = scope({ allowedRoots: ['.'] });
    for (const name of [
      'envelope.ts',
      '.envelope.md',
      'my.envelope.ts',
      'app.env.localhost',
      'editor.keymap.json',
      'parse_id_rsa.ts',
      'valid_id_ed25519.ts',
      'no_id_ecdsa.ts',
      'old_id_dsa.md',
      'about-opencode-go.env.md',
      'gitignore.ts',
    ]) {
      expect(s.isDenied(`src/${name}`), name).toBe(false);
    }
    expect(s.isDenied('')).toBe(false);
  });

  it('refuses percent-encoded traversal, and takes other percent signs literally', () => {
    expect(codeOf('src/%2e%2e/.env')).toBe('path_traversal');
    expect(codeOf('src/..%2F.env')).toBe('path_traversal');
    expect(codeOf('src/a%20b.ts')).toBe('path_not_found');
    // Not valid percent-encoding at all: a plain (missing) name, not an error.
    expect(codeOf('src/100%.ts')).toBe('path_not_found');
    expect(scope().resolve('src/a\0b.ts')).toEqual({
      ok: false,
      code: 'path_denied',
      message: 'The path contains a NUL byte and was refused.',
    });
    // Backslashes are separators too.
    expect(scope().resolve('src\\a.ts')).toMatchObject({ ok: true, relative: 'src/a.ts' });
  });

  it('forbidden roots: prefixes case-insensitively, globs per segment or per path, bad globs fail closed', () => {
    const s = scope({
      allowedRoots: ['.'],
      forbiddenRoots: ['Build/', 'config/*.secret', '*.bak', '  '],
    });
    expect(s.isDenied('build/out.js')).toBe(true);
    expect(s.isDenied('builder/out.js')).toBe(false);
    expect(s.isDenied('config/db.secret')).toBe(true);
    expect(s.isDenied('config/db.secret/inner.txt')).toBe(true);
    expect(s.isDenied('other/config/db.secret')).toBe(false);
    expect(s.isDenied('src/deep/file.BAK')).toBe(true);
    expect(scope({ forbiddenRoots: [' build/ '] }).isDenied('build/x.js')).toBe(true);
    // An empty critical root is ignored, not a reason to treat everything as critical.
    expect(scope({ criticalRoots: ['', './'] }).isCritical('src/a.ts')).toBe(false);
    // A glob too complex to match safely denies everything rather than nothing.
    const closed = scope({ allowedRoots: ['.'], forbiddenRoots: ['?'.repeat(200)] });
    expect(closed.isDenied('src/a.ts')).toBe(true);
    expect(closed.isDenied('README.md')).toBe(true);
  });

  it('says what is allowed, in every combination', () => {
    expect(scope().describeAllowed()).toBe(
      'Allowed: paths under src/, docs/; the files README.md (relative to the project root).',
    );
    expect(scope({ allowedRoots: ['.'], allowedPaths: [] }).describeAllowed()).toBe(
      'Allowed: the whole project (relative to the project root).',
    );
    expect(scope({ allowedRoots: [], allowedPaths: ['./a.ts', ''] }).describeAllowed()).toBe(
      'Allowed: the files a.ts (relative to the project root).',
    );
    expect(scope({ allowedRoots: [], allowedPaths: [] }).describeAllowed()).toBe(
      'No paths are allowed for this mission.',
    );
    expect(scope({ allowedRoots: [], allowedPaths: ['a.md', 'b.md'] }).describeAllowed()).toBe(
      'Allowed: the files a.md, b.md (relative to the project root).',
    );
    expect(scope({ allowedRoots: [' src/ '], allowedPaths: [] }).describeAllowed()).toBe(
      'Allowed: paths under src/ (relative to the project root).',
    );
  });

  it('every refusal names the path and what is allowed', () => {
    const allowed = scope().describeAllowed();
    const message = (requested: string, overrides: Partial<PathScopeOptions> = {}) => {
      const result = scope(overrides).resolve(requested);
      return result.ok ? '' : result.message;
    };
    expect(message('  ')).toBe(`A path is required. ${allowed}`);
    expect(message('src/../a.ts')).toBe(
      `'..' segments are not allowed in paths; name the path from the project root. ${allowed}`,
    );
    expect(message('/etc/passwd')).toBe(
      `Absolute paths outside the project root are not allowed; use a path relative to the project root. ${allowed}`,
    );
    expect(message('src/.env.production')).toBe(
      `'src/.env.production' is on the deny list (git internals, env files, keys and certificates, secrets/, node_modules/, bridge state or a forbidden root) and cannot be read. ${allowed}`,
    );
    expect(message('src/link-env')).toBe(
      `'src/link-env' resolves (through a symlink) to a path that is on the deny list (git internals, env files, keys and certificates, secrets/, node_modules/, bridge state or a forbidden root) and cannot be read. ${allowed}`,
    );
    expect(message('srcfoo/x.ts')).toBe(
      `'srcfoo/x.ts' is outside this mission's scope. ${allowed}`,
    );
    expect(message('src/link-srcfoo.ts')).toBe(
      `'src/link-srcfoo.ts' resolves (through a symlink) to a path outside this mission's scope. ${allowed}`,
    );
    expect(message('src/missing.ts')).toBe(`'src/missing.ts' does not exist. ${allowed}`);
    expect(message('src/link-out.txt')).toBe(
      `'src/link-out.txt' is a symlink (or inside one) that points outside the project root and was refused.`,
    );
    expect(message('src/auth/login.ts')).toBe(
      `'src/auth/login.ts' is under a critical root; reading it needs critical_path_read_allowed with a critical_path_reason and an explicit grant of that path or a narrow root containing it.`,
    );
    expect(message('.', { allowedRoots: [] })).toBe(
      `'.' is outside this mission's scope. Allowed: the files README.md (relative to the project root).`,
    );
  });

  it('the whole project as a root: broad grants, broad targets, and critical paths stay closed', () => {
    const permitted = { criticalReadAllowed: true, criticalReason: 'audit the login flow' };
    const broad = scope({ allowedRoots: ['.'], allowedPaths: [], ...permitted });
    expect(broad.resolve('srcfoo/x.ts')).toMatchObject({ ok: true, relative: 'srcfoo/x.ts' });
    expect(broad.resolve(path.join(root, 'docs/guide.md'))).toMatchObject({
      ok: true,
      relative: 'docs/guide.md',
    });
    expect(broad.resolve(root)).toMatchObject({ ok: true, relative: '' });
    expect(broad.defaultTargets()).toEqual(['']);
    // `.` is not a narrow grant of a critical root, even with permission and a reason.
    expect(broad.resolve('src/auth/login.ts')).toMatchObject({ code: 'critical_path_denied' });
    expect(broad.checkDescendant('src/auth/login.ts')).toEqual({
      ok: false,
      code: 'critical_path_denied',
    });
    // A blank reason is no reason.
    const blank = scope({ criticalReadAllowed: true, criticalReason: '   ' });
    expect(blank.resolve('src/auth/login.ts')).toMatchObject({ code: 'critical_path_denied' });
    const narrow = scope({ ...permitted, criticalRoots: ['config/', 'src/auth/'] });
    expect(narrow.isCritical('src/auth/login.ts')).toBe(true);
    expect(narrow.isCritical('config/a.ts')).toBe(true);
    expect(narrow.isCritical('src/a.ts')).toBe(false);
    expect(narrow.resolve('src/auth/login.ts')).toMatchObject({ ok: true, critical: true });
    expect(narrow.checkDescendant('src/auth/login.ts')).toEqual({ ok: true, critical: true });
    // The project root itself is never a critical grant.
    const rootCritical = scope({ ...permitted, allowedRoots: ['src'], criticalRoots: ['src'] });
    expect(rootCritical.resolve('src/a.ts')).toMatchObject({ ok: true, critical: true });
  });

  it('default targets: each root once, and allowed files not already under a root', () => {
    expect(
      scope({
        allowedRoots: ['src', 'docs'],
        allowedPaths: ['src/a.ts', 'README.md', 'docs/guide.md', 'notes/x.md'],
      }).defaultTargets(),
    ).toEqual(['src', 'docs', 'README.md', 'notes/x.md']);
    expect(scope({ allowedRoots: [], allowedPaths: ['a.md', 'b.md'] }).defaultTargets()).toEqual([
      'a.md',
      'b.md',
    ]);
  });
});
