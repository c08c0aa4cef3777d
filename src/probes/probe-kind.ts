// The one signature every probe kind has (as blackbox_exporter's prober functions share one): options derived from
// the config and the agent's runtime, `run(target, options, signal)` that settles with a typed result and never
// throws for a network failure, and the summary `/results` shows. The agent's probe table lists the kinds.
import type { AgentConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { StallDetector } from './stall-detector.ts';

/** What every probe result says, whatever its kind. */
export interface ProbeOutcome {
  /** The run was cancelled (target removed, agent stopping): not a result, never recorded. */
  readonly aborted: boolean;
  readonly passed: boolean;
}

/** What the agent lends its probes: where peers listen, the address to send from, its event-loop stall detector. */
export interface ProbeRuntime {
  /** The port every agent serves its echo and HTTP endpoints on. */
  readonly port: number;
  /** The agent's own IP (probes are sent from it), when known. */
  readonly localAddress: string | undefined;
  readonly stallDetector: StallDetector;
  /** Takes one event-loop lag sample (metrics/event-loop-lag.ts); called as a probe packet is sent. */
  readonly sampleLoopLag?: (() => void) | undefined;
  readonly log: Logger;
}

/** A kind made ready to run: its options and interval; `close` releases what `prepare` opened (sockets). */
export interface PreparedProbe<Options> {
  readonly intervalMs: number;
  readonly options: Options;
  close?(): Promise<void> | void;
}

/**
 * One probe kind. `Events` are the kind's own observations besides results (e.g. late UDP echoes), reported to its
 * metrics module, which implements them.
 */
export interface ProbeKind<Name extends string, Target, Options, Result extends ProbeOutcome, Summary, Events = object> {
  readonly name: Name;
  /** The kind's options from the config, or undefined when the config turns the kind off. */
  prepare(config: AgentConfig, runtime: ProbeRuntime, events: Events): Promise<PreparedProbe<Options> | undefined>;
  /** One test of one target; resolves with `aborted` soon after `signal` aborts; rejects only on a bug. */
  run(target: Target, options: Options, signal: AbortSignal): Promise<Result>;
  /** The `/results` summary of a result, or undefined when it is not one (aborted, or every measurement unmeasured). */
  summarise(result: Result): Summary | undefined;
  /** What the verdicts need of a result (reported to the controllers), or undefined when it is not one. */
  measure(result: Result): MeasuredOutcome | undefined;
}

/** A result reduced to what the verdict engine needs: packets sent and lost, and the RTT. */
export interface MeasuredOutcome {
  /** UDP: measured packets; TCP and DNS: 1. */
  readonly packetsSent: number;
  /** UDP: measured packets without a reply; TCP and DNS: 1 if the test failed, else 0. */
  readonly packetsLost: number;
  /** UDP: mean RTT of the answered packets; TCP: total time; DNS: query time; undefined if none. */
  readonly rttMs: number | undefined;
}

/** A result as the verdicts see it: which kind, which target, what was measured, when it ended. */
export interface RecordedOutcome extends MeasuredOutcome {
  readonly kind: string;
  /** Destination node name, or the DNS target's label (the `/results` target). */
  readonly destination: string;
  /** When the probe ended, on this process's monotonic clock (performance.now()). */
  readonly endedAt: number;
}

/** A finite number, else undefined (NaN marks "not measured" in the probes' results). */
export function finiteOrUndefined(value: number): number | undefined {
  return Number.isFinite(value) ? value : undefined;
}

/** Milliseconds rounded to the microsecond for `/results`; null when not measured (NaN). */
export function roundMs(value: number): number | null {
  return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
}
