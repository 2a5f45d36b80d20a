import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processIO } from './cli-io.js';
import { runCli } from './run-cli.js';

// bin/codex-oss imports these and runs them; `node dist/cli/main.js <verb>` (npm start) runs below.
export { runCli } from './run-cli.js';
export { processIO } from './cli-io.js';

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const code = await runCli(process.argv.slice(2), processIO());
  process.exitCode = code;
  // Same reasoning as bin/codex-oss: do not linger on a library's idle socket once done.
  setTimeout(() => process.exit(code), 1500).unref();
}
