// The controller's verdict engine on a clock: outcomes reported by the agents are stamped `at = receivedAt − age` on
// the controller's clock (monotonic, in Unix ms: performance.timeOrigin + performance.now()), and windows close on
// aligned multiples of the window length (`floor(now / window)`, so every replica closes at the same boundaries),
// each a grace after its end for the reports in flight. An outcome stamped at or after the open window's end is held
// until that window closed. Each closed window's report is kept for the status API and the gauges.
import type { VerdictEngine } from '../verdicts/engine.ts';
import type { ProbeKind, ProbeOutcome, Topology, WindowReport } from '../verdicts/types.ts';
import type { ReportedOutcome } from '../protocol/report-stream.ts';

export interface VerdictWindowsOptions {
  readonly windowMs: number;
  readonly graceMs: number;
  /** The controller's clock, in Unix ms, monotonic. */
  readonly now: () => number;
  /** Creates the engine with its first window starting at `start`. */
  readonly createEngine: (start: number) => VerdictEngine;
  /** The node set (and the probe assignment) as of a window's close. */
  readonly topology: () => Topology;
  /**
   * The zone of a node with an agent, or undefined for any other name: outcomes from or to such a name are ignored at
   * once, so what an agent reports never grows the engine's state beyond the agents' pairs (and its DNS targets).
   */
  readonly zoneOf: (node: string) => string | undefined;
  /** Most outcomes held for the next window (a bound on memory whatever the agents send). */
  readonly maxHeld?: number;
  readonly onWindow?: (closed: ClosedWindow) => void;
}

export interface ClosedWindow {
  readonly report: WindowReport;
  /** Nodes whose agents reported at least one outcome in the window. */
  readonly agentsReporting: number;
  /** CPU time the close took (the rules and the hysteresis). */
  readonly cpuSeconds: number;
}

export interface VerdictWindows {
  /** Records a batch from one agent; returns how many outcomes were recorded and how many ignored. */
  recordBatch(source: string, outcomes: readonly ReportedOutcome[], receivedAt: number): { recorded: number; ignored: number };
  /** The last closed window, or undefined before the first one closed. */
  last(): ClosedWindow | undefined;
  close(): void;
}

const DEFAULT_MAX_HELD = 1_000_000;

export function startVerdictWindows(options: VerdictWindowsOptions): VerdictWindows {
  const { windowMs, graceMs } = options;
  const initial = options.now();
  let windowEnd = Math.floor(initial / windowMs) * windowMs + windowMs;
  const engine = options.createEngine(windowEnd - windowMs);
  const maxHeld = options.maxHeld ?? DEFAULT_MAX_HELD;
  let held: ProbeOutcome[] = [];
  let reporting = new Set<string>();
  let heldReporting = new Set<string>();
  let lastClosed: ClosedWindow | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function record(outcome: ProbeOutcome): boolean {
    if (outcome.at >= windowEnd) {
      if (held.length >= maxHeld) return false;
      held.push(outcome);
      heldReporting.add(outcome.source);
      return true;
    }
    reporting.add(outcome.source);
    return engine.record(outcome) === undefined;
  }

  function closeDue(): void {
    while (!stopped && options.now() >= windowEnd + graceMs) {
      const started = process.cpuUsage();
      const report = engine.closeWindow(windowEnd, options.topology());
      const used = process.cpuUsage(started);
      lastClosed = { report, agentsReporting: reporting.size, cpuSeconds: (used.user + used.system) / 1e6 };
      windowEnd += windowMs;
      reporting = heldReporting;
      heldReporting = new Set();
      const pending = held;
      held = [];
      for (const outcome of pending) record(outcome);
      options.onWindow?.(lastClosed);
    }
    if (!stopped) timer = setTimeout(closeDue, Math.max(0, windowEnd + graceMs - options.now()));
  }
  timer = setTimeout(closeDue, Math.max(0, windowEnd + graceMs - initial));

  return {
    recordBatch(source, outcomes, receivedAt) {
      let recorded = 0;
      let ignored = 0;
      const sourceZone = options.zoneOf(source);
      if (sourceZone === undefined) return { recorded: 0, ignored: outcomes.length };
      for (const reported of outcomes) {
        const kind: ProbeKind = reported.kind;
        const destinationZone = kind === 'dns' ? '' : options.zoneOf(reported.destination);
        if (destinationZone === undefined) {
          ignored++;
          continue;
        }
        const outcome: ProbeOutcome = {
          kind,
          source,
          sourceZone,
          destination: reported.destination,
          destinationZone,
          passed: reported.packetsLost === 0 && reported.packetsSent > 0,
          packetsSent: reported.packetsSent,
          packetsLost: reported.packetsLost,
          rttMs: reported.rttMs,
          at: receivedAt - reported.ageMs,
        };
        if (record(outcome)) recorded++;
        else ignored++;
      }
      return { recorded, ignored };
    },
    last: () => lastClosed,
    close() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
