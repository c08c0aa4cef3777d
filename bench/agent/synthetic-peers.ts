// Child process: N synthetic kconmon peers in one Node process. On each peer address it echoes UDP datagrams and
// answers `GET /readiness` (200, Connection: close) on the agent's port; in bidirectional mode each peer also probes
// the agent at the agent's own default rate (5 × 4-byte UDP packets 50 ms apart, one fresh TCP `GET /readiness`,
// each every interval + jitter) from its own address and an ephemeral port, as the agent does (its echo refuses
// datagrams from its own port number). Run by the benchmark with `fork`; config is argv[2] as JSON.
import dgram from 'node:dgram';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { exitWithParent, runChildMain, sendToParent, type ControlMessage } from './ipc.ts';
import { isLoopback } from './addresses.ts';
import { summarise, type Summary } from '../common/quantiles.ts';
import { createUdpRounds } from './udp-rounds.mjs';

export interface SyntheticPeersConfig {
  readonly agent: string;
  readonly port: number;
  readonly peers: readonly string[];
  readonly bidirectional: boolean;
  readonly intervalMs: number;
  readonly jitter: { readonly min: number; readonly max: number };
  readonly udp: { readonly packets: number; readonly packetSize: number; readonly spacingMs: number; readonly timeoutMs: number };
  readonly tcpTimeoutMs: number;
  readonly deadlineMs: number;
}

export interface SyntheticPeersStats {
  /** Datagrams echoed back to their sender (the agent's probes and the minimal client's). */
  readonly udpEchoed: number;
  /** `GET /readiness` connections answered. */
  readonly tcpServed: number;
  /** Bidirectional mode: the peers' own probes of the agent. */
  readonly udpRounds: number;
  readonly udpSent: number;
  readonly udpReceived: number;
  readonly udpLost: number;
  readonly udpLate: number;
  readonly tcpTests: number;
  readonly tcpPassed: number;
  readonly tcpFailed: number;
  /** RTT of the peers' packets to the agent's echo, µs. */
  readonly rttMicros: Summary;
  /** This process's event-loop delay since the last reset beyond the 10 ms sampling interval, ms. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  readonly elapsedMs: number;
  /** Peer addresses the agent sent a UDP probe or a TCP connection to (from its own address) since the last reset. */
  readonly probedByAgent: readonly string[];
}

const LOOP_SAMPLE_MS = 10;
const READY_RESPONSE = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n';
const NOT_FOUND_RESPONSE = 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n';

