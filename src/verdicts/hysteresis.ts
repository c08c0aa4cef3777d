// Hysteresis over windows: a finding becomes a verdict after `raiseAfter` windows in a row, and a verdict clears after
// `clearAfter` windows in a row without its finding. A finding that breaks off before it was raised is forgotten at
// once; a verdict whose subject may no longer be blamed (a terminating or departed node) is dropped at once.
import type { VerdictThresholds } from './thresholds.ts';
import type { Finding } from './types.ts';

export interface Tracked {
  /** The latest finding (a verdict that is clearing keeps the evidence of the last window it held). */
  readonly finding: Finding;
  /** Windows in a row with the finding (0 while clearing). */
  readonly streak: number;
  /** Windows in a row without it (only a raised verdict has any). */
  readonly clean: number;
  /** Start of the first window of the run that raised it (or of the pending run). */
  readonly since: number;
  /** End of the window that raised it; undefined while pending. */
  readonly raisedAt: number | undefined;
}

export interface WindowBounds {
  readonly start: number;
  readonly end: number;
}

export function stepHysteresis(
  tracked: ReadonlyMap<string, Tracked>,
  findings: readonly Finding[],
  window: WindowBounds,
  thresholds: Pick<VerdictThresholds, 'raiseAfter' | 'clearAfter'>,
  blameable: (finding: Finding) => boolean,
): Map<string, Tracked> {
  const next = new Map<string, Tracked>();
  for (const finding of findings) {
    if (!blameable(finding)) continue;
    const previous = tracked.get(finding.id);
    const streak = previous && previous.clean === 0 ? previous.streak + 1 : 1;
    const since = previous ? previous.since : window.start;
    const raisedAt = previous?.raisedAt ?? (streak >= thresholds.raiseAfter ? window.end : undefined);
    next.set(finding.id, { finding, streak, clean: 0, since, raisedAt });
  }
  for (const [id, previous] of tracked) {
    if (next.has(id) || previous.raisedAt === undefined || !blameable(previous.finding)) continue;
    const clean = previous.clean + 1;
    if (clean < thresholds.clearAfter) next.set(id, { ...previous, streak: 0, clean });
  }
  return next;
}
