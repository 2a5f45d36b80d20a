import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  chmod,
  copyFile,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  rename,
  rmdir,
  unlink,
} from 'node:fs/promises';
import path from 'node:path';
import { applyPatch, parsePatch, reversePatch } from 'diff';
import { z } from 'zod';
import { BridgeError, isBridgeError, type ErrorCode } from '../errors/index.js';
import { isSafeId, missionDir, sha256Hex } from '../events/index.js';
import { sha256Bytes } from './file-content.js';
import { parseGitDiff, type DiffSection } from './parse-git-diff.js';
import {
  appendPromotionEntry,
  promotionLogPath,
  verifyPromotionLog,
  withPromotionLock,
  type PromotionEntry,
  type PromotionLogVerification,
} from './promotion-log.js';
import { isErrno, WritePolicy } from './write-path.js';

/**
 * The only code path that changes the user's files (PRODUCT.md §6.1): the CLI verb, the HTTP
 * route and the MCP tool all call `promote`. It checks everything first (status, flags, every
 * target still at its base, the diff reproducing the recorded hashes), then writes every file
 * beside its target and renames them in; if any step fails, what was renamed is put back.
 */

const sha = z.string().regex(/^[0-9a-f]{64}$/);

// A file's hashes must fit its change (an added file has no base, a deleted one no result), so
// the plan can compare the target with `base_sha256` and the result with `new_sha256` as given.
const patchFileSchema = z
  .object({
    path: z.string().min(1),
    change: z.enum(['add', 'modify', 'delete']),
    base_sha256: sha.nullable(),
    new_sha256: sha.nullable(),
  })
  .refine((file) => (file.base_sha256 === null) === (file.change === 'add'), {
    message: 'base_sha256 must be null for an added file, and only then',
    path: ['base_sha256'],
  })
  .refine((file) => (file.new_sha256 === null) === (file.change === 'delete'), {
    message: 'new_sha256 must be null for a deleted file, and only then',
    path: ['new_sha256'],
  });

export const promoteRequestSchema = z.object({
  projectRoot: z.string().min(1),
  missionId: z.string().refine(isSafeId, 'not a safe mission id'),
  runId: z.string().refine(isSafeId, 'not a safe run id'),
  tier: z.enum(['A5', 'A6']),
  status: z.string(),
  diff: z.string(),
  files: z.array(patchFileSchema),
  dryRun: z.boolean().optional(),
  acceptUnverified: z.boolean().optional(),
  confirmCritical: z.boolean().optional(),
  revert: z.boolean().optional(),
});

export interface PromoteRequest {
  /** The main workspace (the user's project root). */
  readonly projectRoot: string;
  readonly missionId: string;
  readonly runId: string;
  readonly tier: 'A5' | 'A6';
  /** The run's final status; only VERIFIED (or APPLIED_UNVERIFIED with acceptUnverified) promotes. */
  readonly status: string;
  /** The run's `patch.diff`, exactly as built (its sha256 is recorded, and checked on revert). */
  readonly diff: string;
  /** The run's changed files with their base and new hashes (`PatchFile`s fit). */
  readonly files: readonly {
    readonly path: string;
    readonly change: 'add' | 'modify' | 'delete';
    readonly base_sha256: string | null;
    readonly new_sha256: string | null;
  }[];
  /** Check everything, change nothing. */
  readonly dryRun?: boolean;
  readonly acceptUnverified?: boolean;
  readonly confirmCritical?: boolean;
  /** Undo the mission's last promotion (pass the same diff). */
  readonly revert?: boolean;
}

export type PromoteAction = 'add' | 'modify' | 'delete';

export interface PromoteResult {
  readonly applied: boolean;
  readonly dry_run: boolean;
  readonly action: 'promote' | 'revert';
  readonly files: { readonly path: string; readonly action: PromoteAction }[];
  readonly refused?: {
    readonly code: ErrorCode;
    readonly message: string;
    readonly files: string[];
  };
  readonly log_entry?: PromotionEntry;
}

/** Test seams: a test swaps a target, or throws, to make one step of the apply fail. */
export interface PromoteHooks {
  /** Runs after a target passed the write policy, before it is read. */
  readonly beforeRead?: (target: string) => Promise<void> | void;
  /** Runs before each file's new content and backup are prepared beside it. */
  readonly beforePrepare?: (target: string, index: number) => Promise<void> | void;
  /** Runs before each rename into place. */
  readonly beforeRename?: (target: string, index: number) => Promise<void> | void;
  /** Opens the promotion log for its append (a test makes its write or fsync fail). */
  readonly openLogFile?: typeof open;
}

