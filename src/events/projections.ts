import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { MissionEvent } from './event-schema.js';
import { sha256Hex } from './hash-event.js';
import { missionDir } from './paths.js';
import type { RunRecord } from './reduce-run-record.js';

/** The projection files of a mission directory (PRODUCT.md §7), in the order they are written. */
export const projectionFileNames = [
  'report.json',
  'summary.md',
  'run_record.json',
  'ledger.json',
  'trace.jsonl',
  'visible_commentary.jsonl',
] as const;

/** Added for implementation runs (A4–A6): the patch, its reverse, the packet, the verification. */
export const implementationProjectionNames = [
  'patch.diff',
  'rollback.diff',
  'implementation_report.json',
  'review_packet.json',
  'verification.json',
] as const;

export type ProjectionFileName =
  (typeof projectionFileNames)[number] | (typeof implementationProjectionNames)[number];

export const MANIFEST_FILE_NAME = 'projection_manifest.json';

export interface ProjectionManifest {
  schema: 'projection_manifest.v1';
  run_id: string;
  mission_id: string | null;
  head_hash: string | null;
  event_count: number;
  /** sha256 hex of each projection file's bytes. */
  files: Record<string, string>;
}

/**
 * Renders the six projections of a run. Pure and deterministic: the same record and events give
 * the same bytes, which is what lets `auditMission` compare files with a fresh render.
 */
export function renderProjections(
  record: RunRecord,
  events: readonly MissionEvent[],
): Partial<Record<ProjectionFileName, string>> {
  return {
    'report.json': json(renderReport(record)),
    'summary.md': renderSummary(record),
    'run_record.json': json({ ...record, source_head_hash: record.head_hash }),
    'ledger.json': json(renderLedger(record, events)),
    'trace.jsonl': renderTrace(events),
    'visible_commentary.jsonl': renderCommentary(record),
    ...renderImplementation(record, events),
  };
}

/**
 * The implementation files, from the last patch the run built and the last verification it
 * ran; a run that never admitted an implementation tier has none.
 */
function renderImplementation(
  record: RunRecord,
  events: readonly MissionEvent[],
): Partial<Record<ProjectionFileName, string>> {
  if (!['A4', 'A5', 'A6'].includes(record.tier ?? '')) return {};
  let patch: Readonly<Record<string, unknown>> | undefined;
  let verification: Readonly<Record<string, unknown>> | undefined;
  for (const event of events) {
    if (event.type === 'patch.proposed') patch = event.payload;
    if (event.type === 'verification.completed') verification = event.payload;
  }
  const packet =
    record.report !== null && typeof record.report['implementation'] === 'object'
      ? record.report['implementation']
      : null;
  return {
    'patch.diff': typeof patch?.['diff'] === 'string' ? patch['diff'] : '',
    'rollback.diff': typeof patch?.['rollback'] === 'string' ? patch['rollback'] : '',
    'implementation_report.json': json({
      schema: 'implementation_report.v1',
      mission_id: record.mission_id,
      run_id: record.run_id,
      tier: record.tier,
      status: record.status,
      reason: record.reason,
      reason_text: record.reason_text,
      patch_files: patch?.['files'] ?? [],
      patch_bytes: patch?.['bytes'] ?? 0,
      submissions: patch?.['round'] ?? 0,
      verification_passed: verification?.['passed'] ?? null,
      main_workspace_mutated: false,
      source_head_hash: record.head_hash,
    }),
    'review_packet.json': json(packet),
    'verification.json': json({
      round: verification?.['round'] ?? null,
      passed: verification?.['passed'] ?? null,
      results: verification?.['results'] ?? null,
      source_head_hash: record.head_hash,
    }),
  };
}

/** The manifest naming each rendered file's digest and the log head they came from. */
export function renderManifest(record: RunRecord, files: Readonly<Record<string, string>>): string {
  const digests: Record<string, string> = {};
  for (const name of Object.keys(files).sort()) digests[name] = sha256Hex(files[name] ?? '');
  const manifest: ProjectionManifest = {
    schema: 'projection_manifest.v1',
    run_id: record.run_id,
    mission_id: record.mission_id,
    head_hash: record.head_hash,
    event_count: record.event_count,
    files: digests,
  };
  return json(manifest);
}

