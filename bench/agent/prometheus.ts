// Just enough of the Prometheus text exposition format for the benchmark: samples by name and labels, counter sums
// with a label filter, and histogram quantiles (bucket deltas between two scrapes, interpolated like histogram_quantile).

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type Scrape = readonly Sample[];

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): Scrape {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    if (match[2]) for (const label of match[2].matchAll(LABEL)) labels[label[1] as string] = label[2] as string;
    const raw = match[3] as string;
    const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    samples.push({ name: match[1] as string, labels, value });
  }
  return samples;
}

/** Sum of every sample of `name` whose labels include `filter`. */
export function sum(scrape: Scrape, name: string, filter: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const sample of scrape) {
    if (sample.name !== name) continue;
    if (Object.entries(filter).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
  }
  return total;
}

/** First sample of `name` (a gauge without labels); NaN if absent. */
export function value(scrape: Scrape, name: string): number {
  return scrape.find((sample) => sample.name === name)?.value ?? Number.NaN;
}

/** Cumulative bucket counts of a histogram summed over every label set, as `[upperBound, count]` sorted by bound. */
export function buckets(scrape: Scrape, histogram: string): Array<[number, number]> {
  const byBound = new Map<number, number>();
  for (const sample of scrape) {
    if (sample.name !== `${histogram}_bucket`) continue;
    const le = sample.labels.le;
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + sample.value);
  }
  return [...byBound.entries()].sort((a, b) => a[0] - b[0]);
}

/** Bucket counts observed between two scrapes. */
export function bucketDelta(before: Scrape, after: Scrape, histogram: string): Array<[number, number]> {
  const start = new Map(buckets(before, histogram));
  return buckets(after, histogram).map(([bound, count]) => [bound, count - (start.get(bound) ?? 0)]);
}

/**
 * The q-quantile of cumulative buckets, interpolated linearly inside the bucket that holds it (Prometheus's
 * histogram_quantile: the lowest bucket starts at 0; a quantile in the +Inf bucket is the largest finite bound).
 */
export function histogramQuantile(cumulative: ReadonlyArray<readonly [number, number]>, q: number): number {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total <= 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of cumulative) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket <= 0 ? bound : lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
