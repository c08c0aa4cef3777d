// `GET /api/v1/status`: the verdicts of the last closed window as versioned JSON (docs/design/verdicts.md, "Outputs").
// `healthy` is true only with no active verdict and enough data (at least half of the assigned pairs known), false
// with a verdict, and null without data: no data is not a clean bill of health.
import type { Topology, Verdict } from '../verdicts/types.ts';
import type { ClosedWindow } from './verdict-windows.ts';

export const STATUS_API_VERSION = 'kconmon.io/v1';
export const STATUS_PATH = '/api/v1/status';

export interface StatusVerdict {
  readonly id: string;
  readonly kind: Verdict['kind'];
  readonly subject: Verdict['subject'];
  readonly summary: string;
  readonly since: string;
  readonly raisedAt: string;
  readonly windows: number;
  readonly clearing: boolean;
  readonly evidence: Verdict['evidence'];
}

export interface StatusDocument {
  readonly apiVersion: typeof STATUS_API_VERSION;
  readonly controller: string;
  readonly window: { readonly start: string; readonly end: string; readonly lengthMs: number } | null;
  readonly healthy: boolean | null;
  readonly coverage: {
    readonly agentsReporting: number;
    readonly agents: number;
    readonly pairsAssigned: number;
    readonly pairsKnown: number;
    readonly pairsDown: number;
    readonly pairsDownUnexplained: number;
    readonly reportsIgnored: number;
  };
  readonly verdicts: readonly StatusVerdict[];
}

/** Node pairs that are probed: ordered pairs of live nodes, or the assignment's. */
export function assignedPairs(topology: Topology): number {
  const live = new Set(topology.nodes.filter((node) => !node.terminating).map((node) => node.name));
  if (topology.probes === undefined) return live.size * Math.max(0, live.size - 1);
  let pairs = 0;
  for (const [source, destinations] of topology.probes) {
    if (!live.has(source)) continue;
    for (const destination of destinations) if (destination !== source && live.has(destination)) pairs++;
  }
  return pairs;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function buildStatus(controller: string, windowMs: number, closed: ClosedWindow | undefined, topology: Topology): StatusDocument {
  const pairsAssigned = assignedPairs(topology);
  const agents = topology.nodes.filter((node) => !node.terminating).length;
  if (closed === undefined) {
    const coverage = { agentsReporting: 0, agents, pairsAssigned, pairsKnown: 0, pairsDown: 0, pairsDownUnexplained: 0, reportsIgnored: 0 };
    return { apiVersion: STATUS_API_VERSION, controller, window: null, healthy: null, coverage, verdicts: [] };
  }
  const { report } = closed;
  const { stats } = report;
  const verdicts = report.verdicts.map((verdict) => ({
    id: verdict.id,
    kind: verdict.kind,
    subject: verdict.subject,
    summary: verdict.summary,
    since: iso(verdict.since),
    raisedAt: iso(verdict.raisedAt),
    windows: verdict.windows,
    clearing: verdict.cleanWindows > 0,
    evidence: verdict.evidence,
  }));
  const enoughData = pairsAssigned > 0 && stats.pairsKnown * 2 >= pairsAssigned;
  return {
    apiVersion: STATUS_API_VERSION,
    controller,
    window: { start: iso(report.windowStart), end: iso(report.windowEnd), lengthMs: windowMs },
    healthy: verdicts.length > 0 ? false : enoughData ? true : null,
    coverage: {
      agentsReporting: closed.agentsReporting,
      agents,
      pairsAssigned,
      pairsKnown: stats.pairsKnown,
      pairsDown: stats.pairsDown,
      pairsDownUnexplained: stats.pairsDownUnexplained,
      reportsIgnored: stats.ignored,
    },
    verdicts,
  };
}
