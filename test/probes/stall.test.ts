// Probes while this process's event loop is blocked, against a real agent's echo and HTTP server in another process:
// a timeout judged after a stall is not loss, and an RTT or TCP time spanning a stall is not reported as path latency.
// The loop is blocked by busy-waiting, as a long callback, a GC pause or CPU throttling would hold it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createAgentProcessGroup, type AgentProcessGroup } from '../helpers/agent-processes.ts';
import { createUdpPinger, type PingOutcome, type UdpPinger } from '../../src/probes/udp-pinger.ts';
import { probeUdp } from '../../src/probes/udp.ts';
import { probeTcp } from '../../src/probes/tcp.ts';
import { createStallDetector, type StallDetector } from '../../src/probes/stall-detector.ts';
import type { Peer } from '../../src/discovery/peer.ts';

const echoPeer: Peer = { name: 'agent-echo', nodeName: 'node-echo', ip: '127.0.71.21', zone: 'zone-a' };
const prober = '127.0.71.22';
let group: AgentProcessGroup;
let target: { ip: string; port: number };
let stallDetector: StallDetector;
let pinger: UdpPinger;

before(async () => {
  group = await createAgentProcessGroup([echoPeer.ip, prober]);
  // The peer only answers (echo and /readiness); it probes nothing.
  await group.start(echoPeer, [echoPeer], { udp: { enabled: false, echoFrom: 'any' }, tcp: { enabled: false } });
  target = { ip: echoPeer.ip, port: group.port };
  stallDetector = createStallDetector({ thresholdMs: 10 });
  pinger = await createUdpPinger({ bindAddress: prober, stallDetector });
  // Opens the probe socket, so that the pings below send synchronously.
  await measuredPing();
});

after(async () => {
  await pinger?.close();
  stallDetector?.close();
  await group?.close();
});

function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy: nothing else runs on this thread meanwhile
  }
}

/** Runs `action` in a setImmediate callback: after it, libuv runs due timers before it polls sockets (as after SIGCONT). */
function inCheckPhase<T>(action: () => Promise<T>): Promise<T> {
  return new Promise((resolve) => setImmediate(() => resolve(action())));
}

const ping = (timeoutMs: number) => pinger.ping({ address: target.ip, port: target.port, size: 16, timeoutMs });

/** A ping on a quiet loop is measured (a few tries: another process may hold the CPU for a moment). */
async function measuredPing(): Promise<PingOutcome> {
  let outcome: PingOutcome = { status: 'aborted' };
  for (let attempt = 0; attempt < 5 && outcome.status !== 'received'; attempt++) outcome = await ping(1000);
  return outcome;
}

test('UDP: packets outstanding through a 300 ms stall are unmeasured, never lost, and no test result', async () => {
  // Sent and blocked in one check-phase callback: the loop's next iteration runs the (overdue) timeouts before it reads
  // the socket, where every echo has been waiting since the start of the stall.
  const result = await inCheckPhase(() => {
    const running = probeUdp(pinger, target, { packets: 3, packetSize: 16, packetSpacingMs: 0, timeoutMs: 200 });
    blockEventLoop(300);
    return running;
  });
  assert.equal(result.sent, 3);
  assert.equal(result.lost, 0, 'a stall is not loss');
  assert.equal(result.unmeasured, 3);
  assert.deepEqual(result.rttMicros, [], 'no RTT spanning the stall');
  assert.equal(result.measured, false, 'no packet measured: not a result');
  assert.equal(result.passed, false);
  assert.equal((await measuredPing()).status, 'received', 'the next ping after the stall is measured');
});

test('UDP: a reply read after a 100 ms stall is unmeasured, its RTT is not reported', async () => {
  const outcome = ping(1000);
  blockEventLoop(100); // blocked where the probe was sent: the echo is read before any timer runs
  assert.deepEqual(await outcome, { status: 'unmeasured' });
  assert.equal((await measuredPing()).status, 'received', 'the next ping after the stall is measured');
});

test('TCP: a test whose deadline passes during a 300 ms stall is unmeasured, not a timeout failure', async () => {
  const running = probeTcp(target, { timeoutMs: 200, localAddress: prober, stallDetector });
  blockEventLoop(300);
  const result = await running;
  assert.equal(result.unmeasured, true);
  assert.equal(result.passed, false);
  assert.equal(result.reason, undefined, 'not a timeout');
  assert.ok(Number.isNaN(result.totalMs) && Number.isNaN(result.connectMs), 'no times spanning the stall');
});

test('TCP: a test that passes across a 100 ms stall is unmeasured, not a pass with the stall in its times', async () => {
  const running = probeTcp(target, { timeoutMs: 1000, localAddress: prober, stallDetector });
  blockEventLoop(100);
  const result = await running;
  assert.equal(result.unmeasured, true);
  assert.equal(result.passed, false);
  assert.ok(Number.isNaN(result.totalMs));
  const next = await probeTcp(target, { timeoutMs: 1000, localAddress: prober, stallDetector });
  assert.equal(next.aborted || next.reason !== undefined, false, `the next test is not a failure (${next.detail})`);
});
