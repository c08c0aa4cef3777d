// What the engine remembers per node pair and per (node, DNS target): this window's counts as outcomes arrive, and
// across windows the last reachability status (carried over a skipped window), the packets of the last few windows
// for the loss rules, and an RTT baseline. closeWindow turns it into one PairView per pair for the rules.
import type { NodeState, ProbeOutcome, Topology } from './types.ts';
import type { VerdictThresholds } from './thresholds.ts';
import { median } from './median.ts';
import { getOrCreate } from './get-or-create.ts';

export type PairStatus = 'up' | 'down';

/** One node pair at the close of a window, as the rules see it. */
export interface PairView {
  readonly source: string;
  readonly destination: string;
  readonly sourceZone: string;
  readonly destinationZone: string;
  /** undefined: no report this window nor within carryWindows before. */
  readonly status: PairStatus | undefined;
  /** Packets of the UDP tests that got at least one reply, over the last lossWindows windows. */
  readonly lossSent: number;
  readonly lossLost: number;
  /** Median of this window's RTTs, if any. */
  readonly rttMs: number | undefined;
  /** The pair's RTT baseline, once warmed up. */
  readonly baselineMs: number | undefined;
  /** RTT well above the baseline this window. */
  readonly elevated: boolean;
}

export interface DnsView {
  readonly source: string;
  readonly target: string;
  readonly tests: number;
  readonly failed: number;
}

interface PairMemory {
  readonly source: string;
  readonly destination: string;
  // this window
  udpTests: number;
  udpDead: number;
  udpSent: number;
  udpLost: number;
  tcpTests: number;
  tcpFailed: number;
  rtts: number[];
  // across windows
  status: PairStatus | undefined;
  statusAge: number;
  lossSent: number[];
  lossLost: number[];
  baselineMs: number | undefined;
  baselineWindows: number;
  idleWindows: number;
}

interface DnsMemory {
  readonly source: string;
  readonly target: string;
  tests: number;
  failed: number;
}

export interface PairState {
  /** Counts one outcome into the open window; returns why it was ignored (a self-probe, bad counts), or undefined. */
  record(outcome: ProbeOutcome): string | undefined;
  /** Closes the window: the views for the rules, and forgets pairs of departed nodes or long silent. */
  close(nodes: ReadonlyMap<string, NodeState>, probes: Topology['probes']): { pairs: PairView[]; dns: DnsView[]; ignored: number };
  /** Pairs with state kept. */
  size(): number;
}

/** A pair silent for this many windows is forgotten (its baseline too). */
const FORGET_AFTER_WINDOWS = 60;
/** RTT samples kept per pair per window (a pair reports a few tests per window; this only bounds a flood). */
const MAX_RTTS_PER_WINDOW = 16;

function pairKey(source: string, destination: string): string {
  return `${source}\n${destination}`;
}

