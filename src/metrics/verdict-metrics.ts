// The controller's verdict metrics: one `<prefix>_verdict` series = 1 per active verdict (removed when it clears, so
// its cardinality is the number of active verdicts), and the engine's and the report streams' own health.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Verdict } from '../verdicts/types.ts';

export type ReportRejection = 'unauthorized' | 'bad_request' | 'over_capacity' | 'bad_line' | 'line_too_long';

export interface VerdictMetrics {
  /** Replaces the active verdicts' series with these. */
  setVerdicts(verdicts: readonly Verdict[]): void;
  windowClosed(cpuSeconds: number): void;
  reports(recorded: number, ignored: number): void;
  reportRejected(reason: ReportRejection): void;
  setReportStreams(count: number): void;
  /** One Node Event write (or a repeat folded into a later write, or a failed write). */
  nodeEvent(result: 'written' | 'folded' | 'failed'): void;
}

const VERDICT_LABELS = ['kind', 'node', 'source', 'destination', 'source_zone', 'destination_zone', 'target'] as const;

export function createVerdictMetrics(registry: Registry, prefix: string): VerdictMetrics {
  const registers = [registry];
  const verdict = new Gauge({
    name: `${prefix}_verdict`,
    help: 'Active verdicts of this controller replica (1 each; unused labels empty): where the network is broken',
    labelNames: VERDICT_LABELS,
    registers,
  });
  const windows = new Counter({ name: `${prefix}_verdict_windows_total`, help: 'Verdict windows closed', registers });
  const reports = new Counter({
    name: `${prefix}_verdict_reports_total`,
    help: 'Probe outcomes reported by agents: recorded, or ignored (too old, impossible, too many held)',
    labelNames: ['result'] as const,
    registers,
  });
  const windowSeconds = new Gauge({ name: `${prefix}_verdict_window_seconds`, help: 'CPU time the last window close took (rules and hysteresis)', registers });
  const rejected = new Counter({
    name: `${prefix}_controller_reports_rejected_total`,
    help: 'Report requests refused or report lines rejected: unauthorized, bad_request, over_capacity, bad_line, line_too_long',
    labelNames: ['reason'] as const,
    registers,
  });
  const streams = new Gauge({ name: `${prefix}_controller_report_streams`, help: 'Agent report streams open to this controller', registers });
  const nodeEvents = new Counter({
    name: `${prefix}_verdict_node_events_total`,
    help: "Node verdicts as Kubernetes Events (events.enabled): written, folded into a later write or another replica's, failed",
    labelNames: ['result'] as const,
    registers,
  });
  for (const result of ['recorded', 'ignored']) reports.inc({ result }, 0);
  for (const reason of ['unauthorized', 'bad_request', 'over_capacity', 'bad_line', 'line_too_long']) rejected.inc({ reason }, 0);

  return {
    setVerdicts(active) {
      verdict.reset();
      for (const { kind, subject } of active) {
        verdict.set(
          {
            kind,
            node: subject.node ?? '',
            source: subject.source ?? '',
            destination: subject.destination ?? '',
            source_zone: subject.sourceZone ?? subject.zone ?? '',
            destination_zone: subject.destinationZone ?? '',
            target: subject.target ?? '',
          },
          1,
        );
      }
    },
    windowClosed(cpuSeconds) {
      windows.inc();
      windowSeconds.set(cpuSeconds);
    },
    reports(recorded, ignored) {
      if (recorded > 0) reports.inc({ result: 'recorded' }, recorded);
      if (ignored > 0) reports.inc({ result: 'ignored' }, ignored);
    },
    reportRejected: (reason) => rejected.inc({ reason }),
    setReportStreams: (count) => streams.set(count),
    nodeEvent: (result) => nodeEvents.inc({ result }),
  };
}
