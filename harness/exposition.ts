// The Prometheus text exposition format, as far as tests, e2e and benchmarks read it: samples by name and labels
// (comments skipped, ±Inf and NaN kept as numbers), and sums over a label filter.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type Scrape = readonly Sample[];

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of a text exposition, in order. */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    if (match[2]) for (const pair of match[2].matchAll(LABEL_PAIR)) labels[pair[1]!] = pair[2]!;
    const raw = match[3]!;
    const value = raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Sum of every sample of `name` whose labels include `filter` (0 if none). */
export function sampleSum(scrape: Scrape, name: string, filter: Readonly<Record<string, string>> = {}): number {
  let total = 0;
  for (const sample of scrape) {
    if (sample.name !== name) continue;
    if (Object.entries(filter).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
  }
  return total;
}

/** The first sample of `name` (a gauge without labels); NaN if absent. */
export function sampleValue(scrape: Scrape, name: string): number {
  return scrape.find((sample) => sample.name === name)?.value ?? Number.NaN;
}
