// The agent's event-loop lag, true at the sub-millisecond scale its RTTs live at. prom-client measures it with a
// 10 ms libuv timer (100 wake-ups a second, ~4 millicores on an idle agent) whose deltas carry libuv's 1 ms timer
// granularity and the 10 ms period itself: an idle agent read ~11 ms. Here a sample is the time from a callback that
// sends a probe packet to a setImmediate callback it queues (process.hrtime, no timer rounding): how long the loop
// takes to come back round to I/O, i.e. what an echo arriving at that moment waits before its receive timestamp.
//
// Samples are taken when the UDP pinger sends a packet (`sample`, at most one per `minIntervalMs`): the lag is measured
// exactly when it can distort an RTT, with no timer of its own, so an agent with nothing to probe pays nothing for it.
// It replaces prom-client's nodejs_eventloop_lag_* gauges (same names; stats over the samples since the last scrape,
// NaN when there were none); prom-client's own monitor is left at a 60 s period so it costs nothing.
import { Gauge, type Registry } from 'prom-client';

export interface EventLoopLag {
  /** Starts a sample unless one is pending or the last started less than `minIntervalMs` ago. */
  sample(): void;
}

export interface EventLoopLagOptions {
  readonly registry: Registry;
  /** Least time between two samples, ms (default 100). */
  readonly minIntervalMs?: number;
  /** Largest number of samples kept between two scrapes (the oldest are overwritten). */
  readonly capacity?: number;
}

/** prom-client's names: the dashboard and users' queries keep working, with true values. */
const NAMES = {
  last: 'nodejs_eventloop_lag_seconds',
  min: 'nodejs_eventloop_lag_min_seconds',
  max: 'nodejs_eventloop_lag_max_seconds',
  mean: 'nodejs_eventloop_lag_mean_seconds',
  stddev: 'nodejs_eventloop_lag_stddev_seconds',
  p50: 'nodejs_eventloop_lag_p50_seconds',
  p90: 'nodejs_eventloop_lag_p90_seconds',
  p99: 'nodejs_eventloop_lag_p99_seconds',
} as const;

/** prom-client's monitor period once ours replaces its figures (ms): one wake-up a minute. */
export const PROM_CLIENT_LAG_PRECISION_MS = 60_000;

export function createEventLoopLag(options: EventLoopLagOptions): EventLoopLag {
  const minInterval = BigInt(Math.round((options.minIntervalMs ?? 100) * 1e6));
  const capacity = options.capacity ?? 4096;
  const samples = new Float64Array(capacity);
  let count = 0;
  let pending = false;
  let startedAt = -minInterval;
  let last = Number.NaN;

  for (const name of Object.values(NAMES)) options.registry.removeSingleMetric(name);
  // One collect sets them all: it runs once per scrape, for the first of these gauges rendered (registration order).
  const gauges = Object.fromEntries(
    (Object.keys(NAMES) as Array<keyof typeof NAMES>).map((key) => [
      key,
      new Gauge({ name: NAMES[key], help: help(key), registers: [options.registry], ...(key === 'last' ? { collect: () => collect() } : {}) }),
    ]),
  ) as Record<keyof typeof NAMES, Gauge>;

  function collect(): void {
    const values = samples.slice(0, Math.min(count, capacity)).sort();
    count = 0;
    // NaN (no figure) rather than 0 when nothing was sampled: an idle agent's loop was not measured.
    for (const gauge of Object.values(gauges)) gauge.set(Number.NaN);
    if (Number.isFinite(last)) gauges.last.set(last);
    if (values.length === 0) return;
    let sum = 0;
    for (const value of values) sum += value;
    const mean = sum / values.length;
    let squares = 0;
    for (const value of values) squares += (value - mean) ** 2;
    gauges.min.set(values[0]!);
    gauges.max.set(values[values.length - 1]!);
    gauges.mean.set(mean);
    gauges.stddev.set(Math.sqrt(squares / values.length));
    gauges.p50.set(rank(values, 0.5));
    gauges.p90.set(rank(values, 0.9));
    gauges.p99.set(rank(values, 0.99));
  }

  function record(): void {
    pending = false;
    last = Number(process.hrtime.bigint() - startedAt) / 1e9;
    samples[count % capacity] = last;
    count++;
  }

  return {
    sample() {
      if (pending) return;
      const now = process.hrtime.bigint();
      if (now - startedAt < minInterval) return;
      pending = true;
      startedAt = now;
      setImmediate(record);
    },
  };
}

/** Nearest-rank quantile of sorted values. */
function rank(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function help(key: keyof typeof NAMES): string {
  const what = 'time from sending a probe packet to the next pass of the event loop (what an arriving echo waits), seconds';
  return key === 'last'
    ? `Event-loop lag, last sample: ${what}`
    : `Event-loop lag, ${key} of the samples since the last scrape (taken while probes are in flight): ${what}`;
}
