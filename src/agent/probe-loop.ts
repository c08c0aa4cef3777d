// One repeating probe: run, then wait out the rest of `interval + jitter` from the run's start; never overlapping.
import { sleep } from '../util/sleep.ts';

export interface ProbeLoopOptions<R> {
  readonly intervalMs: number;
  readonly jitter: { readonly min: number; readonly max: number };
  /** Delay before the first run, so that many loops spread over the interval rather than fire together. */
  readonly initialDelayMs: number;
  readonly signal: AbortSignal;
  readonly random: () => number;
  readonly run: (signal: AbortSignal) => Promise<R>;
  /** Receives each result, unless the loop was stopped while the run was in flight. */
  readonly record: (result: R) => void;
  readonly onError: (error: unknown) => void;
}

export async function runProbeLoop<R>(options: ProbeLoopOptions<R>): Promise<void> {
  const { signal } = options;
  await sleep(options.initialDelayMs, signal);
  while (!signal.aborted) {
    const startedAt = performance.now();
    try {
      const result = await options.run(signal);
      if (signal.aborted) break; // a stopped loop's last result is never recorded
      options.record(result);
    } catch (error) {
      if (signal.aborted) break;
      options.onError(error);
    }
    const jitter = options.jitter.min + options.random() * (options.jitter.max - options.jitter.min);
    const wait = startedAt + options.intervalMs + jitter - performance.now();
    await sleep(Math.max(0, wait), signal);
  }
}
