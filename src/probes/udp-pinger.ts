// The UDP probe's transport: one socket per IP family, one random 32-bit id per datagram, replies matched by id,
// sender address and port, and length. Late, duplicate, foreign and malformed replies are never credited. Stalls of
// this process's event loop: a reply read after one is `unmeasured` (no RTT); a timeout is extended by the stalled
// time, so a packet is lost only if no echo came while the loop was responsive for the whole timeout; a packet stalled
// for longer than its timeout is unmeasured. Neither is ever reported as loss or latency.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { StallDetector } from './stall-detector.ts';

export type PingOutcome =
  | { readonly status: 'received'; readonly rttMicros: number }
  | { readonly status: 'lost' }
  /** The event loop stalled while the packet was outstanding: its timeout or RTT says nothing about the path. */
  | { readonly status: 'unmeasured' }
  | { readonly status: 'aborted' };

/** Why a datagram arriving on the probe socket was not credited to any packet. */
export type IgnoredReason = 'unknown_id' | 'wrong_sender' | 'malformed';

export interface UdpPingerHooks {
  /** A datagram was handed to the kernel (the event-loop lag sampler measures from here). */
  onSent?(): void;
  /** A reply arrived after its packet's timeout (counted once per packet, never credited). */
  onLate?(address: string): void;
  /** A reply to a packet that was already answered. */
  onDuplicate?(address: string): void;
  onIgnored?(reason: IgnoredReason): void;
  /** The kernel refused to send (no route, message too long): the packet is reported lost at its timeout. */
  onSendError?(address: string, code: string): void;
}

export interface PingRequest {
  readonly address: string;
  readonly port: number;
  /** Datagram size in bytes (≥ 4: the id, then zero padding). */
  readonly size: number;
  readonly timeoutMs: number;
  /** Called if this packet's echo arrives after its timeout (the outcome was already `lost`). */
  readonly onLate?: (() => void) | undefined;
}

export interface UdpPinger {
  /** Sends one datagram to address:port and waits up to `timeoutMs` for its echo. */
  ping(request: PingRequest): Promise<PingOutcome>;
  /**
   * `ping` without a promise: `onOutcome` is called once with the packet's outcome and `tag` (the hot path: a probe of
   * 5 packets passes one callback and each packet's index, no promise or closure per packet). Throws, like `ping`
   * rejects, for a request that is not an IP address or too small.
   */
  send(request: PingRequest, onOutcome: OutcomeCallback, tag?: number): void;
  close(): Promise<void>;
}

export type OutcomeCallback = (outcome: PingOutcome, tag: number) => void;

/** The outcomes that carry no figure are shared objects: a packet allocates nothing to report one. */
const LOST: PingOutcome = Object.freeze({ status: 'lost' });
const UNMEASURED: PingOutcome = Object.freeze({ status: 'unmeasured' });
const ABORTED: PingOutcome = Object.freeze({ status: 'aborted' });

/**
 * How a packet ended, which decides what a later reply is: after `timed_out` it is late, after `answered` a
 * duplicate, after `unmeasured` (timed out during a stall) it is expected and counted nowhere (then `answered`).
 */
type FinishedState = 'answered' | 'timed_out' | 'unmeasured';

/** One packet: outstanding until answered or timed out, then remembered (the same object) to judge later replies. */
interface Packet {
  readonly id: number;
  readonly address: string;
  readonly port: number;
  readonly size: number;
  readonly sentAt: bigint;
  /** sentAt + timeout + the time owed to event-loop stalls, monotonic ns. */
  deadline: bigint;
  readonly timeoutMs: number;
  /** Time added to the timeout for event-loop stalls while the packet was outstanding, ms. */
  grantedMs: number;
  /** Past its deadline on a responsive loop: judged lost once the loop has read its sockets (unless answered then). */
  judging: boolean;
  /** Called once with the outcome; cleared when the packet finishes. */
  resolve: OutcomeCallback | undefined;
  /** Passed back to `resolve` (the sender's index of the packet). */
  readonly tag: number;
  readonly onLate: (() => void) | undefined;
  state: FinishedState | undefined;
}

