// Child process: the minimal standalone Node UDP client the agent's RTT is compared with. One dgram socket, one
// 4-byte datagram (a sequence number) at a time to a few synthetic peers in turn at a modest fixed rate, RTT from
// process.hrtime around send and receive, nothing else. Run by the benchmark with `fork`; config is argv[2] as JSON.
import dgram from 'node:dgram';
import { exitWithParent, runChildMain, sendToParent, type ControlMessage } from './ipc.ts';
import { isLoopback } from './addresses.ts';

export interface UdpClientConfig {
  readonly bind: string;
  readonly port: number;
  readonly targets: readonly string[];
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
  readonly deadlineMs: number;
}

export interface UdpClientStats {
  readonly sent: number;
  readonly lost: number;
  readonly rttMicros: readonly number[];
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as UdpClientConfig;
  exitWithParent(config.deadlineMs);
  for (const address of [config.bind, ...config.targets]) if (!isLoopback(address)) throw new Error(`refusing non-loopback address ${address}`);

  // Same immediate lookup as the agent's pinger, so both hand the datagram to the kernel in the same tick.
  const socket = dgram.createSocket({
    type: 'udp4',
    lookup: ((address: string, _options: unknown, callback: (e: null, a: string, f: number) => void) => callback(null, address, 4)) as never,
  });
  const pending = new Map<number, bigint>();
  let rtts: number[] = [];
  let sent = 0;
  let lost = 0;
  let sequence = 0;

  socket.on('message', (message) => {
    const receivedAt = process.hrtime.bigint();
    if (message.length !== 4) return;
    const id = message.readUInt32BE(0);
    const sentAt = pending.get(id);
    if (sentAt === undefined) return;
    pending.delete(id);
    rtts.push(Number(receivedAt - sentAt) / 1000);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: config.bind, port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });

  const timeout = BigInt(config.timeoutMs) * 1_000_000n;
  setInterval(() => {
    const now = process.hrtime.bigint();
    for (const [id, sentAt] of pending) {
      if (now - sentAt < timeout) break;
      pending.delete(id);
      lost++;
    }
    sequence = (sequence + 1) >>> 0;
    const id = sequence;
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(id, 0);
    const target = config.targets[id % config.targets.length] as string;
    pending.set(id, process.hrtime.bigint());
    socket.send(payload, config.port, target);
    sent++;
  }, 1000 / config.ratePerSecond);

  process.on('message', (raw: unknown) => {
    const message = raw as ControlMessage;
    if (message.type === 'reset') {
      rtts = [];
      sent = 0;
      lost = 0;
    } else if (message.type === 'stats') {
      const stats: UdpClientStats = { sent, lost, rttMicros: rtts };
      sendToParent({ type: 'stats', id: message.id, stats });
    }
  });
  sendToParent({ type: 'ready' });
}

runChildMain(main);
