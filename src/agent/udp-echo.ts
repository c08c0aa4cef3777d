// The agent's UDP echo: returns each datagram, byte for byte, to its sender if the sender is allowed (a known peer by
// default). A reply is never larger than its request, so the echo cannot amplify traffic.
import dgram from 'node:dgram';
import { listenFailure } from '../util/startup-error.ts';

export interface UdpEchoOptions {
  readonly address: string;
  readonly port: number;
  /** Largest datagram echoed; bigger ones are dropped. */
  readonly maxSize: number;
  /** Whether a source address may be answered. */
  readonly allow: (address: string) => boolean;
  readonly onRequest?: (result: 'echoed' | 'refused_source' | 'refused_size') => void;
}

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
  socket.on('message', (message, remote) => {
    if (message.length > options.maxSize) return options.onRequest?.('refused_size');
    if (!options.allow(remote.address)) return options.onRequest?.('refused_source');
    socket.send(message, remote.port, remote.address);
    options.onRequest?.('echoed');
  });
  socket.on('error', () => {
    // Per-datagram send errors (peer gone) must not stop the echo.
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => reject(listenFailure(error, options.address, options.port, 'udp echo'));
    socket.once('error', fail);
    socket.bind({ address: options.address, port: options.port, exclusive: true }, () => {
      socket.off('error', fail);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
