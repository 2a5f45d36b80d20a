/** Small human-output helpers shared by status and doctor. */

export function formatDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const parts: string[] = [];
  if (days > 0) parts.push(`${days}d`);
  if (hours > 0) parts.push(`${hours}h`);
  if (minutes > 0) parts.push(`${minutes}m`);
  parts.push(`${seconds % 60}s`);
  return parts.join(' ');
}

/**
 * One line for /health's model_health: models grouped by status. The shape is the daemon's
 * business, so anything unexpected is shown as compact JSON rather than dropped.
 */
export function summarizeModelHealth(value: unknown): string {
  if (value === undefined || value === null) return 'not reported';
  if (typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return 'no upstream calls yet';
  const byStatus = new Map<string, string[]>();
  for (const [model, info] of entries) {
    const status =
      info !== null &&
      typeof info === 'object' &&
      typeof (info as { status?: unknown }).status === 'string'
        ? (info as { status: string }).status
        : typeof info === 'string'
          ? info
          : 'unknown';
    byStatus.set(status, [...(byStatus.get(status) ?? []), model]);
  }
  return [...byStatus.entries()]
    .map(([status, models]) => `${status}: ${models.join(', ')}`)
    .join('; ');
}

/** `key=value` pairs for a flat object, compact JSON for anything deeper. */
export function summarizeObject(value: unknown): string {
  if (value === undefined || value === null) return 'not reported';
  if (typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value);
  return Object.entries(value as Record<string, unknown>)
    .map(
      ([key, item]) =>
        `${key}=${typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item)}`,
    )
    .join(', ');
}

/** Aligned "Label: value" rows. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  return rows.map(([label, value]) => `${`${label}:`.padEnd(width + 1)}${value}\n`).join('');
}

/** A plain column table: each column as wide as its widest cell. */
export function columns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, index) => cell.padEnd(widths[index] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}
