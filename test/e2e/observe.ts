// Observation helpers for the end-to-end scenarios: PromQL through Prometheus' HTTP API (instant vectors, ranges,
// active alerts, packets lost per pair between two instants), the agents' own /results and /metrics, and the scenario runner both e2e suites share (skip without
// the cluster, repair after each scenario, wait for the previous scenario's effects to settle).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Prometheus } from '../../harness/prometheus.ts';
import { resultSamples } from '../../harness/prometheus.ts';
import { waitUntil } from '../../harness/wait.ts';
import type { Cluster } from '../../e2e/cluster.ts';
import type { AgentResults } from '../../src/agent/results.ts';
import type { StatusDocument } from '../../src/controller/verdict-status.ts';
import { skipUnlessAvailable } from '../harness/require.ts';

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

/**
 * Where packets went missing between `from` and `to` (seconds since the epoch): the pairs (source>destination) that
 * lost any, and the event-loop stall seconds every agent recorded meanwhile — a destination whose agent stalled past
 * the UDP timeout cannot echo in time, which its probers see as loss. Printed when a clean pair lost packets.
 */
export async function explainLoss(prom: Observer, from: number, to: number): Promise<string> {
  const window = `${Math.max(1, Math.round(to - from))}s`;
  const lost = await prom.vector(
    `sum by (source, destination) (increase(kconmon_udp_packets_sent_total[${window}]) - increase(kconmon_udp_packets_received_total[${window}])) > 0.5`,
    to,
  );
  const stalls = await prom.vector(`sum by (source) (increase(kconmon_agent_event_loop_stall_seconds_total[${window}])) > 0`, to);
  const pairs = lost.map(({ labels, value }) => `${labels.source}>${labels.destination} ${value.toFixed(1)}`).join(', ');
  const stalled = stalls.map(({ labels, value }) => `${labels.source} ${value.toFixed(2)} s`).join(', ');
  return `packets lost per pair (increase over ${window}): ${pairs || 'none'}; agents' event-loop stalls: ${stalled || 'none'}`;
}

/** Every pair's UDP packet counters (keyed `source>destination`) at one instant, as Prometheus saw them. */
export interface PacketCounts {
  readonly sent: ReadonlyMap<string, number>;
  readonly received: ReadonlyMap<string, number>;
}

/** The UDP packet counters of every pair at `time` (seconds since the epoch). */
export async function packetCounts(prom: Observer, time: number): Promise<PacketCounts> {
  const read = async (metric: string) =>
    new Map((await prom.vector(metric, time)).map(({ labels, value }) => [pairKey(labels.source!, labels.destination!), value]));
  return { sent: await read('kconmon_udp_packets_sent_total'), received: await read('kconmon_udp_packets_received_total') };
}

/** Packets sent, received and lost (sent − received) between two readings, summed over the pairs `select` keeps. */
export function lossTally(start: PacketCounts, end: PacketCounts, select: (pair: string) => boolean): { sent: number; received: number; lost: number } {
  let sent = 0;
  let received = 0;
  for (const [pair, value] of end.sent) {
    if (!select(pair)) continue;
    sent += value - (start.sent.get(pair) ?? 0);
    received += (end.received.get(pair) ?? 0) - (start.received.get(pair) ?? 0);
  }
  return { sent, received, lost: sent - received };
}

/** The sorted keys (`keyOf` a series' labels) of the series of `kind` (udp, tcp…) that have a passed test. */
export async function passedSeries(prom: Observer, kind: string, keyOf: (labels: Record<string, string>) => string): Promise<string[]> {
  return (await prom.vector(`kconmon_${kind}_results_total{result="pass"} > 0`)).map(({ labels }) => keyOf(labels)).sort();
}

/** Waits (60 s at most) until as many series as `expected` holds have passed UDP tests, and as many TCP tests. */
export async function waitForPassedSeries(
  prom: Observer,
  what: string,
  expected: readonly string[],
  keyOf: (labels: Record<string, string>) => string,
): Promise<void> {
  await waitUntil(
    what,
    60_000,
    async (note) => {
      const [udp, tcp] = [await passedSeries(prom, 'udp', keyOf), await passedSeries(prom, 'tcp', keyOf)];
      note(`udp ${udp.length}, tcp ${tcp.length} of ${expected.length}`);
      return udp.length === expected.length && tcp.length === expected.length;
    },
    1000,
  );
}

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

