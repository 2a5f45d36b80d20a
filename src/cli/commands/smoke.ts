import type { Command } from '../cli-io.js';

// The verb's description stays here and its body in smoke-run.ts: the body starts a daemon and
// an MCP client, which every other verb (and `--help`) would otherwise load too.
const SMOKE_FILE = 'codex-oss-smoke.txt';

export const smokeCommand: Command = {
  name: 'smoke',
  summary: 'prove the whole product on this machine and write a dated proof file',
  usage: `Usage: codex-oss smoke [--live] [--project DIR] [--json] [--timeout SECONDS]

Proves, in one command, that this installation works end to end:
  1. role_files_installed          the role files are in <project>/.codex/agents and match the bridge
  2. a3_complete_with_commentary   an A3 investigation ends COMPLETE, commentary in its event log
  3. a5_verified_in_isolation      an A5 fix ends VERIFIED in an isolated copy, workspace unchanged
  4. mcp_round_trip                codex-oss mcp answers tools/list and one read-only opencode call

By default it runs against the built-in demo model in a fresh copy of examples/demo-repo (into
which it installs the role files first), so it needs no key. --live uses your real upstream
(UPSTREAM_BASE and its key, from the environment or .codex-oss/env/opencode-go.env) and spends a
few cents. --project DIR runs the missions in DIR itself instead (the A5 mission writes
${SMOKE_FILE} in an isolated copy only; DIR is checked unchanged afterwards).

The proof goes to <project>/.codex-oss/proofs/smoke-<UTC time>-<mode>.json (the project is
--project, else CODEX_OSS_PROJECT, else the working directory); \`codex-oss claim-status\` reads it.
Exit code 0 when every claim held, 1 when one failed, 2 on a usage or configuration error.
`,
  async run(args, io) {
    const { runSmoke } = await import('./smoke-run.js');
    return runSmoke(args, io);
  },
};
