// Picks a port number free for both TCP and UDP on every given address, so several agents on distinct addresses can
// share one port as in a cluster (the demo, the benchmarks).
import net from 'node:net';
import dgram from 'node:dgram';

export async function findSharedPort(addresses: readonly string[], attempts = 20): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const candidate = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ host: addresses[0], port: 0 }, () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (candidate > 0 && (await freeEverywhere(addresses, candidate))) return candidate;
  }
  throw new Error('could not find a port free for TCP and UDP on every address');
}

async function freeEverywhere(addresses: readonly string[], port: number): Promise<boolean> {
  for (const address of addresses) {
    const tcp = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)));
    });
    const udp = await new Promise<boolean>((resolve) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind({ address, port, exclusive: true }, () => socket.close(() => resolve(true)));
    });
    if (!tcp || !udp) return false;
  }
  return true;
}
