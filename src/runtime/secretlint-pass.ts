import { lintSource } from '@secretlint/core';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import { redactionMarker } from './redact-secrets.js';

/**
 * A second redaction pass with secretlint's recommended rules (the field's rule set, issue 9
 * Medium #4). secretlint is asynchronous only and costs a few milliseconds per call, so it
 * cannot serve the synchronous hot paths (each search line, every log line); it runs once per
 * tool observation, on text our own detectors already redacted, and catches what they do not
 * know.
 */

const config = {
  rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommendedPreset }],
};

export async function redactWithSecretlint(
  text: string,
): Promise<{ readonly text: string; readonly count: number }> {
  if (text.length === 0) return { text, count: 0 };
  const result = await lintSource({
    source: { filePath: '/observation.txt', content: text, contentType: 'text' },
    options: { config },
  });
  const ranges = result.messages.map((message) => message.range).sort((a, b) => a[0] - b[0]);
  if (ranges.length === 0) return { text, count: 0 };
  let out = '';
  let at = 0;
  let count = 0;
  for (const [start, end] of ranges) {
    if (end <= at) continue;
    out += text.slice(at, Math.max(at, start)) + redactionMarker;
    at = end;
    count++;
  }
  return { text: out + text.slice(at), count };
}
