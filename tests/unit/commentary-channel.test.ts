import { describe, expect, it } from 'vitest';
import { CommentaryChannel, type CommentaryLine } from '../../src/runtime/commentary-channel.js';

function channel(mode: 'off' | 'summary' | 'detailed', maxEvents: number) {
  const recorded: CommentaryLine[] = [];
  const live: string[] = [];
  const commentary = new CommentaryChannel({
    mode,
    maxEvents,
    maxChars: 60,
    record: (line) => {
      recorded.push(line);
      return Promise.resolve();
    },
    live: (line) => live.push(line.message),
  });
  return { commentary, recorded, live };
}

describe('CommentaryChannel', () => {
  it('never exceeds the cap, keeps the last slot for the closing line, and says what it hid', async () => {
    const { commentary, recorded, live } = channel('summary', 3);
    for (let index = 0; index < 6; index += 1)
      await commentary.say('tool_action_started', 'EXPLORE', `step ${index}`);
    await commentary.say('mission_completed', 'REPORT', 'Mission ended COMPLETE');
    expect(recorded).toHaveLength(3);
    expect(live).toEqual([
      'step 0',
      'step 1',
      expect.stringMatching(/^Mission ended COMPLETE \(4 progress line\(s\) were suppressed/),
    ]);
  });

  it('drops debug lines in summary mode, keeps them in detailed mode, and says nothing when off', async () => {
    const summary = channel('summary', 10);
    await summary.commentary.say('model_action_requested', 'EXPLORE', 'asking', 'debug');
    expect(summary.recorded).toHaveLength(0);
    const detailed = channel('detailed', 10);
    await detailed.commentary.say('model_action_requested', 'EXPLORE', 'asking', 'debug');
    expect(detailed.recorded).toHaveLength(1);
    const off = channel('off', 10);
    await off.commentary.say('mission_completed', 'REPORT', 'done');
    expect(off.recorded).toHaveLength(0);
  });

  it('redacts secrets and bounds each line', async () => {
    const { recorded } = channel('summary', 10);
    await commentary(recorded).say(
      'tool_result_summary',
      'EXPLORE',
      `found OPENAI_API_KEY=sk-${'a'.repeat(40)} in   a\nfile ${'x'.repeat(100)}`,
    );
    expect(recorded[0]?.message).not.toContain('sk-aaaa');
    expect(recorded[0]?.message.length).toBeLessThanOrEqual(60);
    expect(recorded[0]?.message).not.toContain('\n');
  });
});

function commentary(recorded: CommentaryLine[]): CommentaryChannel {
  return new CommentaryChannel({
    mode: 'summary',
    maxEvents: 10,
    maxChars: 60,
    record: (line) => {
      recorded.push(line);
      return Promise.resolve();
    },
  });
}
