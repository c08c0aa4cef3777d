// Jittered exponential backoff shared by every reconnect/restart loop: the ceiling doubles per step from `min` up to
// `max`, and the delay is drawn uniformly from the upper half of it (so replicas that failed together spread out).

export interface BackoffRange {
  readonly min: number;
  readonly max: number;
}

/** Delay (ms) before the next attempt; `step` 0 waits about `min`, each further step doubles it, up to `max`. */
export function backoffDelay(range: BackoffRange, step: number, random: () => number = Math.random): number {
  const ceiling = Math.min(range.max, range.min * 2 ** Math.min(Math.max(step, 0), 20));
  return ceiling / 2 + random() * (ceiling / 2);
}
