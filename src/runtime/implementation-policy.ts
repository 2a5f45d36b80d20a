import type { MissionV1 } from '../mission/index.js';
import type { ChatTool } from '../upstream/index.js';
import type { CommentaryChannel } from './commentary-channel.js';
import type { LoopPolicy } from './governed-loop.js';
import type {
  BuiltPatchPort,
  ImplementationKit,
  IsolationPort,
  PatchVerdictPort,
  StagedWorkspacePort,
  VerificationPort,
} from './implementation-ports.js';
import { redactDeep } from './redact-deep.js';
import { containsSecret, redactSecrets } from './redact-secrets.js';
import type { LoopStop } from './step-engine.js';
import type { RecordEvent } from './tool-dispatcher.js';

export const SUBMIT_PATCH = 'submit_patch';

export type ImplementationStatus =
  | 'VALID'
  | 'INVALID'
  | 'VERIFIED'
  | 'APPLIED_UNVERIFIED'
  | 'VERIFICATION_FAILED'
  | 'ESCALATE'
  | 'FAILED';

/** How an implementation run ended, with everything the review packet is built from. */
export interface ImplementationClosure {
  readonly status: ImplementationStatus;
  readonly reason: string;
  readonly reasonText: string;
}

/** The latest patch, its checks and its verification, as the run saw them. */
export interface ImplementationState {
  rounds: number;
  patch: BuiltPatchPort | null;
  verdict: PatchVerdictPort | null;
  verification: VerificationPort | null;
  /** What the model said about its patch: kept, marked model-authored, never trusted. */
  claims: Record<string, unknown> | null;
  /** Commands the model asked for that the mission does not allow. */
  refusedCommands: string[][];
}

export interface ImplementationParts {
  readonly mission: MissionV1;
  readonly kit: ImplementationKit;
  readonly isolation: IsolationPort;
  readonly staged: StagedWorkspacePort;
  readonly projectRoot: string;
  readonly criticalRoots: readonly string[];
  readonly commentary: CommentaryChannel;
  readonly record: RecordEvent;
  readonly signal: AbortSignal;
  readonly state: ImplementationState;
}

export const submitPatchTool: ChatTool = {
  type: 'function',
  function: {
    name: SUBMIT_PATCH,
    description:
      'Finish: the runtime builds the diff of your staged edits itself, checks it and (A5/A6) verifies it in the isolated copy. You get the outcome back and may fix and submit again.',
    parameters: {
      type: 'object',
      properties: {
        summary: {
          type: 'string',
          description: 'What the patch changes, in two to four sentences.',
        },
        rationale: { type: 'string', description: 'Why this change meets the objective.' },
        requirements_addressed: { type: 'array', items: { type: 'string' } },
        risks: { type: 'array', items: { type: 'string' } },
        caveats: { type: 'array', items: { type: 'string' } },
        evidence_refs: { type: 'array', items: { type: 'string' } },
        verification_plan: {
          type: 'array',
          description:
            'Commands (argv lists) you would run; only the mission’s allowed commands run.',
          items: { type: 'array', items: { type: 'string' } },
        },
      },
      required: ['summary', 'rationale'],
    },
  },
};

/**
 * A4–A6 (PRODUCT.md §6.1): the model stages edits in the isolated copy with edit_file,
 * write_file and delete_file, then calls submit_patch. The runtime builds the diff, checks it,
 * verifies it (A5/A6) and sets the status; failures go back to the model for up to
 * `max_repair_rounds` more submissions.
 */