export interface ScenarioRunnerOptions {
  /** The suite's cluster, once its `before` hook started it. */
  readonly cluster: () => Cluster | undefined;
  /** Why the cluster cannot run here (the scenario is skipped, or fails under KCONMON_REQUIRE_ALL=1), or undefined. */
  readonly unavailable: string | undefined;
  readonly say: (line: string) => void;
  /** Called when a scenario throws (the suite keeps the logs). */
  readonly onFailure?: () => void;
}

/** `scenario` (one test on the shared cluster, always repaired afterwards) and `settle`, bound to one suite's cluster. */
export function scenarioRunner({ cluster: currentCluster, unavailable, say, onFailure }: ScenarioRunnerOptions) {
  /** One scenario: skipped (or failed under KCONMON_REQUIRE_ALL=1) without the cluster; always healed afterwards. */
  function scenario(name: string, timeoutMs: number, body: (cluster: Cluster) => Promise<void>): void {
    test(name, { timeout: timeoutMs }, async (t) => {
      if (!skipUnlessAvailable(t, unavailable)) return;
      const cluster = currentCluster();
      assert.ok(cluster, 'the cluster started');
      const begun = Date.now();
      try {
        await body(cluster);
      } catch (error) {
        onFailure?.();
        throw error;
      } finally {
        await repair(cluster);
        say(`${name}: ${((Date.now() - begun) / 1000).toFixed(0)} s`);
      }
    });
  }

  /**
   * Waits until no test of the given kinds failed in the last `seconds` (as Prometheus sees it), and no alert matching
   * `alerts` is pending or firing: the previous scenario's effects are out of the windows the next one looks at.
   * Returns how long it waited, in seconds.
   */
  async function settle(
    what: string,
    seconds: number,
    alerts: (alert: Alert) => boolean = () => false,
    kinds: readonly string[] = ['udp', 'tcp'],
  ): Promise<number> {
    const cluster = currentCluster();
    assert.ok(cluster, 'the cluster started');
    const prom = observer(cluster.prometheus);
    const begun = Date.now();
    await waitUntil(
      `${what}: no failure in the last ${seconds} s and the previous scenario's alerts resolved`,
      180_000,
      async (note) => {
        const failures = await prom.total(kinds.map((kind) => `sum(increase(kconmon_${kind}_results_total{result="fail"}[${seconds}s]))`).join(' + '));
        const active = (await prom.alerts()).filter(alerts);
        note(`${failures.toFixed(1)} failures; ${active.map(describeAlert).join(', ')}`);
        return failures === 0 && active.length === 0;
      },
      1000,
    );
    return (Date.now() - begun) / 1000;
  }

  return { scenario, settle };
}

/** Undoes whatever a scenario (even a failed one) left: faults, a stopped DNS server or controller, an extra node. */
async function repair(c: Cluster): Promise<void> {
  c.heal();
  if (!c.dns.child()?.running()) await c.startDns();
  if (!c.controllerRunning()) await c.startController();
  for (const node of c.nodes().slice(6)) await c.removeNode(node.name);
}

/** The controller's verdicts as `GET /api/v1/status` returns them. */
export async function verdictStatus(c: Cluster): Promise<StatusDocument> {
  const response = await fetch(`${c.controllerUrl}/api/v1/status`, { signal: AbortSignal.timeout(5000) });
  assert.equal(response.status, 200, 'GET /api/v1/status');
  return (await response.json()) as StatusDocument;
}

/**
 * Waits until the controller's active verdicts are exactly `ids` (a finding on its way in or out may be seen for a
 * window or two; a wrong verdict that stays fails the wait), and returns that status.
 */
export async function expectVerdicts(c: Cluster, what: string, ids: readonly string[], timeoutMs = 60_000): Promise<StatusDocument> {
  const wanted = [...ids].sort();
  return waitUntil(
    `${what}: the controller's verdicts to be exactly [${wanted.join(', ')}]`,
    timeoutMs,
    async (note) => {
      const status = await verdictStatus(c);
      const active = status.verdicts.map((verdict) => verdict.id).sort();
      note(status.verdicts.map((verdict) => verdict.summary).join('; ') || `no verdict (healthy: ${status.healthy})`);
      return JSON.stringify(active) === JSON.stringify(wanted) && (wanted.length > 0 || status.healthy === true) ? status : undefined;
    },
    1000,
  );
}
