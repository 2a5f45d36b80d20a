import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  buildDelegatedMission,
  delegationRequestSchema,
  missionAliasFor,
  type DelegationRequest,
} from '../../src/delegation/index.js';
import { BridgeError } from '../../src/errors/index.js';
import { createRegistry } from '../../src/models/index.js';
import { tempDir } from '../support/implementation-repos.js';

/** The delegation builder on real folders: scope, tiers, aliases and every path it refuses. */

// Made at load time: the it.each table below names these folders.
const project = tempDir('dlg-project-');
const outside = tempDir('dlg-outside-');
const registry = createRegistry(
  loadConfig({ cwd: '/', env: { CODEX_OSS_PROJECT: '/', ALLOW_MISSING_OPENCODE_KEY: '1' } }),
);

beforeAll(() => {
  mkdirSync(path.join(project, 'src', 'lib'), { recursive: true });
  mkdirSync(path.join(project, 'pkg'), { recursive: true });
  mkdirSync(path.join(project, '.git'), { recursive: true });
  writeFileSync(path.join(project, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(path.join(project, 'src', 'lib', 'b.ts'), 'export const b = 2;\n');
  writeFileSync(path.join(project, 'pkg', 'c.ts'), 'export const c = 3;\n');
  writeFileSync(path.join(project, '.env'), 'TOKEN=x\n');
  writeFileSync(path.join(outside, 'secret.txt'), 'outside\n');
  symlinkSync(outside, path.join(project, 'escape'));
  symlinkSync(path.join(outside, 'secret.txt'), path.join(project, 'src', 'link.txt'));
});
afterAll(() => {
  for (const dir of [project, outside]) rmSync(dir, { recursive: true, force: true });
});

function build(request: Partial<DelegationRequest> & { prompt?: string }) {
  return buildDelegatedMission(delegationRequestSchema.parse({ prompt: 'Find x', ...request }), {
    projectRoot: project,
    registry,
  });
}

function refusal(request: Partial<DelegationRequest>): BridgeError {
  try {
    build(request);
  } catch (error) {
    if (error instanceof BridgeError) return error;
    throw error;
  }
  throw new Error(`expected a refusal for ${JSON.stringify(request)}`);
}

describe('buildDelegatedMission', () => {
  it('read-only with no paths is an A3 mission over the whole workspace, said explicitly', () => {
    const built = build({});
    expect(built.mission.tier).toBe('A3');
    expect(built.mission.allowed_roots).toEqual(['.']);
    expect(built.mission.allow_broad_read_scope).toBe(true);
    expect(built.broadScope).toBe(true);
    expect(built.mission.objective).toContain('the whole workspace');
    expect(built.scopeNote).toContain('the whole workspace');
    expect(built.modelAlias).toBe('mission-a3-kimi');
  });

  it('a sub-folder workspace is the broad root, and context paths are project-relative', () => {
    const broad = build({ workspace: 'src' });
    expect(broad.mission.allowed_roots).toEqual(['src/']);
    const scoped = build({
      workspace: path.join(project, 'src'),
      context_paths: ['lib'],
      file: ['a.ts'],
    });
    expect(scoped.mission.allowed_roots).toEqual(['src/lib/']);
    expect(scoped.mission.allowed_paths).toEqual(['src/a.ts']);
    expect(scoped.mission.must_inspect).toEqual(['src/a.ts']);
    expect(scoped.mission.allow_broad_read_scope).toBe(false);
  });

  it('workspace-write is A5 in isolation owning the given paths, with verification commands', () => {
    const built = build({
      permission: 'workspace-write',
      context_paths: ['src/a.ts', 'src/new-file.ts'],
      verification_commands: ['node --test "test/a b.mjs"', ['npm', 'test']],
      model: 'deepseek-v4-pro',
      continuation_id: 'dlg-earlier',
      mission_id: 'dlg-next',
    });
    expect(built.mission).toMatchObject({
      tier: 'A5',
      write_allowed: true,
      apply_mode: 'isolated_worktree',
      owned_paths: ['src/a.ts', 'src/new-file.ts'],
      continues: 'dlg-earlier',
      mission_id: 'dlg-next',
    });
    expect(built.mission.verification_policy.allowed_commands).toEqual([
      ['node', '--test', 'test/a b.mjs'],
      ['npm', 'test'],
    ]);
    expect(built.modelAlias).toBe('mission-a5-deepseek');
  });

  it('a continuation with no paths of its own inherits the earlier scope', () => {
    const earlierScope = { allowedRoots: ['src/lib/'], allowedPaths: ['src/a.ts'] };
    const read = buildDelegatedMission(
      delegationRequestSchema.parse({ prompt: 'More', continuation_id: 'dlg-first' }),
      { projectRoot: project, registry, earlierScope },
    );
    expect(read.mission.allowed_roots).toEqual(['src/lib/']);
    expect(read.mission.allowed_paths).toEqual(['src/a.ts']);
    expect(read.broadScope).toBe(false);
    expect(read.scopeNote).toContain('the scope of mission dlg-first');
    const write = buildDelegatedMission(
      delegationRequestSchema.parse({
        prompt: 'Fix',
        permission: 'workspace-write',
        continuation_id: 'dlg-first',
      }),
      { projectRoot: project, registry, earlierScope },
    );
    expect(write.mission.owned_paths).toEqual(['src/lib/', 'src/a.ts']);
    const broad = { allowedRoots: ['.'], allowedPaths: [] };
    const wide = buildDelegatedMission(
      delegationRequestSchema.parse({ prompt: 'More', continuation_id: 'dlg-first' }),
      { projectRoot: project, registry, earlierScope: broad },
    );
    expect(wide.mission.allowed_roots).toEqual(['.']);
    expect(wide.mission.allow_broad_read_scope).toBe(true);
    expect(() =>
      buildDelegatedMission(
        delegationRequestSchema.parse({
          prompt: 'Fix',
          permission: 'workspace-write',
          continuation_id: 'dlg-first',
        }),
        { projectRoot: project, registry, earlierScope: broad },
      ),
    ).toThrow(/must name the files it may change/);
  });

  it('workspace-write without a path, and verification on read-only, are refused clearly', () => {
    const noPath = refusal({ permission: 'workspace-write' });
    expect(noPath.code).toBe('delegation_invalid');
    expect(noPath.message).toContain('at least one path in context_paths or file');
    expect(refusal({ verification_commands: ['npm test'] }).message).toContain(
      '"workspace-write" only',
    );
  });

  it('unlimited is refused with the reason', () => {
    const error = refusal({ permission: 'unlimited' });
    expect(error.code).toBe('delegation_refused');
    expect(error.message).toContain('never gives a model unrestricted access');
  });

  it.each([
    [{ workspace: outside }, 'outside the project'],
    [{ workspace: 'escape' }, 'symlink'],
    [{ workspace: 'src/../..' }, '".."'],
    [{ workspace: '.git' }, 'deny list'],
    [{ workspace: 'nowhere' }, 'does not exist'],
    [{ context_paths: [path.join(outside, 'secret.txt')] }, 'outside the workspace'],
    [{ context_paths: ['../x'] }, '".."'],
    [{ context_paths: ['escape/secret.txt'] }, 'symlink'],
    [{ file: ['src/link.txt'] }, 'symlink'],
    [{ file: ['src/a\0.ts'] }, 'NUL byte'],
    [{ context_paths: ['.env'] }, 'deny list'],
    [{ context_paths: ['src/missing.ts'] }, 'does not exist'],
    [{ workspace: 'src', context_paths: ['../pkg/c.ts'] }, '".."'],
    [
      { workspace: 'src', context_paths: [path.join(project, 'pkg', 'c.ts')] },
      'outside the workspace',
    ],
  ])('refuses hostile path %j', (request, words) => {
    const error = refusal(request);
    expect(error.code).toBe('delegation_path_refused');
    expect(error.message).toContain(words);
  });

  it('a new file under a symlinked folder is refused even for workspace-write', () => {
    const error = refusal({ permission: 'workspace-write', context_paths: ['escape/new.ts'] });
    expect(error.code).toBe('delegation_path_refused');
    expect(error.message).toContain('symlink');
  });
});

describe('missionAliasFor', () => {
  it('re-tiers a mission alias, maps a model id to its profile, and refuses GPT', () => {
    expect(missionAliasFor(registry, 'mission-a3-deepseek', 'A5').name).toBe('mission-a5-deepseek');
    expect(missionAliasFor(registry, 'ocg-kimi-k2.6', 'A3').name).toBe('mission-a3-kimi');
    expect(missionAliasFor(registry, 'glm-5.2', 'A3').name).toBe('mission-a3-glm-5.2');
    expect(missionAliasFor(registry, undefined, 'A5').name).toBe('mission-a5-kimi');
    expect(() => missionAliasFor(registry, 'gpt-5.5', 'A3')).toThrow(/GPT models never run/);
  });
});
