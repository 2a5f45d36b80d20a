import type { Config } from '../config/index.js';
import { BridgeError } from '../errors/index.js';
import { ConcurrencyLimiter } from '../upstream/index.js';

export interface LaneSnapshot {
  readonly inUse: number;
  readonly max: number;
  readonly queued: number;
}

/**
 * The mission lanes: how many admitted missions run at once, and how long one may queue for a
 * slot before it is refused with `mission_queue_full` and a retry hint. One lane today
 * (`read_pool`), which every tier shares.
 */
export class MissionLanePool {
  private readonly readPool: ConcurrencyLimiter;

  constructor(
    config: Pick<
      Config,
      'MISSION_READ_POOL_CAPACITY' | 'MISSION_READ_POOL_QUEUE' | 'MISSION_QUEUE_TIMEOUT_SECONDS'
    >,
  ) {
    const retryAfterSeconds = Math.max(1, Math.round(config.MISSION_QUEUE_TIMEOUT_SECONDS));
    this.readPool = new ConcurrencyLimiter({
      max: config.MISSION_READ_POOL_CAPACITY,
      queueMax: config.MISSION_READ_POOL_QUEUE,
      queueTimeoutMs: config.MISSION_QUEUE_TIMEOUT_SECONDS * 1000,
      rejection: (why) =>
        new BridgeError(
          'mission_queue_full',
          `The read_pool mission lane is ${why === 'full' ? 'full' : 'still busy after the queue timeout'} (${config.MISSION_READ_POOL_CAPACITY} running, ${config.MISSION_READ_POOL_QUEUE} queued); try again in ${retryAfterSeconds}s, or raise MISSION_READ_POOL_CAPACITY.`,
          { retryAfterSeconds },
        ),
    });
  }

  /** Runs `work` in a lane slot, waiting for one (or throwing mission_queue_full). */
  async run<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T> {
    const release = await this.readPool.acquire({ signal });
    try {
      return await work();
    } finally {
      release();
    }
  }

  snapshot(): { read_pool: LaneSnapshot } {
    return { read_pool: this.readPool.snapshot() };
  }
}
