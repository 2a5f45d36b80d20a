/** Why an event-log operation was refused or failed. */
export type EventLogErrorCode =
  | 'unsafe_id'
  | 'run_log_exists'
  | 'run_locked'
  | 'chain_invalid'
  | 'writer_closed'
  | 'writer_failed'
  | 'run_already_completed'
  | 'invalid_event';

/**
 * The events domain's own error. It is not a BridgeError on purpose: these failures are internal
 * to the daemon (a second writer, a corrupt log), and the runtime decides how they surface.
 */
export class EventLogError extends Error {
  readonly code: EventLogErrorCode;

  constructor(code: EventLogErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventLogError';
    this.code = code;
  }
}
