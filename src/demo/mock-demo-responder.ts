import { reply, type ReplyBuilder } from './mock-reply.js';
import { lastTurn, toolResults } from './mock-request.js';
import { implementerResponse } from './implementer-responder.js';
import { investigatorResponse } from './investigator-responder.js';
import type { RecordedRequest, Responder } from './mock-types.js';

const QUOTE_LIMIT = 80;
/** Slow enough that a human watching `npm run demo` sees the text arrive piece by piece. */
const DEMO_PACE_MS = 15;

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= QUOTE_LIMIT ? flat : `${chars.slice(0, QUOTE_LIMIT).join('')}…`;
}

function demoReply(): ReplyBuilder {
  return reply().reasoning('Thinking about the request.').paceMs(DEMO_PACE_MS);
}

/**
 * The deterministic "demo model" behind the CLI entry and `npm run demo`: no API key, same answer for the same
 * request, and every dialect supported because the reply is rendered by whichever endpoint asks.
 */
export const demoResponder: Responder = (req: RecordedRequest): ReplyBuilder => {
  // Mission calls (the bridge offers submit_report) get the scripted investigator.
  const mission = investigatorResponse(req) ?? implementerResponse(req);
  if (mission) return mission;
  const turn = lastTurn(req);
  if (turn?.role === 'tool') {
    const count = toolResults(req).length;
    return demoReply().text(
      `Demo model here. I received ${count} tool result${count === 1 ? '' : 's'}.`,
    );
  }
  if (turn?.role === 'user') {
    return demoReply().text(`Demo model here. You said: "${quote(turn.text)}"`);
  }
  return demoReply().text('Demo model here. Send me a user message and I will echo it.');
};
