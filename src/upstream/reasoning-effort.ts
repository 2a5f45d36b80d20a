/**
 * Codex sends `reasoning.effort` from OpenAI's scale (minimal|low|medium|high|xhigh); each
 * upstream model accepts its own subset (wire-protocol.md §5: deepseek-v4-flash low|high|max,
 * glm-5.2 high|max). Sending a value outside the subset is a 400, so pick the nearest one.
 */
const scale: readonly string[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'];

function rank(effort: string): number {
  const normalized = effort.trim().toLowerCase();
  // xhigh is OpenAI's top value; treat it like the upstream "high" rather than the costlier "max".
  const index = scale.indexOf(normalized === 'xhigh' ? 'high' : normalized);
  return index === -1 ? scale.indexOf('medium') : index;
}

/**
 * The accepted effort nearest to the requested one, or undefined when the model takes none.
 * Ties go to the lower effort (cheaper and faster).
 */
export function mapReasoningEffort(
  requested: string | undefined,
  accepted: readonly string[],
): string | undefined {
  if (requested === undefined || accepted.length === 0) return undefined;
  const exact = accepted.find((value) => value.toLowerCase() === requested.trim().toLowerCase());
  if (exact !== undefined) return exact;
  const target = rank(requested);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of accepted) {
    const distance = Math.abs(rank(candidate) - target);
    if (
      distance < bestDistance ||
      (distance === bestDistance && best !== undefined && rank(candidate) < rank(best))
    ) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