class Refusal extends BridgeError {
  readonly files: string[];
  constructor(code: ErrorCode, message: string, files: string[] = []) {
    super(code, message);
    this.files = files;
  }
}

/** The BridgeError a refused result stands for (for callers that answer with an error). */
export function promotionRefusalError(result: PromoteResult): BridgeError | null {
  return result.refused === undefined
    ? null
    : new BridgeError(result.refused.code, result.refused.message);
}

/** One file's planned change: what must be there now, and what goes there. */
interface PlannedFile {
  readonly path: string;
  readonly absolute: string;
  readonly action: PromoteAction;
  readonly expectedSha: string | null;
  readonly resultSha: string | null;
  readonly content: Buffer | null;
  /** What is there now (kept so a promotion the log cannot record is undone). */
  readonly original: Buffer | null;
  readonly mode: number | null;
}

/**
 * What is at a target now. The write policy has already refused special files and symlinks, but
 * another process can swap one in after that check: O_NOFOLLOW and O_NONBLOCK keep the open from
 * following a link or blocking on a FIFO (with the project's promotion lock held), and only a
 * regular file is read.
 */
async function readCurrent(
  absolute: string,
  file: string,
): Promise<{ bytes: Buffer; mode: number } | null> {
  const swapped = (what: string): Refusal =>
    new Refusal(
      'promotion_refused',
      `${file} became ${what} during the promotion, so nothing was written; look at what replaced it, then promote again.`,
      [file],
    );
  let handle;
  try {
    handle = await open(absolute, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return null;
    if (isErrno(error, 'ELOOP')) throw swapped('a symbolic link');
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw swapped(stats.isDirectory() ? 'a directory' : 'a special file');
    return { bytes: await handle.readFile(), mode: stats.mode & 0o7777 };
  } finally {
    await handle.close();
  }
}

function fmt(files: readonly string[]): string {
  return files.join(', ');
}

/** The system error behind a failure (an apply failure's own message says "left as it was"). */
function reason(error: unknown): string {
  const inner = error instanceof BridgeError && error.cause instanceof Error ? error.cause : error;
  return inner instanceof Error ? inner.message : String(inner);
}

export async function promote(
  request: PromoteRequest,
  hooks: PromoteHooks = {},
): Promise<PromoteResult> {
  const parsed = promoteRequestSchema.safeParse(request);
  const action = request.revert === true ? 'revert' : 'promote';
  const dryRun = request.dryRun === true;
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refused(
      action,
      dryRun,
      new Refusal(
        'promotion_refused',
        `Invalid promotion request: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
      ),
    );
  }
  const req = parsed.data;
  const projectRoot = path.resolve(req.projectRoot);
  try {
    if (action === 'promote') checkStatus(req.status, req.tier, req);
    const rootStats = await lstat(projectRoot).catch(() => null);
    if (rootStats === null || !rootStats.isDirectory()) {
      throw new Refusal('promotion_refused', `The project root ${projectRoot} is not a directory.`);
    }
    return await withPromotionLock(projectRoot, async () => {
      const chain = await verifyPromotionLog(projectRoot);
      if (!chain.ok) {
        throw new Refusal(
          'promotion_log_corrupt',
          `The promotion log is damaged: ${fmt(chain.errors.slice(0, 3))}`,
        );
      }
      const patchSha = sha256Hex(req.diff);
      const plan = await planFor(action, projectRoot, req, chain, patchSha, hooks);
      const files = plan.map((file) => ({ path: file.path, action: file.action }));
      if (dryRun) return { applied: false, dry_run: true, action, files };
      const createdDirs = await applyPlan(plan, hooks);
      const entry = await recordOrUndo(
        action,
        projectRoot,
        req,
        chain,
        { plan, patchSha, createdDirs },
        hooks,
      );
      return { applied: true, dry_run: false, action, files, log_entry: entry };
    });
  } catch (error) {
    if (isBridgeError(error)) return refused(action, dryRun, error);
    throw error;
  }
}

type ParsedRequest = z.infer<typeof promoteRequestSchema>;

/**
 * What promoting (or reverting) would write: a promotion needs none on record; a revert needs
 * the recorded promotion of exactly this diff, and undoes it.
 */
async function planFor(
  action: 'promote' | 'revert',
  projectRoot: string,
  req: ParsedRequest,
  chain: PromotionLogVerification,
  patchSha: string,
  hooks: PromoteHooks,
): Promise<PlannedFile[]> {
  const mine = chain.entries.filter((entry) => entry.mission_id === req.missionId);
  const last = mine[mine.length - 1];
  const sections = sectionsFor(req.diff, req.files);
  if (action === 'promote') {
    if (last?.action === 'promote') {
      throw new Refusal(
        'promotion_already_applied',
        `Mission ${req.missionId} is already promoted (run ${last.run_id}, log entry ${last.seq}); revert it first to promote again.`,
      );
    }
    return planForward(projectRoot, sections, req.files, hooks);
  }
  if (last?.action !== 'promote') {
    throw new Refusal(
      'promotion_not_found',
      `Mission ${req.missionId} has no promotion to revert.`,
    );
  }
  if (last.patch_sha256 !== patchSha) {
    throw new Refusal(
      'promotion_patch_mismatch',
      `The diff given is not the one promoted for mission ${req.missionId} (log entry ${last.seq}); pass the run's patch.diff.`,
    );
  }
  return planRevert(projectRoot, sections, last, hooks);
}

/** Records the applied plan in the promotion log; if it cannot be recorded, it is undone. */
async function recordOrUndo(
  action: 'promote' | 'revert',
  projectRoot: string,
  req: ParsedRequest,
  chain: PromotionLogVerification,
  applied: { plan: readonly PlannedFile[]; patchSha: string; createdDirs: readonly string[] },
  hooks: PromoteHooks,
): Promise<PromotionEntry> {
  const { plan } = applied;
  try {
    return await appendPromotionEntry(
      projectRoot,
      {
        action,
        mission_id: req.missionId,
        run_id: req.runId,
        tier: req.tier,
        status: req.status,
        files: plan.map((file) => ({
          path: file.path,
          change: file.action,
          before_sha256: file.expectedSha,
          after_sha256: file.resultSha,
        })),
        patch_sha256: applied.patchSha,
      },
      chain,
      new Date(),
      hooks.openLogFile,
    );
  } catch (error) {
    // Unrecorded means undone: a promotion the log does not show must not stay applied.
    const log = promotionLogPath(projectRoot);
    try {
      await applyPlan(invert(plan), hooks);
    } catch (undoError) {
      throw await unrecorded(action, projectRoot, req.missionId, plan, {
        log,
        error,
        undoError,
      });
    }
    for (const dir of [...applied.createdDirs].reverse()) await removeEmptyTree(dir);
    if (isBridgeError(error)) throw error;
    throw new BridgeError(
      'promotion_apply_failed',
      `Could not record the ${action} in ${log} (${reason(error)}); every file was put back as it was.`,
      { cause: error },
    );
  }
}

/**
 * The worst case: written, not recorded, not undone. Each file is hashed again, so the message
 * says what is true now, not what the plan meant; the files left changed are the refusal's files.
 */
async function unrecorded(
  action: 'promote' | 'revert',
  projectRoot: string,
  missionId: string,
  plan: readonly PlannedFile[],
  failures: { log: string; error: unknown; undoError: unknown },
): Promise<Refusal> {
  const written: string[] = [];
  const restored: string[] = [];
  const neither: string[] = [];
  for (const file of plan) {
    const current = await readCurrent(file.absolute, file.path).catch(() => undefined);
    const sha =
      current === undefined ? undefined : current === null ? null : sha256Bytes(current.bytes);
    if (sha === file.resultSha) written.push(file.path);
    else if (sha === file.expectedSha) restored.push(file.path);
    else neither.push(file.path);
  }
  const diff = path.relative(
    projectRoot,
    path.join(missionDir(projectRoot, missionId), 'patch.diff'),
  );
  const state = [
    written.length > 0 ? `as the ${action} wrote them: ${fmt(written)}` : '',
    restored.length > 0 ? `back as before: ${fmt(restored)}` : '',
    neither.length > 0 ? `neither (check by hand): ${fmt(neither)}` : '',
  ].filter((part) => part !== '');
  const refusal = new Refusal(
    'promotion_unrecorded',
    `The ${action} wrote its files but could not be recorded in ${failures.log} (${reason(failures.error)}), and undoing it failed (${reason(failures.undoError)}). Now ${state.join('; ')}. Until they are put back the promotion log does not match them: fix the disk, then \`git apply ${action === 'promote' ? '-R ' : ''}--include=<file> ${diff}\` for each file the ${action} wrote, and ${action} again.`,
    [...written, ...neither],
  );
  return refusal;
}

function refused(action: 'promote' | 'revert', dryRun: boolean, error: BridgeError): PromoteResult {
  return {
    applied: false,
    dry_run: dryRun,
    action,
    files: [],
    refused: {
      code: error.code,
      message: error.message,
      files: error instanceof Refusal ? error.files : [],
    },
  };
}

function checkStatus(
  status: string,
  tier: 'A5' | 'A6',
  flags: { acceptUnverified?: boolean | undefined; confirmCritical?: boolean | undefined },
): void {
  if (status === 'APPLIED_UNVERIFIED') {
    if (flags.acceptUnverified !== true) {
      throw new Refusal(
        'promotion_confirmation_required',
        'The run is APPLIED_UNVERIFIED: no verification command ran. Promote it only with --accept-unverified, after reviewing the patch.',
      );
    }
  } else if (status !== 'VERIFIED') {
    throw new Refusal(
      'promotion_refused',
      `Only VERIFIED runs (or APPLIED_UNVERIFIED ones with --accept-unverified) can be promoted; this run is ${status}.`,
    );
  }
  if (tier === 'A6' && flags.confirmCritical !== true) {
    throw new Refusal(
      'promotion_confirmation_required',
      'A6 is a critical rehearsal: promoting it needs --confirm-critical, after a human review of the patch.',
    );
  }
}

/** The diff's sections, one per recorded file, with matching paths and kinds. */
function sectionsFor(
  diff: string,
  files: readonly z.infer<typeof patchFileSchema>[],
): Map<string, DiffSection> {
  const parsed = parseGitDiff(diff);
  if (parsed.errors.length > 0) {
    throw new Refusal(
      'promotion_patch_mismatch',
      `The diff cannot be read: ${fmt(parsed.errors.slice(0, 3))}`,
    );
  }
  const sections = new Map(parsed.sections.map((section) => [section.path, section]));
  const recorded = new Set(files.map((file) => file.path));
  const unlisted = [...sections.keys()].filter((file) => !recorded.has(file));
  const missing = [...recorded].filter((file) => !sections.has(file));
  if (
    unlisted.length > 0 ||
    missing.length > 0 ||
    sections.size !== parsed.sections.length ||
    recorded.size !== files.length ||
    sections.size === 0
  ) {
    throw new Refusal(
      'promotion_patch_mismatch',
      `The diff and the recorded file list disagree (${[...unlisted.map((f) => `${f} not recorded`), ...missing.map((f) => `${f} not in the diff`)].join('; ') || 'duplicate or empty sections'}).`,
      [...unlisted, ...missing],
    );
  }
  for (const file of files) {
    const section = sections.get(file.path);
    if (
      section !== undefined &&
      (section.kind !== file.change || section.binary || section.modeChange || section.rename)
    ) {
      throw new Refusal(
        'promotion_patch_mismatch',
        `The diff section for ${file.path} is not a plain text ${file.change}.`,
        [file.path],
      );
    }
  }
  return sections;
}

/** Resolves a target in the main workspace: never denied, never through a symlink. */
async function target(policy: WritePolicy, projectRoot: string, file: string): Promise<string> {
  const resolved = await policy.resolveTarget(projectRoot, file);
  if (!resolved.ok) {
    throw new Refusal(
      'promotion_refused',
      `The patch names ${file}, which cannot be written safely: ${resolved.message}`,
      [file],
    );
  }
  return resolved.absolute;
}

function applySection(source: string, section: DiffSection, reverse: boolean): string | false {
  const [structured] = parsePatch(section.text);
  if (structured === undefined) return source;
  return applyPatch(source, reverse ? reversePatch(structured) : structured);
}

async function planForward(
  projectRoot: string,
  sections: Map<string, DiffSection>,
  files: readonly z.infer<typeof patchFileSchema>[],
  hooks: PromoteHooks,
): Promise<PlannedFile[]> {
  const policy = new WritePolicy({
    ownedPaths: ['./'],
    criticalRoots: [],
    criticalWriteAllowed: true,
  });
  const plan: PlannedFile[] = [];
  const changed: string[] = [];
  const mismatched: string[] = [];
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const absolute = await target(policy, projectRoot, file.path);
    await hooks.beforeRead?.(absolute);
    const current = await readCurrent(absolute, file.path);
    const currentSha = current === null ? null : sha256Bytes(current.bytes);
    if (currentSha !== file.base_sha256) {
      changed.push(
        `${file.path} (${file.change === 'add' ? 'exists already' : current === null ? 'missing' : 'changed since the base'})`,
      );
      continue;
    }
    const section = sections.get(file.path);
    const text = applySection(current?.bytes.toString('utf8') ?? '', section as DiffSection, false);
    const result =
      file.change === 'delete' ? null : text === false ? null : Buffer.from(text, 'utf8');
    const resultSha = result === null ? null : sha256Bytes(result);
    if (
      text === false ||
      (file.change === 'delete' ? text !== '' : resultSha !== file.new_sha256)
    ) {
      mismatched.push(file.path);
      continue;
    }
    plan.push({
      path: file.path,
      absolute,
      action: file.change,
      expectedSha: currentSha,
      resultSha,
      content: result,
      original: current?.bytes ?? null,
      mode: current?.mode ?? null,
    });
  }
  if (changed.length > 0) {
    throw new Refusal(
      'promotion_target_changed',
      `Files changed since the run's base, so nothing was promoted: ${fmt(changed)}. Commit or stash those edits and run the mission again.`,
      changed.map((entry) => entry.replace(/ \(.*$/, '')),
    );
  }
  if (mismatched.length > 0) {
    throw new Refusal(
      'promotion_patch_mismatch',
      `The diff does not turn the base into the recorded result for: ${fmt(mismatched)}.`,
      mismatched,
    );
  }
  return plan;
}

async function planRevert(
  projectRoot: string,
  sections: Map<string, DiffSection>,
  entry: PromotionEntry,
  hooks: PromoteHooks,
): Promise<PlannedFile[]> {
  const policy = new WritePolicy({
    ownedPaths: ['./'],
    criticalRoots: [],
    criticalWriteAllowed: true,
  });
  const plan: PlannedFile[] = [];
  const changed: string[] = [];
  const mismatched: string[] = [];
  for (const file of entry.files) {
    const section = sections.get(file.path);
    if (section === undefined) {
      mismatched.push(file.path);
      continue;
    }
    const absolute = await target(policy, projectRoot, file.path);
    await hooks.beforeRead?.(absolute);
    const current = await readCurrent(absolute, file.path);
    const currentSha = current === null ? null : sha256Bytes(current.bytes);
    if (currentSha !== file.after_sha256) {
      changed.push(file.path);
      continue;
    }
    const text = applySection(current?.bytes.toString('utf8') ?? '', section, true);
    const restored = file.change === 'add' || text === false ? null : Buffer.from(text, 'utf8');
    const restoredSha = restored === null ? null : sha256Bytes(restored);
    if (
      text === false ||
      (file.change === 'add' ? text !== '' : restoredSha !== file.before_sha256)
    ) {
      mismatched.push(file.path);
      continue;
    }
    plan.push({
      path: file.path,
      absolute,
      action: file.change === 'add' ? 'delete' : file.change === 'delete' ? 'add' : 'modify',
      expectedSha: currentSha,
      resultSha: restoredSha,
      content: restored,
      original: current?.bytes ?? null,
      mode: current?.mode ?? null,
    });
  }
  if (changed.length > 0) {
    throw new Refusal(
      'promotion_target_changed',
      `Files changed since the promotion, so nothing was reverted: ${fmt(changed)}. Revert those by hand (the promotion log has their hashes).`,
      changed,
    );
  }
  if (mismatched.length > 0) {
    throw new Refusal(
      'promotion_patch_mismatch',
      `Reversing the diff does not restore the recorded content of: ${fmt(mismatched)}.`,
      mismatched,
    );
  }
  return plan;
}

/** The plan that undoes `plan` once it has been applied (used when the log append fails). */
function invert(plan: readonly PlannedFile[]): PlannedFile[] {
  return plan.map((file) => ({
    ...file,
    action: file.action === 'add' ? 'delete' : file.action === 'delete' ? 'add' : 'modify',
    expectedSha: file.resultSha,
    resultSha: file.expectedSha,
    content: file.original,
    original: file.content,
  }));
}

function sibling(absolute: string, tag: string, suffix: string): string {
  return path.join(path.dirname(absolute), `.${path.basename(absolute)}.${tag}-${suffix}`);
}

interface Step {
  readonly file: PlannedFile;
  readonly temp: string | null;
  readonly backup: string | null;
  renamed: boolean;
}

/**
 * Two phases. Prepare: every new content is written (and fsynced) beside its target, and every
 * file that will be replaced or deleted gets a hard link (a copy where links fail) beside it, so
 * its bytes stay reachable. Commit: renames only. Any failure restores each renamed target from
 * its backup (or removes an added one), in reverse order, and removes what was prepared.
 * Returns the directories it made, so an undo can remove them again.
 */
async function applyPlan(plan: readonly PlannedFile[], hooks: PromoteHooks): Promise<string[]> {
  const tag = `promote-${process.pid}-${randomBytes(4).toString('hex')}`;
  const steps: Step[] = [];
  const createdDirs: string[] = [];
  const failure = (file: string, error: unknown): BridgeError =>
    new BridgeError(
      'promotion_apply_failed',
      `Could not write ${file} (${reason(error)}); every file was left as it was.`,
      { cause: error },
    );
  try {
    for (const [index, file] of plan.entries()) {
      let temp: string | null = null;
      let backup: string | null = null;
      try {
        await hooks.beforePrepare?.(file.absolute, index);
        if (file.content !== null) {
          const made = await mkdir(path.dirname(file.absolute), { recursive: true });
          if (made !== undefined) createdDirs.push(made);
          temp = sibling(file.absolute, tag, 'new');
          const handle = await open(temp, 'wx', 0o644);
          try {
            await handle.writeFile(file.content);
            if (file.mode !== null) await chmod(temp, file.mode);
            await handle.sync();
          } finally {
            await handle.close();
          }
        }
        if (file.action !== 'add') {
          backup = sibling(file.absolute, tag, 'old');
          await link(file.absolute, backup).catch(async () =>
            copyFile(file.absolute, backup ?? '', constants.COPYFILE_EXCL),
          );
        }
      } catch (error) {
        steps.push({ file, temp, backup, renamed: false });
        throw failure(file.path, error);
      }
      steps.push({ file, temp, backup, renamed: false });
    }
    for (const [index, step] of steps.entries()) {
      try {
        await hooks.beforeRename?.(step.file.absolute, index);
        if (step.temp !== null) await rename(step.temp, step.file.absolute);
        else await unlink(step.file.absolute);
        step.renamed = true;
      } catch (error) {
        throw failure(step.file.path, error);
      }
    }
  } catch (error) {
    await rollback(steps, createdDirs);
    throw error;
  }
  for (const step of steps)
    if (step.backup !== null) await unlink(step.backup).catch(() => undefined);
  for (const dir of new Set(plan.map((file) => path.dirname(file.absolute)))) await syncDir(dir);
  return createdDirs;
}

async function rollback(steps: readonly Step[], createdDirs: readonly string[]): Promise<void> {
  for (const step of [...steps].reverse()) {
    if (step.renamed) {
      if (step.backup !== null)
        await rename(step.backup, step.file.absolute).catch(() => undefined);
      else await unlink(step.file.absolute).catch(() => undefined);
    } else if (step.backup !== null) {
      await unlink(step.backup).catch(() => undefined);
    }
    if (step.temp !== null && !step.renamed) await unlink(step.temp).catch(() => undefined);
  }
  // Directories made for added files go again, deepest first, if nothing else moved in.
  for (const dir of [...createdDirs].reverse()) await removeEmptyTree(dir);
}

async function removeEmptyTree(dir: string): Promise<void> {
  try {
    const stats = await lstat(dir);
    if (!stats.isDirectory()) return;
    for (const entry of await readdir(dir)) await removeEmptyTree(path.join(dir, entry));
    await rmdir(dir);
  } catch {
    // Not empty or already gone: leave it.
  }
}

async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Directory fsync is best effort (not every file system supports it).
  }
}
