import { describe, expect, it } from 'vitest';
import { MissionInputError, containsHandoff, extractHandoff, locateJsonError } from './index.js';

const mission = { schema_version: 'oss_agent_mission.v1', tier: 'A3', objective: 'x' };
const block = (body: string) => `<OSS_HANDOFF_JSON>\n${body}\n</OSS_HANDOFF_JSON>`;

function thrown(run: () => unknown): MissionInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(MissionInputError);
    return error as MissionInputError;
  }
  throw new Error('expected a MissionInputError');
}

describe('extractHandoff', () => {
  it('returns none when no user text has a block', () => {
    expect(extractHandoff({ userTexts: ['please look at src/', ''] })).toEqual({ kind: 'none' });
    expect(extractHandoff({ userTexts: [] })).toEqual({ kind: 'none' });
  });

  it('parses exactly one block surrounded by prose', () => {
    const text = `Run this mission.\n${block(JSON.stringify(mission, null, 2))}\nThanks.`;
    const result = extractHandoff({ userTexts: ['earlier message', text] });
    expect(result.kind).toBe('mission');
    if (result.kind !== 'mission') return;
    expect(result.json).toEqual(mission);
    expect(result.raw).toContain('"tier": "A3"');
    expect(result.siblings).toEqual({});
  });

  it('tolerates a ```json fence inside the tags', () => {
    const text = block('```json\n' + JSON.stringify(mission) + '\n```');
    const result = extractHandoff({ userTexts: [text] });
    expect(result.kind === 'mission' && result.json).toEqual(mission);
  });

  it('collects sibling blocks as raw strings', () => {
    const text = [
      block(JSON.stringify(mission)),
      '<OSS_PATCH_PROPOSAL_JSON>\n{"edits": []}\n</OSS_PATCH_PROPOSAL_JSON>',
    ].join('\n');
    const recipe = '<OSS_PATCH_RECIPE_JSON>{"steps": 1}</OSS_PATCH_RECIPE_JSON>';
    const result = extractHandoff({ userTexts: [text, recipe] });
    expect(result.kind === 'mission' && result.siblings).toEqual({
      OSS_PATCH_PROPOSAL_JSON: '{"edits": []}',
      OSS_PATCH_RECIPE_JSON: '{"steps": 1}',
    });
  });

  it('rejects two blocks in one message', () => {
    const text = `${block(JSON.stringify(mission))}\n${block(JSON.stringify(mission))}`;
    const error = thrown(() => extractHandoff({ userTexts: [text] }));
    expect(error.code).toBe('multiple_handoff_blocks');
    expect(error.message).toBe(
      'multiple_handoff_blocks: found 2 OSS_HANDOFF_JSON blocks in the user input; exactly one is required (send one mission per request)',
    );
  });

  it('counts blocks across user messages', () => {
    const one = block(JSON.stringify(mission));
    const error = thrown(() => extractHandoff({ userTexts: [one, one, one] }));
    expect(error.code).toBe('multiple_handoff_blocks');
    expect(error.message).toContain('found 3');
  });

  it('counts a stray second opening tag as a second block', () => {
    const text = `${block(JSON.stringify(mission))}\n<OSS_HANDOFF_JSON>`;
    expect(thrown(() => extractHandoff({ userTexts: [text] })).code).toBe(
      'multiple_handoff_blocks',
    );
  });

  it('reports malformed JSON with its line and column', () => {
    const body =
      '{\n  "schema_version": "oss_agent_mission.v1",\n  "tier": "A3"\n  "objective": "x"\n}';
    const error = thrown(() => extractHandoff({ userTexts: [block(body)] }));
    expect(error.code).toBe('malformed_handoff_json');
    expect(error.message).toBe(
      'malformed_handoff_json: the OSS_HANDOFF_JSON block is not valid JSON: line 4, column 3: expected "," or "}" after a property value (found "\\"")',
    );
    expect(error.httpStatus).toBe(400);
  });

  it('reports an empty block and an unclosed tag as malformed', () => {
    expect(thrown(() => extractHandoff({ userTexts: [block('  ')] })).message).toMatch(
      /^malformed_handoff_json: the OSS_HANDOFF_JSON block is empty/,
    );
    const unclosed = thrown(() => extractHandoff({ userTexts: ['<OSS_HANDOFF_JSON>{"a":1}'] }));
    expect(unclosed.code).toBe('malformed_handoff_json');
    expect(unclosed.message).toMatch(/opened but never closed/);
  });

  it('ignores a block that only a developer message carries', () => {
    // The caller passes only user-role text; an AGENTS.md example in developer text never arrives.
    const developerText = `Example from AGENTS.md:\n${block(JSON.stringify(mission))}`;
    const userTexts = ['Find where the retry limit is set.'];
    expect(containsHandoff(userTexts)).toBe(false);
    expect(extractHandoff({ userTexts })).toEqual({ kind: 'none' });
    expect(containsHandoff([developerText])).toBe(true);
  });

  it('containsHandoff sees a block in any user text', () => {
    expect(containsHandoff(['hello', `x ${block('{}')}`])).toBe(true);
    expect(containsHandoff(['OSS_HANDOFF_JSON without tags'])).toBe(false);
  });
});

describe('locateJsonError', () => {
  it.each([
    ['{"a": 1,}', 1, 9, 'trailing comma before "}"'],
    ['[1, 2', 1, 6, 'unexpected end of input: a list is not closed with "]"'],
    ["{'a': 1}", 1, 2, 'property names must be double-quoted strings (found "\'")'],
    ['{"a": tru}', 1, 7, 'unexpected "t" where a value was expected'],
    ['{"a":\n  "b\n"}', 2, 5, 'control character a line break inside a string (escape it)'],
    ['{"a": 1} x', 1, 10, 'unexpected "x" after the end of the JSON value'],
    ['{"a": "\\q"}', 1, 8, 'invalid escape sequence \\q'],
  ])('%s → line %i column %i', (text, line, column, reason) => {
    expect(locateJsonError(text)).toMatchObject({ line, column, reason });
  });

  it('returns null for valid JSON', () => {
    expect(locateJsonError('{"a": [1, -2.5e3, true, null, "\\u00e9"]}')).toBeNull();
  });
});
