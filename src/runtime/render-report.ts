import type { MissionReport } from './mission-report.js';

/**
 * The contract text answer: first line `Status: <STATUS>`, then fixed sections. The same data is
 * in report.json; this is what a human or a parent agent reads.
 */
export function renderReport(report: MissionReport): string {
  const lines: string[] = [
    `Status: ${report.status}`,
    `Mission: ${report.mission_id} (${report.tier}, run ${report.run_id})`,
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
