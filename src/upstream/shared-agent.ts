import { Agent } from 'undici';

/**
 * One keep-alive connection pool for every upstream call and the GPT passthrough, so TLS
 * handshakes to OpenCode Go are paid once. Clients hold a reference; the pool is destroyed when
 * the last one closes and re-created on the next use.
 */
let agent: Agent | undefined;
let holders = 0;

function create(): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    // Our own timers enforce first-byte, idle and total deadlines (they know when the consumer,
    // not the upstream, is the slow side); undici's are disabled per request.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { timeout: 10_000 },
  });
}

export function sharedAgent(): Agent {
  agent ??= create();
  return agent;
}

export function holdSharedAgent(): Agent {
  holders += 1;
  return sharedAgent();
}

export async function releaseSharedAgent(): Promise<void> {
  holders = Math.max(0, holders - 1);
  if (holders > 0 || agent === undefined) return;
  const closing = agent;
  agent = undefined;
  await closing.destroy();
}
