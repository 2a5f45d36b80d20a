import { parseArgs } from 'node:util';
import { computeSourceHash, packageVersion } from '../../config/index.js';
import type { Command } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';
import { projectRoot } from '../project-root.js';
import {
  DEFAULT_MAX_AGE_HOURS,
  freshness,
  PROOFS_DIR,
  readProofs,
  SMOKE_CLAIMS,
  type LoadedProof,
} from '../smoke-proof.js';

type ClaimState = 'holds' | 'failed' | 'stale' | 'unproven';

interface ClaimVerdict {
  readonly id: string;
  readonly title: string;
  readonly state: ClaimState;
  readonly detail: string;
  readonly proof: string | null;
  readonly mode: string | null;
  readonly proved_at: string | null;
}

export const claimStatusCommand: Command = {
  name: 'claim-status',
  summary: 'say which smoke claims hold on fresh proofs (exit 0 only if all do)',
  usage: `Usage: codex-oss claim-status [--project DIR] [--json] [--max-age-hours N]

Reads the proofs \`codex-oss smoke\` wrote under <project>/${PROOFS_DIR}/ and says, for each claim,
whether it holds. Only fresh proofs count: made within the last ${DEFAULT_MAX_AGE_HOURS} hours (--max-age-hours)
by the code installed now (same bridge version and source hash). For each claim the newest fresh
proof that tested it decides: holds or failed. With no fresh proof a claim is stale (only old or
other-code proofs) or unproven (none at all).

Exit code 0 only when every claim holds; 1 otherwise.
`,
  run(args, io) {
    const { values } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        options: {
          project: { type: 'string' },
          json: { type: 'boolean', default: false },
          'max-age-hours': { type: 'string', default: String(DEFAULT_MAX_AGE_HOURS) },
        },
      }),
    );
    const maxAge = Number(values['max-age-hours']);
    if (!Number.isFinite(maxAge) || maxAge <= 0) {
      io.stderr.write(
        `--max-age-hours must be a positive number, got "${values['max-age-hours']}"\n`,
      );
      return Promise.resolve(2);
    }
    const root = projectRoot(values.project, io);
    const { proofs, problems } = readProofs(root);
    const current = { version: packageVersion(), sourceHash: computeSourceHash().hash };
    const now = new Date();
    const judged = proofs.map((loaded) => ({
      loaded,
      fresh: freshness(loaded.proof, now, current, maxAge),
    }));

    const verdicts: ClaimVerdict[] = SMOKE_CLAIMS.map((claim) => {
      const tested = judged.filter((entry) =>
        entry.loaded.proof.claims.some((result) => result.id === claim.id),
      );
      const freshOne = tested.find((entry) => entry.fresh.fresh);
      if (freshOne) {
        const result = freshOne.loaded.proof.claims.find((entry) => entry.id === claim.id);
        const holds = result?.pass === true;
        return verdict(
          claim,
          holds ? 'holds' : 'failed',
          freshOne.loaded,
          holds ? `proved ${age(freshOne.loaded, now)} ago` : (result?.problem ?? 'failed'),
        );
      }
      const newest = tested[0];
      if (newest)
        return verdict(
          claim,
          'stale',
          newest.loaded,
          `newest proof is not fresh: ${newest.fresh.reasons.join('; ')}; run \`codex-oss smoke\``,
        );
      return {
        id: claim.id,
        title: claim.title,
        state: 'unproven' as const,
        detail: `no proof under ${root}/${PROOFS_DIR}; run \`codex-oss smoke\``,
        proof: null,
        mode: null,
        proved_at: null,
      };
    });
    const allHold = verdicts.every((entry) => entry.state === 'holds');

    if (values.json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            all_hold: allHold,
            bridge: current,
            max_age_hours: maxAge,
            claims: verdicts,
            unreadable_proofs: problems,
          },
          null,
          2,
        )}\n`,
      );
    } else {
      const marks: Record<ClaimState, string> = {
        holds: '✓ HOLDS',
        failed: '✗ FAILED',
        stale: '⚠ STALE',
        unproven: '? UNPROVEN',
      };
      for (const entry of verdicts) {
        io.stdout.write(
          `${marks[entry.state]} ${entry.id}${entry.mode ? ` (${entry.mode})` : ''}: ${entry.detail}\n`,
        );
      }
      for (const problem of problems)
        io.stdout.write(`  ignored ${problem.file}: ${problem.problem}\n`);
      io.stdout.write(
        `\n${verdicts.filter((entry) => entry.state === 'holds').length} of ${verdicts.length} claims hold\n`,
      );
    }
    return Promise.resolve(allHold ? 0 : 1);
  },
};

function verdict(
  claim: { id: string; title: string },
  state: ClaimState,
  loaded: LoadedProof,
  detail: string,
): ClaimVerdict {
  return {
    id: claim.id,
    title: claim.title,
    state,
    detail,
    proof: loaded.file,
    mode: loaded.proof.mode,
    proved_at: loaded.proof.created_at,
  };
}

function age(loaded: LoadedProof, now: Date): string {
  const minutes = Math.max(
    0,
    Math.round((now.getTime() - Date.parse(loaded.proof.created_at)) / 60_000),
  );
  return minutes < 120 ? `${minutes} min` : `${Math.round(minutes / 60)} h`;
}
