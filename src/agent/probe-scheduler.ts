// Keeps one probe loop per target of one probe kind. Diffs each new target set by key (a peer's node, a DNS target's
// label): starts loops for new targets spread over the interval, restarts a target's loop when its version changes
// (a node's agent: another pod, IP or zone), and stops a departed target's loop at once (its in-flight run is
// aborted and its result discarded, never recorded). `stop` aborts every loop and waits for them to settle.
import { createTimerQueue } from '../util/timer-queue.ts';
import { startProbeLoop, type ProbeLoop } from './probe-loop.ts';

export interface ScheduledTest<Target, Result> {
  readonly name: string;
  readonly intervalMs: number;
  readonly run: (target: Target, signal: AbortSignal) => Promise<Result>;
  /** Receives each result of a run that was not stopped. */
  readonly record: (target: Target, result: Result) => void;
}

export interface ProbeSchedulerOptions<Target, Result> {
  readonly test: ScheduledTest<Target, Result>;
  /** What identifies a target across target sets (two targets with one key are one target). */
  readonly key: (target: Target) => string;
  /** A target whose version changes is replaced: its loop restarts against the new one. */
  readonly version: (target: Target) => string;
  readonly jitter: { readonly min: number; readonly max: number };
  readonly random?: () => number;
  /**
   * A new target's first run waits this long, plus a random share of the interval: every agent learns of a new peer
   * within discovery's propagation time, and its echo answers only agents it knows.
   */
  readonly firstRunDelayMs?: number;
  /** The span a new target's first run is spread over, after the delay (default: the interval). */
  readonly firstRunSpreadMs?: number;
  readonly onError: (test: string, target: Target, error: unknown) => void;
}

export interface TargetSetChange<Target> {
  /** Targets that were not probed before. */
  readonly added: readonly Target[];
  /** Targets no longer probed. */
  readonly removed: readonly Target[];
  /** Targets still probed whose version changed: the loop restarted against `after`. */
  readonly replaced: readonly { readonly before: Target; readonly after: Target }[];
}

export interface ProbeScheduler<Target> {
  /** Replaces the target set (a later target with a key already seen is ignored); returns what changed. */
  setTargets(targets: readonly Target[]): TargetSetChange<Target>;
  targets(): Target[];
  /** Stops every loop and waits for in-flight probes to settle. */
  stop(): Promise<void>;
}

interface Running<Target> {
  readonly target: Target;
  readonly loop: ProbeLoop;
}

/** The change from `before` to `after`, both keyed (`after` holds at most one target per key). */
export function diffTargets<Target>(
  before: ReadonlyMap<string, Target>,
  after: ReadonlyMap<string, Target>,
  version: (target: Target) => string,
): TargetSetChange<Target> {
  const added: Target[] = [];
  const removed: Target[] = [];
  const replaced: { before: Target; after: Target }[] = [];
  for (const [key, old] of before) {
    const next = after.get(key);
    if (next === undefined) removed.push(old);
    else if (version(next) !== version(old)) replaced.push({ before: old, after: next });
  }
  for (const [key, next] of after) if (!before.has(key)) added.push(next);
  return { added, removed, replaced };
}

export function createProbeScheduler<Target, Result>(options: ProbeSchedulerOptions<Target, Result>): ProbeScheduler<Target> {
  const { test, key } = options;
  const random = options.random ?? Math.random;
  const running = new Map<string, Running<Target>>();
  /** One timer for the waits of every loop of this test. */
  const timers = createTimerQueue();

  function start(target: Target): Running<Target> {
    const loop = startProbeLoop({
      intervalMs: test.intervalMs,
      jitter: options.jitter,
      initialDelayMs: (options.firstRunDelayMs ?? 0) + random() * (options.firstRunSpreadMs ?? test.intervalMs),
      timers,
      random,
      run: (signal) => test.run(target, signal),
      record: (result) => test.record(target, result),
      onError: (error) => options.onError(test.name, target, error),
    });
    return { target, loop };
  }

  return {
    setTargets(targets) {
      const wanted = new Map<string, Target>();
      for (const target of targets) if (!wanted.has(key(target))) wanted.set(key(target), target);
      const current = new Map([...running].map(([targetKey, entry]) => [targetKey, entry.target]));
      const change = diffTargets(current, wanted, options.version);
      for (const target of [...change.removed, ...change.replaced.map(({ before }) => before)]) {
        const targetKey = key(target);
        void running.get(targetKey)?.loop.stop();
        running.delete(targetKey);
      }
      for (const target of [...change.added, ...change.replaced.map(({ after }) => after)]) running.set(key(target), start(target));
      return change;
    },
    targets: () => [...running.values()].map((entry) => entry.target),
    async stop() {
      const entries = [...running.values()];
      running.clear();
      await Promise.all(entries.map((entry) => entry.loop.stop()));
    },
  };
}
