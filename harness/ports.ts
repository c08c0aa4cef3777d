// Free ports for tests, e2e and benchmarks: the kernel picks them (bind to port 0), then they are released for the
// caller. Several at once are held together while they are picked, so they differ. A server that binds both UDP and
// TCP on one port (a DNS server) needs a port free for both.
import dgram from 'node:dgram';
import net from 'node:net';

/** `count` distinct TCP ports free on `address` right now. */
export async function freePorts(count: number, address = '127.0.0.1'): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port: 0 }, () => resolve());
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** A TCP port free on `address` right now. */
export async function freePort(address = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, address);
  return port!;
}

/** A UDP port free on `address` (IPv4) right now. */
export async function freeUdpPort(address = '127.0.0.1'): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port: 0 }, () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A port free for both UDP and TCP on `address` (IPv4) right now: for servers that bind both, like DNS servers. */
export async function freeUdpAndTcpPort(address = '127.0.0.1'): Promise<number> {
  for (;;) {
    const [port] = await freePorts(1, address);
    const socket = dgram.createSocket('udp4');
    const bound = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.bind({ address, port }, () => resolve(true));
    });
    if (bound) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      return port as number;
    }
    socket.removeAllListeners();
  }
}