/** The mission directory a record's projections go to (mission id, else run id). */
export function projectionDir(projectRoot: string, record: RunRecord): string {
  return missionDir(projectRoot, record.mission_id ?? record.run_id);
}

/**
 * Writes the projections and then the manifest into `.codex-oss/missions/<mission_id>/`. Each
 * file is written to a temporary name, synced and renamed, so a reader never sees half a file;
 * the manifest goes last, so a manifest always describes complete files.
 */
export async function writeProjections(
  projectRoot: string,
  record: RunRecord,
  events: readonly MissionEvent[],
): Promise<{ dir: string; manifest: ProjectionManifest }> {
  const dir = projectionDir(projectRoot, record);
  await mkdir(dir, { recursive: true });
  const files = renderProjections(record, events);
  for (const [name, text] of Object.entries(files)) await writeAtomic(join(dir, name), text);
  const manifestText = renderManifest(record, files);
  await writeAtomic(join(dir, MANIFEST_FILE_NAME), manifestText);
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return { dir, manifest: JSON.parse(manifestText) as ProjectionManifest };
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

function renderReport(record: RunRecord): Record<string, unknown> {
  return {
    schema: 'mission_report.v1',
    ...(record.report ?? {}),
    run_id: record.run_id,
    mission_id: record.mission_id,
    status: record.status ?? record.report?.['status'] ?? null,
    reason: record.reason,
    reason_text: record.reason_text,
    validation: record.validation,
    rejection: record.rejection,
    final_text: record.final_text,
    usage: {
      model_calls: record.model_calls,
      tool_calls: record.tool_calls,
      tokens: record.tokens,
      models: record.models_used,
    },
    cost_usd: record.cost_usd,
    source_head_hash: record.head_hash,
  };
}

function renderLedger(record: RunRecord, events: readonly MissionEvent[]): Record<string, unknown> {
  const commands: Record<string, unknown>[] = [];
  const denied: Record<string, unknown>[] = [];
  for (const event of events) {
    const p = event.payload;
    if (event.type === 'tool.completed') {
      commands.push({
        call: p['call'] ?? null,
        tool: p['tool'] ?? null,
        args: p['args'] ?? null,
        refs: p['refs'] ?? [],
        digest: p['digest'] ?? null,
        bytes: p['bytes'] ?? 0,
        cache_hit: p['cache_hit'] ?? false,
        redactions: p['redactions'] ?? 0,
        summary: p['summary'] ?? '',
        path: p['path'] ?? null,
        seq: event.seq,
        ts: event.ts,
      });
    } else if (event.type === 'tool.denied') {
      denied.push({
        call: p['call'] ?? null,
        tool: p['tool'] ?? null,
        args: p['args'] ?? null,
        reason_code: p['reason_code'] ?? null,
        message: p['message'] ?? '',
        seq: event.seq,
        ts: event.ts,
      });
    }
  }
  return {
    schema: 'mission_ledger.v1',
    run_id: record.run_id,
    mission_id: record.mission_id,
    budgets: record.budgets,
    used: {
      tool_calls: record.tool_calls,
      model_calls: record.model_calls,
      files: record.files_inspected.length,
      observation_bytes: record.observation_bytes,
      output_tokens: record.tokens.output_tokens,
      total_tokens: record.tokens.total_tokens,
      cost_usd: record.cost_usd,
    },
    files_inspected: record.files_inspected,
    commands,
    denied,
    evidence_refs: record.evidence_refs,
    source_head_hash: record.head_hash,
  };
}

function renderTrace(events: readonly MissionEvent[]): string {
  let out = '';
  for (const event of events) {
    if (!event.type.startsWith('model.') && !event.type.startsWith('tool.')) continue;
    const envelope = { seq: event.seq, ts: event.ts, type: event.type };
    // Envelope first for readability, and again last so a payload key can never shadow it.
    out += JSON.stringify(Object.assign({ ...envelope }, event.payload, envelope)) + '\n';
  }
  return out;
}

function renderCommentary(record: RunRecord): string {
  let out = '';
  for (const c of record.commentary) {
    out +=
      JSON.stringify({
        index: c.index,
        kind: c.kind,
        phase: c.phase,
        message: c.message,
        severity: c.severity,
        ts: c.ts,
      }) + '\n';
  }
  return out;
}

function renderSummary(record: RunRecord): string {
  const lines: string[] = [];
  const report = record.report ?? {};
  lines.push(`# Mission ${record.mission_id ?? record.run_id}`, '');
  lines.push(`- Run: \`${record.run_id}\``);
  const status = record.status ?? 'none yet';
  const reason = record.reason === null ? '' : ` (${record.reason})`;
  lines.push(`- Status: **${status}**${reason}, state ${record.state}`);
  if (record.reason_text !== null && record.reason_text !== '') {
    lines.push(`- Why: ${oneLine(record.reason_text)}`);
  }
  const who = [record.tier, record.model_alias, record.model].filter((v) => v !== null);
  if (who.length > 0) lines.push(`- Tier and model: ${who.join(' · ')}`);
  lines.push(`- Started: ${record.started_at ?? '-'}; ended: ${record.ended_at ?? '-'}`);
  const fallbacks =
    record.fallbacks_used.length === 0
      ? ''
      : `, fallbacks ${record.fallbacks_used.map((f) => `${f.from} → ${f.to}`).join(', ')}`;
  lines.push(
    `- Model calls: ${record.model_calls} (failed ${record.model_failures}${fallbacks}); ` +
      `tool calls: ${record.tool_calls} (denied ${record.tools_denied}, cache hits ${record.cache_hits})`,
  );
  const t = record.tokens;
  lines.push(
    `- Tokens: input ${t.input_tokens} (cached ${t.cached_input_tokens}), output ${t.output_tokens}, ` +
      `reasoning ${t.reasoning_tokens}, total ${t.total_tokens}; cost $${record.cost_usd}`,
  );
  if (record.rejection !== null) {
    lines.push(
      '',
      '## Rejected',
      '',
      `${record.rejection.code}: ${oneLine(record.rejection.message)}`,
    );
  }
  const summary = report['summary'];
  if (typeof summary === 'string' && summary !== '')
    lines.push('', '## Summary', '', summary.trim());
  const findings = Array.isArray(report['findings']) ? (report['findings'] as unknown[]) : [];
  if (findings.length > 0) {
    lines.push('', '## Findings', '');
    findings.forEach((finding, i) => {
      const f = (typeof finding === 'object' && finding !== null ? finding : {}) as Record<
        string,
        unknown
      >;
      const claim = typeof f['claim'] === 'string' ? oneLine(f['claim']) : '(no claim)';
      const refs = Array.isArray(f['evidence_refs'])
        ? (f['evidence_refs'] as unknown[]).filter((r) => typeof r === 'string')
        : [];
      const refText = refs.length === 0 ? '' : ` (${refs.map((r) => `\`${r}\``).join(', ')})`;
      lines.push(`${i + 1}. ${claim}${refText}`);
    });
  }
  if (record.files_inspected.length > 0) {
    lines.push('', '## Files inspected', '');
    for (const file of record.files_inspected) {
      lines.push(`- \`${file.path}\`${file.refs.length > 0 ? `: ${file.refs.join(', ')}` : ''}`);
    }
  }
  for (const [key, title] of [
    ['uncertainties', 'Uncertainties'],
    ['caveats', 'Caveats'],
  ] as const) {
    const items = Array.isArray(report[key]) ? (report[key] as unknown[]) : [];
    const texts = items.filter((x): x is string => typeof x === 'string');
    if (texts.length > 0) lines.push('', `## ${title}`, '', ...texts.map((x) => `- ${oneLine(x)}`));
  }
  lines.push('', `source_head_hash: ${record.head_hash ?? 'none'}`, '');
  return lines.join('\n');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
