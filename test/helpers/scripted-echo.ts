// A UDP echo server for probe tests whose behaviour per datagram is scripted: drop, delay, duplicate, answer from a
// different socket (spoof), or answer with other bytes. Real sockets on loopback.
import dgram from 'node:dgram';

export type EchoAction =
  | { readonly kind: 'echo'; readonly delayMs?: number; readonly copies?: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'spoof' } // correct id, sent from another socket (wrong sender port)
  | { readonly kind: 'reply'; readonly payload: Buffer };

export interface ScriptedEcho {
  readonly address: string;
  readonly port: number;
  /** Datagrams received so far. */
  readonly received: Buffer[];
  /** Where each datagram came from (the probe socket's address and port). */
  readonly senders: dgram.RemoteInfo[];
  close(): Promise<void>;
}

export async function startScriptedEcho(script: (index: number, message: Buffer) => EchoAction, address = '127.0.0.1', port = 0): Promise<ScriptedEcho> {
  const type = address.includes(':') ? 'udp6' : 'udp4';
  const socket = dgram.createSocket(type);
  const spoofer = dgram.createSocket(type);
  const received: Buffer[] = [];
  const senders: dgram.RemoteInfo[] = [];
  const timers = new Set<NodeJS.Timeout>();
  socket.on('message', (message, remote) => {
    const index = received.length;
    received.push(Buffer.from(message));
    senders.push(remote);
    const action = script(index, message);
    switch (action.kind) {
      case 'drop':
        return;
      case 'spoof':
        spoofer.send(message, remote.port, remote.address);
        return;
      case 'reply':
        socket.send(action.payload, remote.port, remote.address);
        return;
      case 'echo': {
        const send = () => {
          for (let copy = 0; copy < (action.copies ?? 1); copy++) socket.send(message, remote.port, remote.address);
        };
        if (!action.delayMs) return send();
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, action.delayMs);
        timers.add(timer);
      }
    }
  });
  await new Promise<void>((resolve) => socket.bind({ address, port }, () => resolve()));
  await new Promise<void>((resolve) => spoofer.bind({ address, port: 0 }, () => resolve()));
  return {
    address,
    port: socket.address().port,
    received,
    senders,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await Promise.all([socket, spoofer].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
