import { describe, expect, it } from 'vitest';
import type { EditResultPort, StagedWorkspacePort } from '../implementation-ports.js';
import { editToolSpecs } from './edit-tools.js';
import { gitLogTool } from './git-tools.js';
import { readFileTool } from './read-file.js';
import { checkToolArgs, toolSpecs } from './registry.js';
import { searchTextTool } from './search-text.js';
import { defaultToolLimits, type ToolSpec } from './types.js';

// The definitions are what is under test; no edit runs.
const refused: EditResultPort = { ok: false, code: 'not_run', message: 'no edit runs here' };
const staged: StagedWorkspacePort = {
  edit: () => Promise.resolve(refused),
  write: () => Promise.resolve(refused),
  delete: () => Promise.resolve(refused),
  changes: () => [],
};
const everyTool: readonly ToolSpec[] = [...toolSpecs, ...editToolSpecs(staged, true)];

interface ObjectSchema {
  type: string;
  properties: Record<string, { type: string }>;
  required?: string[];
  additionalProperties?: boolean;
}

/** A value of the JSON type a property declares. */
function sample(type: string): unknown {
  if (type === 'string') return 'x';
  if (type === 'integer') return 1;
  if (type === 'boolean') return true;
  throw new Error(`no sample for JSON type ${type}`);
}

describe('tool definitions: what the model sees is what the dispatcher checks', () => {
  it.each(everyTool.map((spec) => [spec.name, spec] as const))(
    '%s: required, types and closed objects agree with its zod schema',
    (_name, spec) => {
      const schema = spec.parameters as unknown as ObjectSchema;
      expect(schema.type).toBe('object');
      expect(schema).not.toHaveProperty('$schema');
      expect(schema.additionalProperties).toBe(false);
      const required = schema.required ?? [];
      const minimal = Object.fromEntries(
        required.map((key) => [key, sample(schema.properties[key]!.type)]),
      );
      expect(checkToolArgs(spec, minimal).ok).toBe(true);
      // Every optional property, given a value of its advertised type, is accepted too.
      const full = Object.fromEntries(
        Object.entries(schema.properties).map(([key, property]) => [key, sample(property.type)]),
      );
      expect(checkToolArgs(spec, full)).toMatchObject({ ok: true });
      for (const key of required) {
        const missing = Object.fromEntries(
          Object.entries(minimal).filter(([name]) => name !== key),
        );
        expect(checkToolArgs(spec, missing).ok).toBe(false);
      }
      expect(checkToolArgs(spec, { ...minimal, not_an_argument: 1 }).ok).toBe(false);
    },
  );

  it('read_file carries its descriptions and bounds, with no integer noise', () => {
    expect(readFileTool.parameters).toEqual({
      type: 'object',
      properties: {
        path: {
          type: 'string',
          minLength: 1,
          description: 'File path relative to the project root.',
        },
        start_line: { type: 'integer', minimum: 1, description: 'First line to read (1-based).' },
        end_line: { type: 'integer', minimum: 1, description: 'Last line to read (inclusive).' },
      },
      required: ['path'],
      additionalProperties: false,
    });
  });

  it('advertised caps are the caps the tools apply, and a larger value is cut, not refused', () => {
    const search = searchTextTool.parameters as unknown as {
      properties: Record<string, { maximum?: number }>;
    };
    expect(search.properties['max_results']?.maximum).toBe(defaultToolLimits.searchMaxResults);
    expect(search.properties['context_lines']?.maximum).toBe(5);
    expect(checkToolArgs(searchTextTool, { pattern: 'a', max_results: 5000 }).ok).toBe(true);
    const log = gitLogTool.parameters as unknown as {
      properties: Record<string, { minimum?: number; maximum?: number }>;
    };
    expect(log.properties['limit']).toMatchObject({ minimum: 1, maximum: 20 });
    expect(checkToolArgs(gitLogTool, { limit: 50 }).ok).toBe(true);
  });
});
