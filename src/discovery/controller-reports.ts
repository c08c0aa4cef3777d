// Reports every probe outcome to every controller replica: one ring and one report stream per replica URL, so a slow
// or absent replica loses only its own reports. Recording is a push into each ring — it never waits. See
// docs/design/verdicts.md ("From agents to the controller").
import type { RecordedOutcome } from '../agent/probe-kinds.ts';
import { createReportQueue, type ReportDropReason } from '../agent/report-queue.ts';
import type { Logger } from '../log.ts';
import type { ProbeKind } from '../verdicts/types.ts';
import { startReportSender, type ReportSender } from './report-sender.ts';

/** Outcomes held per replica (~200 s of a node probing 10 peers at the default intervals). */
export const DEFAULT_REPORT_QUEUE_CAPACITY = 10_000;

export interface ControllerReportsOptions {
  readonly urls: readonly string[];
  readonly nodeName: string;
  readonly podName: string;
  readonly reconnect: { readonly min: number; readonly max: number };
  /** Outcomes older than this are dropped while no stream takes them (two verdict windows: the probe interval × 2). */
  readonly staleAfterMs: number;
  readonly capacity?: number;
  readonly token?: () => Promise<string | undefined>;
  readonly ca?: string | Buffer;
  readonly log: Logger;
  readonly onDrop: (controller: string, reason: ReportDropReason, count: number) => void;
}

export interface ControllerReports {
  record(outcome: RecordedOutcome): void;
  close(): Promise<void>;
}

const REPORTED_KINDS: ReadonlySet<string> = new Set<ProbeKind>(['udp', 'tcp', 'dns']);

export function startControllerReports(options: ControllerReportsOptions): ControllerReports {
  const replicas = options.urls.map((url) => {
    const queue = createReportQueue({
      capacity: options.capacity ?? DEFAULT_REPORT_QUEUE_CAPACITY,
      staleAfterMs: options.staleAfterMs,
      onDrop: (reason, count) => options.onDrop(url, reason, count),
    });
    const sender: ReportSender = startReportSender({
      url,
      nodeName: options.nodeName,
      podName: options.podName,
      queue,
      reconnect: options.reconnect,
      log: options.log,
      ...(options.token !== undefined ? { token: options.token } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
    });
    return { queue, sender };
  });
  return {
    record(outcome) {
      if (!REPORTED_KINDS.has(outcome.kind)) return;
      const { kind, destination, packetsSent, packetsLost, rttMs, endedAt } = outcome;
      for (const { queue } of replicas) queue.push({ kind: kind as ProbeKind, destination, packetsSent, packetsLost, rttMs, endedAt });
    },
    async close() {
      await Promise.all(replicas.map(({ sender }) => sender.close()));
    },
  };
}
