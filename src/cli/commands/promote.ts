import { realpathSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BridgeError } from '../../errors/index.js';
import { UsageError, type Command } from '../cli-io.js';
import { parseFlags } from '../parse-flags.js';
import { projectRoot } from '../project-root.js';

export const promoteCommand: Command = {
  name: 'promote',
  summary: 'apply a verified implementation patch to the main workspace (or --revert it)',
  usage: `Usage: codex-oss promote MISSION_ID [--dry-run] [--accept-unverified] [--confirm-critical] [--revert]
                         [--project PATH] [--json]

Applies the patch of a finished A5/A6 mission, exactly as its event log records it, to the main
workspace: all files or none, and only if every target file is still what the patch was built on.
  --dry-run            check everything, change nothing
  --accept-unverified  promote an APPLIED_UNVERIFIED run (no verification command ran)
  --confirm-critical   promote an A6 (critical rehearsal) run
  --revert             undo this mission's promotion, if its files are unchanged since
Every promotion and revert is appended to .codex-oss/promotions/, a hash-chained log that
audit-mission checks. Exit codes: 0 applied (or would apply), 1 refused, 2 usage error.
`,
  async run(args, io) {
    const { values, positionals } = parseFlags(() =>
      parseArgs({
        args,
        strict: true,
        allowPositionals: true,
        options: {
          project: { type: 'string' },
          json: { type: 'boolean', default: false },
          'dry-run': { type: 'boolean', default: false },
          'accept-unverified': { type: 'boolean', default: false },
          'confirm-critical': { type: 'boolean', default: false },
          revert: { type: 'boolean', default: false },
        },
      }),
    );
    const id = positionals[0];
    if (!id) throw new UsageError('promote needs a MISSION_ID (see codex-oss runs)');
    const { promoteMission } = await import('../../implementation/index.js');
    let root: string;
    try {
      root = realpathSync(projectRoot(values.project, io));
    } catch {
      throw new UsageError(`--project ${values.project ?? '.'} is not a directory`);
    }
    try {
      const result = await promoteMission({
        projectRoot: root,
        id,
        dryRun: values['dry-run'],
        acceptUnverified: values['accept-unverified'],
        confirmCritical: values['confirm-critical'],
        revert: values.revert,
      });
      if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      if (result.refused) {
        // Only this one leaves files changed: "refused" would tell the user nothing happened.
        const label = result.refused.code === 'promotion_unrecorded' ? 'Not recorded' : 'Refused';
        if (!values.json)
          io.stderr.write(`${label} (${result.refused.code}): ${result.refused.message}\n`);
        return 1;
      }
      if (!values.json) {
        const verb = result.action === 'revert' ? 'Reverted' : 'Promoted';
        io.stdout.write(
          `${result.dry_run ? `Dry run: would be ${verb.toLowerCase()}` : verb} ${result.mission_id} (run ${result.run_id}, ${result.status}) in ${root}:\n`,
        );
        for (const file of result.files) io.stdout.write(`  ${file.action} ${file.path}\n`);
        if (!result.dry_run && result.log_entry)
          io.stdout.write(`Recorded in the promotion log (entry ${result.log_entry.seq}).\n`);
      }
      return 0;
    } catch (error) {
      if (error instanceof BridgeError) {
        io.stderr.write(`Refused (${error.code}): ${error.message}\n`);
        return 1;
      }
      throw error;
    }
  },
};
