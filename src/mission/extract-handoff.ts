import { locateJsonError } from './json-error-position.js';
import { MissionInputError } from './mission-error.js';

export const handoffTag = 'OSS_HANDOFF_JSON';

/** Blocks that may travel with a mission (A4+ proposals and recipes); kept raw for the runtime. */
export const siblingBlockTags = [
  'OSS_PATCH_PROPOSAL_JSON',
  'OSS_DESIRED_STATE_JSON',
  'OSS_PATCH_RECIPE_JSON',
  'OSS_PATCH_INTENT_JSON',
] as const;
export type SiblingBlockTag = (typeof siblingBlockTags)[number];

export type ExtractedHandoff =
  | {
      readonly kind: 'mission';
      readonly json: unknown;
      /** The text between the tags, untrimmed. */
      readonly raw: string;
      /** Sibling blocks by tag name (first occurrence), trimmed. */
      readonly siblings: Record<string, string>;
    }
  | { readonly kind: 'none' };

const openTag = `<${handoffTag}>`;

function blockPattern(tag: string): RegExp {
  // Non-greedy and dot-matches-newline: each opening tag pairs with the nearest closing tag.
  return new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g');
}

/**
 * Cheap check for the HTTP layer: does any user text carry a MissionV1 block? Only user text is
 * passed in, so an AGENTS.md (developer/system) quoting an example never routes a request.
 */
export function containsHandoff(userTexts: readonly string[]): boolean {
  return userTexts.some((text) => text.includes(openTag));
}

// Error messages name the tag without angle brackets: a message quoted back into a later user
// turn must not itself look like a block.

/** A ```json … ``` fence inside the tags is tolerated because models and people add one. */
function stripFence(text: string): string {
  const trimmed = text.trim();
  const fenced = /^```[A-Za-z0-9_-]*[ \t]*\r?\n([\s\S]*?)\r?\n?```$/.exec(trimmed);
  return fenced?.[1] ?? trimmed;
}

function parseBlockJson(raw: string): unknown {
  const body = stripFence(raw);
  if (body.trim() === '') {
    throw new MissionInputError('malformed_handoff_json', [
      `malformed_handoff_json: the ${handoffTag} block is empty; put one MissionV1 JSON object between the tags`,
    ]);
  }
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    const position = locateJsonError(body);
    const detail = position
      ? `line ${position.line}, column ${position.column}: ${position.reason}`
      : error instanceof Error
        ? error.message
        : String(error);
    throw new MissionInputError(
      'malformed_handoff_json',
      [`malformed_handoff_json: the ${handoffTag} block is not valid JSON: ${detail}`],
      { cause: error },
    );
  }
}

/**
 * Finds the MissionV1 handoff in user texts. Exactly one block is accepted; two or more, an
 * unclosed tag or invalid JSON throw a MissionInputError. No block → `{ kind: 'none' }` so the
 * caller can try a plain-text task contract.
 */
export function extractHandoff(input: { userTexts: readonly string[] }): ExtractedHandoff {
  // Opening tags are counted (not only closed pairs) so a stray second tag, closed or not, is
  // reported as a second block instead of being swallowed into the first one's JSON.
  let openings = 0;
  for (const text of input.userTexts) openings += text.split(openTag).length - 1;
  if (openings === 0) return { kind: 'none' };
  if (openings > 1) {
    throw new MissionInputError('multiple_handoff_blocks', [
      `multiple_handoff_blocks: found ${openings} ${handoffTag} blocks in the user input; exactly one is required (send one mission per request)`,
    ]);
  }

  const blocks: string[] = [];
  for (const text of input.userTexts) {
    for (const match of text.matchAll(blockPattern(handoffTag))) blocks.push(match[1] ?? '');
  }
  if (blocks.length === 0) {
    throw new MissionInputError('malformed_handoff_json', [
      `malformed_handoff_json: an ${handoffTag} block is opened but never closed; add the closing tag after the JSON object`,
    ]);
  }

  const raw = blocks[0] ?? '';
  const json = parseBlockJson(raw);
  const siblings: Record<string, string> = {};
  for (const tag of siblingBlockTags) {
    for (const text of input.userTexts) {
      const match = blockPattern(tag).exec(text);
      if (match) {
        siblings[tag] = (match[1] ?? '').trim();
        break;
      }
    }
  }
  return { kind: 'mission', json, raw, siblings };
}