function syncLookup(address: string, _options: unknown, callback: (error: null, address: string, family: number) => void): void {
  callback(null, address, 4);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as SyntheticPeersConfig;
  exitWithParent(config.deadlineMs);
  for (const address of [config.agent, ...config.peers]) if (!isLoopback(address)) throw new Error(`refusing non-loopback address ${address}`);

  const counters = { udpEchoed: 0, tcpServed: 0, udpRounds: 0, udpSent: 0, udpReceived: 0, udpLost: 0, udpLate: 0, tcpTests: 0, tcpPassed: 0, tcpFailed: 0 };
  let rtts: number[] = [];
  let probedByAgent = new Set<string>();
  let resetAt = performance.now();
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  loopDelay.enable();

  // The peers' own probe packets (bidirectional mode).
  const rounds = createUdpRounds({
    ...config.udp,
    port: config.port,
    onSent: () => counters.udpSent++,
    onLost: () => counters.udpLost++,
  });

  await Promise.all(config.peers.map((address) => bindUdp(address)));
  const probeSockets = config.bidirectional ? await Promise.all(config.peers.map((address) => bindProbeSocket(address))) : [];
  await Promise.all(config.peers.map((address) => listenTcp(address)));

  function bindUdp(address: string): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: 'udp4', lookup: syncLookup as never });
    socket.on('message', (message, remote) => {
      // Never echo an echo (a datagram from an echo port): that would start a reflection loop.
      if (remote.port === config.port) return;
      counters.udpEchoed++;
      if (remote.address === config.agent) probedByAgent.add(address);
      socket.send(message, remote.port, remote.address);
    });
    socket.on('error', () => {});
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: config.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
  }

  function bindProbeSocket(address: string): Promise<dgram.Socket> {
    const socket = dgram.createSocket({ type: 'udp4', lookup: syncLookup as never });
    socket.on('message', (message, remote) => {
      if (remote.port === config.port && remote.address === config.agent) onReply(message);
    });
    socket.on('error', () => {});
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port: 0 }, () => {
        socket.off('error', reject);
        resolve(socket);
      });
    });
  }

  function listenTcp(address: string): Promise<void> {
    const server = net.createServer({ noDelay: true }, (socket) => {
      counters.tcpServed++;
      if (socket.remoteAddress === config.agent) probedByAgent.add(address);
      let head = '';
      let answered = false;
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        if (answered) return;
        head += chunk;
        if (!head.includes('\r\n\r\n')) {
          if (head.length > 8192) socket.destroy();
          return;
        }
        answered = true;
        socket.end(head.startsWith('GET /readiness ') ? READY_RESPONSE : NOT_FOUND_RESPONSE);
      });
      socket.on('error', () => {});
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port: config.port, exclusive: true, backlog: 1024 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  function onReply(message: Buffer): void {
    const rttMicros = rounds.reply(message, process.hrtime.bigint());
    if (rttMicros === 'short') return;
    if (rttMicros === 'unknown') {
      counters.udpLate++;
      return;
    }
    counters.udpReceived++;
    rtts.push(rttMicros);
  }

  const jitter = () => config.jitter.min + Math.random() * (config.jitter.max - config.jitter.min);

  function udpRound(index: number): void {
    const socket = probeSockets[index] as dgram.Socket;
    counters.udpRounds++;
    rounds.send(socket, config.agent);
    setTimeout(udpRound, config.intervalMs + jitter(), index);
  }

  const request = `GET /readiness HTTP/1.1\r\nHost: ${config.agent}:${config.port}\r\nUser-Agent: kconmon-bench\r\nConnection: close\r\n\r\n`;
  function tcpTest(index: number): void {
    counters.tcpTests++;
    let done = false;
    let head = '';
    const socket = net.connect({ host: config.agent, port: config.port, localAddress: config.peers[index], noDelay: true });
    const finish = (passed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (passed) counters.tcpPassed++;
      else counters.tcpFailed++;
    };
    const timer = setTimeout(() => finish(false), config.tcpTimeoutMs);
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk: string) => {
      if (head.length < 64) head += chunk;
    });
    socket.once('end', () => finish(/^HTTP\/1\.[01] 200 /.test(head)));
    socket.once('error', () => finish(false));
    setTimeout(tcpTest, config.intervalMs + jitter(), index);
  }

  rounds.startSweeping();

  let started = false;
  process.on('message', (raw: unknown) => {
    const message = raw as ControlMessage;
    if (message.type === 'start' && config.bidirectional && !started) {
      started = true;
      config.peers.forEach((_, index) => {
        setTimeout(udpRound, Math.random() * config.intervalMs, index);
        setTimeout(tcpTest, Math.random() * config.intervalMs, index);
      });
    } else if (message.type === 'reset') {
      for (const key of Object.keys(counters) as Array<keyof typeof counters>) counters[key] = 0;
      rtts = [];
      probedByAgent = new Set();
      loopDelay.reset();
      resetAt = performance.now();
    } else if (message.type === 'stats') {
      const stats: SyntheticPeersStats = {
        ...counters,
        rttMicros: summarise(rtts),
        // The monitor records whole sampling intervals: subtract the interval to get the delay beyond it.
        loopDelayP99Ms: loopDelay.percentile(99) / 1e6 - LOOP_SAMPLE_MS,
        loopDelayMaxMs: loopDelay.max / 1e6 - LOOP_SAMPLE_MS,
        elapsedMs: performance.now() - resetAt,
        probedByAgent: [...probedByAgent],
      };
      sendToParent({ type: 'stats', id: message.id, stats });
    }
  });
  sendToParent({ type: 'ready' });
}

runChildMain(main);
