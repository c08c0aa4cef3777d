// Observation helpers for the end-to-end scenarios: PromQL through Prometheus' HTTP API (instant vectors, ranges,
// active alerts), and the agents' own /results and /metrics.
import type { Prometheus } from '../../harness/prometheus.ts';
import { resultSamples } from '../../harness/prometheus.ts';
import type { Cluster } from '../../e2e/cluster.ts';
import type { AgentResults } from '../../src/agent/results.ts';

export interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

export interface Alert {
  readonly labels: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

export function observer(prometheus: Prometheus) {
  return {
    /** Instant vector at `time` (seconds since the epoch; default now). */
    async vector(expr: string, time?: number): Promise<Sample[]> {
      return resultSamples(await prometheus.query(expr, time)).map((sample) => ({ labels: sample.metric, value: Number(sample.value?.[1]) }));
    },
    /** Sum of an instant vector (0 when empty). */
    async total(expr: string, time?: number): Promise<number> {
      const samples = await this.vector(expr, time);
      return samples.reduce((sum, sample) => sum + sample.value, 0);
    },
    async range(expr: string, start: number, end: number, step = 1): Promise<{ labels: Record<string, string>; values: [number, number][] }[]> {
      return resultSamples(await prometheus.queryRange(expr, start, end, step)).map((sample) => ({
        labels: sample.metric,
        values: (sample.values ?? []).map(([time, value]) => [time, Number(value)] as [number, number]),
      }));
    },
    async alerts(): Promise<Alert[]> {
      return (await prometheus.api<{ alerts: Alert[] }>('alerts')).alerts;
    },
  };
}

export type Observer = ReturnType<typeof observer>;

export const now = () => Date.now() / 1000;

export function describeAlert(alert: Alert): string {
  const { alertname, severity: _severity, ...rest } = alert.labels;
  return `${alertname}{${Object.entries(rest)
    .map(([key, value]) => `${key}=${value}`)
    .join(',')}} ${alert.state}`;
}

/** Ordered pairs of distinct nodes, as `source>destination`. */
export function pairKey(source: string, destination: string): string {
  return `${source}>${destination}`;
}

/** Every agent's /results, keyed by node. */
export async function allResults(cluster: Cluster): Promise<Map<string, AgentResults>> {
  const entries = await Promise.all(cluster.nodes().map(async (node) => [node.name, await cluster.agentResults(node.name)] as const));
  return new Map(entries);
}

/** Median of numbers (NaN if empty). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
