// UDP probe: `packets` datagrams to one peer, spaced apart, each with its own id and timeout; returns RTT statistics.
// Packets the pinger calls unmeasured (the event loop stalled while they were outstanding) are left out of loss and RTT.
import { DIRECT_ABORT_CALLBACKS, createAbortCallbacks, type AbortCallbacks } from '../util/abort-callbacks.ts';
import { createUdpPinger, type IgnoredReason, type PingOutcome, type UdpPinger } from './udp-pinger.ts';
import { finiteOrUndefined, roundMs, type ProbeKind } from './probe-kind.ts';

export interface UdpProbeOptions {
  readonly packets: number;
  readonly packetSize: number;
  /** Gap between the sends of consecutive packets (packets do not wait for each other's echo). */
  readonly packetSpacingMs: number;
  readonly timeoutMs: number;
  /** Where a probe registers for its signal's abort (the agent shares one: no event listener per probe). */
  readonly abortCallbacks?: AbortCallbacks | undefined;
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
 * Sends packet i at start + i × spacing (each wait measured from the start, so spacing does not drift) and resolves
 * when every packet is answered or timed out. Aborting resolves at once with `aborted`; packets still outstanding then
 * simply time out inside the pinger, unrecorded. Per probe: one promise, one abort callback, one timer at a time for
 * the spacing, and the pinger's callback API (no promise per packet).
 */
export function probeUdp(
  pinger: UdpPinger,
  target: { readonly ip: string; readonly port: number },
  options: UdpProbeOptions,
  signal?: AbortSignal,
): Promise<UdpProbeResult> {
  if (signal?.aborted) return Promise.resolve(summarise({ rttMicros: [], sent: 0, unmeasured: 0, late: 0, aborted: true }));
  return new Promise<UdpProbeResult>((resolve) => {
    const { packets, packetSpacingMs } = options;
    const request = {
      address: target.ip,
      port: target.port,
      size: options.packetSize,
      timeoutMs: options.timeoutMs,
      onLate: undefined as (() => void) | undefined,
    };
    const late = lateCounter();
    request.onLate = late.onLate;
    /** Each packet's RTT by send index (NaN: not answered), so that the result lists them in send order. */
    const rttBySend = new Float64Array(packets).fill(Number.NaN);
    const startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    let sent = 0;
    let settled = 0;
    let unmeasured = 0;
    let aborted = false;
    let done = false;
    const finish = (abortedNow: boolean) => {
      if (done) return;
      done = true;
      late.close();
      if (signal !== undefined) abortCallbacks.offAbort(signal, onAbort);
      clearTimeout(timer);
      const rttMicros: number[] = [];
      for (const rtt of rttBySend) if (!Number.isNaN(rtt)) rttMicros.push(rtt);
      resolve(summarise({ rttMicros, sent, unmeasured, late: late.count(), aborted: aborted || abortedNow }));
    };
    const abortCallbacks = options.abortCallbacks ?? DIRECT_ABORT_CALLBACKS;
    const onAbort = () => finish(true);
    const onOutcome = (outcome: PingOutcome, index: number) => {
      if (outcome.status === 'received') rttBySend[index] = outcome.rttMicros;
      else if (outcome.status === 'unmeasured') unmeasured++;
      else if (outcome.status === 'aborted') aborted = true;
      if (++settled === packets) finish(false);
    };
    const sendNext = () => {
      timer = undefined;
      while (!done && sent < packets) {
        pinger.send(request, onOutcome, sent++);
        if (sent < packets && packetSpacingMs > 0) {
          timer = setTimeout(sendNext, Math.max(0, startedAt + sent * packetSpacingMs - performance.now()));
          return;
        }
      }
    };
    if (signal !== undefined) abortCallbacks.onAbort(signal, onAbort);
    sendNext();
  });
}

/** Counts late echoes while its probe runs; its closure holds only the count (the pinger remembers it for a while). */
function lateCounter() {
  const state = { count: 0, open: true };
  return {
    onLate: () => {
      if (state.open) state.count++;
    },
    close: () => {
      state.open = false;
    },
    count: () => state.count,
  };
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
      abortCallbacks: createAbortCallbacks(),
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
