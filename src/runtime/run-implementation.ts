import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { MissionV1 } from '../mission/index.js';
import type { EvidenceLedger } from './evidence-ledger.js';
import { runGovernedLoop } from './governed-loop.js';
import {
  implementationPolicy,
  type ImplementationClosure,
  type ImplementationState,
} from './implementation-policy.js';
import type {
  EditResultPort,
  ImplementationKit,
  IsolationPort,
  StagedWorkspacePort,
} from './implementation-ports.js';
import { reportTotals } from './investigation-policy.js';
import { continuationBrief, type EarlierRun } from './mission-continuation.js';
import type { MissionReport, ReviewPacket } from './mission-report.js';
import { StepEngine, type EngineInput, type RunTotals } from './step-engine.js';
import type { CommentaryChannel } from './commentary-channel.js';
import { editToolSpecs } from './tools/edit-tools.js';
import type { ToolSpec } from './tools/types.js';
import type { RecordEvent, ToolDispatcher } from './tool-dispatcher.js';

export interface ImplementationInput extends Omit<EngineInput, 'finalNoun'> {
  readonly kit: ImplementationKit;
  readonly projectRoot: string;
  readonly criticalRoots: readonly string[];
  readonly ledger: EvidenceLedger;
  readonly commentary: CommentaryChannel;
  readonly record: RecordEvent;
  /** A dispatcher whose tools run inside `root`, with the given extra tools. */
  readonly dispatcherFor: (root: string, extra: readonly ToolSpec[]) => ToolDispatcher;
  /** Tool refusals so far, from the run's events. */
  readonly denials: () => { tool: string; code: string; message: string }[];
  /** The run this one continues: its answer and evidence, re-read in the isolated copy. */
  readonly continuation?: EarlierRun | undefined;
}

const DIFF_IN_PACKET = 6000;

/**
 * A4–A6: creates the isolated copy, runs the implementation loop in it, removes it (unless the
 * mission keeps it), and returns the report with its review packet. The main workspace is never
 * written here: only `codex-oss promote` does that.
 */
export async function runImplementation(
  input: ImplementationInput,
): Promise<{ report: MissionReport; closure: ImplementationClosure }> {
  const { mission, record } = input;
  const state: ImplementationState = {
    rounds: 0,
    patch: null,
    verdict: null,
    verification: null,
    claims: null,
    refusedCommands: [],
  };
  let isolation: IsolationPort | undefined;
  let closure: ImplementationClosure;
  try {
    isolation = await openIsolation(input);
    closure = await implementIn(input, isolation, state);
  } catch (error) {
    if (isolation !== undefined) throw error;
    const message = error instanceof Error ? error.message : String(error);
    closure = {
      status: 'FAILED',
      reason: 'isolation_failed',
      reasonText: `The isolated copy could not be made: ${message}`,
    };
  } finally {
    if (isolation !== undefined) {
      await isolation.remove().catch(() => undefined);
      await record('isolation.removed', 'runtime', {
        root: path.relative(input.projectRoot, isolation.root) || '.',
        kept: mission.keep_worktree,
      }).catch(() => undefined);
    }
  }
  return {
    closure,
    report: buildImplementationReport(input, closure, state, isolation, input.totals()),
  };
}

/** The run's isolated copy of the project, recorded and announced. */
async function openIsolation(input: ImplementationInput): Promise<IsolationPort> {
  const { mission, kit } = input;
  const isolation = await kit.createIsolation({
    projectRoot: input.projectRoot,
    runId: input.runId,
    scopePaths: scopePathsOf(mission),
    keep: mission.keep_worktree,
    linkedPaths: await dependencyFolders(input.projectRoot),
  });
  await input.record('isolation.created', 'runtime', {
    kind: isolation.kind,
    root: path.relative(input.projectRoot, isolation.root) || '.',
    base_commit: isolation.baseCommit,
    carried: [...isolation.carried],
    notes: [...isolation.notes],
  });
  await input.commentary.say(
    'isolation_created',
    'PLAN',
    `I made an isolated ${isolation.kind === 'git_worktree' ? 'git worktree' : 'copy'} of the project${isolation.carried.length > 0 ? ` with ${isolation.carried.length} uncommitted change(s) carried in` : ''}; the main workspace is not touched.`,
  );
  return isolation;
}

