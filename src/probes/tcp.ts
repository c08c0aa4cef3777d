// TCP probe: a fresh connection to the peer's explicit IP and family, `GET /readiness` with `Connection: close`,
// TCP_NODELAY, one deadline for the whole test and no retries. Times come from socket callbacks on the monotonic clock.
//
// Why not http.request: the probe needs exactly one new socket per test, timestamps in the socket's own callbacks and
// nothing else (no agent, no pooling, no header parsing); the only thing read from the response is its status line.
//
// Stalls of this process's event loop: a pass whose times span one is `unmeasured` (not a pass with the stall in its
// times); the deadline is extended by the stalled time, so a timeout is judged on a responsive loop and stays a failure
// on a busy node; a test stalled for longer than its timeout is unmeasured. Kernel-reported failures stay failures.
import net from 'node:net';
import { DIRECT_ABORT_CALLBACKS, createAbortCallbacks, type AbortCallbacks } from '../util/abort-callbacks.ts';
import type { StallDetector } from './stall-detector.ts';
import { finiteOrUndefined, roundMs, type ProbeKind } from './probe-kind.ts';

/** Every reason a TCP test fails for (the `reason` label of its failure counter). */
export const TCP_FAILURE_REASONS = ['refused', 'timeout', 'reset', 'unreachable', 'bad_status', 'error'] as const;
export type TcpFailureReason = (typeof TCP_FAILURE_REASONS)[number];

export interface TcpProbeResult {
  readonly kind: 'tcp';
  readonly passed: boolean;
  /** Time from dialling to the established connection, ms (µs precision); NaN if it never connected. */
  readonly connectMs: number;
  /** Time from dialling to the end of the response, ms; NaN if the test failed before the response ended. */
  readonly totalMs: number;
  readonly statusCode: number | undefined;
  readonly reason: TcpFailureReason | undefined;
  /** Human-readable detail of a failure (errno code, status line). */
  readonly detail: string | undefined;
  readonly aborted: boolean;
  /** The test passed or timed out while the event loop stalled: not a result (passed is false, reason undefined). */
  readonly unmeasured: boolean;
}

export interface TcpProbeOptions {
  readonly timeoutMs: number;
  readonly path?: string;
  /** Local address to dial from (the agent's own IP). */
  readonly localAddress?: string | undefined;
  /** Judges whether the event loop stalled during the test; without one, no test is unmeasured. */
  readonly stallDetector?: StallDetector | undefined;
  /** Where a test registers for its signal's abort (the agent shares one per kind: no event listener per test). */
  readonly abortCallbacks?: AbortCallbacks | undefined;
}

const MAX_RESPONSE_HEAD = 1024;