export function implementationPolicy(
  parts: ImplementationParts,
): LoopPolicy<ImplementationClosure> {
  const { mission, state, record } = parts;
  const verifies = mission.tier === 'A5' || mission.tier === 'A6';
  return {
    finalTool: submitPatchTool,
    // No onFinalNotAlone: edits and the submission may share a turn; they apply in order first.
    forcedPrompt: (why) =>
      `${why} Call ${SUBMIT_PATCH} now with the edits you have staged; no other tool will run.`,
    repairPrompt: (reason) =>
      `Your last reply could not be used: ${reason}. Reply with exactly one tool call (edit_file, write_file, a read tool, or ${SUBMIT_PATCH} to finish). No prose.`,
    close: (stop) => closeImplementation(stop),
    criticalStop: () => ({
      status: 'ESCALATE',
      reason: 'critical_path_detected',
      reasonText:
        'The model went for a critical path the mission may not touch; the runtime stopped and escalated.',
    }),
    async onFinal(args, { forced }) {
      state.rounds += 1;
      const round = state.rounds;
      const claims = claimsOf(args);
      state.claims = claims;
      const verdict = await proposeAndCheck(parts, round, claims);
      const repairsLeft = !forced && round <= mission.max_repair_rounds;
      if (verdict.status !== 'VALID')
        return refusePatch(parts, round, { verdict, status: verdict.status }, repairsLeft);
      await record('patch.validated', 'runtime', {
        round,
        status: verdict.status,
        checks: verdict.checks,
        flags: verdict.flags,
        reasons: [...verdict.reasons],
      });
      if (!verifies)
        return {
          reply: '[PATCH VALID] The runtime checked the patch; nothing was applied anywhere.',
          closure: {
            status: 'VALID',
            reason: 'patch_valid',
            reasonText: 'The runtime-built patch passed every check; it was not applied (A4).',
          },
        };
      state.refusedCommands = refusedCommands(claims, mission);
      return verifyPatch(parts, round, repairsLeft);
    },
  };
}

/** The reply to a submission and, when the run is over, how it ended. */
type FinalOutcome = { reply: string; closure?: ImplementationClosure };

/** Builds the patch from the staged edits (the model's diff is never used) and checks it. */
async function proposeAndCheck(
  parts: ImplementationParts,
  round: number,
  claims: Record<string, unknown>,
): Promise<PatchVerdictPort> {
  const { mission, state } = parts;
  const patch = parts.kit.buildPatch(parts.staged.changes());
  state.patch = patch;
  state.verification = null;
  await parts.record('patch.proposed', 'model', {
    round,
    summary: str(claims['summary']),
    rationale: str(claims['rationale']),
    claims: redactDeep(claims),
    diff: patch.diff,
    rollback: patch.rollback,
    bytes: patch.bytes,
    files: patch.files.map((file) => ({ ...file })),
  });
  await parts.commentary.say(
    'patch_proposed',
    'VALIDATE_PATCH',
    `The runtime built the patch: ${patch.files.length} file(s), ${patch.bytes} bytes; checking it.`,
  );
  const verdict = await parts.kit.checkPatch({
    patch,
    mission: {
      owned_paths: mission.owned_paths,
      max_files_changed: mission.max_files_changed,
      max_patch_bytes: mission.max_patch_bytes,
      allow_deletions: mission.allow_deletions,
      critical_path_write_allowed: mission.critical_path_write_allowed,
      critical_path_reason: mission.critical_path_reason,
    },
    baseRoot: parts.projectRoot,
    criticalRoots: parts.criticalRoots,
  });
  state.verdict = verdict;
  return verdict;
}

/** A patch that failed its checks: back to the model while repairs are left, else the end. */
async function refusePatch(
  parts: ImplementationParts,
  round: number,
  refused: { verdict: PatchVerdictPort; status: Exclude<PatchVerdictPort['status'], 'VALID'> },
  repairsLeft: boolean,
): Promise<FinalOutcome> {
  const { mission } = parts;
  const { verdict, status } = refused;
  await parts.record('patch.rejected', 'runtime', {
    round,
    status,
    checks: verdict.checks,
    flags: verdict.flags,
    reasons: [...verdict.reasons],
    repairable: verdict.repairable,
  });
  await parts.commentary.say(
    'patch_rejected',
    'VALIDATE_PATCH',
    `The patch failed its checks (${verdict.reasons[0] ?? status}).`,
    'warning',
  );
  if (status === 'INVALID' && verdict.repairable && repairsLeft)
    return {
      reply: `[PATCH NOT ACCEPTED] ${verdict.reasons.join('; ')}. Fix the staged edits, then call ${SUBMIT_PATCH} again (${mission.max_repair_rounds - round + 1} more submission(s) allowed).`,
    };
  return {
    reply: `[PATCH ${status}] ${verdict.reasons.join('; ')}`,
    closure: {
      status,
      reason: status === 'ESCALATE' ? 'patch_escalated' : 'patch_invalid',
      reasonText: verdict.reasons[0] ?? `The patch is ${status}.`,
    },
  };
}