/** The governed loop with the edit tools bound to the isolated copy and the patch policy. */
async function implementIn(
  input: ImplementationInput,
  isolation: IsolationPort,
  state: ImplementationState,
): Promise<ImplementationClosure> {
  const { mission, kit, record, commentary } = input;
  const staged = recordingStages(
    kit.createStagedWorkspace({
      root: isolation.projectDir,
      ownedPaths: mission.owned_paths,
      allowDeletions: mission.allow_deletions,
      criticalRoots: input.criticalRoots,
      criticalWriteAllowed: mission.critical_path_write_allowed,
    }),
    record,
  );
  const dispatcher = input.dispatcherFor(
    isolation.projectDir,
    editToolSpecs(staged, mission.allow_deletions),
  );
  dispatcher.finalToolName = 'submit_patch';
  const engine = new StepEngine({ ...input, finalNoun: 'patch' });
  const system = await systemPrompt(mission, isolation, dispatcher.toolNames);
  const carried = await continuationBrief(input.continuation, dispatcher, commentary);
  engine.messages.push(
    { role: 'system', content: system },
    {
      role: 'user',
      content: [
        `Mission brief:\n${JSON.stringify(briefOf(mission), null, 2)}`,
        ...carried,
        'Begin: read what you need, stage your edits, then call submit_patch.',
      ].join('\n\n'),
    },
  );
  return runGovernedLoop({
    engine,
    dispatcher,
    policy: implementationPolicy({
      mission,
      kit,
      isolation,
      staged,
      projectRoot: input.projectRoot,
      criticalRoots: input.criticalRoots,
      commentary,
      record,
      signal: input.signal,
      state,
    }),
  });
}

/** The staged workspace, with each accepted edit recorded as `patch.staged`. */
function recordingStages(staged: StagedWorkspacePort, record: RecordEvent): StagedWorkspacePort {
  const note =
    (operation: 'edit' | 'write' | 'delete') =>
    async (result: EditResultPort): Promise<EditResultPort> => {
      if (result.ok)
        await record('patch.staged', 'runtime', {
          operation,
          path: result.path,
          added_lines: result.added,
          removed_lines: result.removed,
        });
      return result;
    };
  return {
    edit: (path, oldString, newString, replaceAll) =>
      staged.edit(path, oldString, newString, replaceAll).then(note('edit')),
    write: (path, content) => staged.write(path, content).then(note('write')),
    delete: (path) => staged.delete(path).then(note('delete')),
    changes: () => staged.changes(),
  };
}

/**
 * Dependency folders verification needs but git does not carry (they are ignored): linked
 * read-only into the copy, so `npm test` works there without a fresh install.
 */
async function dependencyFolders(projectRoot: string): Promise<string[]> {
  const candidates = ['node_modules', '.venv', 'venv', 'vendor/bundle'];
  const found: string[] = [];
  for (const candidate of candidates) {
    const stat = await lstat(path.join(projectRoot, candidate)).catch(() => undefined);
    if (stat?.isDirectory() === true) found.push(candidate);
  }
  return found;
}

/** Files and folders the isolated copy must carry the user's uncommitted changes for. */
function scopePathsOf(mission: MissionV1): string[] {
  return [
    ...new Set([
      ...mission.owned_paths,
      ...mission.read_only_paths,
      ...mission.allowed_paths,
      ...mission.allowed_roots,
    ]),
  ];
}

async function systemPrompt(
  mission: MissionV1,
  isolation: IsolationPort,
  toolNames: readonly string[],
): Promise<string> {
  const owned = await Promise.all(
    mission.owned_paths.map(async (entry) => {
      const stat = await lstat(path.join(isolation.projectDir, entry)).catch(() => undefined);
      return stat?.isDirectory() === true ? `${entry.replace(/\/+$/, '')}/ (folder)` : entry;
    }),
  );
  const commands = mission.verification_policy.allowed_commands.map((command) => command.join(' '));
  return [
    `You are an implementer working for a governing runtime on mission ${mission.mission_id} (tier ${mission.tier}).`,
    'You never write the user’s files. Your edits are staged in an isolated copy; the runtime builds the diff itself, checks it, runs the verification commands, and sets the status.',
    '',
    `OBJECTIVE: ${mission.objective}`,
    `OWNED (you may change only these): ${owned.join('; ')}`,
    `READ-ONLY: ${[...mission.read_only_paths, ...mission.allowed_paths, ...mission.allowed_roots].join('; ') || 'the owned paths only'}`,
    `TOOLS: ${toolNames.join(', ')}, and submit_patch to finish.`,
    `LIMITS: at most ${mission.max_files_changed} changed file(s), ${mission.max_patch_bytes} patch bytes${mission.allow_deletions ? '' : ', no deletions'}.`,
    mission.tier === 'A4'
      ? 'A4: the patch is checked, never applied or run.'
      : `VERIFICATION (run by the runtime after submit_patch): ${commands.join('; ') || 'none allowed'}.`,
    '',
    'RULES:',
    '- Read a file before you edit it. edit_file needs old_string to match exactly once, with its indentation.',
    '- Keep the change minimal; do not rewrite whole files or touch tests unless the objective asks.',
    '- Never add secrets, keys or tokens. Never claim the patch is verified: the runtime decides.',
    `- If checks or verification fail you get the output; fix and call submit_patch again (at most ${mission.max_repair_rounds + 1} submissions).`,
  ].join('\n');
}

function briefOf(mission: MissionV1): Record<string, unknown> {
  return {
    mission_id: mission.mission_id,
    tier: mission.tier,
    objective: mission.objective,
    owned_paths: mission.owned_paths,
    read_only_paths: mission.read_only_paths,
    max_files_changed: mission.max_files_changed,
    max_patch_bytes: mission.max_patch_bytes,
    verification_commands: mission.verification_policy.allowed_commands,
  };
}

