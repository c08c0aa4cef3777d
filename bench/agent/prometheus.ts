// Histogram quantiles for the benchmark, from scrapes parsed by harness/exposition.ts: bucket deltas between two
// scrapes, interpolated like Prometheus's histogram_quantile.
import type { Scrape } from '../../harness/exposition.ts';

/** Cumulative bucket counts of a histogram summed over every label set, as `[upperBound, count]` sorted by bound. */
function buckets(scrape: Scrape, histogram: string): Array<[number, number]> {
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
