// A prom-client series held by reference, so that updating it does not re-hash its labels. prom-client 15 finds a
// series by a key string it builds from the label values on every inc/set/observe (and its `labels()` children only
// bind the labels object: they re-build the key on every call; a gauge's set also sorts the label names and replaces
// the series object). At 1,000 peers the agent makes ~3,000 such updates a second. A handle builds the key once,
// creates the series through prom-client's public API on first use, and from then on updates the series object
// prom-client keeps in `hashMap` — the object its own update would have changed, so the exposition is the same bytes.
//
// Handles check themselves on every update: if the series is gone (removed, or the metric reset) or the key does not
// find the series prom-client created (another prom-client version hashing otherwise), the update goes through the
// public API, so a handle is never wrong, only sometimes not faster.
import type { Counter, Gauge, Histogram } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** What a handle reads of a prom-client metric (fields prom-client 15 keeps on every metric). */
interface SeriesStore<Entry> {
  readonly hashMap: Record<string, Entry | undefined>;
  readonly sortedLabelNames: readonly string[];
}

interface ValueEntry {
  value: number;
}

interface HistogramEntry {
  readonly bucketValues: Record<string, number>;
  sum: number;
  count: number;
}

export interface CounterHandle {
  inc(value?: number): void;
}

export interface GaugeHandle {
  set(value: number): void;
}

export interface HistogramHandle {
  observe(value: number): void;
}

/** prom-client's series key: `name:value,` for each label name in sorted order (lib/util.js `hashObject`). */
function seriesKey(store: SeriesStore<unknown>, labels: Labels): string {
  let key = '';
  for (const name of store.sortedLabelNames) {
    const value = labels[name];
    if (value !== undefined) key += `${name}:${value},`;
  }
  return key;
}

/**
 * The series prom-client just created or updated for these labels, if the key finds it (a series shared by several
 * handles, like a histogram by zone pair, was created with the labels object of the first).
 */
function entryOf<Entry>(store: SeriesStore<Entry>, key: string): Entry | undefined {
  return store.hashMap[key];
}

export function counterHandle(counter: Counter<string>, labels: Labels): CounterHandle {
  const store = counter as unknown as SeriesStore<ValueEntry>;
  const key = seriesKey(store, labels);
  let entry: ValueEntry | undefined;
  return {
    inc(value = 1) {
      if (entry !== undefined && store.hashMap[key] === entry && Number.isFinite(value) && value >= 0) {
        entry.value += value;
        return;
      }
      counter.inc(labels, value);
      entry = entryOf(store, key);
    },
  };
}

export function gaugeHandle(gauge: Gauge<string>, labels: Labels): GaugeHandle {
  const store = gauge as unknown as SeriesStore<ValueEntry>;
  const key = seriesKey(store, labels);
  let entry: ValueEntry | undefined;
  return {
    set(value) {
      if (entry !== undefined && store.hashMap[key] === entry) {
        entry.value = value;
        return;
      }
      gauge.set(labels, value);
      entry = entryOf(store, key);
    },
  };
}

export function histogramHandle(histogram: Histogram<string>, labels: Labels): HistogramHandle {
  const store = histogram as unknown as SeriesStore<HistogramEntry> & { readonly upperBounds: readonly number[] };
  const key = seriesKey(store, labels);
  const bounds = store.upperBounds;
  // prom-client keys bucketValues by bound (an object, so each access would turn the number into its string): the
  // strings once here.
  const boundKeys = bounds.map(String);
  let entry: HistogramEntry | undefined;
  return {
    observe(value) {
      if (entry === undefined || store.hashMap[key] !== entry || !Number.isFinite(value)) {
        histogram.observe(labels, value);
        entry = entryOf(store, key);
        return;
      }
      // prom-client's findBound: the first upper bound ≥ value; above the last one only sum and count (+Inf) grow.
      entry.sum += value;
      entry.count += 1;
      for (let index = 0; index < bounds.length; index++) {
        if (value <= bounds[index]!) {
          const bucket = boundKeys[index]!;
          entry.bucketValues[bucket] = (entry.bucketValues[bucket] ?? 0) + 1;
          return;
        }
      }
    },
  };
}