export function createPairState(thresholds: VerdictThresholds): PairState {
  /** source → destination → memory. */
  const pairs = new Map<string, Map<string, PairMemory>>();
  let tracked = 0;
  let dns = new Map<string, DnsMemory>();

  function memoryOf(source: string, destination: string): PairMemory {
    // Nested maps: no key string built per outcome (tens of thousands a second at scale).
    const bySource = getOrCreate(pairs, source, () => new Map<string, PairMemory>());
    let memory = bySource.get(destination);
    if (!memory) {
      memory = {
        source,
        destination,
        udpTests: 0,
        udpDead: 0,
        udpSent: 0,
        udpLost: 0,
        tcpTests: 0,
        tcpFailed: 0,
        rtts: [],
        status: undefined,
        statusAge: 0,
        lossSent: new Array<number>(thresholds.lossWindows).fill(0),
        lossLost: new Array<number>(thresholds.lossWindows).fill(0),
        baselineMs: undefined,
        baselineWindows: 0,
        idleWindows: 0,
      };
      bySource.set(destination, memory);
      tracked++;
    }
    return memory;
  }

  return {
    record(outcome) {
      if (outcome.kind === 'dns') {
        const key = pairKey(outcome.source, outcome.destination);
        const memory = getOrCreate(dns, key, () => ({ source: outcome.source, target: outcome.destination, tests: 0, failed: 0 }));
        memory.tests++;
        if (!outcome.passed) memory.failed++;
        return undefined;
      }
      if (outcome.source === outcome.destination) return `${outcome.source} probing itself`;
      const sent = outcome.packetsSent;
      const lost = outcome.packetsLost;
      if (!Number.isInteger(sent) || !Number.isInteger(lost) || sent < 1 || lost < 0 || lost > sent) {
        return `packets lost ${lost} of sent ${sent}: must be integers with 0 ≤ lost ≤ sent and sent ≥ 1`;
      }
      const memory = memoryOf(outcome.source, outcome.destination);
      if (outcome.kind === 'udp') {
        memory.udpTests++;
        if (lost === sent) memory.udpDead++;
        else {
          memory.udpSent += sent;
          memory.udpLost += lost;
        }
        if (outcome.rttMs !== undefined && Number.isFinite(outcome.rttMs) && memory.rtts.length < MAX_RTTS_PER_WINDOW) memory.rtts.push(outcome.rttMs);
      } else {
        memory.tcpTests++;
        if (!outcome.passed) memory.tcpFailed++;
      }
      return undefined;
    },

    close(nodes, probes) {
      const views: PairView[] = [];
      let ignored = 0;
      for (const [sourceName, bySource] of pairs)
        for (const [destinationName, memory] of bySource) {
          const forget = () => {
            bySource.delete(destinationName);
            if (bySource.size === 0) pairs.delete(sourceName);
            tracked--;
          };
          const source = nodes.get(memory.source);
          const destination = nodes.get(memory.destination);
          const assigned = probes === undefined || probes.get(memory.source)?.has(memory.destination) === true;
          const tests = memory.udpTests + memory.tcpTests;
          if (!source || !destination || !assigned) {
            // Departed or unassigned: forget it (a node that comes back starts afresh).
            ignored += tests;
            forget();
            continue;
          }
          if (source.terminating || destination.terminating) {
            // Leaving: its failures prove nothing; keep nothing from this window.
            ignored += tests;
            resetWindow(memory);
            memory.status = undefined;
            continue;
          }
          if (tests > 0) {
            // Reachable if anything came back: one UDP reply or one passed TCP test.
            const reached = memory.udpTests > memory.udpDead || memory.tcpTests > memory.tcpFailed;
            memory.status = reached ? 'up' : 'down';
            memory.statusAge = 0;
            memory.idleWindows = 0;
          } else {
            memory.statusAge++;
            memory.idleWindows++;
            if (memory.statusAge > thresholds.carryWindows) memory.status = undefined;
            if (memory.idleWindows >= FORGET_AFTER_WINDOWS) {
              forget();
              continue;
            }
          }
          memory.lossSent.shift();
          memory.lossLost.shift();
          memory.lossSent.push(memory.udpSent);
          memory.lossLost.push(memory.udpLost);
          const rttMs = median(memory.rtts);
          let elevated = false;
          const warm = memory.baselineWindows >= thresholds.baselineWarmupWindows && memory.baselineMs !== undefined;
          if (rttMs !== undefined) {
            const baseline = memory.baselineMs;
            elevated = warm && baseline !== undefined && rttMs > baseline * thresholds.latencyFactor && rttMs - baseline >= thresholds.latencyMinIncreaseMs;
            // Learn the baseline from normal windows; while elevated learn slowly, so a lasting change becomes the new normal.
            const weight = elevated ? thresholds.elevatedBaselineWeight : thresholds.baselineWeight;
            memory.baselineMs = baseline === undefined ? rttMs : baseline + weight * (rttMs - baseline);
            memory.baselineWindows++;
          }
          views.push({
            source: memory.source,
            destination: memory.destination,
            sourceZone: source.zone,
            destinationZone: destination.zone,
            status: memory.status,
            lossSent: sum(memory.lossSent),
            lossLost: sum(memory.lossLost),
            rttMs,
            baselineMs: warm ? memory.baselineMs : undefined,
            elevated,
          });
          resetWindow(memory);
        }
      const dnsViews: DnsView[] = [];
      for (const memory of dns.values()) {
        const source = nodes.get(memory.source);
        if (!source || source.terminating) ignored += memory.tests;
        else dnsViews.push({ source: memory.source, target: memory.target, tests: memory.tests, failed: memory.failed });
      }
      dns = new Map();
      return { pairs: views, dns: dnsViews, ignored };
    },

    size: () => tracked,
  };
}

function resetWindow(memory: PairMemory): void {
  memory.udpTests = 0;
  memory.udpDead = 0;
  memory.udpSent = 0;
  memory.udpLost = 0;
  memory.tcpTests = 0;
  memory.tcpFailed = 0;
  memory.rtts = [];
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}
