import { redactSecrets } from './redact-secrets.js';

export type CommentarySeverity = 'info' | 'warning' | 'error' | 'debug';

export interface CommentaryLine {
  readonly index: number;
  readonly kind: string;
  readonly phase: string;
  readonly message: string;
  readonly severity: CommentarySeverity;
}

export interface CommentaryOptions {
  readonly mode: 'off' | 'summary' | 'detailed';
  readonly maxEvents: number;
  readonly maxChars: number;
  /** Records the line (event log); awaited so the log keeps commentary in order with tool events. */
  readonly record: (line: CommentaryLine) => Promise<void>;
  /** Streams the line to the live client (SSE reasoning item, CLI stderr). */
  readonly live?: (line: CommentaryLine) => void;
}

/**
 * Short, safe progress lines built from runtime state, never from model text verbatim: no file
 * contents, prompts, hidden reasoning or secrets. `summary` drops debug lines; the cap is hard,
 * and its last slot belongs to the mission's closing line.
 */
export class CommentaryChannel {
  private emitted = 0;
  private suppressed = 0;

  constructor(private readonly options: CommentaryOptions) {}

  async say(
    kind: string,
    phase: string,
    message: string,
    severity: CommentarySeverity = 'info',
  ): Promise<void> {
    if (this.options.mode === 'off') return;
    if (severity === 'debug' && this.options.mode !== 'detailed') return;
    const limit = this.options.maxEvents;
    // The last slot is kept for the closing line, which also says how many lines the cap hid,
    // so the cap is never exceeded and the user always learns how the mission ended.
    if (kind === 'mission_completed') {
      if (this.emitted >= limit) return;
      if (this.suppressed > 0) {
        message = `${message} (${this.suppressed} progress line(s) were suppressed by OSS_VISIBLE_TRACE_MAX_EVENTS=${limit}; the event log has every step.)`;
      }
    } else if (this.emitted >= limit - 1) {
      this.suppressed += 1;
      return;
    }
    await this.push(kind, phase, message, severity);
  }

  private async push(
    kind: string,
    phase: string,
    message: string,
    severity: CommentarySeverity,
  ): Promise<void> {
    this.emitted += 1;
    const safe = redactSecrets(message.replace(/\s+/g, ' ').trim()).text;
    const bounded =
      safe.length > this.options.maxChars ? `${safe.slice(0, this.options.maxChars - 1)}…` : safe;
    const line: CommentaryLine = { index: this.emitted, kind, phase, message: bounded, severity };
    await this.options.record(line);
    this.options.live?.(line);
  }
}
