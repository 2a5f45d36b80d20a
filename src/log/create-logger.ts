import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Bodies are never logged at info, but headers and
 * upstream options are, and those carry keys.
 */
export const redactedPaths = [
  'authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'request.headers.authorization',
  '*.apiKey',
  '*.api_key',
  'apiKey',
  'OPENCODE_GO_API_KEY',
  'OPENAI_API_KEY',
  'PROXY_API_KEY',
  '*.OPENCODE_GO_API_KEY',
  '*.OPENAI_API_KEY',
  '*.PROXY_API_KEY',
];

export type { Logger };

export function createLogger(
  level: LoggerOptions['level'],
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level: level ?? 'info',
    base: { service: 'opencode-bridge' },
    redact: { paths: redactedPaths, censor: '[REDACTED]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
