import { lstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { redactSecrets } from '../runtime/index.js';
import { isWholeFileRewrite, type PatchFile } from './build-patch.js';
import { countLines, sha256Bytes } from './file-content.js';
import { runGitApply } from './git-apply.js';
import { parseGitDiff, type DiffSection } from './parse-git-diff.js';
import { WritePolicy } from './write-path.js';

/**
 * The checks every patch passes before anything runs it (PRODUCT.md §6.1): scope, size, content,
 * and whether it applies to the base. Failed checks make the verdict INVALID with what to fix;
 * flags are for the reviewer and never fail a patch on their own.
 */

export type PatchCheckName =
  | 'unified_diff_parse'
  | 'patch_noop'
  | 'path_escape'
  | 'paths_allowed'
  | 'critical_paths_touched'
  | 'max_files_ok'
  | 'max_patch_size_ok'
  | 'binary_changes'
  | 'mode_changes'
  | 'deletions_allowed'
  | 'secret_scan_ok'
  | 'base_sha_match'
  | 'applies_cleanly';

export type PatchFlagCode =
  'critical_path_write' | 'dependency_change' | 'test_removal' | 'full_file_rewrite';

export interface PatchCheck {
  readonly name: PatchCheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface PatchFlag {
  readonly code: PatchFlagCode;
  readonly path?: string;
  readonly detail: string;
}

export type PatchVerdictStatus = 'VALID' | 'INVALID' | 'ESCALATE';

export interface PatchVerdict {
  readonly status: PatchVerdictStatus;
  readonly checks: PatchCheck[];
  readonly flags: PatchFlag[];
  /** For INVALID: what is wrong and what to change, one line per failed check. */
  readonly reasons: string[];
  /** Whether the model can fix every failure by editing again (the loop sends reasons back). */
  readonly repairable: boolean;
}

export interface PatchCheckMission {
  readonly owned_paths: readonly string[];
  readonly max_files_changed: number;
  readonly max_patch_bytes: number;
  readonly allow_deletions?: boolean;
  readonly critical_path_write_allowed: boolean;
  readonly critical_path_reason: string | null;
}

export interface PatchCheckInput {
  /** The runtime-built patch (`buildPatch`); `files` adds base hashes and rewrite flags. */
  readonly patch: { readonly diff: string; readonly files?: readonly PatchFile[] };
  readonly mission: PatchCheckMission;
  /** A directory holding the base, where `git apply --check` runs. */
  readonly baseRoot: string;
  readonly criticalRoots: readonly string[];
  readonly gitTimeoutMs?: number;
}

/** Failures the model cannot fix by editing (the runtime built a bad diff, or the base moved). */
const unrepairable = new Set<PatchCheckName>(['unified_diff_parse', 'base_sha_match']);

const dependencyFiles = new Set(
  [
    'package.json',
    'package-lock.json',
    'npm-shrinkwrap.json',
    'yarn.lock',
    'pnpm-lock.yaml',
    'pnpm-workspace.yaml',
    'bun.lockb',
    'bun.lock',
    'deno.json',
    'deno.lock',
    'pipfile',
    'pipfile.lock',
    'pyproject.toml',
    'poetry.lock',
    'uv.lock',
    'setup.py',
    'setup.cfg',
    'cargo.toml',
    'cargo.lock',
    'go.mod',
    'go.sum',
    'gemfile',
    'gemfile.lock',
    'composer.json',
    'composer.lock',
    'pom.xml',
    'build.gradle',
    'build.gradle.kts',
    'gradle.lockfile',
    'mix.exs',
    'mix.lock',
    'packages.config',
    'directory.packages.props',
  ].map((name) => name.toLowerCase()),
);

export function isDependencyManifest(file: string): boolean {
  const base = path.posix.basename(file).toLowerCase();
  return (
    dependencyFiles.has(base) ||
    /^requirements.*\.(txt|in)$/.test(base) ||
    /^constraints.*\.txt$/.test(base) ||
    /\.(csproj|fsproj|vbproj)$/.test(base)
  );
}

const testFilePatterns: readonly RegExp[] = [
  /(^|\/)(tests?|__tests__|specs?)\//i,
  /\.(test|spec)\.[cm]?[jt]sx?$/i,
  /(^|\/)test_[^/]*\.py$/,
  /_test\.(py|go|rb|exs)$/,
  /_spec\.rb$/,
  /Tests?\.(java|kt|cs|swift)$/,
];

export function isTestFile(file: string): boolean {
  return testFilePatterns.some((pattern) => pattern.test(file));
}

/** Lines that define a test in the common frameworks. */
const testDefinition =
  /^\s*(?:(?:it|test|describe|context|specify)(?:\.(?:only|skip|each|concurrent|todo))?\s*\(|(?:async\s+)?def\s+test\w*\s*\(|func\s+Test\w*\s*\(|#\[(?:tokio::)?test\]|@Test\b|@pytest\.mark|test\s+["'])/;

function fmtList(items: readonly string[], max = 5): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

export async function checkPatch(input: PatchCheckInput): Promise<PatchVerdict> {
  const { mission, patch } = input;
  const baseRoot = path.resolve(input.baseRoot);
  const checks: PatchCheck[] = [];
  const flags: PatchFlag[] = [];
  const reasons: string[] = [];
  const add = (name: PatchCheckName, ok: boolean, detail: string, fix?: string): void => {
    checks.push({ name, ok, detail });
    if (!ok && fix !== undefined) reasons.push(`${name}: ${detail}. ${fix}`);
  };

  const parsed = parseGitDiff(patch.diff);
  const sections = parsed.sections;
  add(
    'unified_diff_parse',
    parsed.errors.length === 0,
    parsed.errors.length === 0
      ? `${sections.length} file section(s)`
      : `the diff cannot be read: ${fmtList(parsed.errors, 3)}`,
    'The runtime built a diff it cannot read; this is a bridge bug, not something to edit.',
  );

  const changedLines = sections.reduce(
    (n, s) => n + s.addedLines.length + s.removedLines.length,
    0,
  );
  // A binary or mode change has no text lines but is still a change (and fails its own check).
  const noop =
    sections.length === 0 ||
    (changedLines === 0 &&
      sections.every((s) => s.kind === 'modify' && !s.binary && !s.modeChange && !s.rename));
  add(
    'patch_noop',
    !noop,
    noop ? 'the patch changes nothing' : `${changedLines} changed line(s)`,
    'Make the edits the objective asks for before submitting.',
  );

  const policy = new WritePolicy(
    {
      ownedPaths: mission.owned_paths,
      criticalRoots: input.criticalRoots,
      criticalWriteAllowed: true, // decided below, so a permitted critical path can escalate
    },
    (relative) => {
      try {
        return lstatSync(path.join(baseRoot, relative)).isDirectory();
      } catch {
        return false;
      }
    },
  );
  const escapes: string[] = [];
  const refused: string[] = [];
  const critical = new Set<string>();
  for (const section of sections) {
    for (const named of section.paths) {
      const verdict = policy.checkLexical(named);
      if (verdict.ok) {
        if (verdict.critical) critical.add(verdict.relative);
        continue;
      }
      if (verdict.code === 'path_traversal' || verdict.code === 'path_outside_root') {
        escapes.push(named);
      } else {
        refused.push(`${named} (${verdict.code})`);
      }
    }
  }
  add(
    'path_escape',
    escapes.length === 0,
    escapes.length === 0
      ? 'every path stays inside the project'
      : `paths leave the project: ${fmtList(escapes)}`,
    'Name files relative to the project root, without `..` or absolute paths.',
  );
  add(
    'paths_allowed',
    refused.length === 0,
    refused.length === 0
      ? `every path is owned: ${fmtList(sections.map((s) => s.path))}`
      : `paths outside the owned paths or on the deny list: ${fmtList(refused)}`,
    `Change only owned files (${fmtList(mission.owned_paths)}); undo the edits to the others.`,
  );
  const criticalPermitted =
    mission.critical_path_write_allowed &&
    mission.critical_path_reason !== null &&
    mission.critical_path_reason.trim() !== '';
  const criticalList = [...critical];
  add(
    'critical_paths_touched',
    criticalList.length === 0 || criticalPermitted,
    criticalList.length === 0
      ? 'no critical path touched'
      : criticalPermitted
        ? `critical paths touched with permission (escalated for review): ${fmtList(criticalList)}`
        : `critical paths touched without critical_path_write_allowed and a reason: ${fmtList(criticalList)}`,
    'Undo the edits under critical roots; this mission may not change them.',
  );
  if (criticalList.length > 0 && criticalPermitted) {
    for (const file of criticalList) {
      flags.push({
        code: 'critical_path_write',
        path: file,
        detail: `critical path changed (reason: ${mission.critical_path_reason ?? ''})`,
      });
    }
  }

  add(
    'max_files_ok',
    sections.length <= mission.max_files_changed,
    `${sections.length} file(s) changed, limit ${mission.max_files_changed}`,
    `Change at most ${mission.max_files_changed} file(s); undo the edits that are not needed.`,
  );
  const bytes = Buffer.byteLength(patch.diff, 'utf8');
  add(
    'max_patch_size_ok',
    bytes <= mission.max_patch_bytes,
    `${bytes} bytes, limit ${mission.max_patch_bytes}`,
    'Make a smaller change: edit the lines that need it instead of rewriting files.',
  );

  const binaries = sections.filter((s) => s.binary).map((s) => s.path);
  add(
    'binary_changes',
    binaries.length === 0,
    binaries.length === 0 ? 'no binary change' : `binary changes: ${fmtList(binaries)}`,
    'Only text files can be changed; undo the binary ones.',
  );
  const modes = sections.filter((s) => s.modeChange || s.rename).map((s) => s.path);
  add(
    'mode_changes',
    modes.length === 0,
    modes.length === 0
      ? 'no mode change, rename or link'
      : `mode changes, renames or links: ${fmtList(modes)}`,
    'Leave file modes alone and create plain files only.',
  );
  const deletions = sections.filter((s) => s.kind === 'delete').map((s) => s.path);
  const deletionsAllowed = mission.allow_deletions === true;
  add(
    'deletions_allowed',
    deletions.length === 0 || deletionsAllowed,
    deletions.length === 0
      ? 'no file deleted'
      : `${deletionsAllowed ? 'deletions allowed' : 'deletions are not allowed'}: ${fmtList(deletions)}`,
    'This mission may not delete files; restore them.',
  );

  const secrets: string[] = [];
  for (const section of sections) {
    const found = new Set<string>();
    section.addedLines.forEach((line) => {
      for (const kind of redactSecrets(line).kinds) found.add(kind);
    });
    if (found.size === 0) {
      for (const kind of redactSecrets(section.addedLines.join('\n')).kinds) found.add(kind);
    }
    if (found.size > 0) secrets.push(`${section.path} (${[...found].join(', ')})`);
  }
  add(
    'secret_scan_ok',
    secrets.length === 0,
    secrets.length === 0
      ? 'no secret in added lines'
      : `added lines hold secret material: ${fmtList(secrets)}`,
    'Remove the credential; read it from the environment or configuration at run time instead.',
  );

  const mismatched = await baseMismatches(baseRoot, patch.files ?? [], policy);
  if (patch.files !== undefined) {
    add(
      'base_sha_match',
      mismatched.length === 0,
      mismatched.length === 0
        ? 'every base file matches its recorded sha256'
        : `the base changed under: ${fmtList(mismatched)}`,
      'The base moved since the edits were staged; the run must start again from the new base.',
    );
  }

  const structural = parsed.errors.length === 0 && escapes.length === 0 && !noop;
  if (structural) {
    const applied = await runGitApply({
      cwd: baseRoot,
      args: ['--check'],
      diff: patch.diff,
      ...(input.gitTimeoutMs === undefined ? {} : { timeoutMs: input.gitTimeoutMs }),
    });
    add(
      'applies_cleanly',
      applied.ok,
      applied.ok
        ? 'git apply --check accepts the diff against the base'
        : `git apply --check refused it: ${applied.timedOut ? 'timed out' : gitComplaint(applied.stderr)}`,
      'Edit the current text of the files (read them again) so the change applies to the base.',
    );
  } else {
    add('applies_cleanly', false, 'not run: the structural checks above failed');
  }

  addFlags(sections, flags);
  await addRewriteFlags(sections, patch.files, baseRoot, flags);

  const failed = checks.filter((check) => !check.ok);
  const status: PatchVerdictStatus =
    failed.length > 0 ? 'INVALID' : criticalList.length > 0 ? 'ESCALATE' : 'VALID';
  return {
    status,
    checks,
    flags,
    reasons: status === 'INVALID' ? reasons : [],
    repairable: status === 'INVALID' && failed.every((check) => !unrepairable.has(check.name)),
  };
}

/** git's verdict lines (`error: src/a.ts: patch does not apply`), without its progress or echo. */
function gitComplaint(stderr: string): string {
  const lines = stderr
    .split('\n')
    .filter(
      (line) => /^(error|fatal|Skipped patch)/.test(line) && !line.includes('while searching for'),
    );
  return lines.slice(0, 4).join('; ') || stderr.slice(0, 300);
}

async function baseMismatches(
  baseRoot: string,
  files: readonly PatchFile[],
  policy: WritePolicy,
): Promise<string[]> {
  const mismatched: string[] = [];
  for (const file of files) {
    // Out-of-scope paths are reported by paths_allowed; their base is never read.
    if (!policy.checkLexical(file.path).ok) continue;
    const onDisk = await readFile(path.join(baseRoot, file.path)).catch(() => null);
    const actual = onDisk === null ? null : sha256Bytes(onDisk);
    if (actual !== file.base_sha256) mismatched.push(file.path);
  }
  return mismatched;
}

function addFlags(sections: readonly DiffSection[], flags: PatchFlag[]): void {
  for (const section of sections) {
    if (isDependencyManifest(section.path)) {
      flags.push({
        code: 'dependency_change',
        path: section.path,
        detail: `dependency manifest or lockfile ${section.kind === 'add' ? 'added' : section.kind === 'delete' ? 'deleted' : 'changed'}`,
      });
    }
    if (section.kind === 'delete' && isTestFile(section.path)) {
      flags.push({ code: 'test_removal', path: section.path, detail: 'test file deleted' });
      continue;
    }
    const kept = new Set(section.addedLines.map((line) => line.trim()));
    const removedTests = section.removedLines.filter(
      (line) => testDefinition.test(line) && !kept.has(line.trim()),
    );
    if (removedTests.length > 0) {
      flags.push({
        code: 'test_removal',
        path: section.path,
        detail: `removed test definition(s): ${fmtList(
          removedTests.map((line) => line.trim().slice(0, 80)),
          3,
        )}`,
      });
    }
  }
}

async function addRewriteFlags(
  sections: readonly DiffSection[],
  files: readonly PatchFile[] | undefined,
  baseRoot: string,
  flags: PatchFlag[],
): Promise<void> {
  for (const section of sections) {
    if (section.kind !== 'modify') continue;
    const known = files?.find((file) => file.path === section.path);
    let rewrite: boolean;
    if (known !== undefined) {
      rewrite = known.whole_file_rewrite;
    } else {
      const base = await readFile(path.join(baseRoot, section.path), 'utf8').catch(() => null);
      rewrite = base !== null && isWholeFileRewrite(countLines(base), section.removedLines.length);
    }
    if (rewrite) {
      flags.push({
        code: 'full_file_rewrite',
        path: section.path,
        detail: `${section.removedLines.length} of the file's lines removed or replaced`,
      });
    }
  }
}
