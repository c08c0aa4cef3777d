// The demo's own DNS resolver on loopback: answers A queries for the demo's names, NXDOMAIN for anything else, and
// never forwards, so `kconmon demo --dns` queries nothing beyond the machine.
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';

export interface DemoResolver {
  /** `address:port` to put in a DNS target's `resolvers`. */
  readonly server: string;
  close(): Promise<void>;
}

export async function startDemoResolver(options: { address: string; names: readonly { name: string; ip: string }[] }): Promise<DemoResolver> {
  const records = new Map(options.names.map(({ name, ip }) => [name.toLowerCase(), ip]));
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, remote) => {
    let query: dnsPacket.Packet;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return; // not DNS: ignore
    }
    const question = query.questions?.[0];
    if (!question) return;
    const ip = records.get(question.name.toLowerCase());
    const answers: dnsPacket.Answer[] = ip && question.type === 'A' ? [{ type: 'A', name: question.name, ttl: 5, data: ip }] : [];
    const response = dnsPacket.encode({
      id: query.id,
      type: 'response',
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (ip ? 0 : 3) /* rcode 3 = NXDOMAIN */,
      questions: [question],
      answers,
    });
    socket.send(response, remote.port, remote.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: options.address, port: 0 }, () => resolve());
  });
  return {
    server: `${options.address}:${socket.address().port}`,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
