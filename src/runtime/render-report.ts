import type { MissionReport, ReviewPacket } from './mission-report.js';

/**
 * The contract text answer: first line `Status: <STATUS>`, then fixed sections. The same data is
 * in report.json; this is what a human or a parent agent reads.
 */
export function renderReport(report: MissionReport): string {
  if (report.implementation) return renderImplementation(report, report.implementation);
  const lines: string[] = [
    `Status: ${report.status}`,
    `Mission: ${report.mission_id} (${report.tier}, run ${report.run_id})`,
    ...continuesLine(report),
    '',
  ];
  lines.push('Summary:', indent(report.summary || '(no summary)'), '');
  lines.push('Findings:');
  if (report.findings.length === 0) lines.push('  (none backed by evidence)');
  report.findings.forEach((finding, index) => {
    const obligation = finding.obligation_id ? ` [${finding.obligation_id}]` : '';
    lines.push(
      `  ${index + 1}.${obligation} ${finding.claim}`,
      `     evidence: ${finding.evidence_refs.join(', ')}`,
    );
  });
  if (report.obligations.length > 0) {
    lines.push('', 'Obligations:');
    for (const obligation of report.obligations) {
      lines.push(
        `  ${obligation.answered ? '✓' : '✗'} ${obligation.id}${obligation.required ? '' : ' (optional)'}: ${obligation.question}`,
      );
    }
  }
  lines.push('', 'Files inspected:');
  if (report.files_inspected.length === 0) lines.push('  (none)');
  for (const file of report.files_inspected)
    lines.push(`  - ${file.path} (${file.refs.join(', ')})`);
  if (report.uninspected_areas.length > 0)
    lines.push('', 'Not inspected:', ...report.uninspected_areas.map((area) => `  - ${area}`));
  lines.push('', 'Uncertainties:', ...list(report.uncertainties));
  lines.push('', 'Caveats:', ...list(report.caveats));
  if (report.status_reasons.length > 0)
    lines.push('', 'Runtime decisions:', ...list(report.status_reasons));
  lines.push('', `Confidence: ${report.confidence}`);
  lines.push('', `Escalation: ${report.escalation_recommendation}`);
  lines.push(
    '',
    `Cost: $${report.cost_usd.toFixed(6)} · ${report.usage.total_tokens} tokens (${report.usage.input_tokens} in, ${report.usage.cached_input_tokens} cached, ${report.usage.output_tokens} out) · ${report.model_calls} model call(s), ${report.tool_calls} tool call(s) · model ${report.model}${report.fallbacks_used.length > 0 ? ` (fallbacks: ${report.fallbacks_used.join(', ')})` : ''}`,
  );
  lines.push(
    `Artifacts: .codex-oss/missions/${report.mission_id}/ (report.json, summary.md, trace.jsonl)`,
  );
  return lines.join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

function list(items: readonly string[]): string[] {
  return items.length === 0 ? ['  (none)'] : items.map((item) => `  - ${item}`);
}

/** The implementation answer: the status, then the review packet a reviewer acts on. */
function renderImplementation(report: MissionReport, packet: ReviewPacket): string {
  const lines: string[] = [
    `Status: ${report.status}`,
    `Mission: ${report.mission_id} (${report.tier}, run ${report.run_id})`,
    ...continuesLine(report),
    '',
    'Summary:',
    indent(report.summary || '(no summary)'),
    '',
    `Review packet (${packet.packet_bytes} bytes for a ${packet.patch_bytes}-byte diff; whole diff in patch.diff):`,
    `  Objective: ${packet.objective}`,
  ];
  if (packet.requirements.length > 0)
    lines.push(
      '  Requirements addressed (model):',
      ...packet.requirements.map((r) => `    - ${r}`),
    );
  lines.push(
    `  Isolation: ${packet.isolation.kind}${packet.isolation.base_commit ? ` at ${packet.isolation.base_commit.slice(0, 12)}` : ''}${packet.isolation.carried.length > 0 ? `, ${packet.isolation.carried.length} uncommitted file(s) carried` : ''}; main workspace mutated: no`,
    `  Submissions: ${packet.submissions}`,
    '  Changed files:',
  );
  if (packet.changed_files.length === 0) lines.push('    (none)');
  for (const file of packet.changed_files)
    lines.push(
      `    - ${file.path} (${file.change}, +${file.added_lines} −${file.removed_lines}${file.whole_file_rewrite ? ', whole-file rewrite' : ''})`,
    );
  const failedChecks = packet.checks.filter((check) => !check.ok);
  lines.push(
    `  Checks: ${packet.checks.length - failedChecks.length}/${packet.checks.length} passed${failedChecks.length > 0 ? `; failed: ${failedChecks.map((check) => `${check.name}${check.detail ? ` (${check.detail})` : ''}`).join('; ')}` : ''}`,
  );
  if (packet.flags.length > 0)
    lines.push(
      '  Flags for the reviewer:',
      ...packet.flags.map(
        (flag) =>
          `    - ${flag.code}${flag.path ? ` ${flag.path}` : ''}${flag.detail ? `: ${flag.detail}` : ''}`,
      ),
    );
  lines.push(...runtimeOutcomeLines(packet));
  const rationale = packet.model_claims['rationale'];
  if (typeof rationale === 'string' && rationale !== '')
    lines.push(`  Rationale (model-authored): ${rationale.slice(0, 600)}`);
  if (packet.questions_for_reviewer.length > 0)
    lines.push(
      '  Questions for the reviewer:',
      ...packet.questions_for_reviewer.map((q) => `    - ${q}`),
    );
  lines.push('', 'Caveats:', ...list(report.caveats));
  if (packet.diff !== '')
    lines.push(
      '',
      `Diff${packet.diff_truncated ? ' (truncated)' : ''}:`,
      '```diff',
      packet.diff.trimEnd(),
      '```',
    );
  lines.push(
    '',
    packet.promote_command
      ? `Promote: ${packet.promote_command}   (dry run: add --dry-run; undo later: --revert)`
      : 'Promote: not promotable with this status.',
    '',
    `Cost: $${report.cost_usd.toFixed(6)} · ${report.usage.total_tokens} tokens · ${report.model_calls} model call(s), ${report.tool_calls} tool call(s) · model ${report.model}`,
    `Artifacts: .codex-oss/missions/${report.mission_id}/ (review_packet.json, patch.diff, rollback.diff, verification.json, implementation_report.json)`,
  );
  return lines.join('\n');
}

/** What the runtime ran and refused: verification results, denied tools, refused commands. */
function runtimeOutcomeLines(packet: ReviewPacket): string[] {
  const lines: string[] = [];
  lines.push('  Verification:');
  if (packet.verification === null) lines.push('    (not run)');
  for (const result of packet.verification ?? [])
    lines.push(
      `    - ${result.command.join(' ')}: ${result.outcome}, exit ${result.exit_code ?? 'none'}, ${Math.round(result.duration_ms)} ms`,
    );
  if (packet.denials.length > 0)
    lines.push(
      '  Refused by the runtime:',
      ...packet.denials.map((denial) => `    - ${denial.tool}: ${denial.code}`),
    );
  if (packet.refused_commands.length > 0)
    lines.push(
      '  Commands the model asked for that the mission does not allow (not run):',
      ...packet.refused_commands.map((command) => `    - ${command.join(' ')}`),
    );
  return lines;
}

function continuesLine(report: MissionReport): string[] {
  return report.continues
    ? [`Continues: mission ${report.continues.mission_id} (run ${report.continues.run_id})`]
    : [];
}