/** A5/A6: runs the allowed commands on the applied patch and reads the outcome. */
async function verifyPatch(
  parts: ImplementationParts,
  round: number,
  repairsLeft: boolean,
): Promise<FinalOutcome> {
  const { mission } = parts;
  const commands = mission.verification_policy.allowed_commands.slice(
    0,
    mission.verification_policy.max_commands,
  );
  if (commands.length === 0)
    return {
      reply: '[PATCH APPLIED IN ISOLATION] No verification commands are allowed; nothing ran.',
      closure: {
        status: 'APPLIED_UNVERIFIED',
        reason: 'no_verification_commands',
        reasonText:
          'The patch passed its checks and is applied in the isolated copy; the mission allows no verification command, so it is unverified.',
      },
    };
  const verification = await verify(parts, round, commands);
  parts.state.verification = verification;
  if (verification.passed)
    return {
      reply: '[VERIFIED] Every verification command passed in the isolated copy.',
      closure: {
        status: 'VERIFIED',
        reason: 'verified',
        reasonText: `The patch passed its checks and all ${verification.results.length} verification command(s) in the isolated copy.`,
      },
    };
  const failed = verification.results.find((result) => result.outcome !== 'passed');
  const summary = failed
    ? `${failed.command.join(' ')} ${failed.outcome} (exit ${failed.exit_code ?? 'none'})`
    : 'a verification command failed';
  if (repairsLeft)
    return {
      reply: `[VERIFICATION FAILED] ${summary}.\n${tail(failed?.stdout ?? '')}\n${tail(failed?.stderr ?? '')}\nFix the staged edits, then call ${SUBMIT_PATCH} again (${mission.max_repair_rounds - round + 1} more submission(s) allowed).`,
    };
  return {
    reply: `[VERIFICATION FAILED] ${summary}.`,
    closure: {
      status: 'VERIFICATION_FAILED',
      reason: 'verification_failed',
      reasonText: `Verification failed in the isolated copy: ${summary}. The main workspace was not touched.`,
    },
  };
}

async function verify(
  parts: ImplementationParts,
  round: number,
  commands: readonly (readonly string[])[],
): Promise<VerificationPort> {
  const { mission, commentary, record } = parts;
  await commentary.say(
    'verification_started',
    'VERIFY',
    `I'm running ${commands.length} verification command(s) in the isolated copy: ${commands.map((command) => command.join(' ')).join('; ')}.`.slice(
      0,
      480,
    ),
  );
  await record('verification.started', 'runtime', {
    round,
    commands: commands.map((command) => [...command]),
    isolation: { kind: parts.isolation.kind },
  });
  const verification = await parts.kit.runVerification({
    cwd: parts.isolation.projectDir,
    projectRoot: parts.projectRoot,
    commands,
    timeoutSeconds: mission.verification_policy.timeout_seconds,
    networkAllowed: mission.verification_policy.network_allowed,
    signal: parts.signal,
  });
  await record('verification.completed', 'runtime', {
    round,
    passed: verification.passed,
    results: { commands: verification.results, isolation: verification.isolation },
  });
  await commentary.say(
    'verification_completed',
    'VERIFY',
    verification.passed
      ? `Verification passed (${verification.results.length} command(s)).`
      : `Verification failed: ${verification.results
          .filter((result) => result.outcome !== 'passed')
          .map((result) => `${result.command.join(' ')} ${result.outcome}`)
          .join('; ')}.`.slice(0, 480),
    verification.passed ? 'info' : 'warning',
  );
  return verification;
}

/** Without an accepted submission there is no patch to stand behind. */
function closeImplementation(stop: LoopStop): ImplementationClosure {
  return {
    status: 'FAILED',
    reason: stop.reason,
    reasonText: `${stop.reasonText} No patch was accepted.`,
  };
}

function claimsOf(args: unknown): Record<string, unknown> {
  if (args === null || typeof args !== 'object' || Array.isArray(args)) return {};
  const claims: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args as Record<string, unknown>)) {
    // The model's words are kept for the reviewer, redacted; secrets never pass.
    claims[key] =
      typeof value === 'string'
        ? containsSecret(value)
          ? redactSecrets(value).text
          : value.slice(0, 4000)
        : value;
  }
  return claims;
}

function refusedCommands(claims: Record<string, unknown>, mission: MissionV1): string[][] {
  const plan = claims['verification_plan'];
  if (!Array.isArray(plan)) return [];
  const allowed = new Set(
    mission.verification_policy.allowed_commands.map((command) => JSON.stringify(command)),
  );
  return plan
    .filter(
      (command): command is string[] =>
        Array.isArray(command) && command.every((part) => typeof part === 'string'),
    )
    .filter((command) => !allowed.has(JSON.stringify(command)))
    .slice(0, 10);
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function tail(text: string): string {
  return text.length > 1500 ? `…${text.slice(-1500)}` : text;
}
