/**
 * Reasoning has to survive a round trip through the client with no server-side state: DeepSeek
 * and Kimi reject a tool-call turn whose assistant message lacks its `reasoning_content`
 * (wire-protocol.md §6.3), and Codex echoes reasoning items verbatim (finding 8). The exact
 * upstream text travels in `encrypted_content`, tagged so a blob from another provider (OpenAI's
 * real encrypted reasoning) is never mistaken for ours.
 */
const PREFIX = 'ocb1.';
/** Text plus the Anthropic thinking signature it came with (`/messages` models). */
const SIGNED_PREFIX = 'ocb2.';

export interface CarriedReasoning {
  readonly text: string;
  readonly signature?: string;
}

export function encodeReasoning(text: string, signature?: string): string {
  if (signature === undefined) return PREFIX + Buffer.from(text, 'utf8').toString('base64url');
  return (
    SIGNED_PREFIX + Buffer.from(JSON.stringify({ text, signature }), 'utf8').toString('base64url')
  );
}

export function decodeReasoning(blob: string | null | undefined): string | undefined {
  return decodeCarriedReasoning(blob)?.text;
}

export function decodeCarriedReasoning(
  blob: string | null | undefined,
): CarriedReasoning | undefined {
  if (blob?.startsWith(PREFIX))
    return { text: Buffer.from(blob.slice(PREFIX.length), 'base64url').toString('utf8') };
  if (!blob?.startsWith(SIGNED_PREFIX)) return undefined;
  try {
    const parsed = JSON.parse(
      Buffer.from(blob.slice(SIGNED_PREFIX.length), 'base64url').toString('utf8'),
    ) as { text?: unknown; signature?: unknown };
    if (typeof parsed.text !== 'string') return undefined;
    return typeof parsed.signature === 'string'
      ? { text: parsed.text, signature: parsed.signature }
      : { text: parsed.text };
  } catch {
    return undefined;
  }
}
