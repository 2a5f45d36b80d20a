import { refsOf } from './investigator-responder.js';
import { conversation, toolNames, toolResults } from './mock-request.js';
import { reply, type ReplyBuilder } from './mock-reply.js';
import type { RecordedRequest } from './mock-types.js';

/** The bug the demo repository ships with, and the fix a careful model would make. */
const DEMO_BUG = 'return price - percent;';
const DEMO_FIX = 'return Math.round(price * (100 - percent)) / 100;';

/**
 * The demo model server's "implementer": a deterministic stand-in for an open model on an A5
 * mission. It reads the owned file, makes the smallest fix it recognises with edit_file, and
 * submits; when the runtime sends back a failed check or verification it says so and stops.
 * Everything it knows comes from the request, exactly as a real model's would.
 */
export function implementerResponse(request: RecordedRequest): ReplyBuilder | undefined {
  const tools = toolNames(request);
  if (!tools.includes('submit_patch')) return undefined;
  const pace = (builder: ReplyBuilder) => builder.chunkSize(12).paceMs(20);
  const owned = ownedPaths(request);
  const results = toolResults(request).map((result) => result.output);
  const forced = tools.length === 1;
  const target = owned[0] ?? 'src/index.js';
  const submit = (summary: string) =>
    pace(
      reply()
        .reasoning('The edit is staged; handing it to the runtime to check and verify.')
        .toolCall('submit_patch', {
          summary,
          rationale:
            'applyDiscount subtracted the percentage as if it were an amount; it must scale the price.',
          requirements_addressed: ['applyDiscount returns the discounted price'],
          risks: ['Rounding to cents changes results for prices with more than two decimals.'],
          evidence_refs: results.flatMap((output) => refsOf(output)).slice(0, 3),
        }),
    );
  if (forced) return submit('Fix applyDiscount (submitted when the runtime asked).');
  // `codex-oss smoke --project DIR` asks for one new file whose content the objective spells out.
  const create = /Create the file (\S+) containing exactly one line: (.+)$/m.exec(
    objectiveOf(request),
  );
  if (create?.[1] && create[2]) {
    const written = results.some((output) => /\+\d+ −\d+ lines/.test(output));
    if (!written)
      return pace(
        reply()
          .reasoning(`The mission asks for ${create[1]} with one line; writing it.`)
          .toolCall('write_file', { path: create[1], content: `${create[2].trim()}\n` }),
      );
    return pace(
      reply()
        .reasoning('The file is staged; handing it to the runtime to verify.')
        .toolCall('submit_patch', {
          summary: `Created ${create[1]} with the requested line.`,
          rationale: 'The objective spells out the exact content.',
          requirements_addressed: [`${create[1]} contains the requested line`],
          risks: [],
          evidence_refs: [],
        }),
    );
  }
  if (results.length === 0)
    return pace(
      reply()
        .reasoning(`I'll read ${target} before changing it.`)
        .toolCall('read_file', { path: target }),
    );
  const last = results.at(-1) ?? '';
  if (/\[(VERIFICATION FAILED|PATCH NOT ACCEPTED)\]/.test(last))
    return pace(
      reply()
        .reasoning('The runtime rejected the patch; I have no better fix to offer.')
        .toolCall('submit_patch', {
          summary: 'Resubmitting the same fix.',
          rationale: 'No alternative found.',
        }),
    );
  const edited = results.some((output) => /\+\d+ −\d+ lines/.test(output));
  if (!edited && results.some((output) => output.includes(DEMO_BUG)))
    return pace(
      reply()
        .reasoning('applyDiscount subtracts the percent from the price; it should scale it.')
        .toolCall('edit_file', { path: target, old_string: DEMO_BUG, new_string: DEMO_FIX }),
    );
  return submit('applyDiscount now applies the percentage instead of subtracting it.');
}

function objectiveOf(request: RecordedRequest): string {
  const user = conversation(request).find((turn) => turn.role === 'user')?.text ?? '';
  const json = /Mission brief:\n(\{[\s\S]*?\n\})/.exec(user)?.[1];
  try {
    const brief = JSON.parse(json ?? '{}') as { objective?: unknown };
    return typeof brief.objective === 'string' ? brief.objective : '';
  } catch {
    return '';
  }
}

function ownedPaths(request: RecordedRequest): string[] {
  const user = conversation(request).find((turn) => turn.role === 'user')?.text ?? '';
  const json = /Mission brief:\n(\{[\s\S]*?\n\})/.exec(user)?.[1];
  try {
    const brief = JSON.parse(json ?? '{}') as { owned_paths?: unknown };
    return Array.isArray(brief.owned_paths)
      ? brief.owned_paths.filter((entry): entry is string => typeof entry === 'string')
      : [];
  } catch {
    return [];
  }
}
