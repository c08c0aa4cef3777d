// Synthetic probe matrices for the verdict engine's tests and benchmark: a cluster of nodes in zones, a fault model
// per path (reachable, loss rate, extra RTT) and per DNS query, and a seeded random source, so every run is the same.
// Each window, every assigned pair reports one UDP test (5 packets) and one TCP test, every node one DNS query per target.
import { createVerdictEngine, type VerdictEngine } from '../../src/verdicts/engine.ts';
import type { VerdictThresholds } from '../../src/verdicts/thresholds.ts';
import type { NodeState, ProbeOutcome, Topology, WindowReport } from '../../src/verdicts/types.ts';

export const WINDOW_MS = 5000;
/** Windows start at this Unix time (12:00:00 UTC), so summaries read as clock times. */
export const START_MS = Date.UTC(2026, 0, 1, 12, 0, 0);

export interface PathBehaviour {
  readonly reachable: boolean;
  /** Per-packet loss on the path (each direction of the echo counted in it), 0–1. */
  readonly lossRate: number;
  readonly extraRttMs: number;
}

const HEALTHY: PathBehaviour = { reachable: true, lossRate: 0, extraRttMs: 0 };

/** A path's behaviour in a window; undefined = healthy. */
export type PathFault = (source: NodeState, destination: NodeState, window: number) => Partial<PathBehaviour> | undefined;
/** True when `source`'s query of `target` fails in `window`. */
export type DnsFault = (source: NodeState, target: string, window: number) => boolean;

/** Nodes node-1 … node-(zones × perZone), zone-a, zone-b, … in turn. */
export function clusterNodes(zones: number, perZone: number): NodeState[] {
  const nodes: NodeState[] = [];
  for (let i = 0; i < zones * perZone; i++) nodes.push({ name: `node-${i + 1}`, zone: `zone-${String.fromCharCode(97 + (i % zones))}`, terminating: false });
  return nodes;
}

/** Deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bounded probing: each node is probed by `probers` others, chosen at random (always at least one in its own zone). */
export function boundedProbes(nodes: readonly NodeState[], probers: number, random: () => number): Map<string, Set<string>> {
  const probes = new Map<string, Set<string>>(nodes.map((node) => [node.name, new Set<string>()]));
  for (const destination of nodes) {
    const others = nodes.filter((node) => node !== destination);
    const sameZone = others.filter((node) => node.zone === destination.zone);
    const chosen = new Set<NodeState>();
    if (sameZone.length > 0) chosen.add(sameZone[Math.floor(random() * sameZone.length)]!);
    while (chosen.size < Math.min(probers, others.length)) chosen.add(others[Math.floor(random() * others.length)]!);
    for (const source of chosen) probes.get(source.name)!.add(destination.name);
  }
  return probes;
}

export interface MatrixOptions {
  readonly nodes: readonly NodeState[];
  readonly probes?: ReadonlyMap<string, ReadonlySet<string>>;
  readonly fault?: PathFault;
  readonly dnsTargets?: readonly string[];
  readonly dnsFault?: DnsFault;
  readonly random: () => number;
  readonly baseRttMs?: number;
  readonly packets?: number;
  /** Share of pair reports skipped per window (jitter pushing a test into the next window). */
  readonly skipShare?: number;
}

/** The outcomes of one window. Terminating nodes still report (and fail), as a leaving node does. */
export function windowOutcomes(options: MatrixOptions, window: number): ProbeOutcome[] {
  const { nodes, random } = options;
  const packets = options.packets ?? 5;
  const base = options.baseRttMs ?? 0.4;
  const outcomes: ProbeOutcome[] = [];
  const at = START_MS + window * WINDOW_MS + 1000;
  const byName = new Map(nodes.map((node) => [node.name, node]));
  for (const source of nodes) {
    // Under bounded probing only the assigned destinations (at 5,000 nodes, iterating all pairs would dominate).
    const destinations = options.probes ? [...(options.probes.get(source.name) ?? [])].flatMap((name) => byName.get(name) ?? []) : nodes;
    for (const destination of destinations) {
      if (source === destination) continue;
      if (options.skipShare !== undefined && random() < options.skipShare) continue;
      const path = { ...HEALTHY, ...options.fault?.(source, destination, window) };
      const common = { source: source.name, sourceZone: source.zone, destination: destination.name, destinationZone: destination.zone, at };
      let lost = 0;
      const rtts: number[] = [];
      for (let p = 0; p < packets; p++) {
        if (!path.reachable || random() < path.lossRate) lost++;
        else rtts.push(base * (0.8 + 0.4 * random()) + path.extraRttMs);
      }
      const rttMs = rtts.length === 0 ? undefined : rtts.reduce((a, b) => a + b, 0) / rtts.length;
      outcomes.push({ ...common, kind: 'udp', passed: lost === 0, packetsSent: packets, packetsLost: lost, rttMs });
      // TCP: a lost SYN (or SYN-ACK) costs a 1 s retransmission, past the 1 s deadline: the test fails.
      const tcpPassed = path.reachable && random() >= path.lossRate;
      outcomes.push({ ...common, kind: 'tcp', passed: tcpPassed, packetsSent: 1, packetsLost: tcpPassed ? 0 : 1, rttMs: tcpPassed ? base * 3 : undefined });
    }
    for (const target of options.dnsTargets ?? []) {
      const failed = options.dnsFault?.(source, target, window) ?? false;
      outcomes.push({
        kind: 'dns',
        source: source.name,
        sourceZone: source.zone,
        destination: target,
        destinationZone: '',
        passed: !failed,
        packetsSent: 1,
        packetsLost: failed ? 1 : 0,
        rttMs: failed ? undefined : 1,
        at,
      });
    }
  }
  return outcomes;
}

export interface Run {
  readonly engine: VerdictEngine;
  /** Feeds windows [from, to) and returns their reports. */
  windows(from: number, to: number, options?: Partial<MatrixOptions>): WindowReport[];
}

export function startRun(base: MatrixOptions, thresholds?: Partial<VerdictThresholds>): Run {
  const engine = createVerdictEngine({ start: START_MS, ...(thresholds ? { thresholds } : {}) });
  return {
    engine,
    windows(from, to, overrides) {
      const options = { ...base, ...overrides };
      const topology: Topology = { nodes: options.nodes, ...(options.probes ? { probes: options.probes } : {}) };
      const reports: WindowReport[] = [];
      for (let window = from; window < to; window++) {
        for (const outcome of windowOutcomes(options, window)) engine.record(outcome);
        reports.push(engine.closeWindow(START_MS + (window + 1) * WINDOW_MS, topology));
      }
      return reports;
    },
  };
}

/** Every path into or out of `node` behaves as `behaviour`. */
export function aroundNode(node: string, behaviour: Partial<PathBehaviour>): PathFault {
  return (source, destination) => (source.name === node || destination.name === node ? behaviour : undefined);
}

/** Ids and kinds of a report's verdicts, for compact assertions. */
export function verdictIds(report: WindowReport | undefined): string[] {
  return (report?.verdicts ?? []).map((verdict) => `${verdict.kind} ${verdict.id}`);
}
