import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/**
 * The dated proof file `codex-oss smoke` writes and `codex-oss claim-status` reads. A proof is
 * what one run on this machine saw, with the evidence to check it again (mission ids, run ids,
 * log head hashes); claim-status only trusts proofs that are fresh: recent, and made by the code
 * that is installed now.
 */

export const PROOF_SCHEMA = 'codex_oss_smoke_proof.v1';
export const PROOFS_DIR = path.join('.codex-oss', 'proofs');
export const DEFAULT_MAX_AGE_HOURS = 24;

/** The claims a smoke run proves, in the order it runs them. */
export const SMOKE_CLAIMS = [
  {
    id: 'role_files_installed',
    title: 'the role files are installed in the project and match the bridge',
  },
  {
    id: 'a3_complete_with_commentary',
    title: 'an A3 investigation ends COMPLETE with commentary recorded in its event log',
  },
  {
    id: 'a5_verified_in_isolation',
    title: 'an A5 fix ends VERIFIED in an isolated copy and the workspace is unchanged',
  },
  {
    id: 'mcp_round_trip',
    title: 'codex-oss mcp lists its tools and answers a read-only opencode call',
  },
] as const;

export type ClaimId = (typeof SMOKE_CLAIMS)[number]['id'];

const evidenceValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);

export const claimResultSchema = z.object({
  id: z.string(),
  title: z.string(),
  pass: z.boolean(),
  duration_ms: z.number().int().nonnegative(),
  evidence: z.record(z.string(), evidenceValue),
  /** Why it failed, in words a user can act on; absent when it passed. */
  problem: z.string().optional(),
});

export type ClaimResult = z.infer<typeof claimResultSchema>;

export const proofSchema = z.object({
  schema: z.literal(PROOF_SCHEMA),
  created_at: z.iso.datetime(),
  mode: z.enum(['demo', 'live']),
  bridge: z.object({ version: z.string(), source_hash: z.string().regex(/^[0-9a-f]{64}$/) }),
  node: z.string(),
  platform: z.string(),
  upstream: z.string(),
  project: z.object({ path: z.string(), kind: z.enum(['demo-copy', 'given']) }),
  claims: z.array(claimResultSchema),
  passed: z.boolean(),
  duration_ms: z.number().int().nonnegative(),
});

export type Proof = z.infer<typeof proofSchema>;

/** Writes the proof atomically under `<root>/.codex-oss/proofs/` and returns its path. */
export function writeProof(root: string, proof: Proof): string {
  const dir = path.join(root, PROOFS_DIR);
  mkdirSync(dir, { recursive: true });
  const stamp = proof.created_at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = path.join(dir, `smoke-${stamp}-${proof.mode}.json`);
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(proofSchema.parse(proof), null, 2)}\n`);
  renameSync(temp, file);
  return file;
}

export interface LoadedProof {
  readonly file: string;
  readonly proof: Proof;
}

export interface ProofReadProblem {
  readonly file: string;
  readonly problem: string;
}

/** Every proof file in the folder, newest first; unreadable ones are reported, never trusted. */
export function readProofs(root: string): { proofs: LoadedProof[]; problems: ProofReadProblem[] } {
  const dir = path.join(root, PROOFS_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return { proofs: [], problems: [] };
  }
  const proofs: LoadedProof[] = [];
  const problems: ProofReadProblem[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      const parsed = proofSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (parsed.success) proofs.push({ file, proof: parsed.data });
      else
        problems.push({
          file,
          problem: `not a ${PROOF_SCHEMA} file: ${parsed.error.issues
            .slice(0, 3)
            .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
            .join('; ')}`,
        });
    } catch (error) {
      problems.push({ file, problem: `unreadable: ${(error as Error).message}` });
    }
  }
  proofs.sort((a, b) => Date.parse(b.proof.created_at) - Date.parse(a.proof.created_at));
  return { proofs, problems };
}

export interface Freshness {
  readonly fresh: boolean;
  /** Why a proof is not fresh; empty when it is. */
  readonly reasons: string[];
}

/**
 * Fresh means: made within `maxAgeHours`, not in the future, and by the code installed now (the
 * same package version and the same source hash, so a rebuild or upgrade needs a new proof).
 */
export function freshness(
  proof: Proof,
  now: Date,
  current: { version: string; sourceHash: string },
  maxAgeHours: number,
): Freshness {
  const reasons: string[] = [];
  const ageMs = now.getTime() - Date.parse(proof.created_at);
  if (ageMs > maxAgeHours * 3_600_000)
    reasons.push(`${(ageMs / 3_600_000).toFixed(1)} h old (limit ${maxAgeHours} h)`);
  if (ageMs < -60_000) reasons.push('dated in the future');
  if (proof.bridge.version !== current.version)
    reasons.push(`made by bridge ${proof.bridge.version}, this is ${current.version}`);
  else if (proof.bridge.source_hash !== current.sourceHash)
    reasons.push(
      `made by other code (source ${proof.bridge.source_hash.slice(0, 12)}, installed ${current.sourceHash.slice(0, 12)})`,
    );
  return { fresh: reasons.length === 0, reasons };
}
