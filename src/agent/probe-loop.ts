// One repeating probe: run, then wait out the rest of `interval + jitter` from the run's start; never overlapping.
// The waits are entries of the scheduler's shared timer queue (one Timeout for every loop of a kind); the loop is one
// long-lived object whose callbacks are made once, so a run allocates only its own probe's promise.
import type { TimedEntry, TimerQueue } from '../util/timer-queue.ts';

export interface ProbeLoopOptions<R> {
  readonly intervalMs: number;
  readonly jitter: { readonly min: number; readonly max: number };
  /** Delay before the first run, so that many loops spread over the interval rather than fire together. */
  readonly initialDelayMs: number;
  readonly timers: TimerQueue;
  readonly random: () => number;
  readonly run: (signal: AbortSignal) => Promise<R>;
  /** Receives each result, unless the loop was stopped while the run was in flight. */
  readonly record: (result: R) => void;
  readonly onError: (error: unknown) => void;
}

export interface ProbeLoop {
  /** Stops the loop: an in-flight run is aborted and its result discarded; resolves once it has settled. */
  stop(): Promise<void>;
}

export function startProbeLoop<R>(options: ProbeLoopOptions<R>): ProbeLoop {
  const { timers } = options;
  const controller = new AbortController();
  const { signal } = controller;
  let startedAt = 0;
  let inFlight: Promise<void> | undefined;

  const scheduleNext = () => {
    inFlight = undefined;
    if (signal.aborted) return;
    const jitter = options.jitter.min + options.random() * (options.jitter.max - options.jitter.min);
    timers.schedule(entry, Math.max(performance.now(), startedAt + options.intervalMs + jitter));
  };
  const onResult = (result: R) => {
    try {
      if (!signal.aborted) options.record(result); // a stopped loop's last result is never recorded
    } catch (error) {
      options.onError(error);
    }
    scheduleNext();
  };
  const onFailure = (error: unknown) => {
    if (!signal.aborted) options.onError(error);
    scheduleNext();
  };
  const entry: TimedEntry = {
    dueAt: 0,
    queueIndex: -1,
    fire() {
      if (signal.aborted) return;
      startedAt = performance.now();
      let running: Promise<R>;
      try {
        running = options.run(signal);
      } catch (error) {
        onFailure(error);
        return;
      }
      inFlight = running.then(onResult, onFailure);
    },
  };
  timers.schedule(entry, performance.now() + options.initialDelayMs);

  return {
    async stop() {
      controller.abort();
      timers.cancel(entry);
      await inFlight;
    },
  };
}
