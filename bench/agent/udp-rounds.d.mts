// Types of udp-rounds.mjs (plain JavaScript so that the naive prober loads no type-stripping compiler).
import type { Socket } from 'node:dgram';

export interface UdpRoundsOptions {
  /** The destination port of every packet (the echo's). */
  readonly port: number;
  readonly packets: number;
  readonly packetSize: number;
  readonly spacingMs: number;
  /** A packet unanswered this long is lost. */
  readonly timeoutMs: number;
  /** Called as each packet is sent, and as each is found lost. */
  readonly onSent: () => void;
  readonly onLost: () => void;
}

export interface UdpRounds {
  /** Sends one round to `target`:port from `socket`. */
  send(socket: Socket, target: string): void;
  /**
   * A datagram received at `receivedAt` (process.hrtime.bigint()): the RTT of the packet it answers, in µs (that packet
   * is then no longer outstanding); 'unknown' if no outstanding packet has its id (late, duplicate, foreign); 'short' if
   * it is too short to carry an id.
   */
  reply(message: Buffer, receivedAt: bigint): number | 'unknown' | 'short';
  /** Counts unanswered packets as lost once their timeout has passed: swept every 50 ms, on a timer that does not hold the process. */
  startSweeping(): void;
}

export function createUdpRounds(options: UdpRoundsOptions): UdpRounds;
