// UDP probe: `packets` datagrams to one peer, spaced apart, each with its own id and timeout; returns RTT statistics.
import type { PingOutcome, UdpPinger } from './udp-pinger.ts';
import { sleep } from '../util/sleep.ts';

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
  /** Lost packets whose echo did arrive after the timeout, while this probe still ran (never credited). */
  readonly late: number;
  /** Mean RTT of answered packets in ms; NaN when none was answered. */
  readonly averageMs: number;
  /** Slowest − fastest answered packet in ms (the original's "variance"); NaN when none was answered. */
  readonly spreadMs: number;
  /** Percentage of packets lost, 0–100. */
  readonly lossPercent: number;
  /** The probe was cancelled (peer removed, agent stopping); its result must not be recorded. */
  readonly aborted: boolean;
  readonly passed: boolean;
}

export async function probeUdp(
  pinger: UdpPinger,
  target: { readonly ip: string; readonly port: number },
  options: UdpProbeOptions,
  signal?: AbortSignal,
): Promise<UdpProbeResult> {
  const pings: Promise<PingOutcome>[] = [];
  let late = 0;
  let running = true;
  const onLate = () => {
    if (running) late++;
  };
  for (let index = 0; index < options.packets; index++) {
    if (index > 0 && options.packetSpacingMs > 0) await sleep(options.packetSpacingMs, signal);
    if (signal?.aborted) break;
    pings.push(pinger.ping({ address: target.ip, port: target.port, size: options.packetSize, timeoutMs: options.timeoutMs, signal, onLate }));
  }
  const outcomes = await Promise.all(pings);
  running = false;
  const rttMicros: number[] = [];
  let aborted = signal?.aborted === true;
  for (const outcome of outcomes) {
    if (outcome.status === 'received') rttMicros.push(outcome.rttMicros);
    else if (outcome.status === 'aborted') aborted = true;
  }
  return summarise(rttMicros, outcomes.length, late, aborted);
}

export function summarise(rttMicros: number[], sent: number, late: number, aborted: boolean): UdpProbeResult {
  const received = rttMicros.length;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (const rtt of rttMicros) {
    if (rtt < min) min = rtt;
    if (rtt > max) max = rtt;
    sum += rtt;
  }
  const lost = sent - received;
  return {
    kind: 'udp',
    rttMicros,
    sent,
    received,
    lost,
    late,
    averageMs: received > 0 ? sum / received / 1000 : Number.NaN,
    spreadMs: received > 0 ? (max - min) / 1000 : Number.NaN,
    lossPercent: sent > 0 ? (lost / sent) * 100 : 0,
    aborted,
    passed: !aborted && sent > 0 && lost === 0,
  };
}
