// The UDP echo against reflection: a datagram from another echo's port (every agent's echo uses the same number) or
// from a well-known port is never answered, so one forged datagram cannot bounce between two agents forever; and
// echo replies the kernel refuses to send are counted. Real agent processes and real sockets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { createAgentProcessGroup } from '../helpers/agent-processes.ts';
import { startTestNodes } from '../helpers/agents.ts';
import { waitUntil } from '../../harness/wait.ts';
import { parseExposition, sampleSum } from '../../harness/exposition.ts';
import { createNetns, netnsUnavailable } from '../../harness/netns.ts';
import { skipUnlessAvailable } from '../harness/require.ts';
import type { Peer } from '../../src/discovery/peer.ts';

const peer = (name: string, ip: string): Peer => ({ name: `agent-${name}`, nodeName: name, ip, zone: 'zone-a' });
const idle = { udp: { enabled: false }, tcp: { enabled: false } };
const echoCounts = (all: ReturnType<typeof parseExposition>) =>
  Object.fromEntries(all.filter((sample) => sample.name === 'kconmon_udp_echo_requests_total').map((sample) => [sample.labels.result, sample.value]));

function bindUdp(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

test("a datagram forged from a peer's echo port is refused once, not echoed back and forth between two agents", async () => {
  // Agent X, and a datagram that reaches X from Y's address and echo port: the forgery. Loopback cannot spoof, so the
  // forger binds Y:port while X is stopped, sends, and leaves; agent Y then starts on Y:port and X resumes, reading
  // the datagram as if Y's echo had sent it. Without the fix X echoes it to Y, Y (X is its peer) echoes it back, and
  // so on for as long as no datagram is lost.
  const x = peer('node-x', '127.0.71.1');
  const y = peer('node-y', '127.0.71.2');
  const group = await createAgentProcessGroup([x.ip, y.ip]);
  try {
    const agentX = await group.start(x, [x, y], idle);
    agentX.signal('SIGSTOP');
    const forger = await bindUdp(y.ip, group.port);
    await new Promise<void>((resolve, reject) => {
      forger.send(Buffer.from('forged-reflection'), group.port, x.ip, (error) => (error ? reject(error) : resolve()));
    });
    await new Promise<void>((resolve) => forger.close(() => resolve()));
    const agentY = await group.start(y, [x, y], idle);
    agentX.signal('SIGCONT');
    await waitUntil('X to read the forged datagram', 10_000, async () => sampleSum(await agentX.metrics(), 'kconmon_udp_echo_requests_total') > 0);
    // Time for a loop to show itself: at loopback speed it would run thousands of rounds in this window.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(echoCounts(await agentX.metrics()), { refused_echo_port: 1 }, 'X refused the datagram and echoed nothing');
    assert.deepEqual(echoCounts(await agentY.metrics()), {}, 'Y never received an echo');
  } finally {
    await group.close();
  }
});

test('a datagram from a well-known source port (< 1024, e.g. echo/7) is refused; probes from ephemeral ports are echoed', async (t) => {
  const self = peer('node-low', '127.0.71.11');
  const friend = peer('node-friend', '127.0.71.12');
  const nodes = await startTestNodes([self], idle);
  const agent = nodes[0]!.agent;
  agent.setPeers([self, friend]);
  let reflector: dgram.Socket | undefined;
  try {
    reflector = await bindUdp(friend.ip, 7).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'EACCES') return undefined;
      throw error;
    });
    if (!skipUnlessAvailable(t, reflector ? undefined : 'binding UDP port 7 needs root (or net.ipv4.ip_unprivileged_port_start ≤ 7)')) return;
    const prober = await bindUdp(friend.ip, 0);
    const ask = (socket: dgram.Socket) =>
      new Promise<Buffer | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 300);
        socket.once('message', (message) => {
          clearTimeout(timer);
          resolve(message);
        });
        socket.send(Buffer.from('probe'), agent.port, self.ip);
      });
    try {
      assert.equal(await ask(reflector!), undefined, 'no reply to port 7');
      assert.equal((await ask(prober))?.toString(), 'probe', 'an ephemeral port is answered');
    } finally {
      prober.close();
    }
    assert.deepEqual(echoCounts(parseExposition(await agent.registry.metrics())), { refused_low_port: 1, echoed: 1 });
  } finally {
    reflector?.close();
    await agent.close();
  }
});

test('echo replies the kernel refuses to send are counted by errno code', (t) => {
  // In a fresh network namespace, an nftables rule drops the agent's replies to one client port: the kernel refuses
  // each send with EPERM, as under a firewall or network policy.
  const unavailable = netnsUnavailable();
  if (!skipUnlessAvailable(t, unavailable)) return;
  const netns = createNetns('kcaecho');
  try {
    const rules = 'add table inet kctest; add chain inet kctest out { type filter hook output priority 0; }; add rule inet kctest out udp dport 40000 drop';
    netns.exec('nft', [rules]);
    const helpers = fileURLToPath(new URL('../helpers/agents.ts', import.meta.url));
    const exposition = fileURLToPath(new URL('../../harness/exposition.ts', import.meta.url));
    const wait = fileURLToPath(new URL('../../harness/wait.ts', import.meta.url));
    const output = netns.exec(process.execPath, [
      '--input-type=module',
      '--eval',
      `
      import dgram from 'node:dgram';
      import { startTestNodes } from ${JSON.stringify(helpers)};
      import { parseExposition } from ${JSON.stringify(exposition)};
      import { waitUntil } from ${JSON.stringify(wait)};
      const self = { name: 'a', nodeName: 'node-a', ip: '127.0.0.2', zone: 'zone-a' };
      const client = { name: 'c', nodeName: 'node-c', ip: '127.0.0.3', zone: 'zone-a' };
      const [node] = await startTestNodes([self], { udp: { enabled: false }, tcp: { enabled: false } });
      node.agent.setPeers([self, client]);
      const socket = dgram.createSocket('udp4');
      await new Promise((resolve) => socket.bind({ address: client.ip, port: 40000 }, resolve));
      const read = async () => parseExposition(await node.agent.registry.metrics()).filter((s) => s.name.startsWith('kconmon_udp_echo_'));
      for (let i = 0; i < 3; i++) socket.send(Buffer.from('ping'), node.agent.port, self.ip);
      await waitUntil('three echoes', 5000, async () => (await read()).some((s) => s.labels.result === 'echoed' && s.value === 3));
      await new Promise((resolve) => setTimeout(resolve, 100));
      console.log(JSON.stringify(await read()));
      socket.close();
      await node.agent.close();
    `,
    ]);
    const echoSamples = JSON.parse(output) as ReturnType<typeof parseExposition>;
    const byName = (name: string) => Object.fromEntries(echoSamples.filter((s) => s.name === name).map((s) => [s.labels.result ?? s.labels.code, s.value]));
    assert.deepEqual(byName('kconmon_udp_echo_requests_total'), { echoed: 3 });
    assert.deepEqual(byName('kconmon_udp_echo_send_errors_total'), { EPERM: 3 });
  } finally {
    netns.remove();
  }
});
