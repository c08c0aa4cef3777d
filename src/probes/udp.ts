// UDP probe: `packets` datagrams to one peer, spaced apart, each with its own id and timeout; returns RTT statistics.
// Packets the pinger calls unmeasured (the event loop stalled while they were outstanding) are left out of loss and RTT.
import { createUdpPinger, type IgnoredReason, type PingOutcome, type UdpPinger } from './udp-pinger.ts';
import { finiteOrUndefined, roundMs, type ProbeKind } from './probe-kind.ts';

export interface UdpProbeOptions {
  readonly packets: number;
  readonly packetSize: number;
  /** Gap between the sends of consecutive packets (packets do not wait for each other's echo). */
  readonly packetSpacingMs: number;
  readonly timeoutMs: number;
}

export interface UdpProbeResult {
  readonly kind: 'udp';
  /** Round-trip time of each answered packet, in send order, microseconds. */
  readonly rttMicros: readonly number[];
  readonly sent: number;
  readonly received: number;
  /** Packets not answered within their timeout. */
  readonly lost: number;
  /** Packets outstanding during an event-loop stall: neither received nor lost. */
  readonly unmeasured: number;
  /** Lost packets whose echo did arrive after the timeout, while this probe still ran (never credited). */
  readonly late: number;
  /** Mean RTT of answered packets in ms; NaN when none was answered. */
  readonly averageMs: number;
  /** Slowest − fastest answered packet in ms (the original's "variance"); NaN when none was answered. */
  readonly spreadMs: number;
  /** Percentage of the measured packets (received + lost) lost, 0–100; NaN when none was measured. */
  readonly lossPercent: number;
  /** The probe was cancelled (peer removed, agent stopping); its result must not be recorded. */
  readonly aborted: boolean;
  /** At least one packet was measured: only then is the test a result (passed or failed). */
  readonly measured: boolean;
  /** Measured, and no measured packet lost. */
  readonly passed: boolean;
}

/**
 * Sends packet i at start + i × spacing (timers set up front, so spacing does not drift) and resolves when every
 * packet is answered or timed out. Aborting resolves at once with `aborted`; packets still outstanding then simply
 * time out inside the pinger, unrecorded.
 */
export function probeUdp(
  pinger: UdpPinger,
  target: { readonly ip: string; readonly port: number },
  options: UdpProbeOptions,
  signal?: AbortSignal,
): Promise<UdpProbeResult> {
  if (signal?.aborted) return Promise.resolve(summarise({ rttMicros: [], sent: 0, unmeasured: 0, late: 0, aborted: true }));
  return new Promise<UdpProbeResult>((resolve) => {
    const outcomes: (PingOutcome | undefined)[] = [];
    const timers: NodeJS.Timeout[] = [];
    let sent = 0;
    let settled = 0;
    let late = 0;
    let done = false;
    const onLate = () => {
      if (!done) late++;
    };
    const finish = (aborted: boolean) => {
      if (done) return;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      for (const timer of timers) clearTimeout(timer);
      const rttMicros: number[] = [];
      let unmeasured = 0;
      for (const outcome of outcomes) {
        if (outcome?.status === 'received') rttMicros.push(outcome.rttMicros);
        else if (outcome?.status === 'unmeasured') unmeasured++;
      }
      aborted ||= outcomes.some((outcome) => outcome?.status === 'aborted');
      resolve(summarise({ rttMicros, sent, unmeasured, late, aborted }));
    };
    const onAbort = () => finish(true);
    signal?.addEventListener('abort', onAbort, { once: true });
    const send = (index: number) => {
      if (done) return;
      sent++;
      void pinger.ping({ address: target.ip, port: target.port, size: options.packetSize, timeoutMs: options.timeoutMs, onLate }).then((outcome) => {
        outcomes[index] = outcome;
        if (++settled === options.packets) finish(false);
      });
    };
    for (let index = 0; index < options.packets; index++) {
      if (index === 0 || options.packetSpacingMs === 0) send(index);
      else timers.push(setTimeout(send, index * options.packetSpacingMs, index));
    }
  });
}

export interface UdpOutcomes {
  readonly rttMicros: number[];
  readonly sent: number;
  readonly unmeasured: number;
  readonly late: number;
  readonly aborted: boolean;
}

export function summarise({ rttMicros, sent, unmeasured, late, aborted }: UdpOutcomes): UdpProbeResult {
  const received = rttMicros.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const rtt of rttMicros) {
    if (rtt < min) min = rtt;
    if (rtt > max) max = rtt;
    sum += rtt;
  }
  const lost = sent - received - unmeasured;
  const measuredPackets = received + lost;
  const measured = !aborted && measuredPackets > 0;
  return {
    kind: 'udp',
    rttMicros,
    sent,
    received,
    lost,
    unmeasured,
    late,
    averageMs: received > 0 ? sum / received / 1000 : Number.NaN,
    spreadMs: received > 0 ? (max - min) / 1000 : Number.NaN,
    lossPercent: measuredPackets > 0 ? (lost / measuredPackets) * 100 : Number.NaN,
    aborted,
    measured,
    passed: measured && lost === 0,
  };
}

/** What `/results` shows of a UDP test. */
export interface UdpSummary {
  readonly averageMs: number | null;
  readonly spreadMs: number | null;
  readonly lossPercent: number | null;
  readonly sent: number;
  readonly received: number;
  readonly late: number;
  readonly unmeasured: number;
}

/** The pinger's observations besides results, by peer address (the UDP metrics module implements them). */
export interface UdpEvents {
  late(address: string): void;
  duplicate(address: string): void;
  ignored(reason: IgnoredReason): void;
  sendError(code: string): void;
}

export interface UdpKindOptions extends UdpProbeOptions {
  readonly pinger: UdpPinger;
  readonly port: number;
}

/** UDP echo round trips to a peer's agent: `packets` datagrams per test through one shared pinger. */
export const udpProbe: ProbeKind<'udp', { readonly ip: string }, UdpKindOptions, UdpProbeResult, UdpSummary, UdpEvents> = {
  name: 'udp',
  async prepare(config, runtime, events) {
    const { udp } = config;
    if (!udp.enabled) return undefined;
    const log = runtime.log;
    const pinger = await createUdpPinger({
      bindAddress: runtime.localAddress,
      stallDetector: runtime.stallDetector,
      hooks: {
        onSent: runtime.sampleLoopLag,
        onLate: (address) => events.late(address),
        onDuplicate: (address) => events.duplicate(address),
        onIgnored: (reason) => events.ignored(reason),
        onSendError: (address, code) => {
          events.sendError(code);
          log.debug({ address, code }, 'udp send failed');
        },
      },
    });
    const options = {
      pinger,
      port: runtime.port,
      packets: udp.packets,
      packetSize: udp.packetSize,
      packetSpacingMs: udp.packetSpacing,
      timeoutMs: udp.timeout,
    };
    return { intervalMs: udp.interval, options, close: () => pinger.close() };
  },
  run: (target, options, signal) => probeUdp(options.pinger, { ip: target.ip, port: options.port }, options, signal),
  summarise(result) {
    if (!result.measured) return undefined;
    const { sent, received, late, unmeasured } = result;
    const timings = { averageMs: roundMs(result.averageMs), spreadMs: roundMs(result.spreadMs), lossPercent: roundMs(result.lossPercent) };
    return { ...timings, sent, received, late, unmeasured };
  },
  measure: (result) =>
    result.measured ? { packetsSent: result.received + result.lost, packetsLost: result.lost, rttMs: finiteOrUndefined(result.averageMs) } : undefined,
};
