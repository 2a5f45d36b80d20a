import { parentPort } from 'node:worker_threads';
import { createPathScope } from '../path-scope.js';
import { redactSecrets } from '../redact-secrets.js';
import { GlobError } from './glob.js';
import { searchTree, SearchPatternError } from './searcher.js';
import type { SearchJob, SearchReply } from './search-worker-protocol.js';

/**
 * Worker-thread entry for `search_text`. Everything that runs a model-supplied regex or glob
 * (the walk's glob filter, the regex over file text, the re-test on redacted lines) runs here,
 * so a pattern that backtracks for minutes blocks this thread only; the main thread terminates
 * it at the deadline. Functions cannot cross the thread boundary, so the deny-list filter and
 * the redaction check are rebuilt here from plain data (the scope's options).
 */

async function run(job: SearchJob): Promise<SearchReply> {
  const { scope: scopeOptions, ...request } = job.request;
  try {
    const scope = createPathScope(scopeOptions);
    const result = await searchTree({
      ...request,
      // The deny list (and critical roots without permission) applies to every file walked.
      filter: (relative) => scope.checkDescendant(relative).ok,
      // Lines are shown redacted, so the pattern must match what is shown (search-text.ts).
      shownAs: (line) => redactSecrets(line).text,
    });
    return { id: job.id, ok: true, result };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof SearchPatternError)
      return { id: job.id, ok: false, kind: 'pattern', message };
    if (error instanceof GlobError) return { id: job.id, ok: false, kind: 'glob', message };
    return { id: job.id, ok: false, kind: 'error', message };
  }
}

const port = parentPort;
if (port !== null) {
  port.on('message', (job: SearchJob) => {
    void run(job).then((reply) => port.postMessage(reply));
  });
}
