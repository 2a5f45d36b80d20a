import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type TomlScalar = string | number | boolean;

export interface CodexConfigFile {
  readonly path: string;
  readonly exists: boolean;
  /** Every `key = value` we could read, keyed by its full dotted path (`model_providers.x.base_url`). */
  readonly values: ReadonlyMap<string, TomlScalar>;
}

/** `$CODEX_HOME/config.toml`, else `~/.codex/config.toml`. */
export function codexConfigPath(env: Readonly<Record<string, string | undefined>>): string {
  const home = env['CODEX_HOME']?.trim()
    ? env['CODEX_HOME']
    : path.join(env['HOME'] ?? os.homedir(), '.codex');
  return path.join(home, 'config.toml');
}

export function readCodexConfig(
  env: Readonly<Record<string, string | undefined>>,
): CodexConfigFile {
  const file = codexConfigPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { path: file, exists: false, values: new Map() };
  }
  return { path: file, exists: true, values: parseTomlScalars(text) };
}

/** The keys of one table, e.g. `model_providers.opencode_bridge`. */
export function tableValues(
  config: CodexConfigFile,
  table: string,
): Map<string, TomlScalar> | undefined {
  const prefix = `${table}.`;
  const found = new Map<string, TomlScalar>();
  for (const [key, value] of config.values) {
    if (key.startsWith(prefix)) found.set(key.slice(prefix.length), value);
  }
  return found.size > 0 ? found : undefined;
}

/**
 * Just enough TOML for doctor: table headers, dotted and quoted keys, and single-line string,
 * number and boolean values. Arrays, inline tables and multi-line strings are skipped; doctor
 * never needs them, and a full parser would be a dependency for one check.
 */
export function parseTomlScalars(text: string): Map<string, TomlScalar> {
  const values = new Map<string, TomlScalar>();
  let table: string[] = [];
  let inArrayTable = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = stripComment(rawLine).trim();
    if (line === '') continue;
    if (line.startsWith('[[')) {
      // Arrays of tables ([[...]]) hold nothing doctor reads; skip their keys.
      inArrayTable = true;
      continue;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      table = splitKey(line.slice(1, -1));
      inArrayTable = false;
      continue;
    }
    if (inArrayTable) continue;
    const equals = findUnquoted(line, '=');
    if (equals < 0) continue;
    const key = splitKey(line.slice(0, equals));
    const value = parseScalar(line.slice(equals + 1).trim());
    if (value !== undefined && key.length > 0) values.set([...table, ...key].join('.'), value);
  }
  return values;
}

function parseScalar(raw: string): TomlScalar | undefined {
  if (raw.startsWith('"""') || raw.startsWith("'''")) return undefined;
  if (raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2) {
    return raw
      .slice(1, -1)
      .replace(/\\(["\\nt])/g, (_match, escaped: string) =>
        escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped,
      );
  }
  if (raw.startsWith("'") && raw.endsWith("'") && raw.length >= 2) return raw.slice(1, -1);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  const number = Number(raw.replace(/_/g, ''));
  if (raw !== '' && Number.isFinite(number)) return number;
  return undefined;
}

function splitKey(key: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const char of key.trim()) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '.') {
      parts.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current.trim());
  return parts.filter((part) => part.length > 0);
}

function stripComment(line: string): string {
  const hash = findUnquoted(line, '#');
  return hash < 0 ? line : line.slice(0, hash);
}

function findUnquoted(line: string, target: string): number {
  let quote: string | undefined;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (quote !== undefined) {
      if (char === '\\' && quote === '"') index += 1;
      else if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === target) {
      return index;
    }
  }
  return -1;
}