function buildImplementationReport(
  input: ImplementationInput,
  closure: ImplementationClosure,
  state: ImplementationState,
  isolation: IsolationPort | undefined,
  totals: RunTotals,
): MissionReport {
  const { mission } = input;
  const packet = reviewPacket(input, closure, state, isolation);
  const files = input.ledger.filesInspected().map((file) => ({
    path: file.path,
    refs: file.ranges.map(([start, end]) => `file:${file.path}#L${start}-L${end}`),
  }));
  const modelSummary = typeof state.claims?.['summary'] === 'string' ? state.claims['summary'] : '';
  const caveats = [
    ...(closure.status === 'VERIFIED' || closure.status === 'VALID'
      ? []
      : [`Runtime: ${closure.reasonText}`]),
    ...stringList(state.claims?.['caveats']).map((caveat) => `(model) ${caveat}`),
  ];
  return {
    schema: 'mission_report.v1',
    mission_id: mission.mission_id,
    run_id: input.runId,
    tier: mission.tier,
    status: closure.status,
    reason: closure.reason,
    reason_text: closure.reasonText,
    dropped_findings: 0,
    closure: state.rounds > 0 ? 'model_report' : 'runtime_closed',
    summary: state.patch
      ? `${closure.reasonText}${modelSummary ? ` The model describes its patch as: ${modelSummary}` : ''}`
      : closure.reasonText,
    findings: [],
    obligations: [],
    files_inspected: files,
    uninspected_areas: [],
    uncertainties: stringList(state.claims?.['risks']).map((risk) => `(model) ${risk}`),
    caveats,
    status_reasons: [closure.reasonText, ...(state.verdict?.reasons ?? [])],
    confidence: closure.status === 'VERIFIED' ? 'MEDIUM' : 'LOW',
    escalation_recommendation:
      closure.status === 'VERIFIED' || closure.status === 'VALID'
        ? 'Review the packet, then promote (or not).'
        : 'Hand this to a human or GPT reviewer with the packet.',
    ...reportTotals(totals),
    implementation: packet,
  };
}

function reviewPacket(
  input: ImplementationInput,
  closure: ImplementationClosure,
  state: ImplementationState,
  isolation: IsolationPort | undefined,
): ReviewPacket {
  const { mission } = input;
  const diff = state.patch?.diff ?? '';
  const claims = state.claims ?? {};
  const flags = state.verdict?.flags ?? [];
  const questions = [
    ...flags.map((flag) => `Is this intended: ${flag.code}${flag.path ? ` (${flag.path})` : ''}?`),
    ...(closure.status === 'APPLIED_UNVERIFIED'
      ? ['Nothing verified this patch: run the tests yourself before promoting.']
      : []),
    ...(state.refusedCommands.length > 0
      ? ['The model wanted commands the mission does not allow; should they be allowed?']
      : []),
  ];
  const packet: Omit<ReviewPacket, 'packet_bytes'> = {
    schema: 'review_packet.v1',
    objective: mission.objective,
    requirements: stringList(claims['requirements_addressed']),
    apply_mode: mission.apply_mode,
    isolation: {
      kind: isolation?.kind ?? 'none',
      base_commit: isolation?.baseCommit ?? null,
      carried: [...(isolation?.carried ?? [])],
      notes: [...(isolation?.notes ?? [])],
    },
    submissions: state.rounds,
    changed_files: [...(state.patch?.files ?? [])],
    patch_bytes: state.patch?.bytes ?? 0,
    diff: diff.length > DIFF_IN_PACKET ? `${diff.slice(0, DIFF_IN_PACKET)}\n…` : diff,
    diff_truncated: diff.length > DIFF_IN_PACKET,
    checks: [...(state.verdict?.checks ?? [])],
    flags: [...flags],
    verification: state.verification
      ? state.verification.results.map((result) => ({
          ...result,
          stdout: tailOf(result.stdout),
          stderr: tailOf(result.stderr),
        }))
      : null,
    verification_isolation: state.verification?.isolation ?? null,
    denials: input.denials().slice(0, 20),
    refused_commands: state.refusedCommands,
    model_claims: { ...claims, authored_by: 'model' },
    evidence_refs: stringList(claims['evidence_refs']).filter((ref) => input.ledger.hasRef(ref)),
    questions_for_reviewer: questions,
    main_workspace_mutated: false,
    promote_command: promoteCommand(mission, closure),
  };
  const bytes = Buffer.byteLength(JSON.stringify(packet));
  return { ...packet, packet_bytes: bytes };
}

function promoteCommand(mission: MissionV1, closure: ImplementationClosure): string | null {
  if (mission.tier === 'A4') return null;
  const flags = [
    ...(closure.status === 'APPLIED_UNVERIFIED' ? ['--accept-unverified'] : []),
    ...(mission.tier === 'A6' ? ['--confirm-critical'] : []),
  ];
  if (closure.status !== 'VERIFIED' && closure.status !== 'APPLIED_UNVERIFIED') return null;
  return ['codex-oss promote', mission.mission_id, ...flags].join(' ');
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string').slice(0, 20)
    : [];
}

function tailOf(text: string): string {
  return text.length > 1200 ? `…${text.slice(-1200)}` : text;
}
