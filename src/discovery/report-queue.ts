// One controller replica's queue of probe outcomes waiting to be reported: a ring of fixed capacity, so the reports
// never cost more memory than that whatever the controller does. Probing only ever pushes (never waits): when the
// ring is full the oldest outcome is dropped (`queue_full`); outcomes older than `staleAfterMs` are dropped when taken
// or pruned (`stale`: too old for a verdict window). Ages are measured on this process's monotonic clock.
import type { ReportedOutcome } from '../protocol/report-stream.ts';
import type { ProbeKind } from '../verdicts/types.ts';

export type ReportDropReason = 'queue_full' | 'stale';

/** An outcome as queued: the report fields, with the probe's end on the monotonic clock instead of an age. */
export interface QueuedOutcome extends Omit<ReportedOutcome, 'ageMs'> {
  readonly kind: ProbeKind;
  readonly endedAt: number;
}

export interface ReportQueue {
  push(outcome: QueuedOutcome): void;
  /** Removes and returns up to `max` outcomes, oldest first, with their ages at `now` (stale ones are dropped). */
  take(now: number, max: number): ReportedOutcome[];
  /** Drops the outcomes older than `staleAfterMs` at `now` (called while no stream can take them). */
  pruneStale(now: number): void;
  size(): number;
}

export interface ReportQueueOptions {
  readonly capacity: number;
  readonly staleAfterMs: number;
  readonly onDrop: (reason: ReportDropReason, count: number) => void;
}

export function createReportQueue(options: ReportQueueOptions): ReportQueue {
  const { capacity, staleAfterMs } = options;
  const ring: Array<QueuedOutcome | undefined> = new Array(capacity);
  let head = 0; // index of the oldest
  let length = 0;

  function shift(): QueuedOutcome {
    const oldest = ring[head]!;
    ring[head] = undefined;
    head = (head + 1) % capacity;
    length--;
    return oldest;
  }

  function pruneStale(now: number): void {
    let dropped = 0;
    while (length > 0 && now - ring[head]!.endedAt > staleAfterMs) {
      shift();
      dropped++;
    }
    if (dropped > 0) options.onDrop('stale', dropped);
  }

  return {
    push(outcome) {
      if (length === capacity) {
        shift();
        options.onDrop('queue_full', 1);
      }
      ring[(head + length) % capacity] = outcome;
      length++;
    },
    take(now, max) {
      pruneStale(now);
      const taken: ReportedOutcome[] = [];
      while (length > 0 && taken.length < max) {
        const { endedAt, ...fields } = shift();
        taken.push({ ...fields, ageMs: Math.max(0, now - endedAt) });
      }
      return taken;
    },
    pruneStale,
    size: () => length,
  };
}
