/**
 * Reasoning has to survive a round trip through the client with no server-side state: DeepSeek
 * and Kimi reject a tool-call turn whose assistant message lacks its `reasoning_content`
 * (wire-protocol.md §6.3), and Codex echoes reasoning items verbatim (finding 8). The exact
 * upstream text travels in `encrypted_content`, tagged so a blob from another provider (OpenAI's
 * real encrypted reasoning) is never mistaken for ours.
 */
const PREFIX = 'ocb1.';

export function encodeReasoning(text: string): string {
  return PREFIX + Buffer.from(text, 'utf8').toString('base64url');
}

export function decodeReasoning(blob: string | null | undefined): string | undefined {
  if (!blob?.startsWith(PREFIX)) return undefined;
  return Buffer.from(blob.slice(PREFIX.length), 'base64url').toString('utf8');
}
