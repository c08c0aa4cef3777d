// Event-loop stall detector. A probe's timeout timer and its reply are both judged on this process's event loop: while
// the loop is stalled (GC pause, CPU throttling under a CPU limit, a long callback, SIGSTOP) replies wait unread in the
// socket buffer, so a timeout judged after the stall is not loss and an RTT spanning it is not path latency.
//
// A periodic, unref'd timer runs only while some measurement is in flight (`watch`). A tick that fires `thresholdMs` or
// more after it was due marks the time since the previous tick as stalled. libuv runs due timers before it reads
// sockets, so after a stall the tick records it before any reply that waited in a buffer is read; a stall the tick has
// not recorded yet (an overdue tick: a timer due earlier runs first) is recorded by the query that finds it.
// Stalls of `tickMs + thresholdMs` or longer are always seen; shorter ones when they delay a tick by the threshold.

/** Monotonic nanoseconds, as process.hrtime.bigint(). */
type Nanos = bigint;

export interface StallDetector {
  /** Keeps the detector ticking while one measurement is in flight; call the returned function when it ends. */
  watch(): () => void;
  /** Whether the event loop stalled at any time within [start, end], a stall still in progress included. */
  stalledWithin(start: Nanos, end: Nanos): boolean;
  /**
   * How long the event loop was stalled within [start, end], ms (0 if not): what a deadline in that window is owed.
   * A stall counts from the last on-time tick, so this errs on the generous side by up to one tick period.
   */
  stalledMsWithin(start: Nanos, end: Nanos): number;
  close(): void;
}

export interface StallDetectorOptions {
  /** How late a tick must be to count as a stall, ms. */
  readonly thresholdMs: number;
  /** Tick period while watching, ms (default 20). */
  readonly tickMs?: number;
  /** Called once per detected stall with how long the loop was held beyond the tick period, ms. */
  readonly onStall?: (durationMs: number) => void;
  /** How long recorded stalls are remembered (must exceed the longest measurement), ms. */
  readonly retentionMs?: number;
  readonly now?: () => Nanos;
}

const DEFAULT_TICK_MS = 20;
const DEFAULT_RETENTION_MS = 180_000;
/** Bounds memory if stalls are continuous; the oldest are dropped first. */
const MAX_REMEMBERED = 512;
const NANOS_PER_MS = 1_000_000n;

interface Stall {
  readonly start: Nanos;
  readonly end: Nanos;
}

export function createStallDetector(options: StallDetectorOptions): StallDetector {
  const now = options.now ?? process.hrtime.bigint;
  const tickMs = options.tickMs ?? DEFAULT_TICK_MS;
  const tick = BigInt(tickMs) * NANOS_PER_MS;
  const threshold = BigInt(Math.max(1, Math.round(options.thresholdMs * 1000))) * 1000n;
  const retention = BigInt(options.retentionMs ?? DEFAULT_RETENTION_MS) * NANOS_PER_MS;
  const stalls: Stall[] = [];
  let watchers = 0;
  let timer: NodeJS.Timeout | undefined;
  let lastTick: Nanos = now();
  let closed = false;

  /** Records the time since the last tick as a stall if the tick due since is `threshold` late by now. */
  function observe(at: Nanos): void {
    const lateBy = at - lastTick - tick;
    if (lateBy < threshold) return;
    record({ start: lastTick, end: at }, lateBy);
    lastTick = at;
  }

  function onTick(): void {
    // The last measurement ended since the previous tick: stop (lazily, so that a measurement starting right after
    // the last one ended, as UDP packets do hundreds of times a second, does not restart the interval).
    if (watchers === 0) {
      stop();
      return;
    }
    const at = now();
    observe(at);
    lastTick = at;
  }

  function record(stall: Stall, lateBy: Nanos): void {
    stalls.push(stall);
    const cutoff = stall.end - retention;
    while (stalls.length > MAX_REMEMBERED || (stalls[0] !== undefined && stalls[0].end < cutoff)) stalls.shift();
    options.onStall?.(Number(lateBy) / 1e6);
  }

  /**
   * A tick overdue by the threshold: the loop just resumed (or is still held) and the tick has not run yet; a timer
   * due earlier runs first. Record the stall now: the tick may never run if this was the last measurement.
   */
  function catchUp(): void {
    if (timer !== undefined && watchers > 0) observe(now());
  }

  function start(): void {
    lastTick = now();
    timer = setInterval(onTick, tickMs);
    timer.unref();
  }

  function stop(): void {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  }

  return {
    watch() {
      if (closed) return () => {};
      if (watchers++ === 0) {
        // Watching again starts from a fresh tick: the loop is running now, whatever it did while nothing was watched.
        if (timer === undefined) start();
        else lastTick = now();
      }
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (--watchers === 0) stop();
      };
    },
    stalledWithin(start, end) {
      catchUp();
      for (let index = stalls.length - 1; index >= 0; index--) {
        const stall = stalls[index]!;
        if (stall.start <= end && stall.end >= start) return true;
        if (stall.end < start) break; // stalls are recorded in time order
      }
      return false;
    },
    stalledMsWithin(start, end) {
      catchUp();
      let stalled = 0n;
      for (let index = stalls.length - 1; index >= 0; index--) {
        const stall = stalls[index]!;
        if (stall.end < start) break; // stalls are recorded in time order
        // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max and Math.min take numbers)
        const from = stall.start > start ? stall.start : start;
        // biome-ignore lint/complexity/useMathMinMax: bigints (Math.max and Math.min take numbers)
        const to = stall.end < end ? stall.end : end;
        if (to > from) stalled += to - from;
      }
      return Number(stalled) / 1e6;
    },
    close() {
      closed = true;
      stop();
      stalls.length = 0;
    },
  };
}
