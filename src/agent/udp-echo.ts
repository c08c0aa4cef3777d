// The agent's UDP echo: returns each datagram, byte for byte, to its sender if the sender is allowed (a known peer by
// default). A reply is never larger than its request, so the echo cannot amplify traffic. It never answers a datagram
// from an echo port (its own number: every agent's echo uses it) or a well-known port (< 1024: echo/7, chargen/19,
// DNS/53…): probes always come from an ephemeral port, and answering those would let one spoofed datagram bounce
// between two echoes (or an echo and itself) forever.
import dgram from 'node:dgram';
import { listenFailure } from '../util/startup-error.ts';

export type EchoRequestResult = 'echoed' | 'refused_source' | 'refused_size' | 'refused_echo_port' | 'refused_low_port';

/** Source ports below this are well-known services (possible reflectors), never a probe socket's ephemeral port. */
const FIRST_UNPRIVILEGED_PORT = 1024;

export interface UdpEchoOptions {
  readonly address: string;
  readonly port: number;
  /** Largest datagram echoed; bigger ones are dropped. */
  readonly maxSize: number;
  /** Whether a source address may be answered. */
  readonly allow: (address: string) => boolean;
  readonly onRequest?: (result: EchoRequestResult) => void;
  /** The kernel refused to send a reply (e.g. EPERM from a firewall, ENETUNREACH); the echo keeps running. */
  readonly onSendError?: (code: string) => void;
  /** SO_RCVBUF asked of the kernel (doubled by Linux, capped at net.core.rmem_max). */
  readonly receiveBufferBytes?: number;
}

/** Room for ~1,000 queued probe datagrams (~1 KiB of buffer each). */
const DEFAULT_ECHO_RECEIVE_BUFFER_BYTES = 1024 * 1024;

export interface UdpEcho {
  readonly port: number;
  close(): Promise<void>;
}

export async function startUdpEcho(options: UdpEchoOptions): Promise<UdpEcho> {
  const family = options.address.includes(':') ? 6 : 4;
  const socket = dgram.createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    // Replies go to the IP literal we received from: resolve synchronously so the echo leaves at once.
    lookup: (address, _options, callback) => (callback as (e: null, a: string, f: number) => void)(null, address, family),
  });
  let echoPort = options.port;
  const onSent = (error: Error | null) => {
    if (error) options.onSendError?.((error as NodeJS.ErrnoException).code ?? 'unknown');
  };
  socket.on('message', (message, remote) => {
    if (message.length > options.maxSize) return options.onRequest?.('refused_size');
    if (remote.port === echoPort) return options.onRequest?.('refused_echo_port');
    if (remote.port < FIRST_UNPRIVILEGED_PORT) return options.onRequest?.('refused_low_port');
    if (!options.allow(remote.address)) return options.onRequest?.('refused_source');
    socket.send(message, remote.port, remote.address, onSent);
    options.onRequest?.('echoed');
  });
  socket.on('error', () => {
    // Per-datagram send errors reach onSent; a socket-level error must not stop the echo.
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => reject(listenFailure(error, options.address, options.port, 'udp echo'));
    socket.once('error', fail);
    socket.bind({ address: options.address, port: options.port, exclusive: true }, () => {
      socket.off('error', fail);
      resolve();
    });
  });
  echoPort = socket.address().port;
  try {
    // Peers' probes that arrive while the event loop is busy wait here instead of being dropped (as the pinger's).
    socket.setRecvBufferSize(options.receiveBufferBytes ?? DEFAULT_ECHO_RECEIVE_BUFFER_BYTES);
  } catch {
    // Refused: the kernel's default buffer still works, with less room for bursts.
  }
  return {
    port: echoPort,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
