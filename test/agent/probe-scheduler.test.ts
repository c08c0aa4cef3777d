// The probe scheduler (keyed by node, as the agent schedules peers) with instrumented probe functions: never two runs
// of one test to one peer at a time, first runs spread over the interval, interval + jitter between starts, departed
// peers stopped at once with results discarded, one probe target per node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProbeScheduler, type ProbeSchedulerOptions, type ScheduledTest } from '../../src/agent/probe-scheduler.ts';
import { peerKey, type Peer } from '../../src/discovery/peer.ts';

const peer = (index: number): Peer => ({ name: `p${index}`, nodeName: `n${index}`, ip: `127.0.0.${index}`, zone: 'z' });
const byNode = (options: Omit<ProbeSchedulerOptions<Peer, string>, 'key' | 'version'>) =>
  createProbeScheduler({ ...options, key: (target) => target.nodeName, version: peerKey });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function instrumentedTest(name: string, intervalMs: number, runMs: number) {
  const starts = new Map<string, number[]>();
  const recorded: string[] = [];
  let inFlight = new Map<string, number>();
  let maxConcurrentPerPeer = 0;
  const definition: ScheduledTest<Peer, string> = {
    name,
    intervalMs,
    async run(target, signal) {
      const list = starts.get(target.name) ?? [];
      list.push(performance.now());
      starts.set(target.name, list);
      const current = (inFlight.get(target.name) ?? 0) + 1;
      inFlight.set(target.name, current);
      maxConcurrentPerPeer = Math.max(maxConcurrentPerPeer, current);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, runMs);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      inFlight.set(target.name, (inFlight.get(target.name) ?? 1) - 1);
      return target.name;
    },
    record(target) {
      recorded.push(target.name);
    },
  };
  return { definition, starts, recorded, maxConcurrent: () => maxConcurrentPerPeer, reset: () => (inFlight = new Map()) };
}

test('runs never overlap per peer, even when a run takes longer than the interval', async () => {
  const slow = instrumentedTest('slow', 50, 120);
  const scheduler = byNode({ test: slow.definition, jitter: { min: 0, max: 0 }, onError: () => assert.fail() });
  scheduler.setTargets([peer(1), peer(2)]);
  await sleep(700);
  await scheduler.stop();
  assert.equal(slow.maxConcurrent(), 1);
  for (const times of slow.starts.values()) {
    assert.ok(times.length >= 3);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 115, 'next run starts after the previous ended');
  }
});

test('first runs spread over the interval; later runs follow at interval + jitter', async () => {
  const fast = instrumentedTest('fast', 200, 1);
  let draws = 0;
  const random = () => (draws++ * 0.37) % 1; // deterministic spread of offsets and jitter
  const scheduler = byNode({ test: fast.definition, jitter: { min: 20, max: 60 }, random, onError: () => assert.fail() });
  const peers = Array.from({ length: 10 }, (_, index) => peer(index + 1));
  const startedAt = performance.now();
  scheduler.setTargets(peers);
  await sleep(900);
  await scheduler.stop();
  const firsts = [...fast.starts.values()].map((times) => times[0]! - startedAt).sort((a, b) => a - b);
  assert.equal(firsts.length, 10);
  assert.ok(firsts[firsts.length - 1]! - firsts[0]! > 100, `first runs spread over the interval (${firsts.map(Math.round).join(', ')})`);
  for (const times of fast.starts.values()) {
    for (let i = 1; i < times.length; i++) {
      const gap = times[i]! - times[i - 1]!;
      // A timer never fires early: the next run waits at least the interval plus the smallest jitter. (How late it may
      // be is the machine's load, not a property of the scheduler: the propagation figures live in the benchmarks.)
      assert.ok(gap >= 219, `gap ${gap} ms is at least interval 200 + jitter 20`);
    }
  }
});

test("a removed peer stops at once and its in-flight result is never recorded; a replaced agent restarts its node's loops", async () => {
  const probe = instrumentedTest('probe', 100, 80);
  const scheduler = byNode({ test: probe.definition, jitter: { min: 0, max: 0 }, random: () => 0, onError: () => assert.fail() });
  scheduler.setTargets([peer(1), peer(2)]);
  await sleep(40); // both are mid-run (runs take 80 ms)
  const change = scheduler.setTargets([peer(1)]);
  assert.deepEqual(
    change.removed.map((p) => p.name),
    ['p2'],
  );
  assert.deepEqual(change.added, []);
  await sleep(200);
  assert.ok(!probe.recorded.includes('p2'), 'the aborted run of p2 was not recorded');
  assert.ok(probe.recorded.includes('p1'));
  // The node's agent replaced (new pod, new IP): the same node, its loops restarted against the new agent.
  const moved = { ...peer(1), name: 'p1-new', ip: '127.0.0.99' };
  const restart = scheduler.setTargets([moved]);
  assert.deepEqual(restart.removed, []);
  assert.deepEqual(restart.added, []);
  assert.deepEqual(
    restart.replaced.map(({ before, after }) => `${before.ip}→${after.ip}`),
    ['127.0.0.1→127.0.0.99'],
  );
  assert.deepEqual(scheduler.targets(), [moved]);
  // Two peers on one node: one probe target (the first listed).
  const twice = scheduler.setTargets([moved, { ...moved, name: 'p1-other', ip: '127.0.0.98' }]);
  assert.deepEqual([twice.added, twice.removed, twice.replaced], [[], [], []]);
  assert.deepEqual(scheduler.targets(), [moved]);
  await scheduler.stop();
});
