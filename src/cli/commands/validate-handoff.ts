import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { validateHandoffText } from '../../mission/index.js';
import { UsageError, type Command } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';

export const validateHandoffCommand: Command = {
  name: 'validate-handoff',
  summary: 'check a MissionV1 handoff (or task contract) offline, listing every problem',
  usage: `Usage: codex-oss validate-handoff FILE|- [--alias mission-a3-kimi] [--json]

Reads FILE as the user message of a mission request and validates it exactly as the daemon would,
without calling any model. --alias checks the tier against a mission alias. Exits 1 when invalid.
`,
  run(args, io) {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        allowPositionals: true,
        options: { alias: { type: 'string' }, json: { type: 'boolean', default: false } },
      }),
    );
    const file = positionals[0];
    if (!file) throw new UsageError('validate-handoff needs a FILE (or - for stdin)');
    const text =
      file === '-' ? readFileSync(0, 'utf8') : readFileSync(path.resolve(io.cwd, file), 'utf8');
    const aliasTier = values.alias ? /^mission-a([2-6])-/.exec(values.alias)?.[1] : undefined;
    if (values.alias && aliasTier === undefined)
      throw new UsageError(
        `--alias must be a mission alias like mission-a3-kimi (got "${values.alias}")`,
      );
    const result = validateHandoffText(
      text,
      aliasTier === undefined ? {} : { aliasTier: Number(aliasTier) },
    );
    if (values.json) {
      io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return Promise.resolve(result.valid ? 0 : 1);
    }
    if (!result.valid) {
      io.stdout.write(
        `INVALID (${result.code})\n${result.problems.map((problem) => `  - ${problem}`).join('\n')}\n`,
      );
      return Promise.resolve(1);
    }
    const mission = result.mission;
    io.stdout.write(
      [
        `VALID: ${mission.mission_id} (${mission.tier}, ${mission.objective_style}, risk ${mission.risk_tier})`,
        `  objective: ${mission.objective}`,
        `  scope:     ${[...mission.allowed_paths, ...mission.allowed_roots].join(', ')}`,
        `  tools:     ${mission.allowed_tool_classes.join(', ')}; budget ${mission.tool_budget} calls, ${mission.time_budget_seconds} s` +
          (mission.max_cost_usd === undefined ? '' : `, $${mission.max_cost_usd} cap`),
        ...result.warnings.map((warning) => `  warning:   ${warning}`),
        '',
      ].join('\n'),
    );
    return Promise.resolve(0);
  },
};
