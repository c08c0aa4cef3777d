// Child process: the naive prober the agent's cost is compared with. It does the agent's outbound work at the agent's
// default rate and nothing else: per target, every interval + jitter, `packets` datagrams of `packetSize` bytes
// `spacingMs` apart (a sequence id in the first 4 bytes) and one fresh TCP `GET /readiness`; targets start evenly spread
// over the first interval. No metrics, no stall detection, no history: counters and RTT samples for the report only.
// Plain JavaScript importing only Node's own modules and udp-rounds.mjs (the UDP rounds it shares with the synthetic
// peers), so it loads what a bare-bones prober loads (no type stripping); its config and stats are typed in
// naive-scenario.ts. Run by the benchmark with `spawn` (the agent's Node flags) and
// an IPC channel; config is argv[2] as JSON.
import dgram from 'node:dgram';
import net from 'node:net';
import { createUdpRounds } from './udp-rounds.mjs';

const config = JSON.parse(process.argv[2] ?? '');
process.on('disconnect', () => process.exit(0));
setTimeout(() => process.exit(3), config.deadlineMs).unref();
for (const address of [config.bind, ...config.targets]) {
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)) throw new Error(`refusing non-loopback address ${address}`);
}

const counters = { udpRounds: 0, udpSent: 0, udpReceived: 0, udpLost: 0, tcpTests: 0, tcpPassed: 0, tcpFailed: 0 };
let lostSinceStart = 0;
let tcpFailedSinceStart = 0;
// Reservoir samples (a bounded, uniform sample of the window): the prober's memory must not grow with the window.
const RESERVOIR = 8192;
function createReservoir() {
  const samples = new Float64Array(RESERVOIR);
  let seen = 0;
  return {
    add(value) {
      const slot = seen < RESERVOIR ? seen : Math.floor(Math.random() * (seen + 1));
      seen++;
      if (slot < RESERVOIR) samples[slot] = value;
    },
    values: () => Array.from(samples.subarray(0, Math.min(seen, RESERVOIR))),
  };
}
let rtts = createReservoir();
let connects = createReservoir();
const rounds = createUdpRounds({
  ...config.udp,
  port: config.port,
  onSent: () => counters.udpSent++,
  onLost: () => {
    counters.udpLost++;
    lostSinceStart++;
  },
});
const jitter = () => config.jitter.min + Math.random() * (config.jitter.max - config.jitter.min);

const socket = dgram.createSocket({ type: 'udp4', lookup: (address, _options, callback) => callback(null, address, 4) });
socket.on('message', (message) => {
  const rttMicros = rounds.reply(message, process.hrtime.bigint());
  if (typeof rttMicros !== 'number') return;
  counters.udpReceived++;
  rtts.add(rttMicros);
});
await new Promise((resolve) => socket.bind({ address: config.bind, port: 0 }, resolve));

function udpRound(target) {
  counters.udpRounds++;
  rounds.send(socket, target);
  setTimeout(udpRound, config.intervalMs + jitter(), target);
}

const request = (target) => `GET /readiness HTTP/1.1\r\nHost: ${target}:${config.port}\r\nUser-Agent: kconmon-naive\r\nConnection: close\r\n\r\n`;
function tcpTest(target) {
  counters.tcpTests++;
  let done = false;
  let head = '';
  const startedAt = process.hrtime.bigint();
  const connection = net.connect({ host: target, port: config.port, localAddress: config.bind, noDelay: true });
  const finish = (passed) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    connection.destroy();
    if (passed) counters.tcpPassed++;
    else {
      counters.tcpFailed++;
      tcpFailedSinceStart++;
    }
  };
  const timer = setTimeout(() => finish(false), config.tcpTimeoutMs);
  connection.setEncoding('latin1');
  connection.once('connect', () => {
    connects.add(Number(process.hrtime.bigint() - startedAt) / 1000);
    connection.write(request(target));
  });
  connection.on('data', (chunk) => {
    if (head.length < 64) head += chunk;
  });
  connection.once('end', () => finish(/^HTTP\/1\.[01] 200 /.test(head)));
  connection.once('error', () => finish(false));
  setTimeout(tcpTest, config.intervalMs + jitter(), target);
}

rounds.startSweeping();

config.targets.forEach((target, index) => {
  const offset = (index * config.intervalMs) / config.targets.length;
  setTimeout(udpRound, offset, target);
  setTimeout(tcpTest, offset, target);
});

process.on('message', (message) => {
  if (message.type === 'reset') {
    for (const key of Object.keys(counters)) counters[key] = 0;
    rtts = createReservoir();
    connects = createReservoir();
  } else if (message.type === 'stats') {
    const stats = { ...counters, lostSinceStart, tcpFailedSinceStart, rttMicros: rtts.values(), connectMicros: connects.values() };
    process.send({ type: 'stats', id: message.id, stats });
  }
});
process.send({ type: 'ready' });
