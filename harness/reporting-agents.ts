// Simulated agents that report probe outcomes to a controller the way real agents do — each over its own real report
// stream (`POST /v1/reports`, src/discovery/report-sender.ts, one batch per `batchIntervalMs` from a report queue) —
// without probing: every `probeIntervalMs` each agent queues one outcome per probe it would have run, and
// `outcome(source, destination, kind)` says whether it passed. Used by the Node Events test and the controller's
// reporting benchmark (bench/controller/reporting.ts).
import { performance } from 'node:perf_hooks';
import { createReportQueue, type QueuedOutcome, type ReportQueue } from '../src/discovery/report-queue.ts';
import { startReportSender, type ReportSender } from '../src/discovery/report-sender.ts';
import type { Logger } from '../src/log.ts';
import type { ProbeKind } from '../src/verdicts/types.ts';

export interface SimulatedAgent {
  readonly nodeName: string;
  readonly podName: string;
  /** The peers it probes (UDP and TCP each). */
  readonly peers: readonly string[];
  /** DNS target labels it queries. */
  readonly dnsTargets?: readonly string[];
}

/** Whether one probe passes now; a UDP test that fails loses all of its packets. */
export type OutcomeOf = (source: string, destination: string, kind: ProbeKind) => boolean;

export interface ReportingAgentsOptions {
  /** Controller base URLs: every agent reports to each (one stream per URL, like one per replica). */
  readonly urls: readonly string[];
  readonly agents: readonly SimulatedAgent[];
  readonly probeIntervalMs: number;
  readonly batchIntervalMs?: number;
  /** UDP packets per test (default 5, the agents' default). */
  readonly packets?: number;
  readonly token?: () => Promise<string | undefined>;
  readonly outcome: OutcomeOf;
  readonly log: Logger;
}

export interface ReportingAgents {
  /** Outcomes queued so far (all agents, all URLs counted once). */
  queued(): number;
  /** Report streams currently accepted by a controller. */
  connected(): number;
  close(): Promise<void>;
}

const QUEUE_CAPACITY = 10_000;

export function startReportingAgents(options: ReportingAgentsOptions): ReportingAgents {
  const packets = options.packets ?? 5;
  const streams: { queue: ReportQueue; sender: ReportSender }[][] = [];
  let queued = 0;
  const timers: NodeJS.Timeout[] = [];

  for (const agent of options.agents) {
    const perUrl = options.urls.map((url) => {
      const queue = createReportQueue({ capacity: QUEUE_CAPACITY, staleAfterMs: 2 * options.probeIntervalMs, onDrop: () => {} });
      const sender = startReportSender({
        url,
        nodeName: agent.nodeName,
        podName: agent.podName,
        queue,
        reconnect: { min: 100, max: 2000 },
        log: options.log,
        ...(options.batchIntervalMs !== undefined ? { batchIntervalMs: options.batchIntervalMs } : {}),
        ...(options.token !== undefined ? { token: options.token } : {}),
      });
      return { queue, sender };
    });
    streams.push(perUrl);
    const round = () => {
      const endedAt = performance.now();
      const outcomes: QueuedOutcome[] = [];
      for (const peer of agent.peers) {
        const udp = options.outcome(agent.nodeName, peer, 'udp');
        outcomes.push({ kind: 'udp', destination: peer, packetsSent: packets, packetsLost: udp ? 0 : packets, rttMs: udp ? 0.4 : undefined, endedAt });
        const tcp = options.outcome(agent.nodeName, peer, 'tcp');
        outcomes.push({ kind: 'tcp', destination: peer, packetsSent: 1, packetsLost: tcp ? 0 : 1, rttMs: tcp ? 1.2 : undefined, endedAt });
      }
      for (const target of agent.dnsTargets ?? []) {
        const dns = options.outcome(agent.nodeName, target, 'dns');
        outcomes.push({ kind: 'dns', destination: target, packetsSent: 1, packetsLost: dns ? 0 : 1, rttMs: dns ? 0.8 : undefined, endedAt });
      }
      queued += outcomes.length;
      for (const { queue } of perUrl) for (const outcome of outcomes) queue.push(outcome);
    };
    // Spread over the interval like the agents' own loops, then every interval.
    const start = setTimeout(() => {
      round();
      timers.push(setInterval(round, options.probeIntervalMs));
    }, Math.random() * options.probeIntervalMs);
    timers.push(start);
  }

  return {
    queued: () => queued,
    connected: () => streams.reduce((sum, perUrl) => sum + perUrl.filter(({ sender }) => sender.connected()).length, 0),
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await Promise.all(streams.flat().map(({ sender }) => sender.close()));
    },
  };
}
