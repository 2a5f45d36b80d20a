import type { FastifyRequest } from 'fastify';

/** Per-request clock for x-bridge-overhead-ms: wall time minus time spent waiting on upstream. */
export interface RequestClock {
  readonly startedAt: number;
  upstreamMs: number;
}

const clocks = new WeakMap<FastifyRequest, RequestClock>();

export function startClock(request: FastifyRequest): void {
  clocks.set(request, { startedAt: performance.now(), upstreamMs: 0 });
}

export function timing(request: FastifyRequest): RequestClock {
  let clock = clocks.get(request);
  if (!clock) {
    clock = { startedAt: performance.now(), upstreamMs: 0 };
    clocks.set(request, clock);
  }
  return clock;
}

export function elapsedMs(clock: RequestClock): number {
  return performance.now() - clock.startedAt;
}
