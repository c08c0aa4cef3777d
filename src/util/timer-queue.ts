// One timer for many deadlines: entries wait in a binary min-heap by due time (performance.now(), ms) and one Timeout
// is armed for the earliest. At 1,000 peers the probe loops would otherwise create a Timeout (and, with
// timers/promises, a promise and an abort listener) for every wait; here an entry is a long-lived object that is
// re-queued in place, so scheduling allocates nothing. A wake-up before an entry's due time (Node's timers have 1 ms
// granularity) re-arms: an entry never fires early.

/** Something the queue fires once at `dueAt`; the queue owns `dueAt` and `queueIndex` while it holds the entry. */
export interface TimedEntry {
  dueAt: number;
  /** Position in the heap; -1 when not queued. */
  queueIndex: number;
  /** Runs when due; must not throw (the queue logs nothing: a throw is the caller's bug and propagates). */
  readonly fire: () => void;
}

export interface TimerQueue {
  /** Queues the entry for `dueAt` (performance.now() ms), moving it if it is queued already. */
  schedule(entry: TimedEntry, dueAt: number): void;
  /** Removes the entry if it is queued. */
  cancel(entry: TimedEntry): void;
  readonly size: number;
}

export function createTimerQueue(): TimerQueue {
  const heap: TimedEntry[] = [];
  let timer: NodeJS.Timeout | undefined;
  let armedFor = Number.POSITIVE_INFINITY;

  function place(entry: TimedEntry, index: number): void {
    heap[index] = entry;
    entry.queueIndex = index;
  }

  function siftUp(index: number): void {
    const entry = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (parent.dueAt <= entry.dueAt) break;
      place(parent, index);
      index = parentIndex;
    }
    place(entry, index);
  }

  function siftDown(index: number): void {
    const entry = heap[index]!;
    const length = heap.length;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= length) break;
      const right = left + 1;
      const child = right < length && heap[right]!.dueAt < heap[left]!.dueAt ? right : left;
      if (heap[child]!.dueAt >= entry.dueAt) break;
      place(heap[child]!, index);
      index = child;
    }
    place(entry, index);
  }

  function removeAt(index: number): void {
    const removed = heap[index]!;
    removed.queueIndex = -1;
    const last = heap.pop()!;
    if (index === heap.length) return;
    place(last, index);
    if (index > 0 && heap[(index - 1) >> 1]!.dueAt > last.dueAt) siftUp(index);
    else siftDown(index);
  }

  function arm(): void {
    const first = heap[0];
    if (first === undefined) {
      clearTimeout(timer);
      timer = undefined;
      armedFor = Number.POSITIVE_INFINITY;
      return;
    }
    if (timer !== undefined && armedFor <= first.dueAt) return;
    clearTimeout(timer);
    armedFor = first.dueAt;
    timer = setTimeout(onTimer, Math.max(1, Math.ceil(first.dueAt - performance.now())));
  }

  function onTimer(): void {
    timer = undefined;
    armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    try {
      while (heap.length > 0 && heap[0]!.dueAt <= now) {
        const entry = heap[0]!;
        removeAt(0);
        entry.fire();
      }
    } finally {
      arm();
    }
  }

  return {
    schedule(entry, dueAt) {
      if (entry.queueIndex >= 0) removeAt(entry.queueIndex);
      entry.dueAt = dueAt;
      heap.push(entry);
      siftUp(heap.length - 1);
      arm();
    },
    cancel(entry) {
      if (entry.queueIndex < 0) return;
      removeAt(entry.queueIndex);
      arm();
    },
    get size() {
      return heap.length;
    },
  };
}