export interface UdpPingerOptions {
  /** Local address to send from: the agent's own IP, so peers see the address they know. */
  readonly bindAddress?: string | undefined;
  readonly hooks?: UdpPingerHooks;
  /** How long ids of finished packets are remembered to recognise late and duplicate replies. */
  readonly memoryMs?: number;
  /** Judges whether the event loop stalled while a packet was outstanding; without one, no packet is unmeasured. */
  readonly stallDetector?: StallDetector | undefined;
  /**
   * Receive buffer asked of the kernel for each probe socket (SO_RCVBUF; Linux doubles it and caps the request at
   * net.core.rmem_max): echoes that arrive while the event loop is busy wait there instead of being dropped.
   */
  readonly receiveBufferBytes?: number;
}

/** Room for ~1,000 queued echoes (a small datagram costs ~1 KiB of buffer): a second of echoes at 1,000 peers. */
const DEFAULT_PROBE_RECEIVE_BUFFER_BYTES = 1024 * 1024;

/** The id lives in the first 4 bytes; the rest is zero padding up to the requested size. */
const ID_BYTES = 4;

export async function createUdpPinger(options: UdpPingerOptions = {}): Promise<UdpPinger> {
  const hooks = options.hooks ?? {};
  const stallDetector = options.stallDetector;
  /** The stall detector watches while any packet is outstanding: one watch for them all, not one per packet. */
  let releaseWatch: (() => void) | undefined;
  const memoryMs = options.memoryMs ?? 10_000;
  const outstanding = new Map<number, Packet>();
  /**
   * Finished packets by id, in generations of a quarter of `memoryMs`, newest last: a packet is remembered for between
   * `memoryMs` and 1¼ × `memoryMs`, and forgetting is dropping the oldest generation whole (no delete per packet, and
   * no re-hashing of one large map shrinking by a few entries at a time).
   */
  const generationMs = Math.max(250, Math.floor(memoryMs / 4));
  const generationsKept = Math.ceil(memoryMs / generationMs) + 1;
  const finished: Map<number, Packet>[] = [new Map()];
  const finishedPacket = (id: number): Packet | undefined => {
    for (let index = finished.length - 1; index >= 0; index--) {
      const entry = finished[index]!.get(id);
      if (entry !== undefined) return entry;
    }
    return undefined;
  };
  /** One timer for every outstanding packet's timeout, due at the earliest deadline (not a timer per packet). */
  let timeoutTimer: NodeJS.Timeout | undefined;
  let timerDeadline = 0n;
  const sockets = new Map<4 | 6, dgram.Socket>();
  const pendingSockets = new Map<4 | 6, Promise<dgram.Socket>>();
  /** The last request's timeout in ns (every probe of a kind has the same): no BigInt arithmetic per packet for it. */
  let cachedTimeoutMs = -1;
  let cachedTimeoutNs = 0n;
  let idPool = Buffer.alloc(0);
  let idPoolOffset = 0;
  let closed = false;

  const sweeper = setInterval(() => {
    finished.push(new Map());
    if (finished.length > generationsKept) finished.shift();
  }, generationMs);
  sweeper.unref();

  function nextId(): number {
    for (;;) {
      if (idPoolOffset + ID_BYTES > idPool.length) {
        idPool = randomBytes(4096);
        idPoolOffset = 0;
      }
      const id = idPool.readUInt32BE(idPoolOffset);
      idPoolOffset += ID_BYTES;
      if (!outstanding.has(id) && finishedPacket(id) === undefined) return id;
    }
  }

  function onMessage(message: Buffer, remote: dgram.RemoteInfo): void {
    // Timestamp first: everything after this line is not part of the measured round trip.
    const receivedAt = process.hrtime.bigint();
    if (message.length < ID_BYTES) {
      hooks.onIgnored?.('malformed');
      return;
    }
    const id = message.readUInt32BE(0);
    const entry = outstanding.get(id);
    if (entry) {
      if (entry.address !== remote.address || entry.port !== remote.port) {
        hooks.onIgnored?.('wrong_sender');
        return;
      }
      if (message.length !== entry.size) {
        hooks.onIgnored?.('malformed');
        return;
      }
      // The reply may have waited in the socket buffer through a stall: its RTT would be the stall's, not the path's.
      const stalled = stallDetector?.stalledWithin(entry.sentAt, receivedAt) ?? false;
      const resolve = entry.resolve;
      settle(id, entry, 'answered');
      resolve?.(stalled ? UNMEASURED : { status: 'received', rttMicros: Number(receivedAt - entry.sentAt) / 1000 }, entry.tag);
      return;
    }
    const done = finishedPacket(id);
    if (done && done.address === remote.address && done.port === remote.port) {
      // Count a late packet once; further copies are duplicates.
      if (done.state === 'answered') hooks.onDuplicate?.(remote.address);
      else if (done.state === 'unmeasured') done.state = 'answered';
      else {
        done.state = 'answered';
        done.onLate?.();
        hooks.onLate?.(remote.address);
      }
      return;
    }
    hooks.onIgnored?.(done ? 'wrong_sender' : 'unknown_id');
  }

  function settle(id: number, entry: Packet, state: FinishedState): void {
    outstanding.delete(id);
    if (outstanding.size === 0) {
      releaseWatch?.();
      releaseWatch = undefined;
      // The timeout timer stays armed: it finds nothing and lapses, or serves the next packet (a packet's round trip is
      // usually shorter than the gap to the next send: clearing it here cost a new timer per packet).
    }
    entry.state = state;
    entry.resolve = undefined;
    finished[finished.length - 1]!.set(id, entry);
  }

  /**
   * Times out every packet past its deadline, then re-arms for the earliest deadline left. libuv runs due timers
   * before it reads sockets: after a stall this fires while echoes may wait unread in the socket buffer. So a deadline
   * is owed the time the loop stalled since the packet was sent (up to the timeout again), and a packet past it is
   * judged lost only after the loop has read its sockets; a packet stalled for longer than its timeout is unmeasured.
   */
  function onTimeouts(): void {
    timeoutTimer = undefined;
    const now = process.hrtime.bigint();
    let next = 0n;
    /** Allocated only when a packet is due (most wake-ups find none). */
    let due: Packet[] | undefined;
    // values(), not entries(): no [id, entry] array per outstanding packet on every wake-up.
    for (const entry of outstanding.values()) {
      if (entry.judging) continue;
      if (entry.deadline <= now) {
        const stalledMs = stallDetector?.stalledMsWithin(entry.sentAt, now) ?? 0;
        if (stalledMs > entry.timeoutMs) {
          const resolve = entry.resolve;
          settle(entry.id, entry, 'unmeasured');
          resolve?.(UNMEASURED, entry.tag);
          continue;
        }
        if (stalledMs > entry.grantedMs) {
          entry.deadline += BigInt(Math.ceil((stalledMs - entry.grantedMs) * 1e6));
          entry.grantedMs = stalledMs;
        }
      }
      if (entry.deadline > now) {
        if (next === 0n || entry.deadline < next) next = entry.deadline;
        continue;
      }
      entry.judging = true;
      if (due === undefined) due = [entry];
      else due.push(entry);
    }
    if (due !== undefined) setImmediate(judgeLost, due);
    if (next !== 0n) armTimeouts(next, now);
  }

  /** Packets past their deadline on a responsive loop, judged after the loop has read its sockets. */
  function judgeLost(due: readonly Packet[]): void {
    for (const entry of due) {
      if (outstanding.get(entry.id) !== entry) continue; // answered while the sockets were read, or aborted
      const resolve = entry.resolve;
      settle(entry.id, entry, 'timed_out');
      resolve?.(LOST, entry.tag);
    }
  }

  function armTimeouts(deadline: bigint, now: bigint): void {
    if (timeoutTimer !== undefined && timerDeadline <= deadline) return;
    clearTimeout(timeoutTimer);
    timerDeadline = deadline;
    // Node's timers have 1 ms granularity: round up, never fire before the deadline (an early wake-up re-arms).
    timeoutTimer = setTimeout(onTimeouts, Math.max(1, Math.ceil(Number(deadline - now) / 1e6)));
  }

  function socketFor(family: 4 | 6): Promise<dgram.Socket> {
    const existing = sockets.get(family);
    if (existing) return Promise.resolve(existing);
    let pending = pendingSockets.get(family);
    if (!pending) {
      pending = openSocket(family);
      pendingSockets.set(family, pending);
    }
    return pending;
  }

  async function openSocket(family: 4 | 6): Promise<dgram.Socket> {
    const socket = dgram.createSocket({
      type: family === 4 ? 'udp4' : 'udp6',
      // Addresses are always IP literals: resolve synchronously so send() reaches the kernel at once and the
      // send timestamp is not skewed by a deferred lookup.
      lookup: (address, _options, callback) => (callback as (e: null, a: string, f: number) => void)(null, address, family),
    });
    socket.on('message', onMessage);
    socket.on('error', () => {
      // Send errors surface per packet as loss; a socket-level error must not crash the agent.
    });
    const bindAddress = options.bindAddress && isIP(options.bindAddress) === family ? options.bindAddress : undefined;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: bindAddress ?? (family === 4 ? '0.0.0.0' : '::'), exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    try {
      socket.setRecvBufferSize(options.receiveBufferBytes ?? DEFAULT_PROBE_RECEIVE_BUFFER_BYTES);
    } catch {
      // Refused (a sandbox without setsockopt): the kernel's default buffer still works, with less room for bursts.
    }
    sockets.set(family, socket);
    pendingSockets.delete(family);
    return socket;
  }

  /**
   * One callback for every datagram's send (not a closure per packet). A send error (no route, message too long) is a
   * lost packet, reported at its timeout like any other; Node's error names the address it was sent to.
   */
  function afterSend(error: Error | null): void {
    if (error) {
      const { address, code } = error as NodeJS.ErrnoException & { address?: string };
      hooks.onSendError?.(address ?? 'unknown', code ?? 'unknown');
    }
  }

  function sendOn(socket: dgram.Socket, request: PingRequest, onOutcome: OutcomeCallback, tag: number): void {
    if (closed) {
      onOutcome(ABORTED, tag);
      return;
    }
    const { address, port, size, timeoutMs } = request;
    const id = nextId();
    // From Node's shared pool (a slice, not an ArrayBuffer of its own per packet): the id, then zero padding.
    const payload = Buffer.allocUnsafe(size);
    payload.writeUInt32BE(id, 0);
    if (size > ID_BYTES) payload.fill(0, ID_BYTES);
    if (outstanding.size === 0) releaseWatch = stallDetector?.watch();
    if (timeoutMs !== cachedTimeoutMs) {
      cachedTimeoutMs = timeoutMs;
      cachedTimeoutNs = BigInt(timeoutMs) * 1_000_000n;
    }
    const sentAt = process.hrtime.bigint();
    const deadline = sentAt + cachedTimeoutNs;
    outstanding.set(id, {
      id,
      address,
      port,
      size,
      sentAt,
      deadline,
      timeoutMs,
      grantedMs: 0,
      judging: false,
      resolve: onOutcome,
      tag,
      onLate: request.onLate,
      state: undefined,
    });
    socket.send(payload, port, address, afterSend);
    armTimeouts(deadline, sentAt);
    hooks.onSent?.();
  }

  function send(request: PingRequest, onOutcome: OutcomeCallback, tag = 0): void {
    const family = isIP(request.address);
    if (family === 0) throw new Error(`udp ping: "${request.address}" is not an IP address`);
    if (request.size < ID_BYTES) throw new Error(`udp ping: size must be ≥ ${ID_BYTES} bytes`);
    if (closed) {
      onOutcome(ABORTED, tag);
      return;
    }
    const socket = sockets.get(family as 4 | 6);
    if (socket !== undefined) {
      sendOn(socket, request, onOutcome, tag);
      return;
    }
    // The family's socket is opened on its first packet.
    socketFor(family as 4 | 6).then(
      (opened) => sendOn(opened, request, onOutcome, tag),
      (error: NodeJS.ErrnoException) => {
        // No socket to send from: like a send error, a lost packet (and counted as one).
        if (!closed) hooks.onSendError?.(request.address, error.code ?? 'unknown');
        onOutcome(closed ? ABORTED : LOST, tag);
      },
    );
  }

  return {
    ping: (request) => new Promise<PingOutcome>((resolve) => send(request, resolve)),
    send,
    async close() {
      closed = true;
      clearInterval(sweeper);
      clearTimeout(timeoutTimer);
      timeoutTimer = undefined;
      for (const [id, entry] of outstanding) {
        const resolve = entry.resolve;
        settle(id, entry, 'timed_out');
        resolve?.(ABORTED, entry.tag);
      }
      await Promise.all([...sockets.values()].map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
      sockets.clear();
    },
  };
}
