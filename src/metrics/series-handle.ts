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

// Classes, not closures: a peer holds ~18 handles, and an instance with its fields on one shared prototype is about a
// third of a closure with its context and returned object (memory per peer, issue 9).

class CounterSeries implements CounterHandle {
  private entry: ValueEntry | undefined;
  private readonly key: string;
  private readonly counter: Counter<string>;
  private readonly labels: Labels;
  constructor(counter: Counter<string>, labels: Labels) {
    this.counter = counter;
    this.labels = labels;
    this.key = seriesKey(counter as unknown as SeriesStore<ValueEntry>, labels);
  }

  inc(value = 1): void {
    const store = this.counter as unknown as SeriesStore<ValueEntry>;
    const entry = this.entry;
    if (entry !== undefined && store.hashMap[this.key] === entry && Number.isFinite(value) && value >= 0) {
      entry.value += value;
      return;
    }
    this.counter.inc(this.labels, value);
    this.entry = entryOf(store, this.key);
  }
}

class GaugeSeries implements GaugeHandle {
  private entry: ValueEntry | undefined;
  private readonly key: string;
  private readonly gauge: Gauge<string>;
  private readonly labels: Labels;
  constructor(gauge: Gauge<string>, labels: Labels) {
    this.gauge = gauge;
    this.labels = labels;
    this.key = seriesKey(gauge as unknown as SeriesStore<ValueEntry>, labels);
  }

  set(value: number): void {
    const store = this.gauge as unknown as SeriesStore<ValueEntry>;
    const entry = this.entry;
    if (entry !== undefined && store.hashMap[this.key] === entry) {
      entry.value = value;
      return;
    }
    this.gauge.set(this.labels, value);
    this.entry = entryOf(store, this.key);
  }
}

class HistogramSeries implements HistogramHandle {
  private entry: HistogramEntry | undefined;
  private readonly key: string;
  private readonly bounds: readonly number[];
  /** prom-client keys bucketValues by bound (an object, so each access would turn the number into its string). */
  private readonly boundKeys: readonly string[];
  private readonly histogram: Histogram<string>;
  private readonly labels: Labels;
  constructor(histogram: Histogram<string>, labels: Labels) {
    this.histogram = histogram;
    this.labels = labels;
    const store = histogram as unknown as SeriesStore<HistogramEntry> & { readonly upperBounds: readonly number[] };
    this.key = seriesKey(store, labels);
    this.bounds = store.upperBounds;
    this.boundKeys = store.upperBounds.map(String);
  }

  observe(value: number): void {
    const store = this.histogram as unknown as SeriesStore<HistogramEntry>;
    const entry = this.entry;
    if (entry === undefined || store.hashMap[this.key] !== entry || !Number.isFinite(value)) {
      this.histogram.observe(this.labels, value);
      this.entry = entryOf(store, this.key);
      return;
    }
    // prom-client's findBound: the first upper bound ≥ value; above the last one only sum and count (+Inf) grow.
    entry.sum += value;
    entry.count += 1;
    const bounds = this.bounds;
    for (let index = 0; index < bounds.length; index++) {
      if (value <= bounds[index]!) {
        const bucket = this.boundKeys[index]!;
        entry.bucketValues[bucket] = (entry.bucketValues[bucket] ?? 0) + 1;
        return;
      }
    }
  }
}

export function counterHandle(counter: Counter<string>, labels: Labels): CounterHandle {
  return new CounterSeries(counter, labels);
}

export function gaugeHandle(gauge: Gauge<string>, labels: Labels): GaugeHandle {
  return new GaugeSeries(gauge, labels);
}

export function histogramHandle(histogram: Histogram<string>, labels: Labels): HistogramHandle {
  return new HistogramSeries(histogram, labels);
}