/** The request of a test to `target` (the agent builds it once per peer: the same bytes on every test). */
function tcpRequest(target: { readonly ip: string; readonly port: number }, path = '/readiness'): Buffer {
  const host = net.isIPv6(target.ip) ? `[${target.ip}]:${target.port}` : `${target.ip}:${target.port}`;
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: kconmon\r\nConnection: close\r\n\r\n`, 'latin1');
}

export function probeTcp(
  target: { readonly ip: string; readonly port: number; readonly request?: Buffer },
  options: TcpProbeOptions,
  signal?: AbortSignal,
): Promise<TcpProbeResult> {
  const family = net.isIP(target.ip);
  if (family === 0) throw new Error(`tcp probe: "${target.ip}" is not an IP address`);
  const request = target.request ?? tcpRequest(target, options.path);

  return new Promise<TcpProbeResult>((resolve) => {
    const release = options.stallDetector?.watch();
    const startedAt = process.hrtime.bigint();
    let connectedAt: bigint | undefined;
    let statusCode: number | undefined;
    let head = '';
    let settled = false;

    const socket = net.connect({
      host: target.ip,
      port: target.port,
      family,
      noDelay: true,
      autoSelectFamily: false,
      ...(options.localAddress && net.isIP(options.localAddress) === family ? { localAddress: options.localAddress } : {}),
    });

    // The deadline is owed the time the event loop was stalled within it (up to the timeout again): a timeout is a
    // failure only once the loop was responsive for the whole timeout; beyond that owed time the test is unmeasured.
    let grantedMs = 0;
    const onDeadline = () => {
      const stalledMs = options.stallDetector?.stalledMsWithin(startedAt, process.hrtime.bigint()) ?? 0;
      if (stalledMs > grantedMs) {
        if (stalledMs > options.timeoutMs) return finish('timeout', `event loop stalled ${Math.round(stalledMs)} ms`, false, true);
        timer = setTimeout(onDeadline, Math.ceil(stalledMs - grantedMs));
        grantedMs = stalledMs;
        return;
      }
      // libuv runs due timers before it reads sockets: let it read what already arrived, then judge.
      setImmediate(() => {
        const owed = grantedMs > 0 ? ` (+${Math.round(grantedMs)} ms owed to event-loop stalls)` : '';
        finish('timeout', `no complete response within ${options.timeoutMs} ms${owed}`);
      });
    };
    let timer = setTimeout(onDeadline, options.timeoutMs);
    const abortCallbacks = options.abortCallbacks ?? DIRECT_ABORT_CALLBACKS;
    const onAbort = () => finish(undefined, 'aborted', true);
    if (signal !== undefined) abortCallbacks.onAbort(signal, onAbort);

    function finish(reason: TcpFailureReason | undefined, detail: string | undefined, aborted = false, stalledPastDeadline = false) {
      const endedAt = process.hrtime.bigint();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (signal !== undefined) abortCallbacks.offAbort(signal, onAbort);
      socket.destroy();
      // A pass whose times span a stall says nothing about the path's speed; a timeout past its owed time, nothing at all.
      const unmeasured = !aborted && (stalledPastDeadline || (reason === undefined && (options.stallDetector?.stalledWithin(startedAt, endedAt) ?? false)));
      release?.();
      const passed = !aborted && !unmeasured && reason === undefined;
      resolve({
        kind: 'tcp',
        passed,
        connectMs: connectedAt === undefined || unmeasured ? Number.NaN : Number(connectedAt - startedAt) / 1e6,
        totalMs: passed ? Number(endedAt - startedAt) / 1e6 : Number.NaN,
        statusCode,
        reason: unmeasured ? undefined : reason,
        detail: unmeasured ? `event loop stalled during the test (${reason === undefined ? 'passed' : reason} not counted)` : detail,
        aborted,
        unmeasured,
      });
    }

    // `on`, not `once` (a wrapper per listener): a socket connects and ends at most once, and finish runs once.
    socket.on('connect', () => {
      connectedAt = process.hrtime.bigint();
      socket.write(request);
    });
    // Bytes, not a decoding stream: only the status line is ever read, as latin1.
    socket.on('data', (chunk: Buffer) => {
      if (statusCode !== undefined) return; // the body is drained and ignored
      head += chunk.toString('latin1', 0, Math.min(chunk.length, MAX_RESPONSE_HEAD + 1));
      const lineEnd = head.indexOf('\r\n');
      if (lineEnd === -1) {
        if (head.length > MAX_RESPONSE_HEAD) finish('bad_status', 'response has no status line');
        return;
      }
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head.slice(0, lineEnd));
      if (!match) return finish('bad_status', `malformed status line: ${JSON.stringify(head.slice(0, Math.min(lineEnd, 80)))}`);
      statusCode = Number(match[1]);
      if (statusCode !== 200) finish('bad_status', `HTTP ${statusCode}`);
    });
    socket.on('end', () => {
      if (statusCode === 200) finish(undefined, undefined);
      else finish(statusCode === undefined ? 'reset' : 'bad_status', statusCode === undefined ? 'connection closed before a response' : `HTTP ${statusCode}`);
    });
    socket.on('error', (error: NodeJS.ErrnoException) => finish(reasonFor(error.code), error.code ?? error.message));
  });
}

/** What `/results` shows of a TCP test. */
export interface TcpSummary {
  readonly connectMs: number | null;
  readonly totalMs: number | null;
  readonly reason: TcpFailureReason | null;
  readonly detail: string | null;
}

export interface TcpKindOptions extends TcpProbeOptions {
  readonly port: number;
  /** Each target's request, built on its first test. */
  readonly requests: WeakMap<object, Buffer>;
}

/** A fresh TCP connection and `GET /readiness` to a peer's agent. */
export const tcpProbe: ProbeKind<'tcp', { readonly ip: string }, TcpKindOptions, TcpProbeResult, TcpSummary> = {
  name: 'tcp',
  async prepare(config, runtime) {
    if (!config.tcp.enabled) return undefined;
    const options = {
      port: runtime.port,
      timeoutMs: config.tcp.timeout,
      localAddress: runtime.localAddress,
      stallDetector: runtime.stallDetector,
      abortCallbacks: createAbortCallbacks(),
      requests: new WeakMap<object, Buffer>(),
    };
    return { intervalMs: config.tcp.interval, options };
  },
  run(target, options, signal) {
    let request = options.requests.get(target);
    if (request === undefined) {
      request = tcpRequest({ ip: target.ip, port: options.port }, options.path);
      options.requests.set(target, request);
    }
    return probeTcp({ ip: target.ip, port: options.port, request }, options, signal);
  },
  summarise: (result) =>
    result.aborted || result.unmeasured
      ? undefined
      : { connectMs: roundMs(result.connectMs), totalMs: roundMs(result.totalMs), reason: result.reason ?? null, detail: result.detail ?? null },
  measure: (result) =>
    result.aborted || result.unmeasured ? undefined : { packetsSent: 1, packetsLost: result.passed ? 0 : 1, rttMs: finiteOrUndefined(result.totalMs) },
};

function reasonFor(code: string | undefined): TcpFailureReason {
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
    case 'EADDRNOTAVAIL':
      return 'unreachable';
    default:
      return 'error';
  }
}
